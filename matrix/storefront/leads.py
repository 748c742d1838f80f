"""A lead left on a store's public page: through the webhooks' intake, so dedupe, encryption, routing and alerts hold."""
import hashlib
import hmac
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from matrix.audit import services as audit
from matrix.chain import chain_language
from matrix.errors import Collector, DomainError
from matrix.extensions import db
from matrix.leads import phones
from matrix.leads.intake import LeadInput, find_existing, stage_lead
from matrix.leads.models import Lead, LeadNote
from matrix.leads.sources import store_page_source
from matrix.models import utcnow
from matrix.storefront.channels import CHANNEL_LABELS
from matrix.storefront.models import LeadConsent, StorefrontSettings
from matrix.storefront.settings import consent_version
from matrix.stores.models import Store
from matrix.transaction import transactional

NAME_MAX, PHONE_MAX, WANTS_MAX = 40, 24, 300


def clean_lead(*, name: str, phone: str, wants: str, consent: bool) -> dict:
    """The visitor's fields checked and trimmed; every mistake at once (FieldErrors)."""
    collect = Collector()
    values = {"name": " ".join(str(name or "").split()), "wants": str(wants or "").strip().replace("\r\n", "\n")}
    if len(values["name"]) > NAME_MAX:
        collect.errors["name"] = _("At most %(n)d characters.", n=NAME_MAX)
    if len(values["wants"]) > WANTS_MAX:
        collect.errors["wants"] = _("At most %(n)d characters.", n=WANTS_MAX)
    with collect.field("phone"):
        if not str(phone or "").strip():
            raise DomainError(_("Leave a phone number so the store can call you back."), field="phone")
        if len(str(phone)) > PHONE_MAX:
            raise DomainError(_("The phone number is not a number that can be dialled."), field="phone")
        values["phone"] = phones.normalise_phone(phone)
    if not consent:
        collect.errors["consent"] = _("Tick the box to agree, or the store cannot call you.")
    collect.check()
    return values


@transactional
def leave_lead(store: Store, *, name: str, phone: str, wants: str, consent: bool, channel: str,
               settings: StorefrontSettings, now: datetime | None = None) -> tuple[Lead, bool]:
    """Store the visitor's lead for this store with their consent; (lead, False) when they left it today already."""
    values = clean_lead(name=name, phone=phone, wants=wants, consent=consent)
    now = now or utcnow()
    source = store_page_source()
    data = LeadInput(external_id=_dedupe_key(store.id, values["phone"], now), name=values["name"],
                     phone=values["phone"], source_store_id=store.id, created_at=now,
                     raw={"channel": channel, "wants": values["wants"]})
    try:
        lead, created = stage_lead(data, source=source, now=now)
        if created:
            _keep_consent(lead, store, channel=channel, settings=settings, wants=values["wants"], now=now)
        db.session.commit()
    except IntegrityError:
        # The same visitor sent the form twice at the same moment: the other request stored it.
        db.session.rollback()
        existing = find_existing(store_page_source().id, data.external_id)
        if existing is None:
            raise
        return existing, False
    return lead, created


def _keep_consent(lead: Lead, store: Store, *, channel: str, settings: StorefrontSettings, wants: str,
                  now: datetime) -> None:
    version = consent_version(settings)
    db.session.add(LeadConsent(lead_id=lead.id, consent_version_id=version.id, store_id=store.id, channel=channel,
                               given_at=now))
    with chain_language():  # staff read it in the chain's language
        note = _("Left on the store page (%(channel)s); agreed to be contacted (consent text version %(version)d).",
                 channel=str(CHANNEL_LABELS.get(channel, channel)), version=version.version)
        if wants:
            note += "\n" + _("Wants: %(text)s", text=wants)
    db.session.add(LeadNote(lead_id=lead.id, author_id=None, body=note))
    audit.record(None, "create", "lead", entity_id=lead.id, store_id=lead.store_id,
                 summary=f"Lead #{lead.id} from the store page of {store.code} ({channel})")


def _dedupe_key(store_id: int, phone: str, now: datetime) -> str:
    """One lead per number, store and day: a double tap or a second visit the same day is not a second lead.

    A keyed hash (LEAD_HASH_KEY), so the key gives the number away no more than the phone hash does.
    """
    key = str(current_app.config["LEAD_HASH_KEY"]).encode()
    digest = hmac.new(key, f"{store_id}|{phone}|{now.date().isoformat()}".encode(), hashlib.sha256).hexdigest()
    return f"page:{digest[:40]}"
