"""Live sessions for the demo chain: this week and next, booked through the services.

About 40 sessions, mostly evenings, on the store accounts of open stores (the demo managers'
stores first, so they see their own) and the brand's Douyin account. Everything goes through
the services, so conflicts are checked (nearby overlaps accepted) and trailers made by the rule.
Their history is then filled in by time: sessions that are over are done with results and a
replay, and the trailers whose time has passed were published (a few skipped). One future
session is moved after its first trailers went out, so those are flagged; one is cancelled.
"""
import random
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from matrix.accounts.models import Account, AccountScope, AccountStatus, Platform
from matrix.auth.models import Role, User
from matrix.chain import chain_zone
from matrix.content.models import ContentItem, ItemStatus
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.live import services
from matrix.live.batch import schedule_many
from matrix.live.models import DEFAULT_CAPTION, DEFAULT_HASHTAGS, DEFAULT_TOPIC, LiveSession, TrailerRule
from matrix.live.settings import save_rule
from matrix.live.trailers import sync_trailers
from matrix.models import utcnow
from matrix.plans.services import starts_at as item_moment
from matrix.stores.models import Store, StoreStatus, store_managers

SURNAMES = list("李王张刘陈杨赵黄周吴徐孙马朱胡郭")
GIVEN = ["娜", "芳", "敏", "洋", "静", "帆", "磊", "丽", "婷", "昊", "倩", "悦", "超", "琳", "军", "晶"]
SHOWS = [("冬季新品直播", "羽绒被、蚕丝被、床品四件套"), ("周末焕新季", "沙发、茶几、地毯"),
         ("收纳好物专场", "收纳柜、衣柜整理"), ("样板间探店", "客厅与卧室样板间实拍"),
         ("儿童房布置", "儿童床、书桌、护眼灯"), ("到店福利直播", "进店礼、满减券、以旧换新")]
EVENING = [("19:00", "21:00"), ("19:30", "21:00"), ("20:00", "22:00"), ("20:30", "22:00"), ("21:00", "22:30")]
AFTERNOON = [("14:00", "16:00"), ("15:00", "16:30")]
PER_DAY = 3
POP_UP_RULE = "午间快闪预告"
POST_URLS = {"douyin": "https://www.douyin.com/video/{n}", "kuaishou": "https://www.kuaishou.com/short-video/{n}",
             "channels": "https://channels.weixin.qq.com/web/pages/feed?id={n}",
             "xiaohongshu": "https://www.xiaohongshu.com/explore/{n}"}
REPLAY_URLS = {"douyin": "https://live.douyin.com/replay/{n}", "kuaishou": "https://live.kuaishou.com/playback/{n}",
               "channels": "https://channels.weixin.qq.com/web/pages/live?replay={n}",
               "xiaohongshu": "https://www.xiaohongshu.com/live/replay/{n}"}


def _actor() -> User | None:
    return db.session.scalar(select(User).where(User.role.in_((Role.ADMIN, Role.OPERATOR))).order_by(User.id))


def _hosts(rng: random.Random) -> list[Account]:
    """Active store accounts of open stores, the managers' stores first (an incubating account will do:
    every demo manager should find a session), then the others shuffled."""
    accounts = db.session.scalars(
        select(Account).join(Store, Store.id == Account.store_id)
        .where(Account.scope == AccountScope.STORE,
               Account.status.in_((AccountStatus.ACTIVE, AccountStatus.INCUBATING)),
               Store.status == StoreStatus.OPEN, Store.archived_at.is_(None)).order_by(Account.id)).all()
    managed = set(db.session.scalars(select(store_managers.c.store_id)))
    first = [a for a in accounts if a.store_id in managed]
    accounts = [a for a in accounts if a.status == AccountStatus.ACTIVE or a.store_id in managed]
    rest = [a for a in accounts if a.store_id not in managed]
    rng.shuffle(rest)
    return first + rest


