"""Lead webhooks accepted durably: stored and deduplicated before the 200, routed right after by the worker.

The request only verifies, parses and stores the delivery (one short transaction, one INSERT ... ON
CONFLICT DO NOTHING, no routing), so a platform's burst is answered in milliseconds. The worker (`flask
worker`) then claims pending deliveries in small batches (FOR UPDATE SKIP LOCKED on PostgreSQL, so
several workers share them and none routes one twice) and turns each into its lead through the same
intake path as every other door (intake.stage_lead: dedupe, encrypted phone, routing, the staff alert
in the outbox), in one transaction with the delivery's new state. A delivery whose routing raises is
marked failed with the reason, for HQ, and left alone. With LEAD_ROUTING = "inline" (the suite, which
runs no worker) the request routes its own delivery the same way before answering.
"""
import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import LargeBinary, bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from matrix.extensions import db
from matrix.leads import intake, mapping, phones
from matrix.leads.models import DeliveryState, InboundDelivery, LeadSource, SourceKind
from matrix.models import UTCDateTime, utcnow

log = logging.getLogger(__name__)
ROUTE_BATCH = 20  # deliveries per transaction: short locks, and a crash loses one small batch's work


@dataclass(frozen=True)
class Accepted:
    """What the webhook answers: the delivery, whether it came before, and its lead when already known."""

    delivery_id: int
    duplicate: bool
    lead_id: int | None = None


def parse_body(body: bytes) -> object:
    """JSON as the webhook reads it: NaN, Infinity and 1e999 are not JSON (PostgreSQL's JSON refuses them)."""
    return json.loads(body.decode("utf-8"), parse_constant=_not_json, parse_float=_finite)


def _not_json(word: str):
    raise ValueError(word)


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(text)
    return number


def lead_input(source, payload: dict, body: bytes, message_id: str | None) -> intake.LeadInput:
    """The lead fields of a delivery by the source's field map; `message_id` dedupes leads without an id.

    `source` is a LeadSource or the webhook's cached view of one (source_cache.WebhookSource)."""
    values = mapping.extract(payload, mapping.field_map_for(source))
    # Douyin retries carry the same Msg-Id; other sources without a lead id dedupe on the body itself.
    message_id = message_id if source.kind == SourceKind.DOUYIN else None
    message_id = message_id or "body-" + phones.keyed_digest(body)[:48]
    return intake.LeadInput.from_values(values, raw=payload, message_id=message_id)


def check_lead(data: intake.LeadInput) -> None:
    """What would refuse the lead at routing is refused at the door instead (4xx, the platform sees it)."""
    intake.check_required(data)
    if (data.phone or "").strip():
        phones.normalise_phone(data.phone)  # PhoneError: digits that cannot be dialled


def accept(source, data: intake.LeadInput, body: bytes, *, inline: bool,
           now: datetime | None = None) -> Accepted:
    """Store a verified delivery once (per source and dedupe key) and commit; route it now when `inline`."""
    key = intake.dedupe_key(data)
    values = {"source_id": source.id, "dedupe_key": key, "message_id": (data.message_id or "")[:120] or None,
              "body_encrypted": phones.encrypt_text(body.decode("utf-8")), "state": DeliveryState.PENDING.value,
              "received_at": now or utcnow()}
    try:
        delivery_id = db.session.execute(_INSERT_ONCE, values).scalar()
        if delivery_id is None:
            db.session.rollback()
            return _earlier(source.id, key)
        lead_id = route_one(db.session.get(InboundDelivery, delivery_id), {}) if inline else None
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return Accepted(delivery_id, False, lead_id)


# One statement, built once: the hot path of a burst pays for neither the ORM nor building a statement.
# ON CONFLICT ... DO NOTHING RETURNING is the same on PostgreSQL and SQLite (3.35+).
_INSERT_ONCE = text(
    "INSERT INTO inbound_deliveries (source_id, dedupe_key, message_id, body_encrypted, state, received_at) "
    "VALUES (:source_id, :dedupe_key, :message_id, :body_encrypted, :state, :received_at) "
    "ON CONFLICT (source_id, dedupe_key) DO NOTHING RETURNING id"
).bindparams(bindparam("body_encrypted", type_=LargeBinary()), bindparam("received_at", type_=UTCDateTime()))


def _earlier(source_id: int, key: str) -> Accepted:
    row = db.session.execute(select(InboundDelivery.id, InboundDelivery.lead_id).where(
        InboundDelivery.source_id == source_id, InboundDelivery.dedupe_key == key)).one()
    db.session.rollback()
    return Accepted(row.id, True, row.lead_id)


