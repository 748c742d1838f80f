"""What the roles are called, in the reader's language."""
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {"admin": _l("Admin"), "operator": _l("Operator"), "store_manager": _l("Store manager")}