def _plan(rng: random.Random, actor: User, monday: date, now: datetime, zone: ZoneInfo) -> list:
    """Session values for 14 days from `monday`; none on air right now, no store twice a day.

    Afternoon pop-ups use the shorter rule, the others the default one."""
    hosts = _hosts(rng)
    brand = db.session.scalar(select(Account).join(Platform, Platform.id == Account.platform_id)
                              .where(Account.scope == AccountScope.BRAND, Platform.code == "douyin"))
    if not hosts:
        return []
    pop_up = db.session.scalar(select(TrailerRule.id).where(TrailerRule.name == POP_UP_RULE))
    anchors: dict[int | None, str] = {}
    rows: list[tuple[Account, dict]] = []
    queue = iter(hosts * 14)
    shared = [c for c, n in Counter(a.store.city_code for a in {a.store_id: a for a in hosts}.values()).items() if n > 1]
    for offset in range(14):
        day = monday + timedelta(days=offset)
        today: list[tuple[Account, dict]] = []
        for n in range(PER_DAY):
            busy = {a.store_id for a, _raw in today}
            start, end = rng.choice(AFTERNOON if rng.random() < 0.2 else EVENING)
            if n == 0 and offset in (2, 9) and brand is not None:
                account = brand  # the brand's own big show, midweek
            elif offset % 7 == 5 and n == 0:  # Saturdays: two stores of one city at once
                account = next((a for a in queue if a.store.city_code in shared), None)
            elif offset % 7 == 5 and n == 1 and today and today[0][0].store:
                account = _neighbour(hosts, today[0][0], busy)
                start, end = today[0][1]["start"], today[0][1]["end"]
            else:
                account = next((a for a in queue if a.store_id not in busy), None)
            begins = datetime.combine(day, datetime.strptime(start, "%H:%M").time(), tzinfo=zone)
            if account is None or begins <= now < begins + timedelta(hours=3):
                continue  # no session on air while the demo is built
            anchor = anchors.setdefault(account.store_id, _anchor(len(anchors)) if account.store_id else "林晓")
            title, theme = rng.choice(SHOWS)
            today.append((account, {"account_id": account.id, "day": day, "start": start, "end": end,
                                    "title": title, "theme": theme, "anchor": anchor,
                                    "rule_id": pop_up if begins.hour < 18 else None}))
        rows += today
    values = []
    for key, (_account, raw) in enumerate(rows, start=1):
        try:
            cleaned = services.clean_session(raw, actor=actor)
        except DomainError:
            continue
        cleaned.key = key
        values.append(cleaned)
    return values


def _neighbour(hosts: list[Account], other: Account, busy: set[int | None]) -> Account | None:
    """An account of another store in the same city as `other`'s store."""
    return next((a for a in hosts if a.store_id not in busy and a.store_id != other.store_id
                 and a.store.city_code == other.store.city_code), None)


def _anchor(n: int) -> str:
    """A different staff name for each host store (an anchor may not be live twice at once)."""
    # (n % 16, (n // 16 + 7n) % 16) differs for every n below 256.
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES) + n * 7) % len(GIVEN)]
    return name if n < len(SURNAMES) * len(GIVEN) else f"{name}{n}"


def _rules(actor: User) -> None:
    """The chain's default trailer rule, and a shorter one for afternoon pop-ups."""
    save_rule(None, {"name": "标准直播预告", "is_default": True,
                     "steps": [{"offset": "3d", "brand": True}, {"offset": "1d", "brand": True, "siblings": True},
                               {"offset": "3h", "siblings": True}, {"offset": "30m"}],
                     "sibling_km": 5, "max_siblings": 3, "other_platforms": False,
                     "topic": DEFAULT_TOPIC, "caption": DEFAULT_CAPTION, "hashtags": DEFAULT_HASHTAGS}, actor=actor)
    save_rule(None, {"name": POP_UP_RULE, "is_default": False,
                     "steps": [{"offset": "1d", "siblings": True}, {"offset": "1h"}],
                     "sibling_km": 3, "max_siblings": 2, "other_platforms": False,
                     # start_day names the day from each post's own date: 明天 the day before, 今天 on the day.
                     "topic": "{{ start_day }}{{ start_time }}快闪直播：{{ title }}",
                     "caption": "{{ store_name }}直播间{{ start_time }}开播，{{ theme }}。{{ offset }}后见！",
                     "hashtags": "#{{ city }}好物 #{{ brand }}"}, actor=actor)


def _publish_past_trailers(rng: random.Random, session_ids: list[int], now: datetime, zone: str) -> None:
    """Trailers whose time has passed went out (a few were skipped); the plans show them done."""
    items = db.session.scalars(select(ContentItem).where(ContentItem.session_id.in_(session_ids),
                                                         ContentItem.status == ItemStatus.PLANNED)).all()
    for item in items:
        if item_moment(item.day, item.slot, zone) >= now:
            continue
        if rng.random() < 0.06:
            item.status, item.skip_reason = ItemStatus.SKIPPED, "门店当天盘点，未发布"
            continue
        code = item.account.platform.code if item.account else "douyin"
        item.status = ItemStatus.PUBLISHED
        item.post_url = POST_URLS.get(code, POST_URLS["douyin"]).format(n=rng.randint(10**15, 10**16 - 1))
    db.session.commit()


def _has_published(session: LiveSession) -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(ContentItem).where(
        ContentItem.session_id == session.id, ContentItem.status == ItemStatus.PUBLISHED)))


