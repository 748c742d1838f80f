"""Lead sources: each platform app, ad account or form that posts leads to its own webhook URL.

A source's secret is encrypted at rest with the phone key (LEAD_PHONE_KEY), shown in full once
(after creation or rotation) and masked afterwards.
"""
import re
import secrets

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matrix.audit import services as audit
from matrix.chain import chain_language
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads import phones
from matrix.leads.mapping import FIELDS
from matrix.leads.models import LeadSource, SourceKind
from matrix.leads.signatures import SCHEMES
from matrix.stores.models import Store
from matrix.transaction import transactional

# Built-in sources for leads that do not come by webhook; their slugs are reserved.
BUILT_IN = {"manual": SourceKind.MANUAL, "import": SourceKind.IMPORT, "store-page": SourceKind.STOREFRONT}
WEBHOOK_KINDS = (SourceKind.GENERIC, SourceKind.DOUYIN, SourceKind.OCEANENGINE, SourceKind.KUAISHOU)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")
AUDITED = ["name", "slug", "kind", "signature_scheme", "field_map", "store_id", "account_id", "active"]


def manual_source() -> LeadSource:
    """The built-in source of leads typed in by staff (slug "manual", takes no webhooks); joins the caller's transaction."""
    return _built_in("manual")


def import_source() -> LeadSource:
    """The built-in source of leads imported from sheets (slug "import"); joins the caller's transaction."""
    return _built_in("import")


def store_page_source() -> LeadSource:
    """The built-in source of leads left on stores' public pages (slug "store-page"); joins the caller's transaction."""
    return _built_in("store-page")


def _built_in(slug: str) -> LeadSource:
    found = db.session.scalar(select(LeadSource).where(LeadSource.slug == slug))
    if found is not None:
        return found
    with chain_language():  # a stored name: the chain's language, whoever created it first
        name = {"manual": _("Manual entry"), "import": _("Sheet import"), "store-page": _("Store page")}[slug]
    source = LeadSource(name=name, slug=slug,
                        kind=BUILT_IN[slug], active=False, field_map={}, signature_scheme="")
    try:
        with db.session.begin_nested():
            db.session.add(source)
    except IntegrityError:  # another request created it a moment ago
        return db.session.scalar(select(LeadSource).where(LeadSource.slug == slug))
    return source


@transactional
def create_source(*, name: str, kind: SourceKind | str, slug: str = "", secret: str = "",
                  signature_scheme: str = "", field_map: dict | None = None, store_id: int | None = None,
                  account_id: int | None = None, active: bool = True, actor) -> tuple[LeadSource, str]:
    """Add a webhook source; returns it and its secret in full (typed in, or generated when empty)."""
    kind = SourceKind(kind)
    if kind not in WEBHOOK_KINDS:
        raise DomainError(_("Manual and imported leads have built-in sources."), field="kind")
    slug = _check_slug(slug or _free_slug(name, kind))
    secret = (secret or "").strip() or new_secret()
    source = LeadSource(name=_name(name), slug=slug, kind=kind, secret_encrypted=phones.encrypt_text(secret),
                        active=bool(active))
    _apply(source, signature_scheme=signature_scheme, field_map=field_map, store_id=store_id, account_id=account_id)
    db.session.add(source)
    db.session.flush()
    audit.record(actor, "create", "lead_source", entity_id=source.id, summary=source.name,
                 changes={k: [None, v] for k, v in audit.snapshot(source, AUDITED).items()})
    db.session.commit()
    return source, secret


@transactional
def update_source(source: LeadSource, *, name: str, signature_scheme: str = "", field_map: dict | None = None,
                  store_id: int | None = None, account_id: int | None = None, active: bool = True,
                  actor) -> LeadSource:
    """Change a source's name, scheme, field map, store or state (the slug and secret stay)."""
    if source.kind not in WEBHOOK_KINDS:
        raise DomainError(_("Built-in sources cannot be changed."))
    before = audit.snapshot(source, AUDITED)
    source.name, source.active = _name(name), bool(active)
    _apply(source, signature_scheme=signature_scheme, field_map=field_map, store_id=store_id, account_id=account_id)
    changes = audit.diff(before, audit.snapshot(source, AUDITED))
    if changes:
        audit.record(actor, "update", "lead_source", entity_id=source.id, summary=source.name, changes=changes)
    db.session.commit()
    return source


@transactional
def rotate_secret(source: LeadSource, *, actor, secret: str = "") -> str:
    """Replace the secret (the one typed in, or a new random one); the old one stops working at once."""
    if source.kind not in WEBHOOK_KINDS:
        raise DomainError(_("Built-in sources take no webhooks and have no secret."))
    secret = (secret or "").strip() or new_secret()
    source.secret_encrypted = phones.encrypt_text(secret)
    audit.record(actor, "rotate_secret", "lead_source", entity_id=source.id, summary=source.name)
    db.session.commit()
    return secret


def source_secret(source: LeadSource) -> str:
    """The secret in clear, for checking signatures; never shown after the first time."""
    return phones.decrypt_text(source.secret_encrypted)


def masked_secret(source: LeadSource) -> str:
    """The secret as the pages show it: its last four characters."""
    if not source.secret_encrypted:
        return ""
    try:
        secret = source_secret(source)
    except DomainError:
        return "****"
    return "****" + secret[-4:] if len(secret) >= 12 else "****"


def new_secret() -> str:
    """A random secret for a generic source (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def _apply(source: LeadSource, *, signature_scheme: str, field_map: dict | None, store_id: int | None,
           account_id: int | None) -> None:
    if signature_scheme and signature_scheme not in SCHEMES:
        raise DomainError(_("Unknown signature scheme."), field="signature_scheme")
    unknown = set(field_map or {}) - set(FIELDS)
    if unknown:
        raise DomainError(_("Unknown lead fields in the map: %(names)s.", names=", ".join(sorted(unknown))),
                          field="field_map")
    if store_id is not None and db.session.get(Store, store_id) is None:
        raise DomainError(_("Choose a store from the list."), field="store_id")
    source.signature_scheme = signature_scheme or ""
    source.field_map = dict(field_map or {})
    source.store_id, source.account_id = store_id, account_id


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the source a name."), field="name")
    return name[:120]


def _check_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        raise DomainError(_("The URL name has 3 to 40 lower-case letters, digits and hyphens."), field="slug")
    if slug in BUILT_IN or db.session.scalar(select(LeadSource.id).where(LeadSource.slug == slug)):
        raise DomainError(_("Another source already uses this URL name."), field="slug")
    return slug


def _free_slug(name: str, kind: SourceKind) -> str:
    """The kind and a random tail: readable, and not guessable (though the signature is the real guard)."""
    return f"{kind.value}-{secrets.token_hex(4)}"


def store_id_for_code(code: str) -> int | None:
    """The store a source belongs to, from the code an admin typed; None when empty."""
    code = (code or "").strip()
    if not code:
        return None
    found = db.session.scalar(select(Store.id).where(Store.code == code, Store.archived_at.is_(None)))
    if found is None:
        raise DomainError(_("No store has the code %(code)s.", code=code), field="store_code")
    return found