def route_pending(*, limit: int = ROUTE_BATCH) -> tuple[int, int]:
    """Route up to `limit` pending deliveries in one transaction; (routed, failed). Commits."""
    query = (select(InboundDelivery).where(InboundDelivery.state == DeliveryState.PENDING)
             .order_by(InboundDelivery.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # another worker's batch is left to it
    try:
        deliveries = db.session.scalars(query).all()
        sources: dict[int, LeadSource] = {}
        results = [route_one(delivery, sources) for delivery in deliveries]
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    failed = sum(1 for lead_id in results if lead_id is None)
    return len(results) - failed, failed


def route_waiting(*, batches: int = 10) -> tuple[int, int]:
    """Route what waits, a batch at a time, at most `batches` (then the robots get their turn); commits."""
    routed = failed = 0
    for _ in range(batches):
        done, lost = route_pending()
        routed, failed = routed + done, failed + lost
        if done + lost < ROUTE_BATCH:
            break
    return routed, failed


def route_one(delivery: InboundDelivery, sources: dict[int, LeadSource]) -> int | None:
    """Make the delivery's lead in a savepoint; on an error mark it failed with the reason. No commit."""
    source = sources.get(delivery.source_id) or db.session.get(LeadSource, delivery.source_id)
    sources[source.id] = source
    savepoint = db.session.begin_nested()
    try:
        lead_id = _make_lead(delivery, source)
        savepoint.commit()
    except (OperationalError, InterfaceError):
        raise  # the database went away: the whole batch is tried again, nothing is the delivery's fault
    except Exception as error:  # noqa: BLE001 - any other error is this delivery's: keep it for HQ, go on
        savepoint.rollback()
        log.warning("inbound delivery %s not routed: %s", delivery.id, type(error).__name__)
        _finish(delivery.id, DeliveryState.FAILED, error=_reason(error))
        return None
    _finish(delivery.id, DeliveryState.ROUTED, lead_id=lead_id)
    return lead_id


def _make_lead(delivery: InboundDelivery, source: LeadSource) -> int:
    body = phones.decrypt_text(delivery.body_encrypted).encode("utf-8")
    data = lead_input(source, parse_body(body), body, delivery.message_id)
    try:
        lead, _created = intake.stage_lead(data, source=source, now=delivery.received_at)
        db.session.flush()
    except IntegrityError:
        # The same lead came in by another door at the same moment: it is this delivery's lead.
        existing = intake.find_existing(source.id, intake.dedupe_key(data))
        if existing is None:
            raise
        return existing.id
    return lead.id


def _finish(delivery_id: int, state: DeliveryState, *, lead_id: int | None = None, error: str | None = None):
    # The body held the phone in clear (encrypted): once the lead has it, the copy goes.
    body = {"body_encrypted": None} if state == DeliveryState.ROUTED else {}
    db.session.execute(update(InboundDelivery).where(InboundDelivery.id == delivery_id).values(
        state=state, lead_id=lead_id, error=error, routed_at=utcnow(), **body)
        .execution_options(synchronize_session=False))


def _reason(error: Exception) -> str:
    code = getattr(error, "code", None)
    text = f"{type(error).__name__}: {code or error}"
    return text[:300]


@dataclass(frozen=True)
class Backlog:
    waiting: int  # answered 200, not routed yet
    failed: int   # routing raised: on the refused deliveries page


def backlog() -> Backlog:
    """How many webhook deliveries wait for the worker, and how many could not be routed (HQ's lead inbox)."""
    counts = dict(db.session.execute(select(InboundDelivery.state, func.count()).where(
        InboundDelivery.state.in_([DeliveryState.PENDING, DeliveryState.FAILED])).group_by(InboundDelivery.state)).all())
    return Backlog(counts.get(DeliveryState.PENDING, 0), counts.get(DeliveryState.FAILED, 0))


def failed_deliveries(limit: int = 50) -> list:
    """The newest deliveries whose routing failed, with their source's URL name (no payload is shown)."""
    return db.session.execute(select(InboundDelivery.id, InboundDelivery.received_at, InboundDelivery.error,
                                     InboundDelivery.source_id, LeadSource.slug)
                              .join(LeadSource, LeadSource.id == InboundDelivery.source_id)
                              .where(InboundDelivery.state == DeliveryState.FAILED)
                              .order_by(InboundDelivery.id.desc()).limit(limit)).all()
