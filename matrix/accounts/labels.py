"""What an account's status and scope are called, in the reader's language."""
from flask_babel import lazy_gettext as _l

ACCOUNT_STATUS_LABELS = {"incubating": _l("Incubating"), "active": _l("Active"), "restricted": _l("Restricted"),
                         "banned": _l("Banned"), "retired": _l("Retired")}
SCOPE_LABELS = {"brand": _l("Brand main account"), "store": _l("Store account")}