def _move_and_cancel(sessions: list[LiveSession], actor: User, now: datetime, zone: str) -> None:
    """Move one future session 90 minutes later after its first trailers went out (they get flagged),
    and cancel another."""
    ahead = [s for s in sessions if s.starts_at > now + timedelta(hours=4) and _has_published(s)]
    ahead = ahead or [s for s in sessions if s.starts_at > now + timedelta(hours=4)]
    for session in ahead[:3]:
        local = session.starts_at.astimezone(ZoneInfo(zone))
        later, until = local + timedelta(minutes=90), session.ends_at.astimezone(ZoneInfo(zone)) + timedelta(minutes=90)
        try:
            values = services.clean_session({"account_id": session.account_id, "day": later.date(),
                                             "start": later.strftime("%H:%M"), "end": until.strftime("%H:%M"),
                                             "title": session.title, "theme": session.theme,
                                             "anchor": session.anchor, "rule_id": session.rule_id}, actor=actor)
            services.move_session(session, values, actor=actor, accept_nearby=True)
        except (services.ScheduleConflict, DomainError):
            db.session.rollback()
            continue
        ahead.remove(session)
        break
    if ahead:
        services.cancel_session(ahead[-1], actor=actor, reason="主播临时请假，改期另行通知")


def _results(rng: random.Random, sessions: list[LiveSession], actor: User) -> None:
    for session in sessions:
        viewers = int(rng.lognormvariate(6.5, 0.8))
        code = session.account.platform.code
        services.record_results(session, {
            "peak_viewers": viewers, "new_followers": int(viewers * rng.uniform(0.02, 0.12)),
            "orders": int(viewers * rng.uniform(0.005, 0.04)), "leads": int(viewers * rng.uniform(0.01, 0.05)),
            "replay_url": REPLAY_URLS.get(code, REPLAY_URLS["douyin"]).format(n=rng.randint(10**15, 10**16 - 1)),
        }, actor=actor)


def book_for_today(store_id: int, *, anchor: str) -> LiveSession | None:
    """A session of this store tomorrow, a little later than now, so its one-day trailer is due later today."""
    actor, zone = _actor(), ZoneInfo(chain_zone())
    account = db.session.scalar(select(Account).where(
        Account.store_id == store_id, Account.status.in_((AccountStatus.ACTIVE, AccountStatus.INCUBATING)))
        .order_by(Account.status, Account.id))
    local = utcnow().astimezone(zone) + timedelta(days=1, hours=2)
    start = local.replace(minute=30 if local.minute < 30 else 0, second=0, microsecond=0)
    start += timedelta(hours=0 if local.minute < 30 else 1)
    if actor is None or account is None or not 9 <= start.hour <= 20:  # late at night: tomorrow's plan will do
        return None
    try:
        values = services.clean_session({"account_id": account.id, "day": start.date(),
                                         "start": start.strftime("%H:%M"),
                                         "end": (start + timedelta(hours=1, minutes=30)).strftime("%H:%M"),
                                         "title": "店长直播：双十二提前购", "theme": "沙发、床品、收纳，到店福利",
                                         "anchor": anchor}, actor=actor)
        return services.schedule_session(values, actor=actor, accept_nearby=True)[0]
    except DomainError:  # the account or anchor is busy then: the demo goes on without it
        db.session.rollback()
        return None


def add_demo_sessions(rng: random.Random) -> int | None:
    """Trailer rules and this week's and next week's live sessions; None when sessions exist or no HQ user."""
    actor = _actor()
    if actor is None or db.session.scalar(select(func.count()).select_from(LiveSession)):
        return None
    zone = chain_zone()
    now = utcnow()
    today = now.astimezone(ZoneInfo(zone)).date()
    monday = today - timedelta(days=today.weekday())
    _rules(actor)
    batch = _plan(rng, actor, monday, now, ZoneInfo(zone))
    report = schedule_many(batch, actor=actor, accept_nearby=True)
    if not report.ok:  # a double booking the plan missed: book the rest
        report = schedule_many([v for v in batch if v.key not in report.errors], actor=actor,
                                        accept_nearby=True)
    sessions = sorted(report.sessions, key=lambda s: s.starts_at)
    # As if they had been booked the week before: their earlier trailers exist too, and went out.
    sync_trailers(sessions, now=datetime.combine(monday - timedelta(days=5), datetime.min.time(),
                                                 tzinfo=ZoneInfo(zone)))
    db.session.commit()
    _publish_past_trailers(rng, [s.id for s in sessions], now, zone)
    _move_and_cancel([s for s in sessions if s.starts_at > now], actor, now, zone)
    _results(rng, [s for s in sessions if s.ends_at <= now], actor)
    return len(sessions)
