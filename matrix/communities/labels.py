"""What the kinds of community are called, in the reader's language."""
from flask_babel import lazy_gettext as _l

KIND_LABELS = {"wecom": _l("WeCom group"), "wechat": _l("WeChat group")}
