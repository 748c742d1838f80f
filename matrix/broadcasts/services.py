"""HQ's reminder and digest settings, and a store's switch for its community posts. Audited, one commit each."""
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.broadcasts.models import DEFAULT_DIGEST_AT, DEFAULT_REMINDER_HOURS, BroadcastSettings, StorePosts
from matrix.broadcasts.posts import PostReport, sync_store_posts
from matrix.errors import Collector, DomainError
from matrix.extensions import db
from matrix.live.timing import clock, parse_clock
from matrix.models import utcnow
from matrix.stores.models import Store
from matrix.transaction import transactional

SETTINGS_FIELDS = ["reminder_hours", "digest_on", "digest_at"]
MAX_REMINDER_HOURS = 72


def broadcast_settings() -> BroadcastSettings:
    """The settings row, created with the defaults the first time anyone reads it."""
    row = db.session.scalar(select(BroadcastSettings).order_by(BroadcastSettings.id).limit(1))
    if row is None:
        row = BroadcastSettings(reminder_hours=DEFAULT_REMINDER_HOURS, digest_on=True, digest_at=DEFAULT_DIGEST_AT)
        db.session.add(row)
        db.session.flush()
    return row


def _hours(value) -> int:
    try:
        hours = int(str(value if value is not None else "").strip())
    except ValueError:
        raise DomainError(_("Write a whole number of hours."), field="reminder_hours") from None
    if not 0 <= hours <= MAX_REMINDER_HOURS:
        raise DomainError(_("Between 0 (no reminders) and %(n)d hours.", n=MAX_REMINDER_HOURS), field="reminder_hours")
    return hours


@transactional
def update_broadcast_settings(values: dict, *, actor: User) -> BroadcastSettings:
    """When a still-new lead is recalled to the staff channel, and when the daily digest goes out."""
    row = broadcast_settings()
    before = audit.snapshot(row, SETTINGS_FIELDS)
    collect = Collector()
    with collect.field("reminder_hours"):
        hours = _hours(values.get("reminder_hours"))
    with collect.field("digest_at"):
        digest_at = parse_clock(values.get("digest_at") or "", field="digest_at")
    collect.check()
    row.reminder_hours, row.digest_on, row.digest_at = hours, bool(values.get("digest_on")), clock(digest_at)
    audit.record(actor, "update", "broadcast_settings", entity_id=row.id, summary=_("Reminder and digest settings changed."),
                 changes=audit.diff(before, audit.snapshot(row, SETTINGS_FIELDS)))
    db.session.commit()
    return row


def community_posts_on(store_id: int) -> bool:
    """Whether the store lets trailers and live posts go to its customer groups (on unless switched off)."""
    return db.session.scalar(select(StorePosts.community_posts).where(StorePosts.store_id == store_id)) is not False


@transactional
def set_community_posts(store: Store, *, on: bool, actor: User, now: datetime | None = None) -> PostReport:
    """Switch the store's community posts on or off; off withdraws the waiting ones, on writes them again."""
    now = now or utcnow()
    row = db.session.get(StorePosts, store.id)
    before = row.community_posts if row else True
    if row is None:
        row = StorePosts(store_id=store.id)
        db.session.add(row)
    row.community_posts, row.changed_by_id, row.changed_at = on, actor.id, now
    db.session.flush()
    report = sync_store_posts(store.id, now=now)
    audit.record(actor, "update", "store_posts", entity_id=store.id, store_id=store.id,
                 summary=(_("Community posts of %(store)s switched on.", store=store.code) if on
                          else _("Community posts of %(store)s switched off.", store=store.code)),
                 changes={"community_posts": [before, on], "posts": report.as_dict()})
    db.session.commit()
    return report
