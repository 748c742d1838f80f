"""A session's posts to its store's customer groups: written, moved and withdrawn with its trailers.

`sync_posts` runs in the transaction that books, moves, cancels or imports sessions (called by the trailer
sync), and again when a store's groups or switch change. What is wanted:

- a trailer post per trailer of the host account whose rule step says "also to the community", at the
  trailer's own time (night trailers already moved to the evening slot) with the trailer's text;
- "we are live now" at the start with the live room link (the account's profile link when the session has
  none), unless the start falls in the quiet hours: a "live now" at any other time would be untrue;

to every active group of the host store whose robot is confirmed for customers, unless the store switched
its community posts off. A wanted post already sent for the same time stays sent; one sent for another
time keeps its history under a retired key and the new time gets a new post. Waiting posts no longer
wanted are withdrawn (status cancelled). Posts whose time has passed are not written.
"""
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update

from matrix.accounts.models import Account
from matrix.broadcasts.messages import live_now_post, trailer_post
from matrix.broadcasts.models import StorePosts
from matrix.chain import chain_zone
from matrix.communities.models import Community
from matrix.content.models import ContentItem, ItemSource, ItemStatus
from matrix.extensions import db
from matrix.live.models import LiveSession, SessionStatus, TrailerRule
from matrix.live.settings import default_rule, live_settings
from matrix.live.timing import in_quiet_hours, local_moment, parse_clock
from matrix.notifications.models import CUSTOMER_KINDS, DeliveryStatus, Notification, NotificationKind
from matrix.notifications.targets import MOVED, NO_GROUP_ROBOT, POSTS_OFF, SESSION_OFF

CHUNK = 2_000
POSTED = (ItemStatus.PLANNED, ItemStatus.SHOT, ItemStatus.PUBLISHED)


@dataclass
class PostReport:
    added: int = 0
    moved: int = 0
    withdrawn: int = 0

    def as_dict(self) -> dict:
        return {"added": self.added, "moved": self.moved, "withdrawn": self.withdrawn}


@dataclass
class Want:
    kind: NotificationKind
    session: LiveSession
    community_id: int
    due: datetime
    expires: datetime
    message: dict = field(default_factory=dict)


def post_key(session_id: int, community_id: int, minutes: int | None = None) -> str:
    """"post:<session>:<group>:<minutes>" for a trailer, "live:<session>:<group>" for the start."""
    return f"post:{session_id}:{community_id}:{minutes}" if minutes is not None else f"live:{session_id}:{community_id}"


def _chunks(values: list):
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


class _Context:
    """What the wanted posts of some sessions depend on, read in a few queries."""

    def __init__(self, sessions: list[LiveSession]):
        self.zone = chain_zone()
        settings = live_settings()
        self.quiet = (parse_clock(settings.quiet_start), parse_clock(settings.quiet_end))
        store_ids = sorted({s.store_id for s in sessions if s.store_id})
        self.groups: dict[int, list[int]] = {}
        self.off: set[int] = set()
        for ids in _chunks(store_ids):
            for group_id, store_id in db.session.execute(
                    select(Community.id, Community.store_id).where(
                        Community.store_id.in_(ids), Community.active.is_(True),
                        Community.robot_webhook_url.is_not(None), Community.robot_confirmed_at.is_not(None))
                    .order_by(Community.rotation_order, Community.id)):
                self.groups.setdefault(store_id, []).append(group_id)
            self.off |= set(db.session.scalars(select(StorePosts.store_id).where(
                StorePosts.store_id.in_(ids), StorePosts.community_posts.is_(False))))
        rules = {r.id: r for r in db.session.scalars(select(TrailerRule))}
        fallback = default_rule()
        self.community_steps = {s.id: {int(step["minutes"]) for step in (rules.get(s.rule_id) or fallback).steps
                                       if step.get("community")} for s in sessions}
        account_ids = sorted({s.account_id for s in sessions})
        self.profiles = dict(db.session.execute(select(Account.id, Account.profile_url)
                                                .where(Account.id.in_(account_ids))).tuples().all())

    def link(self, session: LiveSession) -> str | None:
        return session.live_url or self.profiles.get(session.account_id)


def _host_trailers(sessions: list[LiveSession]) -> dict[int, list]:
    """Each session's live trailers on its own host account (retired ones, ":old…", left out)."""
    hosts = {s.id: s.account_id for s in sessions}
    out: dict[int, list] = {}
    columns = ContentItem.__table__.c
    for ids in _chunks(sorted(hosts)):
        for row in db.session.execute(select(columns.session_id, columns.account_id, columns.generation_key,
                                             columns.day, columns.slot, columns.topic, columns.caption)
                                      .where(columns.session_id.in_(ids), columns.source == ItemSource.TRAILER,
                                             columns.status.in_(POSTED))):
            parts = (row.generation_key or "").split(":")
            if row.account_id == hosts[row.session_id] and len(parts) == 4 and parts[3].isdigit():
                out.setdefault(row.session_id, []).append((int(parts[3]), row))
    return out


def _wanted(sessions: list[LiveSession], context: _Context, now: datetime) -> dict[str, Want]:
    wanted: dict[str, Want] = {}
    trailers = _host_trailers([s for s in sessions if s.status == SessionStatus.SCHEDULED])
    for session in sessions:
        groups = context.groups.get(session.store_id, [])
        if session.status != SessionStatus.SCHEDULED or not groups or session.store_id in context.off:
            continue
        link = context.link(session)
        for minutes, item in trailers.get(session.id, ()):
            due = local_moment(item.day, parse_clock(item.slot), context.zone)
            if minutes not in context.community_steps[session.id] or due < now:
                continue
            message = trailer_post(item.topic, item.caption, link)
            for group_id in groups:
                wanted[post_key(session.id, group_id, minutes)] = Want(
                    NotificationKind.TRAILER_POST, session, group_id, due, session.starts_at, message)
        start = session.starts_at.astimezone(ZoneInfo(context.zone))
        if session.starts_at >= now and not in_quiet_hours(start.time(), *context.quiet):
            message = live_now_post(session.title, session.theme, link)
            for group_id in groups:
                wanted[post_key(session.id, group_id)] = Want(
                    NotificationKind.LIVE_NOW, session, group_id, session.starts_at, session.ends_at, message)
    return wanted


