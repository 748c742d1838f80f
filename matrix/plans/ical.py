"""A store's private iCalendar feed: the secret token, and the RFC 5545 text written by hand.

Only a SHA-256 of the token is stored, so a leaked database does not open any feed;
the full URL is shown once, when it is made.
"""
import hashlib
import secrets
from datetime import date, datetime, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from matrix.accounts.models import Account
from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.content.models import Approval, ContentItem, ItemStatus
from matrix.errors import NotFound
from matrix.extensions import db
from matrix.live.models import LiveSession, SessionStatus
from matrix.models import utcnow
from matrix.permissions import can_manage_store
from matrix.plans.models import CalendarFeed
from matrix.plans.services import starts_at
from matrix.stores.models import Store

ITEM_MINUTES = 30      # an item is a reminder, not a meeting: a short block on the phone's calendar
DAYS_BACK, DAYS_AHEAD = 7, 28
LINE_OCTETS = 75       # RFC 5545 3.1: lines longer than 75 octets are folded


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def active_feed(store_id: int) -> CalendarFeed | None:
    """The store's feed that still answers, if any."""
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.store_id == store_id,
                                                        CalendarFeed.revoked_at.is_(None))
                             .order_by(CalendarFeed.id.desc()).limit(1))


def _revoke_all(store_id: int, now: datetime) -> int:
    feeds = db.session.scalars(select(CalendarFeed).where(CalendarFeed.store_id == store_id,
                                                          CalendarFeed.revoked_at.is_(None))).all()
    for feed in feeds:
        feed.revoked_at = now
    return len(feeds)


def create_feed(store: Store, *, actor: User) -> tuple[CalendarFeed, str]:
    """Make a new feed URL for the store, revoking the old one; returns the feed and its token (shown once)."""
    if not can_manage_store(actor, store.id):
        raise NotFound(_("Not found."))
    rotated = _revoke_all(store.id, utcnow())
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(store_id=store.id, token_hash=token_hash(token))
    db.session.add(feed)
    db.session.flush()
    audit.record(actor, "rotate" if rotated else "create", "calendar_feed", entity_id=feed.id, store_id=store.id,
                 summary=store.name)  # never the token
    db.session.commit()
    return feed, token


def revoke_feed(store: Store, *, actor: User) -> int:
    """Stop the store's feed from answering; returns how many feeds were revoked."""
    if not can_manage_store(actor, store.id):
        raise NotFound(_("Not found."))
    revoked = _revoke_all(store.id, utcnow())
    if revoked:
        audit.record(actor, "revoke", "calendar_feed", store_id=store.id, summary=store.name)
    db.session.commit()
    return revoked


def feed_store(token: str) -> Store | None:
    """The unarchived store whose live feed this token opens, else None."""
    return db.session.scalar(select(Store).join(CalendarFeed, CalendarFeed.store_id == Store.id)
                             .where(CalendarFeed.token_hash == token_hash(token or ""),
                                    CalendarFeed.revoked_at.is_(None), Store.archived_at.is_(None)))


def feed_items(store_id: int, today: date) -> list[ContentItem]:
    """The store's items from a week back to four weeks ahead, HQ-rejected ones left out."""
    return list(db.session.scalars(
        select(ContentItem).where(ContentItem.store_id == store_id,
                                  ContentItem.day >= today - timedelta(days=DAYS_BACK),
                                  ContentItem.day <= today + timedelta(days=DAYS_AHEAD),
                                  ContentItem.approval != Approval.REJECTED)
        .options(selectinload(ContentItem.account).selectinload(Account.platform))
        .order_by(ContentItem.day, ContentItem.slot, ContentItem.id)))


def feed_sessions(store_id: int, today: date) -> list[LiveSession]:
    """The store's own live sessions in the same window, cancelled ones included (the phone then drops them)."""
    start = datetime.combine(today - timedelta(days=DAYS_BACK), datetime.min.time(), tzinfo=timezone.utc)
    return list(db.session.scalars(
        select(LiveSession).where(LiveSession.store_id == store_id, LiveSession.starts_at >= start,
                                  LiveSession.starts_at < start + timedelta(days=DAYS_BACK + DAYS_AHEAD + 2))
        .options(selectinload(LiveSession.account).selectinload(Account.platform))
        .order_by(LiveSession.starts_at, LiveSession.id)))


def escape_text(value: str) -> str:
    """RFC 5545 3.3.11 TEXT: backslash, semicolon, comma and newlines escaped."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold one content line at 75 octets without splitting a UTF-8 character."""
    parts, current, size = [], [], 0
    for char in line:
        n = len(char.encode("utf-8"))
        if size + n > LINE_OCTETS:
            parts.append("".join(current))
            current, size = [" "], 1  # the continuation's leading space counts
        current.append(char)
        size += n
    parts.append("".join(current))
    return "\r\n".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _event(item: ContentItem, *, zone: str, locale: str, now: datetime) -> list[str]:
    start = starts_at(item.day, item.slot, zone)
    platform = item.account.platform.label(locale) if item.account else ""
    summary = f"{platform} · {item.topic}" if platform else item.topic
    description = item.caption + (f"\n\n{item.script}" if item.script else "")
    lines = ["BEGIN:VEVENT", f"UID:item-{item.id}@storematrix", f"DTSTAMP:{_utc(now)}",
             f"LAST-MODIFIED:{_utc(item.updated_at or now)}", f"DTSTART:{_utc(start)}",
             f"DTEND:{_utc(start + timedelta(minutes=ITEM_MINUTES))}", f"SUMMARY:{escape_text(summary)}",
             f"DESCRIPTION:{escape_text(description)}",
             "STATUS:" + ("CANCELLED" if item.status in (ItemStatus.SKIPPED, ItemStatus.CANCELLED) else "CONFIRMED")]
    if item.post_url:
        lines.append(f"URL:{item.post_url}")
    return lines + ["END:VEVENT"]


def _session_event(session: LiveSession, *, locale: str, now: datetime) -> list[str]:
    platform = session.account.platform.label(locale)
    summary = _("Live: %(title)s", title=session.title) + f" · {platform} @{session.account.handle}"
    description = "\n".join(part for part in (session.theme, _("Anchor: %(name)s", name=session.anchor)) if part)
    return ["BEGIN:VEVENT", f"UID:live-{session.id}@storematrix", f"DTSTAMP:{_utc(now)}",
            f"LAST-MODIFIED:{_utc(session.updated_at or now)}", f"DTSTART:{_utc(session.starts_at)}",
            f"DTEND:{_utc(session.ends_at)}", f"SUMMARY:{escape_text(summary)}",
            f"DESCRIPTION:{escape_text(description)}",
            "STATUS:" + ("CANCELLED" if session.status == SessionStatus.CANCELLED else "CONFIRMED"),
            "END:VEVENT"]


def calendar_text(store: Store, items: list[ContentItem], *, zone: str, locale: str, now: datetime,
                  sessions: list[LiveSession] = ()) -> str:
    """The whole VCALENDAR, CRLF line ends, every line folded."""
    # Outside the f-string, or Babel's extractor does not see the message (and the name stays English).
    name = _("%(store)s content plan", store=store.name)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//StoreMatrix//Weekly content plan//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{escape_text(name)}",
             f"X-WR-TIMEZONE:{zone}"]
    for item in items:
        lines += _event(item, zone=zone, locale=locale, now=now)
    for session in sessions:
        lines += _session_event(session, locale=locale, now=now)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
