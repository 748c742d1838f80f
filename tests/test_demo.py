"""The demo chain and the seeded benchmark chain, and their CLI commands."""
import math
import random
import re

from sqlalchemy import func, select

from config import TestConfig
from matrix import create_app, demo, demo_chain
from matrix.accounts.models import Account, AccountScope, Platform
from matrix.auth.models import Role, User
from matrix.brands.models import Brand
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.regions.services import region_centre
from matrix.stores.models import GeocodeStatus, Store


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_build_demo_makes_a_plausible_chain(app):
    summary = demo.build_demo(rng_seed=7, stores=36)
    assert summary.stores == count(Store) == 36
    assert summary.accounts == count(Account) - 4 and summary.communities == count(Community)
    assert {p.code for p in db.session.scalars(select(Platform))} >= {"douyin", "kuaishou", "channels", "xiaohongshu"}
    brand = db.session.scalar(select(Brand).where(Brand.name == "栖木家居"))
    assert db.session.scalar(select(func.count()).select_from(Account).where(
        Account.scope == AccountScope.BRAND, Account.brand_id == brand.id)) == 4
    stores = db.session.scalars(select(Store)).all()
    hangzhou = [s for s in stores if s.code.startswith("HZ-")]
    assert hangzhou and all(s.name.startswith("栖木家居·杭州") and s.name.endswith("店") for s in stores if s in hangzhou)
    assert all(re.fullmatch(r"0571-8\d{7}", s.phone) for s in hangzhou)
    assert all(3.0 <= s.service_radius_km <= 5.0 for s in stores)
    for store in stores:
        if store.has_point:
            lon, lat = region_centre(store.district_code)
            km = math.hypot((store.lon - lon) * 111.32 * math.cos(math.radians(lat)), (store.lat - lat) * 110.57)
            assert km <= 2.05, (store.code, km)
        else:
            assert store.geocode_status in (GeocodeStatus.MISSING, GeocodeStatus.FAILED)


def test_build_demo_users_can_sign_in(app):
    summary = demo.build_demo(rng_seed=7, stores=36)
    passwords = {name: password for name, password, _role, _codes in summary.users}
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    assert admin.role == Role.ADMIN and admin.check_password(passwords["admin"])
    managers = db.session.scalars(select(User).where(User.role == Role.STORE_MANAGER).order_by(User.username)).all()
    assert [len(m.stores) for m in managers] == [1, 2, 3]


def test_build_demo_twice_adds_nothing(app):
    demo.build_demo(rng_seed=7, stores=24)
    before = (count(Store), count(Account), count(Community), count(User))
    assert demo.build_demo(rng_seed=7, stores=24) is None
    assert (count(Store), count(Account), count(Community), count(User)) == before


def test_same_seed_same_chain(app):
    plans = demo_chain.demo_plans(40)
    first = demo_chain._store_rows(random.Random(3), plans, brand_id=1)
    again = demo_chain._store_rows(random.Random(3), plans, brand_id=1)
    assert first == again and len(first) == 40
    assert len({row["code"] for row in first}) == 40


def test_build_seed_gives_exactly_k_accounts_per_store(app):
    summary = demo.build_seed(stores=60, accounts_per_store=3, rng_seed=5)
    assert summary.stores == 60 and summary.accounts == 180
    codes = db.session.scalars(select(Store.code).order_by(Store.code)).all()
    assert codes[0] == "S00001" and codes[-1] == "S00060"
    assert demo.build_seed(stores=10) is None


def test_cn_number():
    assert [demo_chain.cn_number(n) for n in (2, 10, 12, 20, 35)] == ["二", "十", "十二", "二十", "三十五"]


def test_demo_command_on_a_fresh_database(tmp_path):
    # No `app` fixture here: with another app's context pushed, the CLI would run in that app.
    class Settings(TestConfig):
        SQLALCHEMY_DATABASE_URI = "sqlite:///" + str(tmp_path / "fresh.db")

    fresh = create_app(Settings)
    runner = fresh.test_cli_runner()
    result = runner.invoke(args=["demo", "--stores", "20"])
    assert result.exit_code == 0, result.output
    assert "demo-admin-2026" in result.output and "manager3" in result.output
    again = runner.invoke(args=["demo", "--stores", "20"])
    assert again.exit_code == 0 and "already has stores" in again.output
    with fresh.app_context():
        assert count(Store) == 20
        assert count(User) == 5
        db.session.remove()
        db.engine.dispose()


def test_build_demo_shows_both_channels_and_pending_and_sent_posts(app):
    from matrix.communities.models import StaffChannel
    from matrix.notifications.models import CUSTOMER_KINDS, DeliveryStatus, Notification

    demo.build_demo(rng_seed=7, stores=36)
    channels = db.session.scalars(select(StaffChannel).order_by(StaffChannel.id)).all()
    assert [c.is_confirmed for c in channels] == [True, False]
    statuses = {(n.kind in CUSTOMER_KINDS, n.status) for n in db.session.scalars(select(Notification))}
    assert {(True, DeliveryStatus.SENT), (True, DeliveryStatus.PENDING), (False, DeliveryStatus.SENT),
            (False, DeliveryStatus.HELD)} <= statuses


def test_the_demo_shows_every_feature_and_a_full_today(app):
    """A campaign with reference material and worked items, leads in several states, sessions, a manager's day."""
    from matrix.content.models import Campaign, ContentItem, ItemStatus
    from matrix.leads.models import Lead, LeadStatus
    from matrix.live.models import LiveSession
    from matrix.materials.models import Material
    from matrix.models import utcnow
    from matrix.permissions import visible_stores
    from matrix.today.services import store_day

    summary = demo.build_demo(rng_seed=7, stores=36)
    assert summary.items == count(ContentItem) - db.session.scalar(select(func.count()).select_from(ContentItem).where(
        ContentItem.campaign_id.is_(None)))
    assert count(Campaign) == 1 and count(Material) == 1 and summary.sessions == count(LiveSession)
    statuses = set(db.session.scalars(select(ContentItem.status).where(ContentItem.campaign_id.is_not(None))))
    assert {ItemStatus.PUBLISHED, ItemStatus.PLANNED} <= statuses
    lead_states = set(db.session.scalars(select(Lead.status)))
    assert summary.leads == count(Lead) and {LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.JOINED} <= lead_states
    assert db.session.scalar(select(func.count()).select_from(Lead).where(Lead.store_id.is_(None))) == 3
    manager = db.session.scalar(select(User).where(User.username == "manager1"))
    day = store_day(manager, db.session.scalars(visible_stores(manager)).all(), now=utcnow(), zone="Asia/Shanghai")
    assert len(day.items) >= 2 and day.sessions and day.gaps
    assert day.new_leads.total >= 2 and day.due_leads.total == 1  # the store page's demo leads add to the new ones
