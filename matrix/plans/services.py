"""What stores and HQ do with the items of a week. Each public call is one audited transaction.

Approval rule for store-authored items: an item a store adds needs HQ approval when an
active campaign with `requires_approval` covers the store (its store scope), the item's
platform (its platforms; none named means all) and overlaps the item's ISO week.
Items HQ adds itself need no approval.
"""
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select

from matrix.accounts.models import Account, AccountScope, Platform
from matrix.accounts.values import check_platform_url
from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.broadcasts.posts import sync_posts
from matrix.content.models import Approval, Campaign, ContentItem, ContentKind, ItemSource, ItemStatus
from matrix.content.scope import scope_store_ids
from matrix.errors import DomainError, NotFound
from matrix.extensions import db
from matrix.live.models import LiveSession
from matrix.models import utcnow
from matrix.permissions import can_manage_store
from matrix.plans.labels import ITEM_STATUS_LABELS
from matrix.stores.models import Store
from matrix.weeks import monday_of, week_string

AUDITED_FIELDS = ["store_id", "account_id", "day", "slot", "kind", "source", "topic", "caption", "script",
                  "hashtags", "status", "post_url", "skip_reason", "approval", "approval_note", "edited_by_store"]
LIMITS = {"topic": 200, "caption": 5000, "script": 5000, "hashtags": 500}
SLOT_RE = re.compile(r"^\s*([01]?\d|2[0-3])[:：]([0-5]\d)\s*$")
# Forward steps anyone who runs the store may take; HQ may also put an item back to planned.
FORWARD = {ItemStatus.PLANNED: {ItemStatus.SHOT, ItemStatus.PUBLISHED, ItemStatus.SKIPPED},
           ItemStatus.SHOT: {ItemStatus.PUBLISHED, ItemStatus.SKIPPED}}
BACK_TO_PLANNED = {ItemStatus.SHOT, ItemStatus.PUBLISHED, ItemStatus.SKIPPED}
OPEN_STATUSES = (ItemStatus.PLANNED, ItemStatus.SHOT)


def starts_at(day: date, slot: str, zone: str) -> datetime:
    """The aware moment an item is due: its day and local "HH:MM" slot in the chain's zone."""
    hour, minute = (int(part) for part in slot.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))


def is_overdue(item: ContentItem, *, now: datetime, zone: str) -> bool:
    """Planned or shot, not rejected by HQ, and its slot has passed (to the minute, like the completion counts)."""
    return (item.status in OPEN_STATUSES and item.approval != Approval.REJECTED
            and starts_at(item.day, item.slot, zone) < now.replace(second=0, microsecond=0))


def clean_slot(text: str) -> str:
    """A local time slot as "HH:MM" (9:30 and 09：30 are accepted)."""
    match = SLOT_RE.match(text or "")
    if not match:
        raise DomainError(_("“%(value)s” is not a time; write it like 18:00.", value=text), field="slot")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _texts(values: dict) -> dict:
    cleaned = {}
    for name, limit in LIMITS.items():
        text = (values.get(name) or "").strip().replace("\r\n", "\n")
        if len(text) > limit:
            raise DomainError(_("This text is too long: at most %(n)d characters.", n=limit), field=name)
        cleaned[name] = text
    if not cleaned["topic"]:
        raise DomainError(_("The topic is required."), field="topic")
    return cleaned


def _in_scope(actor: User, store_id: int) -> None:
    # Views load items through get_item_or_404 already; this guards every other caller.
    if not can_manage_store(actor, store_id):
        raise NotFound(_("Not found."))


def _open(item: ContentItem) -> None:
    if item.status not in OPEN_STATUSES:
        raise DomainError(_("Only planned or shot items can be changed; put it back to planned first."))


def _record(actor: User, action: str, item: ContentItem, before: dict | None) -> dict:
    after = audit.snapshot(item, AUDITED_FIELDS)
    changes = after if before is None else audit.diff(before, after)
    if changes:
        audit.record(actor, action, "content_item", entity_id=item.id, store_id=item.store_id,
                     summary=f"{item.day.isoformat()} {item.slot} {item.topic}", changes=changes)
    return changes


