"""Display names of a print job's states."""
from flask_babel import lazy_gettext as _l

JOB_STATUS_LABELS = {"queued": _l("Waiting"), "running": _l("Being made"), "done": _l("Ready"),
                     "failed": _l("Failed"), "cancelled": _l("Cancelled"), "expired": _l("Expired")}