def base_key(key: str) -> str:
    """A post's key without the retirement suffix a sent post gets when its session moves."""
    return ":".join(key.split(":")[:4 if key.startswith("post:") else 3])


def _existing(session_ids: list[int]) -> list:
    rows = []
    for ids in _chunks(session_ids):
        rows += db.session.execute(select(
            Notification.id, Notification.dedupe_key, Notification.status, Notification.not_before,
            Notification.locked_until, Notification.message, Notification.session_id)
            .where(Notification.session_id.in_(ids), Notification.kind.in_(CUSTOMER_KINDS))
            .with_for_update()).all()
    return rows


def _open(row, now: datetime) -> bool:
    """Still waiting and not in a worker's hands: ours to move or withdraw."""
    if row.status == DeliveryStatus.PENDING:
        return row.locked_until is None or row.locked_until < now
    return row.status in (DeliveryStatus.HELD, DeliveryStatus.CANCELLED)


def _why_not(row, sessions: dict[int, LiveSession], context: _Context) -> str:
    session = sessions.get(row.session_id)
    if session is None or session.status != SessionStatus.SCHEDULED:
        return SESSION_OFF
    if session.store_id in context.off:
        return POSTS_OFF
    return MOVED if context.groups.get(session.store_id) else NO_GROUP_ROBOT


def _drop_posted(wanted: dict[str, Want], rows: list, existing: dict, now: datetime) -> None:
    """Posted (or being posted) for a time, under any key: moving away and back never posts it twice."""
    done = {(base_key(row.dedupe_key), row.not_before) for row in rows
            if not _open(row, now) and row.status != DeliveryStatus.FAILED}
    for key in [key for key, want in wanted.items() if (key, want.due) in done]:
        if not (key in existing and existing[key].not_before == wanted[key].due):  # not the row itself
            del wanted[key]


def _changes(existing: dict, wanted: dict[str, Want], why_not, now: datetime, report: PostReport) -> list[dict]:
    """Updates of the stored posts; what `wanted` still holds afterwards is to be inserted."""
    updates = []
    for key, row in existing.items():
        want = wanted.pop(key, None)
        if want is None:
            if _open(row, now) and row.status != DeliveryStatus.CANCELLED:
                updates.append({"id": row.id, "status": DeliveryStatus.CANCELLED, "last_error": why_not(row)})
                report.withdrawn += 1
        elif _open(row, now):
            if row.status == DeliveryStatus.CANCELLED or row.not_before != want.due or row.message != want.message:
                updates.append({"id": row.id, "status": DeliveryStatus.PENDING, "last_error": None, "attempts": 0,
                                "not_before": want.due, "next_attempt_at": want.due, "expires_at": want.expires,
                                "message": want.message})
                report.moved += 1
        elif row.not_before != want.due:
            # Sent (or being sent) for another time: it stays on record; the new time gets a post of its own.
            updates.append({"id": row.id, "dedupe_key": f"{key}:{row.id}"})
            wanted[key] = want
    return updates


def sync_posts(sessions: list[LiveSession], *, now: datetime) -> PostReport:
    """Bring the customer-group posts of `sessions` in line with them (in the caller's transaction)."""
    report = PostReport()
    sessions = [s for s in sessions if s.status in (SessionStatus.SCHEDULED, SessionStatus.CANCELLED)]
    if not sessions:
        return report
    context = _Context(sessions)
    wanted = _wanted(sessions, context, now)
    rows = _existing([s.id for s in sessions])
    existing = {row.dedupe_key: row for row in rows if base_key(row.dedupe_key) == row.dedupe_key}
    _drop_posted(wanted, rows, existing, now)
    by_id = {s.id: s for s in sessions}
    updates = _changes(existing, wanted, lambda row: _why_not(row, by_id, context), now, report)
    inserts = [{"kind": want.kind, "store_id": want.session.store_id, "community_id": want.community_id,
                "session_id": want.session.id, "dedupe_key": key, "message": want.message,
                "status": DeliveryStatus.PENDING, "attempts": 0, "not_before": want.due, "next_attempt_at": want.due,
                "expires_at": want.expires, "created_at": now} for key, want in wanted.items()]
    report.added = len(inserts)
    _write(updates, inserts)
    return report


def _write(updates: list[dict], inserts: list[dict]) -> None:
    # Retired keys first: a post keeps its key until its replacement takes it.
    groups: dict[tuple, list[dict]] = {}  # bulk UPDATE by primary key wants the same keys in every row
    for row in updates:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for rows in sorted(groups.values(), key=lambda rows: "dedupe_key" not in rows[0]):
        for chunk in _chunks(rows):
            db.session.execute(update(Notification), chunk)
    for chunk in _chunks(inserts):
        db.session.execute(insert(Notification.__table__), chunk)


def sync_store_posts(store_id: int, *, now: datetime) -> PostReport:
    """Re-check the posts of a store's sessions still to come (its groups or its switch changed)."""
    sessions = list(db.session.scalars(select(LiveSession).where(
        LiveSession.store_id == store_id, LiveSession.status == SessionStatus.SCHEDULED, LiveSession.ends_at > now)))
    return sync_posts(sessions, now=now)