def _follow_posts(item: ContentItem) -> None:
    """A trailer changed by hand: its session's posts to the customer groups take its new text, time or status."""
    session = db.session.get(LiveSession, item.session_id) if item.session_id is not None else None
    if session is not None:
        db.session.flush()
        sync_posts([session], now=utcnow())


def edit_item(item: ContentItem, *, actor: User, topic: str, caption: str, script: str, hashtags: str) -> dict:
    """Change an item's texts; a hand edit is kept when the campaign's week is generated again."""
    _in_scope(actor, item.store_id)
    _open(item)
    before = audit.snapshot(item, AUDITED_FIELDS)
    for name, value in _texts({"topic": topic, "caption": caption, "script": script, "hashtags": hashtags}).items():
        setattr(item, name, value)
    if db.session.is_modified(item):
        item.edited_by_store = True
        # A store's own item HQ has looked at goes back into the queue when the store rewrites it.
        if not actor.is_hq and item.source == ItemSource.STORE and item.approval != Approval.NOT_NEEDED:
            item.approval, item.approval_note = Approval.PENDING, None
    changes = _record(actor, "update", item, before)
    _follow_posts(item)
    db.session.commit()
    return changes


def move_item(item: ContentItem, *, actor: User, day: date, slot: str, zone: str) -> dict:
    """Move an item to another day and slot of the same ISO week."""
    _in_scope(actor, item.store_id)
    _open(item)
    if monday_of(day) != monday_of(item.day):
        raise DomainError(_("An item moves only within its week (%(week)s); add a new item for another week.",
                            week=week_string(item.day)), field="day")
    slot = clean_slot(slot)
    if item.session_id is not None:
        _before_the_session(item, day, slot, zone)
    before = audit.snapshot(item, AUDITED_FIELDS)
    item.day, item.slot = day, slot
    if db.session.is_modified(item):
        item.edited_by_store = True  # regenerating must not move it back
    changes = _record(actor, "move", item, before)
    _follow_posts(item)
    db.session.commit()
    return changes


def _before_the_session(item: ContentItem, day: date, slot: str, zone: str) -> None:
    """A trailer announces its session: it cannot go out once the session has started."""
    session = db.session.get(LiveSession, item.session_id)
    if session is not None and starts_at(day, slot, zone) >= session.starts_at:
        raise DomainError(_("A trailer goes out before its live session starts (%(when)s).",
                            when=format_datetime(session.starts_at, "yyyy-MM-dd HH:mm")), field="day")


def approval_required(store: Store, platform_id: int, day: date) -> bool:
    """Does a campaign that requires approval cover this store, platform and week (see the module rule)?"""

    monday = monday_of(day)
    campaigns = db.session.scalars(select(Campaign).where(
        Campaign.active.is_(True), Campaign.requires_approval.is_(True),
        Campaign.starts_on <= monday + timedelta(days=6), Campaign.ends_on >= monday))
    for campaign in campaigns:
        if campaign.platform_ids and platform_id not in campaign.platform_ids:
            continue
        if db.session.scalar(scope_store_ids(campaign).where(Store.id == store.id)) is not None:
            return True
    return False


def add_item(store: Store, *, actor: User, account_id: int, day: date | None, slot: str, kind: str,
             topic: str, caption: str = "", script: str = "", hashtags: str = "",
             week: date | None = None) -> ContentItem:
    """Add a store's own item to one of its accounts, on a day of `week` (its Monday) when one is given."""
    _in_scope(actor, store.id)
    if day is None or (week is not None and not week <= day <= week + timedelta(days=6)):
        raise DomainError(_("Choose a day of this week."), field="day")
    account = db.session.get(Account, account_id) if account_id else None
    if account is None or account.store_id != store.id or account.scope != AccountScope.STORE:
        raise DomainError(_("Choose one of this store's accounts."), field="account_id")
    if kind not in {k.value for k in ContentKind}:
        raise DomainError(_("Choose what kind of content this is."), field="kind")
    item = ContentItem(store_id=store.id, account_id=account.id, day=day, slot=clean_slot(slot),
                       kind=ContentKind(kind), source=ItemSource.STORE, status=ItemStatus.PLANNED,
                       edited_by_store=True, **_texts({"topic": topic, "caption": caption, "script": script,
                                                       "hashtags": hashtags}))
    needs_approval = not actor.is_hq and approval_required(store, account.platform_id, day)
    item.approval = Approval.PENDING if needs_approval else Approval.NOT_NEEDED
    db.session.add(item)
    db.session.flush()
    _record(actor, "create", item, None)
    db.session.commit()
    return item


