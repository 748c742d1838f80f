"""Template globals and filters shared by every page."""
from datetime import datetime

from flask import Flask, request, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from matrix.accounts.labels import ACCOUNT_STATUS_LABELS, SCOPE_LABELS
from matrix.auth.forms import LanguageForm
from matrix.auth.labels import ROLE_LABELS
from matrix.auth.models import Role
from matrix.communities.labels import KIND_LABELS
from matrix.onboarding.setup import chain_counts
from matrix.stores.labels import GEOCODE_LABELS, STORE_STATUS_LABELS

# (endpoint, label, roles allowed); the navigation shows only what the role may use.
NAVIGATION = [
    ("today.index", _l("Today"), (Role.STORE_MANAGER,)),
    ("overview.matrix", _l("Matrix"), None),
    ("plans.index", _l("Weekly plan"), None),
    ("live.index", _l("Live"), None),
    ("stores.index", _l("Stores"), None),
    ("accounts.index", _l("Accounts"), None),
    ("communities.index", _l("Communities"), None),
    ("leads.index", _l("Leads"), None),
    ("sources.index", _l("Lead sources"), (Role.ADMIN, Role.OPERATOR)),
    ("campaigns.index", _l("Campaigns"), (Role.ADMIN, Role.OPERATOR)),
    ("imports.index", _l("Import / export"), (Role.ADMIN, Role.OPERATOR)),
    ("brands.index", _l("Brands"), (Role.ADMIN, Role.OPERATOR)),
    ("users.index", _l("Users"), (Role.ADMIN,)),
    ("audit.index", _l("Audit log"), (Role.ADMIN, Role.OPERATOR)),
    ("notifications.index", _l("Deliveries"), (Role.ADMIN, Role.OPERATOR)),
    ("channels.index", _l("Staff channels"), (Role.ADMIN, Role.OPERATOR)),
    ("joins.index", _l("WeCom join codes"), (Role.ADMIN, Role.OPERATOR)),
    ("storefront_hq.index", _l("Store pages"), (Role.ADMIN, Role.OPERATOR)),
    ("onboarding.index", _l("Setup"), (Role.ADMIN, Role.OPERATOR)),
    ("onboarding.mine", _l("Store setup"), (Role.STORE_MANAGER,)),
]

def nav_items() -> list[tuple[str, str, bool]]:
    if not current_user.is_authenticated:
        return []
    active = (request.endpoint or "").split(".")[0]
    return [(endpoint, label, endpoint.split(".")[0] == active)
            for endpoint, label, roles in NAVIGATION if roles is None or current_user.role in roles]


def mask_phone(phone: str | None) -> str:
    """138****5678: enough to recognise a number, not to call it."""
    if not phone:
        return ""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) < 7:
        return "****"
    return digits[:3] + "****" + digits[-4:]


def compact_number(n: int | None, locale: str | None = None) -> str:
    """12.3万 or 123.4k; a list passes the locale it looked up once (get_locale costs ~10 µs a call)."""
    if n is None:
        return ""
    if (locale or str(get_locale())).startswith("zh"):
        return f"{n / 10000:.1f}万" if n >= 10000 else str(n)
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def url_with(**changes) -> str:
    """The current page's URL with some query arguments changed (for filters and paging)."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        args.pop(key, None)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def register(app: Flask) -> None:
    @app.context_processor
    def inject():
        # formdata=None: the page never reads the request's form, so the 413 page of an oversized
        # upload does not read it again and raise 413 inside its own handler.
        return {"nav_items": nav_items, "language_form": lambda: LanguageForm(formdata=None), "url_with": url_with,
                # What exists at all in the user's scope: an empty list says what to do first (asked once, then).
                "chain_counts": lambda: chain_counts(current_user),
                "STORE_STATUS_LABELS": STORE_STATUS_LABELS, "ACCOUNT_STATUS_LABELS": ACCOUNT_STATUS_LABELS,
                "ROLE_LABELS": ROLE_LABELS, "SCOPE_LABELS": SCOPE_LABELS, "KIND_LABELS": KIND_LABELS,
                "GEOCODE_LABELS": GEOCODE_LABELS, "current_locale": lambda: str(get_locale())}

    # A global, not only context: macros imported without context (the pager) need it too.
    app.jinja_env.globals["url_with"] = url_with
    app.add_template_filter(mask_phone, "mask_phone")
    app.add_template_filter(compact_number, "compact")
    app.add_template_filter(lambda dt: format_datetime(dt, "yyyy-MM-dd HH:mm") if isinstance(dt, datetime) else "",
                            "local_dt")
