"""A store's staff channel: entered, confirmed, unconfirmed or replaced by HQ or the store's manager.

Confirming releases the store's held staff messages in the same transaction (each is then sent once);
unconfirming holds the ones still waiting. "Which group is this robot in?" is asked of every robot the
upgrade found: answered "staff", it becomes the staff channel and leaves the customer group; answered
"customers", it stays the group's robot for trailers and live posts and is no staff candidate any more.
"""
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.broadcasts.posts import sync_store_posts
from matrix.communities.models import Community, StaffChannel
from matrix.communities.values import check_robot_url
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.models import utcnow
from matrix.notifications.models import STAFF_KINDS, DeliveryStatus, Notification
from matrix.notifications.targets import HELD_REASON
from matrix.stores.models import Store
from matrix.transaction import transactional


def staff_channel_of(store_id: int) -> StaffChannel | None:
    return db.session.scalar(select(StaffChannel).where(StaffChannel.store_id == store_id))


def unconfirmed_stores():
    """Stores (not archived) whose lead alerts have nowhere to go yet: no confirmed staff channel."""
    confirmed = select(StaffChannel.store_id).where(StaffChannel.confirmed_at.is_not(None))
    return select(Store).where(Store.archived_at.is_(None), Store.id.not_in(confirmed))


def held_count(store_id: int | None = None) -> int:
    """Staff messages waiting for a confirmed staff channel (of one store, or of the chain)."""
    query = select(func.count()).select_from(Notification).where(Notification.status == DeliveryStatus.HELD)
    return db.session.scalar(query.where(Notification.store_id == store_id) if store_id else query)


def _release(store_id: int, channel_id: int, now: datetime) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.store_id == store_id, Notification.status == DeliveryStatus.HELD,
                                   Notification.kind.in_(STAFF_KINDS))
        .values(status=DeliveryStatus.PENDING, staff_channel_id=channel_id, next_attempt_at=now, last_error=None)
        .execution_options(synchronize_session=False))
    return result.rowcount


def _hold(store_id: int, now: datetime) -> int:
    """Waiting staff rows go back on hold; rows a worker holds right now are checked again before sending."""
    result = db.session.execute(
        update(Notification).where(Notification.store_id == store_id, Notification.status == DeliveryStatus.PENDING,
                                   Notification.kind.in_(STAFF_KINDS),
                                   or_(Notification.locked_until.is_(None), Notification.locked_until < now))
        .values(status=DeliveryStatus.HELD, last_error=HELD_REASON).execution_options(synchronize_session=False))
    return result.rowcount


def _drop_candidate(candidate: StaffChannel) -> None:
    """Forget an unconfirmed candidate; held rows that named it wait on without a target."""
    db.session.execute(update(Notification).where(Notification.staff_channel_id == candidate.id)
                       .values(staff_channel_id=None).execution_options(synchronize_session=False))
    db.session.delete(candidate)


def _check_free(url: str, store: Store, *, moving_from: Community | None = None) -> None:
    """A robot serves one audience and one store: refuse a confirmed customer robot or another store's channel."""
    for group in db.session.scalars(select(Community).where(Community.robot_webhook_url == url)):
        if group.robot_confirmed_at is not None and group.id != getattr(moving_from, "id", None):
            raise DomainError(_("This robot is the confirmed customer robot of the group %(name)s: remove it there "
                                "first if it really sits in the staff group.", name=group.name), field="robot_webhook_url")
    other = db.session.scalar(select(StaffChannel).where(StaffChannel.robot_webhook_url == url,
                                                         StaffChannel.store_id != store.id))
    if other is not None and other.is_confirmed:
        raise DomainError(_("This robot is already another store's staff channel: each store's lead alerts stay "
                            "with its own staff."), field="robot_webhook_url")


def _take_from_groups(url: str, store: Store, actor: User) -> None:
    """The robot sits among staff: no group keeps it as a customer robot (unconfirmed ones, from the upgrade)."""
    for group in db.session.scalars(select(Community).where(Community.robot_webhook_url == url)):
        audit.record(actor, "update", "community", entity_id=group.id, store_id=group.store_id, summary=group.name,
                     changes={"robot_webhook_url": [url, None], "staff_channel": [None, store.code]})
        group.robot_webhook_url, group.robot_confirmed_at, group.robot_confirmed_by_id = None, None, None
        group.robot_error = None


def _confirm(store: Store, url: str, *, actor: User, action: str, now: datetime,
             moving_from: Community | None = None) -> tuple[StaffChannel, int]:
    _check_free(url, store, moving_from=moving_from)
    # A candidate of another store with this robot was only a guess: this store's answer settles it.
    for guess in db.session.scalars(select(StaffChannel).where(StaffChannel.robot_webhook_url == url,
                                                               StaffChannel.store_id != store.id,
                                                               StaffChannel.confirmed_at.is_(None))):
        _drop_candidate(guess)
    channel = staff_channel_of(store.id)
    before = _snapshot(channel)
    if channel is None:
        channel = StaffChannel(store_id=store.id, robot_webhook_url=url)
        db.session.add(channel)
    channel.robot_webhook_url, channel.confirmed_at, channel.confirmed_by_id = url, now, actor.id
    channel.robot_error = None
    _take_from_groups(url, store, actor)
    db.session.flush()
    released = _release(store.id, channel.id, now)
    audit.record(actor, action, "staff_channel", entity_id=channel.id, store_id=store.id,
                 summary=_("Staff channel of %(store)s confirmed.", store=store.code),
                 changes={**audit.diff(before, _snapshot(channel)), "released": [0, released]})
    return channel, released