def allowed_statuses(item: ContentItem, actor: User) -> list[ItemStatus]:
    """The statuses this user may move the item to now (for the status form's choices)."""
    allowed = [s for s in ItemStatus if s in FORWARD.get(item.status, set())]
    if actor.is_hq and item.status in BACK_TO_PLANNED:
        allowed.insert(0, ItemStatus.PLANNED)
    if item.approval in (Approval.PENDING, Approval.REJECTED):
        allowed = [s for s in allowed if s not in (ItemStatus.SHOT, ItemStatus.PUBLISHED)]
    return allowed


def _check_transition(item: ContentItem, actor: User, status: ItemStatus) -> None:
    if status == ItemStatus.PLANNED and item.status in BACK_TO_PLANNED:
        if not actor.is_hq:
            raise DomainError(_("Only HQ can put an item back to planned."))
        return
    if status not in FORWARD.get(item.status, set()):
        raise DomainError(_("An item that is %(old)s cannot become %(new)s.",
                            old=_status_name(item.status), new=_status_name(status)), field="status")
    if status in (ItemStatus.SHOT, ItemStatus.PUBLISHED) and item.approval in (Approval.PENDING, Approval.REJECTED):
        raise DomainError(_("This item is not approved by HQ yet."), field="status")


def _status_name(status: ItemStatus) -> str:

    return str(ITEM_STATUS_LABELS[status.value])


def change_status(item: ContentItem, *, actor: User, status: str, post_url: str = "", reason: str = "") -> None:
    """Move an item along planned -> shot -> published (with its post URL) or skipped (with a reason)."""
    _in_scope(actor, item.store_id)
    try:
        new = ItemStatus(status)
    except ValueError:
        raise DomainError(_("Choose a status."), field="status") from None
    _check_transition(item, actor, new)
    url = _post_url(item, post_url) if new == ItemStatus.PUBLISHED else None
    why = _skip_reason(reason) if new == ItemStatus.SKIPPED else None
    before = audit.snapshot(item, AUDITED_FIELDS)
    item.status, item.post_url, item.skip_reason = new, url, why
    _record(actor, "status", item, before)
    _follow_posts(item)
    db.session.commit()


def _skip_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the item is skipped."), field="reason")
    if len(reason) > 300:
        raise DomainError(_("This text is too long: at most %(n)d characters.", n=300), field="reason")
    return reason


def _post_url(item: ContentItem, url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise DomainError(_("Paste the address of the published post."), field="post_url")
    if len(url) > 500:
        raise DomainError(_("This text is too long: at most %(n)d characters.", n=500), field="post_url")
    # Without an account any web address will do (no platform hosts to check against).
    platform = item.account.platform if item.account is not None else Platform(url_hosts="")
    try:
        return check_platform_url(url, platform)
    except DomainError as e:
        raise DomainError(e.message, field="post_url") from None


def decide(items: list[ContentItem], *, actor: User, approve: bool, reason: str = "") -> int:
    """HQ approves or rejects (with a reason) store items waiting for approval; returns how many changed."""
    if not actor.is_hq:
        raise NotFound(_("Not found."))
    reason = (reason or "").strip()
    if not approve and not reason:
        raise DomainError(_("Say why the items are rejected."), field="reason")
    if len(reason) > 300:
        raise DomainError(_("This text is too long: at most %(n)d characters.", n=300), field="reason")
    changed = 0
    for item in items:
        if item.approval != Approval.PENDING:
            continue  # decided meanwhile by someone else: leave it
        before = audit.snapshot(item, AUDITED_FIELDS)
        item.approval = Approval.APPROVED if approve else Approval.REJECTED
        item.approval_note = None if approve else reason
        _record(actor, "approve" if approve else "reject", item, before)
        changed += 1
    db.session.commit()
    return changed
