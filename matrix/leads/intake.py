"""Take a lead in, from any door (webhook, manual form, sheet import): store it, route it, queue its notice.

One call is one transaction: the lead, its routing and its notification rows (the outbox) are
committed together, so a lead is never stored without its notice, nor a notice sent for a lead
that was rolled back. Nothing here talks to the network: routing is in-process and the notice
is only queued, so a webhook answers well inside the platforms' 5-second limit.
"""
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from matrix import geo
from matrix.accounts.models import Account
from matrix.audit import services as audit
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads import alerts, phones, routing
from matrix.leads.models import Lead, LeadNote, LeadSource, RejectedDelivery
from matrix.leads.sources import import_source, manual_source  # noqa: F401  (callers take them from here)
from matrix.models import utcnow
from matrix.stores.models import Store

REJECTIONS_LOGGED_PER_ADDRESS = 30   # a minute: enough to see a misconfigured sender, not a flood
REJECTIONS_LOGGED_PER_MINUTE = 600   # all addresses together


@dataclass
class LeadInput:
    """A lead as a source delivered it, before it is stored. Text fields may be empty."""

    external_id: str | None = None        # the source's own id for the lead (clue_id ...): the dedupe key
    name: str = ""
    phone: str | None = None
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    coord_system: str | None = None       # wgs84 / gcj02 / bd09 (or words geo.parse_system knows); None: GCJ-02
    source_store_id: int | str | None = None  # a store named by the payload: int = Store.id, text = code or POI
    account_id: int | str | None = None   # the account it came through: int = Account.id, text = handle
    poi_id: str | None = None             # the platform's map point it came through
    ad_id: str | None = None
    creative_id: str | None = None
    created_at: datetime | None = None    # when the person left their details, per the source
    raw: dict | None = None               # the payload as received; stored with the phone masked
    message_id: str | None = None         # a delivery id (Douyin Msg-Id): dedupes when there is no external id
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_values(cls, values: dict, **more) -> "LeadInput":
        """Build from a dict of lead fields (mapping.extract's result); unknown keys are ignored."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in {**values, **more}.items() if k in known})


class LeadRejected(DomainError):
    """The input cannot become a lead; `code` names the reason for the rejected-delivery log."""

    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message, field=field)
        self.code = code


def check_required(data: LeadInput) -> None:
    """A lead needs a way to reach the person: a phone number, or the source's own lead id."""
    if not (data.phone or "").strip() and not (data.external_id or "").strip():
        raise LeadRejected(_("The lead has neither a phone number nor a lead id."),
                           code="missing_field:phone_or_external_id", field="phone")


def dedupe_key(data: LeadInput) -> str | None:
    """The source's lead id, else the platform's message id; None means no dedupe (manual entry)."""
    if (data.external_id or "").strip():
        return data.external_id.strip()[:120]
    if (data.message_id or "").strip():
        return ("msg:" + data.message_id.strip())[:120]
    return None


def accept_lead(data: LeadInput, *, source: LeadSource | None, actor=None,
                now: datetime | None = None) -> tuple[Lead, bool]:
    """Store, route and queue the notice of one lead; (lead, False) when the source sent it before."""
    if source is None:
        source = manual_source()
    try:
        lead, created = stage_lead(data, source=source, actor=actor, now=now)
        db.session.commit()
    except IntegrityError:
        # The same lead arrived twice at the same moment: the other request stored it first.
        db.session.rollback()
        existing = find_existing(source.id, dedupe_key(data))
        if existing is None:
            raise
        return existing, False
    except Exception:
        db.session.rollback()
        raise
    return lead, created


def stage_lead(data: LeadInput, *, source: LeadSource, actor=None, now: datetime | None = None,
               notify: bool = True) -> tuple[Lead, bool]:
    """accept_lead without the commit (the sheet import writes every row in one transaction)."""
    check_required(data)
    now = now or utcnow()
    key = dedupe_key(data)
    existing = find_existing(source.id, key)
    if existing is not None:
        return existing, False
    protected = phones.protect_phone(data.phone) if (data.phone or "").strip() else None
    lead = Lead(source_id=source.id, external_id=key, name=(data.name or "").strip()[:120],
                province_text=(data.province or "").strip()[:60], city_text=_city_text(data),
                address_text=(data.address or "").strip()[:300], source_store_id=resolve_source_store(data, source),
                ad_id=_short(data.ad_id, 60), creative_id=_short(data.creative_id, 60),
                created_at_source=data.created_at, received_at=now,
                raw_payload=mask_payload(data.raw, data.phone) if data.raw is not None else None)
    if protected:
        lead.phone_encrypted, lead.phone_hash, lead.phone_masked = protected.encrypted, protected.hash, protected.masked
    lead.lon, lead.lat, refused_point = _wgs84(data)
    db.session.add(lead)
    db.session.flush()
    routing.assign_lead(lead, now=now, refused_point=refused_point)
    if refused_point:
        db.session.add(LeadNote(lead_id=lead.id, author_id=None, body=refused_point))
    _note_duplicate_phone(lead)
    if notify:
        alerts.enqueue_for_lead(lead)
    if actor is not None:
        audit.record(actor, "create", "lead", entity_id=lead.id, store_id=lead.store_id,
                     summary=f"Lead #{lead.id} entered ({source.kind.value})")
    return lead, True


def find_existing(source_id: int, key: str | None) -> Lead | None:
    """The lead this source already delivered under `key`, if any."""
    if key is None:
        return None
    return db.session.scalar(select(Lead).where(Lead.source_id == source_id, Lead.external_id == key))


