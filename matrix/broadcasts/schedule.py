"""The worker's periodic step: overdue-lead reminders and the daily digest, written to the staff channels.

Each is written once (a reminder per lead, a digest per store and day) under a unique key, inserted with
ON CONFLICT DO NOTHING: two workers, or a worker run twice, cannot write one twice. Only stores with a
confirmed staff channel get them: a reminder or a digest kept waiting for days would say the wrong thing
(the held lead alert itself waits, and is sent once the channel is confirmed).
"""
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import String, cast, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from matrix.broadcasts.messages import digest_card, reminder_card
from matrix.broadcasts.services import broadcast_settings
from matrix.chain import chain_language, chain_zone
from matrix.communities.models import StaffChannel
from matrix.content.models import ContentItem, ItemStatus
from matrix.extensions import db
from matrix.leads.alert_messages import lead_link
from matrix.leads.models import Lead, LeadStatus
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.settings import live_settings
from matrix.live.timing import clock, in_quiet_hours, local_moment, parse_clock
from matrix.models import utcnow
from matrix.notifications.models import DeliveryStatus, Notification, NotificationKind
from matrix.plans.labels import CONTENT_KIND_LABELS
from matrix.stores.models import Store
from matrix.weeks import week_string

log = logging.getLogger(__name__)

REMINDER_WINDOW = timedelta(days=3)   # older leads still new get no reminder: they were missed long ago
DIGEST_WINDOW = timedelta(hours=3)    # a worker started later than this after the digest time skips the day
CHUNK = 1_000


@dataclass
class Written:
    reminders: int = 0
    digests: int = 0

    def line(self) -> str:
        return f"reminders {self.reminders}, digests {self.digests}"


def _insert_once(rows: list[dict]) -> int:
    """Insert rows whose dedupe_key is new; a key already written is skipped, not an error."""
    if not rows:
        return 0
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    written = 0
    table = Notification.__table__
    for start in range(0, len(rows), CHUNK):
        # RETURNING counts what was written: an executemany's rowcount is not reliable across drivers.
        statement = (dialect.insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
                     .returning(table.c.id))
        written += len(db.session.execute(statement, rows[start:start + CHUNK]).all())
    return written


def _staff_row(kind: NotificationKind, store_id: int, channel_id: int, key: str, message: dict, now: datetime,
               lead_id: int | None = None) -> dict:
    return {"kind": kind, "lead_id": lead_id, "store_id": store_id, "staff_channel_id": channel_id,
            "dedupe_key": key, "message": message, "status": DeliveryStatus.PENDING, "attempts": 0,
            "not_before": now, "next_attempt_at": now, "created_at": now}


def _quiet(now: datetime, zone: str) -> bool:
    settings = live_settings()
    return in_quiet_hours(now.astimezone(ZoneInfo(zone)).time(), parse_clock(settings.quiet_start),
                          parse_clock(settings.quiet_end))


def write_reminders(*, now: datetime, zone: str) -> int:
    """One reminder per lead still new `reminder_hours` after it arrived; none in the quiet hours."""
    hours = broadcast_settings().reminder_hours
    if hours <= 0 or _quiet(now, zone):
        return 0  # after the quiet hours, leads still new get theirs
    key = literal("remind:") + cast(Lead.id, String)
    written = select(Notification.dedupe_key).where(Notification.dedupe_key.like("remind:%"),
                                                    Notification.created_at > now - REMINDER_WINDOW - timedelta(days=1))
    found = db.session.execute(
        select(Lead, Store.name, StaffChannel.id).join(Store, Store.id == Lead.store_id)
        .join(StaffChannel, StaffChannel.store_id == Lead.store_id)
        .where(Lead.status == LeadStatus.NEW, Lead.received_at <= now - timedelta(hours=hours),
               Lead.received_at > now - REMINDER_WINDOW, StaffChannel.confirmed_at.is_not(None), key.not_in(written))
        .order_by(Lead.received_at).limit(CHUNK)).all()
    rows = [_staff_row(NotificationKind.LEAD_REMINDER, lead.store_id, channel_id, f"remind:{lead.id}",
                       reminder_card(store_name=store_name, phone_masked=lead.phone_masked,
                                     received_at=lead.received_at, hours=hours, link=lead_link(lead), zone=zone),
                       now, lead_id=lead.id)
            for lead, store_name, channel_id in found]
    return _insert_once(rows)


