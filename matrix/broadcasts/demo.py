"""Staff channels and community posts for the demo chain: one store confirmed, one as the upgrade left it.

The first demo manager's store has a confirmed staff channel and confirmed customer robots on its groups,
a session tomorrow whose posts to the groups are partly sent (the 1-day trailer) and partly pending (the
3-hour trailer, "we are live now"), and a lead whose alert went out. The second manager's first store still
has its robot recorded on a group: an unconfirmed staff-channel candidate, and a lead alert held for it.
The robot keys are made up: a worker run against the demo gets WeCom's 93000 and flags them.
"""
import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from matrix.accounts.models import Account, AccountStatus
from matrix.auth.models import Role, User
from matrix.chain import chain_zone
from matrix.communities.models import Community, StaffChannel
from matrix.content.models import ContentItem, ItemStatus
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads.intake import LeadInput, accept_lead
from matrix.leads.models import LeadSource
from matrix.live import services
from matrix.live.demo import POST_URLS
from matrix.live.models import LiveSession, TrailerRule
from matrix.live.trailers import sync_trailers
from matrix.models import utcnow
from matrix.notifications import channels
from matrix.notifications.models import DeliveryStatus, Notification
from matrix.plans.services import starts_at
from matrix.stores.models import Store, store_managers

ROBOT = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}"


def _robot(*parts) -> str:
    """A made-up robot address that looks like WeCom's (a uuid-like key), the same on every demo build."""
    key = hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()
    return ROBOT.format(key=f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:32]}")


def _managed(username: str) -> Store | None:
    return db.session.scalar(select(Store).join(store_managers, store_managers.c.store_id == Store.id)
                             .join(User, User.id == store_managers.c.user_id)
                             .where(User.username == username).order_by(Store.id).limit(1))


def _start(now: datetime, zone: str) -> datetime:
    """A start whose 1-day trailer has passed and whose 3-hour trailer has not, outside the quiet hours."""
    local = now.astimezone(ZoneInfo(zone))
    if local.hour < 10:  # 22 hours on would fall in the night: this evening instead
        return local.replace(hour=20, minute=0, second=0, microsecond=0)
    start = (local + timedelta(hours=22)).replace(second=0, microsecond=0)
    return start + timedelta(minutes=(30 - start.minute % 30) % 30)


def _session(store: Store, actor: User, now: datetime, zone: str) -> LiveSession | None:
    account = db.session.scalar(select(Account).where(Account.store_id == store.id, Account.status.in_(
        (AccountStatus.ACTIVE, AccountStatus.INCUBATING))).order_by(Account.id))
    if account is None:
        return None
    for shift in range(4):  # the live demo may have booked this account already: an hour later, then another
        start = _start(now, zone) + timedelta(hours=shift)
        values = {"account_id": account.id, "day": start.date().isoformat(), "start": f"{start:%H:%M}",
                  "end": f"{start + timedelta(minutes=90):%H:%M}", "title": "门店会员日直播",
                  "anchor": f"店长{shift + 1}号", "theme": "会员专享价、到店礼",
                  "live_url": account.profile_url or ""}
        try:
            cleaned = services.clean_session(values, actor=actor)
            return services.schedule_session(cleaned, actor=actor, accept_nearby=True)[0]
        except (services.ScheduleConflict, DomainError):
            db.session.rollback()
    return None


def _published_before(session: LiveSession, now: datetime) -> None:
    """The session's trailers whose time has passed went out, as the rest of the demo's did."""
    zone = chain_zone()
    for item in db.session.scalars(select(ContentItem).where(ContentItem.session_id == session.id,
                                                             ContentItem.status == ItemStatus.PLANNED)):
        if starts_at(item.day, item.slot, zone) < now:
            item.status = ItemStatus.PUBLISHED
            code = item.account.platform.code if item.account else "douyin"
            item.post_url = POST_URLS.get(code, POST_URLS["douyin"]).format(n=10**15 + item.id)
    db.session.commit()


def _lead(store: Store, source: LeadSource, n: int) -> None:
    accept_lead(LeadInput(external_id=f"demo-channel-{store.code}-{n}", name="演示客户", phone=f"1380013{n:04d}",
                          city="", lon=store.lon, lat=store.lat, coord_system="wgs84", source_store_id=store.id),
                source=source)


def _rules_to_the_community() -> None:
    """HQ lets the 1-day and 3-hour trailers of every rule go to the customer groups too."""
    for rule in db.session.scalars(select(TrailerRule)):
        rule.steps = [{**step, "community": int(step["minutes"]) in (24 * 60, 3 * 60)} for step in rule.steps]
    db.session.commit()


def _confirmed_store(store: Store, manager: User, source: LeadSource, actor: User, now: datetime) -> None:
    groups = list(db.session.scalars(select(Community).where(Community.store_id == store.id)))
    for n, group in enumerate(groups):
        group.robot_webhook_url = _robot("group", store.code, n)
    db.session.commit()
    channels.set_staff_channel(store, url=_robot("staff", store.code),
                               in_staff_group=True, actor=manager)
    for group in groups:
        channels.answer_group_robot(group, audience="customers", actor=manager)
    _lead(store, source, 1)
    session = _session(store, actor, now, chain_zone())
    if session is not None:
        sync_trailers([session], now=now - timedelta(days=3))  # as if booked three days ago
        _published_before(session, now)
    # What was due went out (and was sent: the demo's history).
    db.session.execute(update(Notification).where(Notification.store_id == store.id,
                                                  Notification.status == DeliveryStatus.PENDING,
                                                  Notification.next_attempt_at <= utcnow())
                       .values(status=DeliveryStatus.SENT, sent_at=Notification.next_attempt_at, attempts=1)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _unconfirmed_store(store: Store, source: LeadSource) -> None:
    group = db.session.scalar(select(Community).where(Community.store_id == store.id).order_by(
        Community.rotation_order, Community.id))
    if group is None:
        return
    group.robot_webhook_url = _robot("old", store.code)  # recorded the old way
    db.session.add(StaffChannel(store_id=store.id, robot_webhook_url=group.robot_webhook_url,
                                source_community_id=group.id))
    db.session.commit()
    _lead(store, source, 2)  # its alert waits, held


def add_demo_channels(source_slug: str) -> None:
    """A confirmed staff channel with sent and pending posts, and an unconfirmed one with a held lead alert."""
    confirmed, unconfirmed = _managed("manager1"), _managed("manager2")
    source = db.session.scalar(select(LeadSource).where(LeadSource.slug == source_slug))
    manager = db.session.scalar(select(User).where(User.username == "manager1"))
    actor = db.session.scalar(select(User).where(User.role == Role.OPERATOR).order_by(User.id))
    if None in (confirmed, unconfirmed, source, manager, actor):
        return
    db.session.commit()  # the lead source the demo just added
    _rules_to_the_community()
    _confirmed_store(confirmed, manager, source, actor, utcnow())
    _unconfirmed_store(unconfirmed, source)