def _snapshot(channel: StaffChannel | None) -> dict:
    if channel is None:
        return {}
    return {"robot_webhook_url": channel.robot_webhook_url, "confirmed": channel.is_confirmed,
            "robot_error": channel.robot_error}


@transactional
def set_staff_channel(store: Store, *, url: str, in_staff_group: bool, actor: User,
                      now: datetime | None = None) -> int:
    """Enter or replace the store's staff channel; returns how many held messages it released."""
    if not in_staff_group:
        raise DomainError(_("Confirm that this robot sits in the store's staff group: lead alerts carry phone "
                            "numbers and must never reach customers."), field="in_staff_group")
    try:
        url = check_robot_url(url or "")
    except DomainError as error:
        raise DomainError(error.message, field="robot_webhook_url") from None
    _channel, released = _confirm(store, url, actor=actor, action="update", now=now or utcnow())
    db.session.commit()
    return released


@transactional
def confirm_candidate(store: Store, *, actor: User, now: datetime | None = None) -> int:
    """The upgrade's candidate sits in the staff group: use it; returns how many held messages it released."""
    channel = staff_channel_of(store.id)
    if channel is None or channel.is_confirmed:
        raise DomainError(_("There is no unconfirmed staff channel to confirm."))
    _channel, released = _confirm(store, channel.robot_webhook_url, actor=actor, action="update",
                                  now=now or utcnow())
    db.session.commit()
    return released


@transactional
def reject_candidate(store: Store, *, actor: User, now: datetime | None = None) -> None:
    """The candidate sits in a customer group: not the staff channel; its groups keep it for customer posts."""
    channel = staff_channel_of(store.id)
    if channel is None or channel.is_confirmed:
        raise DomainError(_("There is no unconfirmed staff channel to answer for."))
    now = now or utcnow()
    for group in db.session.scalars(select(Community).where(Community.robot_webhook_url == channel.robot_webhook_url,
                                                            Community.robot_confirmed_at.is_(None))):
        group.robot_confirmed_at, group.robot_confirmed_by_id = now, actor.id
        audit.record(actor, "update", "community", entity_id=group.id, store_id=group.store_id, summary=group.name,
                     changes={"robot_confirmed": [False, True]})
    audit.record(actor, "reject", "staff_channel", entity_id=channel.id, store_id=store.id,
                 summary=_("The robot of %(store)s sits in a customer group: not the staff channel.", store=store.code),
                 changes={"robot_webhook_url": [channel.robot_webhook_url, None]})
    _drop_candidate(channel)
    sync_store_posts(store.id, now=now)
    db.session.commit()


@transactional
def unconfirm_staff_channel(store: Store, *, actor: User, now: datetime | None = None) -> int:
    """Stop using the staff channel (it may sit among customers); waiting messages are held again."""
    channel = staff_channel_of(store.id)
    if channel is None or not channel.is_confirmed:
        raise DomainError(_("The staff channel is not confirmed."))
    channel.confirmed_at = channel.confirmed_by_id = None
    held = _hold(store.id, now or utcnow())
    audit.record(actor, "update", "staff_channel", entity_id=channel.id, store_id=store.id,
                 summary=_("Staff channel of %(store)s unconfirmed.", store=store.code),
                 changes={"confirmed": [True, False], "held": [0, held]})
    db.session.commit()
    return held


@transactional
def answer_group_robot(community: Community, *, audience: str, actor: User, now: datetime | None = None) -> int:
    """Which group is this robot in? "staff": it becomes the staff channel; "customers": it stays for posts."""
    if not community.robot_webhook_url:
        raise DomainError(_("This group has no robot."))
    now = now or utcnow()
    store = db.session.get(Store, community.store_id)
    if audience == "staff":
        _channel, released = _confirm(store, community.robot_webhook_url, actor=actor, action="update", now=now,
                                      moving_from=community)
        db.session.commit()
        return released
    if audience != "customers":
        raise DomainError(_("Answer staff or customers."))
    community.robot_confirmed_at, community.robot_confirmed_by_id = now, actor.id
    audit.record(actor, "update", "community", entity_id=community.id, store_id=community.store_id,
                 summary=community.name, changes={"robot_confirmed": [False, True]})
    candidate = staff_channel_of(store.id)
    if candidate is not None and not candidate.is_confirmed and candidate.robot_webhook_url == community.robot_webhook_url:
        _drop_candidate(candidate)  # a customer group's robot is no staff candidate
    sync_store_posts(store.id, now=now)
    db.session.commit()
    return 0