def _plan_link(store_id: int, day: date) -> str:
    """The store's week in the app (BASE_URL, since the worker has no request to take a host from)."""
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    return f"{base}/plans/{store_id}/{week_string(day)}" if base else ""


def _day_of(store_ids: list[int], day: date, zone: str) -> tuple[dict, dict]:
    """Store id -> today's items (slot, kind, topic) and live sessions (time, title)."""
    items: dict[int, list] = {}
    with chain_language():
        labels = {kind: str(label) for kind, label in CONTENT_KIND_LABELS.items()}
    for store_id, slot, kind, topic in db.session.execute(
            select(ContentItem.store_id, ContentItem.slot, ContentItem.kind, ContentItem.topic)
            .where(ContentItem.store_id.in_(store_ids), ContentItem.day == day,
                   ContentItem.status.in_((ItemStatus.PLANNED, ItemStatus.SHOT, ItemStatus.PUBLISHED)))
            .order_by(ContentItem.slot, ContentItem.id)):
        items.setdefault(store_id, []).append((slot, labels.get(kind.value, kind.value), topic))
    sessions: dict[int, list] = {}
    start = local_moment(day, parse_clock("00:00"), zone)
    for store_id, starts_at, title in db.session.execute(
            select(LiveSession.store_id, LiveSession.starts_at, LiveSession.title)
            .where(LiveSession.store_id.in_(store_ids), LiveSession.starts_at >= start,
                   LiveSession.starts_at < start + timedelta(days=1),
                   LiveSession.status.in_((SessionStatus.SCHEDULED, SessionStatus.LIVE)))
            .order_by(LiveSession.starts_at)):
        sessions.setdefault(store_id, []).append((clock(starts_at.astimezone(ZoneInfo(zone))), title))
    return items, sessions


def write_digests(*, now: datetime, zone: str) -> int:
    """Each store's day in its staff channel at HQ's digest time (once a day; a store with nothing gets none)."""
    settings = broadcast_settings()
    local = now.astimezone(ZoneInfo(zone))
    due = local_moment(local.date(), parse_clock(settings.digest_at), zone)
    if not settings.digest_on or not due <= now < due + DIGEST_WINDOW:
        return 0
    day = local.date()
    prefix = f"digest:%:{day.isoformat()}"
    done = select(Notification.store_id).where(Notification.dedupe_key.like(prefix),
                                               Notification.kind == NotificationKind.DIGEST)
    channels = db.session.execute(
        select(StaffChannel.store_id, StaffChannel.id, Store.name).join(Store, Store.id == StaffChannel.store_id)
        .where(StaffChannel.confirmed_at.is_not(None), Store.archived_at.is_(None),
               StaffChannel.store_id.not_in(done))).all()
    written = 0
    for start in range(0, len(channels), CHUNK):
        part = channels[start:start + CHUNK]
        items, sessions = _day_of([store_id for store_id, _id, _name in part], day, zone)
        rows = [_staff_row(NotificationKind.DIGEST, store_id, channel_id, f"digest:{store_id}:{day.isoformat()}",
                           digest_card(store_name=name, day=day, items=items.get(store_id, []),
                                       sessions=sessions.get(store_id, []), link=_plan_link(store_id, day)), now)
                for store_id, channel_id, name in part if items.get(store_id) or sessions.get(store_id)]
        written += _insert_once(rows)
    return written


def run_periodic(now: datetime | None = None) -> Written:
    """Write what is due now; commits. The worker calls it about once a minute."""
    now = now or utcnow()
    zone = chain_zone()
    written = Written(reminders=write_reminders(now=now, zone=zone), digests=write_digests(now=now, zone=zone))
    db.session.commit()
    return written
