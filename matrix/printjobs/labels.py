"""Display names of a print job's states."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

JOB_STATUS_LABELS = {"queued": _l("Waiting"), "running": _l("Being made"), "done": lazy_pgettext("print job", "Ready"),
                     "failed": _l("Failed"), "cancelled": _l("Cancelled"), "expired": _l("Expired")}
