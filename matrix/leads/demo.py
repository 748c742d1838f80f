"""The demo chain's leads: taken in through the real intake (routed, noticed), then worked like a store would.

About ninety leads of the last ten days: most near a store (routed by distance), some with only a
city and district, a few from a city without a store (HQ's unrouted queue). Older ones moved along
the pipeline (contacted, joined the group, visited, converted, some lost with a reason); each demo
manager's store gets two new leads of this morning and a follow-up that is due.
"""
import random
from datetime import datetime, timedelta

from sqlalchemy import func, select

from matrix.auth.models import User
from matrix.extensions import db
from matrix.leads.intake import LeadInput, accept_lead
from matrix.leads.models import Lead, LeadSource, LeadStatus
from matrix.leads.services import add_note, change_status, set_follow_up
from matrix.models import utcnow
from matrix.regions.services import region_name
from matrix.stores.models import Store, StoreStatus

NAMES = "张女士 李先生 王女士 刘先生 陈女士 杨先生 赵女士 黄先生 周女士 吴先生 徐女士 孙先生 马女士 朱先生".split()
LOST_REASONS = ["已在别家购买", "预算不够，暂不考虑", "电话一直未接通"]
NOTES = ["电话沟通过，周末想来看沙发。", "已发门店地址和群二维码。", "想要儿童房方案，约了设计师。"]
# Older leads move along the pipeline: (status, share).
LATER = [(LeadStatus.CONTACTED, 0.3), (LeadStatus.JOINED, 0.25), (LeadStatus.VISITED, 0.15),
         (LeadStatus.CONVERTED, 0.1), (LeadStatus.LOST, 0.08), (LeadStatus.NEW, 0.12)]


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('35789')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


def _take(source: LeadSource, rng: random.Random, n: int, *, when: datetime, **place) -> Lead:
    key = f"clue-{n:04d}"  # not "demo-1": the README's curl example sends that one
    data = LeadInput(external_id=key, name=rng.choice(NAMES), phone=_phone(rng), created_at=when,
                     raw={"id": key, "from": "demo"}, **place)
    return accept_lead(data, source=source, now=when)[0]


def _work(lead: Lead, actor: User, rng: random.Random, status: LeadStatus, now: datetime) -> None:
    if status != LeadStatus.NEW:
        change_status(lead, status, actor=actor, reason=rng.choice(LOST_REASONS) if status == LeadStatus.LOST else "",
                      now=lead.received_at + timedelta(minutes=rng.randint(5, 240)))
    if status in (LeadStatus.CONTACTED, LeadStatus.JOINED) and rng.random() < 0.5:
        set_follow_up(lead, now + timedelta(days=rng.randint(-2, 3), hours=rng.randint(0, 8)), actor=actor)
    if status != LeadStatus.NEW and rng.random() < 0.4:
        add_note(lead, rng.choice(NOTES), actor=actor, now=lead.received_at + timedelta(hours=1))


def _focus(source: LeadSource, rng: random.Random, store_id: int, manager: User, now: datetime, n: int) -> int:
    """A manager's store: two new leads this morning, a contacted one to call back now, two further along."""
    for hours, status in ((1, LeadStatus.NEW), (3, LeadStatus.NEW), (30, LeadStatus.CONTACTED),
                          (60, LeadStatus.JOINED), (120, LeadStatus.VISITED)):
        n += 1
        lead = _take(source, rng, n, when=now - timedelta(hours=hours), source_store_id=store_id)
        _work(lead, manager, rng, status, now)
        if hours == 30:
            set_follow_up(lead, now - timedelta(hours=2), actor=manager)
    return n


def add_demo_leads(rng: random.Random, *, source: LeadSource, actor: User,
                   managers: dict[int, User]) -> int | None:
    """The demo's leads (None when leads exist); `managers`: store id -> the demo manager who runs it."""
    if db.session.scalar(select(func.count()).select_from(Lead)):
        return None
    now, n = utcnow(), 0
    for store_id, manager in managers.items():
        n = _focus(source, rng, store_id, manager, now, n)
    stores = db.session.scalars(select(Store).where(Store.status == StoreStatus.OPEN, Store.lon.is_not(None))
                                .order_by(Store.id)).all()
    for store in rng.sample(stores, min(60, len(stores) // 4)):  # a fifth of the 300 demo stores
        n += 1
        when = now - timedelta(hours=rng.randint(2, 240))
        if rng.random() < 0.7:  # a point near the store, as a platform's lead form sends it
            lead = _take(source, rng, n, when=when, lon=store.lon + rng.uniform(-0.01, 0.01),
                         lat=store.lat + rng.uniform(-0.01, 0.01), coord_system="wgs84")
        else:                   # only the city and district the person typed
            lead = _take(source, rng, n, when=when, city=region_name(store.city_code),
                         district=region_name(store.district_code) if store.district_code else "")
        old = (now - when).days >= 1
        status = rng.choices([s for s, _w in LATER], [w for _s, w in LATER])[0] if old else LeadStatus.NEW
        _work(lead, managers.get(lead.store_id, actor), rng, status, now)
    for city in ("拉萨市", "西宁市", "银川市"):  # no store there: HQ's unrouted queue
        n += 1
        _take(source, rng, n, when=now - timedelta(hours=rng.randint(1, 48)), city=city)
    return n
