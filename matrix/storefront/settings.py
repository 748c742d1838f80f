"""HQ's store-page settings: the privacy notice, the consent line (versioned), the poster's layout and words."""
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.errors import Collector, DomainError
from matrix.extensions import db
from matrix.sandbox.engine import compile_text
from matrix.storefront import models
from matrix.storefront.models import ConsentVersion, StorefrontSettings
from matrix.storefront.poster_texts import ACCENTS, POSTER_ENV, SIZES
from matrix.storefront.tokens import consent_digest
from matrix.transaction import transactional

FIELDS = ["lead_form", "privacy_url", "privacy_text", "consent_text", "poster_size", "poster_accent",
          "poster_headline", "poster_body", "poster_footer"]
TEXT_LIMITS = {"privacy_text": 20_000, "consent_text": 500, "poster_headline": 500, "poster_body": 2000,
               "poster_footer": 500}
POSTER_FIELDS = ("poster_headline", "poster_body", "poster_footer")


def storefront_settings() -> StorefrontSettings:
    """The chain's settings row, or the defaults (not saved) until HQ saves them once."""
    row = db.session.scalar(select(StorefrontSettings).order_by(StorefrontSettings.id).limit(1))
    return row if row is not None else _defaults()


def _defaults() -> StorefrontSettings:
    return StorefrontSettings(lead_form=True, privacy_url=None, privacy_text="", consent_text=models.DEFAULT_CONSENT,
                              poster_size="A4", poster_accent=models.DEFAULT_ACCENT,
                              poster_headline=models.DEFAULT_HEADLINE, poster_body=models.DEFAULT_BODY,
                              poster_footer=models.DEFAULT_FOOTER)


def settings_digest(settings: StorefrontSettings) -> str:
    """The fingerprint of the consent line and notice a visitor sees with these settings."""
    return consent_digest(settings.consent_text, settings.privacy_url, settings.privacy_text)


def consent_version(settings: StorefrontSettings) -> ConsentVersion:
    """The version row of the texts these settings show, added when they are new (joins the caller's transaction)."""
    latest = db.session.scalar(select(ConsentVersion).order_by(ConsentVersion.version.desc()).limit(1))
    digest = settings_digest(settings)
    if latest is not None and consent_digest(latest.consent_text, latest.privacy_url, latest.privacy_text) == digest:
        return latest
    number = (db.session.scalar(select(func.max(ConsentVersion.version))) or 0) + 1
    version = ConsentVersion(version=number, consent_text=settings.consent_text, privacy_url=settings.privacy_url,
                             privacy_text=settings.privacy_text or "")
    try:
        with db.session.begin_nested():
            db.session.add(version)
    except IntegrityError:  # another request wrote the same new version a moment ago
        return db.session.scalar(select(ConsentVersion).where(ConsentVersion.version == number))
    return version


@transactional
def update_settings(values: dict, *, actor: User) -> StorefrontSettings:
    """Save HQ's settings; a changed consent line or notice becomes a new consent version. Audited."""
    cleaned = clean_settings(values)
    row = db.session.scalar(select(StorefrontSettings).order_by(StorefrontSettings.id).limit(1))
    creating = row is None
    row = row or _defaults()
    before = None if creating else audit.snapshot(row, FIELDS)
    for name, value in cleaned.items():
        setattr(row, name, value)
    if creating:
        db.session.add(row)
    db.session.flush()
    row.consent_version_id = consent_version(row).id
    audit.record(actor, "update", "storefront_settings", entity_id=row.id, summary=_("Store page settings changed."),
                 changes={"before": before, "after": audit.snapshot(row, FIELDS)})
    db.session.commit()
    return row


def clean_settings(values: dict) -> dict:
    """Checked values; every mistake at once (FieldErrors). Poster words must compile in the poster sandbox."""
    collect = Collector()
    out: dict = {"lead_form": bool(values.get("lead_form"))}
    for name, limit in TEXT_LIMITS.items():
        with collect.field(name):
            out[name] = _text(values.get(name), limit, name)
    with collect.field("privacy_url"):
        out["privacy_url"] = _https_url(values.get("privacy_url"))
    with collect.field("poster_size"):
        out["poster_size"] = _choice(values.get("poster_size"), SIZES, "poster_size")
    with collect.field("poster_accent"):
        out["poster_accent"] = _choice(values.get("poster_accent"), ACCENTS, "poster_accent")
    for name in POSTER_FIELDS:
        with collect.field(name):
            _compiles(out.get(name, ""), name)
    collect.check()
    if not out["consent_text"]:
        raise DomainError(_("The consent line is required: the form cannot ask for a phone number without it."),
                          field="consent_text")
    if out["lead_form"] and not (out["privacy_url"] or out["privacy_text"]):
        raise DomainError(_("Give the privacy notice (a link or its text) before the page asks for phone numbers."),
                          field="privacy_url")
    return out


def _text(value, limit: int, field: str) -> str:
    text = str(value or "").strip().replace("\r\n", "\n")
    if len(text) > limit:
        raise DomainError(_("This text is too long: at most %(n)d characters.", n=limit), field=field)
    return text


def _https_url(value) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(text) > 500:
        raise DomainError(_("Give a web address starting with https://."), field="privacy_url")
    return text


def _choice(value, allowed, field: str) -> str:
    text = str(value or "").strip()
    if text not in allowed:
        raise DomainError(_("Choose one of the offered values."), field=field)
    return text


def _compiles(text: str, field: str) -> None:
    compiled = compile_text(text, POSTER_ENV)
    if compiled.errors:
        line, message = compiled.errors[0]
        where = _("line %(line)s", line=line) if line else ""
        raise DomainError(f"{where} {message}".strip(), field=field)