def resolve_source_store(data: LeadInput, source: LeadSource) -> int | None:
    """The store the lead names or came through: payload store, POI, account, then the source's own."""
    ref = data.source_store_id
    if isinstance(ref, int):
        found = db.session.scalar(select(Store.id).where(Store.id == ref, Store.archived_at.is_(None)))
        if found:
            return found
    elif ref:
        found = db.session.scalar(select(Store.id).where(Store.code == str(ref).strip(), Store.archived_at.is_(None)))
        if found:
            return found
    for poi in (data.poi_id, ref if isinstance(ref, str) else None):
        if poi:
            found = _account_store(Account.poi_id == str(poi).strip())
            if found:
                return found
    account = data.account_id
    if account:
        found = _account_store(Account.id == account if isinstance(account, int) else Account.handle == str(account))
        if found:
            return found
    if source.store_id:
        return source.store_id
    if source.account_id:
        return _account_store(Account.id == source.account_id)
    return None


def _account_store(condition) -> int | None:
    return db.session.scalar(select(Account.store_id).where(condition, Account.store_id.is_not(None)).limit(1))


# Runs of digits, maybe with the separators people type: "138 0013 8000", "+86-138-0013-8000".
_DIGIT_RUN = re.compile(r"\+?\d[\d\s\-()]{5,}\d")


def mask_payload(raw, phone: str | None):
    """A copy of `raw` with every appearance of the phone number masked (nested JSON strings too)."""
    if not phone:
        return raw
    try:
        digits = phones.normalise_phone(phone)
    except DomainError:
        digits = "".join(c for c in str(phone) if c.isdigit())
    if len(digits) < 5:
        return raw
    masked = phones.mask_phone(digits)

    def text(value: str) -> str:
        return _DIGIT_RUN.sub(lambda m: masked if digits in re.sub(r"\D", "", m.group()) else m.group(), value)

    def walk(node):
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            return text(node)
        if isinstance(node, int) and not isinstance(node, bool) and digits in str(node):
            return masked
        return node
    return walk(raw)


def _city_text(data: LeadInput) -> str:
    # Lead keeps one place-text field for city and district ("杭州市 西湖区"); routing parses both.
    city, district = (data.city or "").strip(), (data.district or "").strip()
    text = city if not district or district in city else f"{city} {district}".strip()
    return text[:60]


def _wgs84(data: LeadInput) -> tuple[float | None, float | None, str | None]:
    """Coordinates in WGS-84, or none and why: a point that cannot be right is dropped, the lead is kept."""
    if data.lon in (None, "") and data.lat in (None, ""):
        return None, None, None
    given = f"{data.lon if data.lon is not None else '—'}, {data.lat if data.lat is not None else '—'}"[:60]
    try:
        if data.lon in (None, "") or data.lat in (None, ""):
            raise geo.CoordinateError(_("only one of longitude and latitude was given"))
        lon, lat = float(data.lon), float(data.lat)
        point = geo.to_wgs84(lon, lat, geo.parse_system(data.coord_system))
    except (TypeError, ValueError) as e:
        why = str(e) if isinstance(e, geo.CoordinateError) else _("coordinates must be numbers")
        return None, None, _("The lead's coordinates (%(point)s) were refused: %(why)s", point=given, why=why)
    return point.lon, point.lat, None


def _short(value, length: int) -> str | None:
    return str(value).strip()[:length] or None if value not in (None, "") else None


def _note_duplicate_phone(lead: Lead) -> None:
    """Point a lead at the first earlier lead of the same store with the same number (by the keyed hash).

    Only within the store: a note naming another store's lead would tell its manager that lead exists.
    """
    if not lead.phone_hash or lead.store_id is None:
        return
    first = db.session.scalar(select(Lead.id).where(Lead.phone_hash == lead.phone_hash, Lead.id != lead.id,
                                                    Lead.store_id == lead.store_id)
                              .order_by(Lead.id).limit(1))
    if first:
        db.session.add(LeadNote(lead_id=lead.id, author_id=None,
                                body=_("Same phone number as lead #%(id)d.", id=first)))


def record_rejection(*, reason: str, status_code: int, source: LeadSource | None = None, slug: str = "",
                     body_bytes: int = 0, remote_addr: str = "") -> None:
    """Log a refused webhook delivery for HQ: why, and from where; never the payload (commits)."""
    db.session.rollback()  # whatever the refused request staged goes; only the record stays
    # A flood of forged calls must not fill the database: past a few a minute per address (and a chain-wide
    # ceiling against many addresses) refusals are answered but no longer logged. Counted in the database,
    # so every process shares the limit.
    since = utcnow() - timedelta(minutes=1)
    recent = select(func.count()).select_from(RejectedDelivery).where(RejectedDelivery.at >= since)
    address = (remote_addr or "")[:64]
    if db.session.scalar(recent.where(RejectedDelivery.remote_addr == address)) >= REJECTIONS_LOGGED_PER_ADDRESS \
            or db.session.scalar(recent) >= REJECTIONS_LOGGED_PER_MINUTE:
        return
    db.session.add(RejectedDelivery(source_id=source.id if source else None, source_slug=(slug or "")[:40],
                                    reason=reason[:300], status_code=status_code, body_bytes=body_bytes,
                                    remote_addr=(remote_addr or "")[:64], at=utcnow()))
    db.session.commit()
