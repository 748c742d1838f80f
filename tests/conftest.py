"""Fixtures: an app on SQLite (or PostgreSQL via TEST_DATABASE_URL), builders, signed-in clients."""
import itertools
import os
import re

import pytest
from sqlalchemy import delete, func, select
from werkzeug.security import generate_password_hash

from config import TestConfig
from matrix import create_app
from matrix.accounts.models import Account, AccountScope, AccountStatus, Platform
from matrix.auth.models import Role, User
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.models import Base
from matrix.regions.models import Region
from matrix.regions.services import clear_cache, load_regions
from matrix.stores import values as store_values
from matrix.stores.models import Store, StoreStatus

# Fixtures that several test modules share, and the stand-in servers' fixtures (robot, webhook, geocoder_server).
pytest_plugins = ["fixtures_plans", "fixtures_leads", "fixtures_live", "fixtures_hooks", "fixtures_browser",
                  "fixtures_e2e", "fixtures_storefront", "fixtures_channels", "robot_server", "geocoder_server",
                  "wecom_app_server"]

PASSWORD = "correct-horse-battery"
# Hashed once, cheaply: scrypt per built user would dominate the suite's time. Sign-in still checks it.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
PLATFORMS = [("douyin", "抖音", "Douyin", "douyin.com,iesdouyin.com"),
             ("kuaishou", "快手", "Kuaishou", "kuaishou.com"),
             ("channels", "视频号", "WeChat Channels", "channels.weixin.qq.com,weixin.qq.com"),
             ("xiaohongshu", "小红书", "Xiaohongshu", "xiaohongshu.com,xhslink.com")]


@pytest.fixture(scope="session")
def _app(tmp_path_factory):
    class Settings(TestConfig):
        # `or`, not a default: an empty TEST_DATABASE_URL must never fall through to the instance database.
        SQLALCHEMY_DATABASE_URI = (os.environ.get("TEST_DATABASE_URL")
                                   or "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db"))

    app = create_app(Settings)
    with app.app_context():
        db.drop_all()
        db.create_all()
        load_regions()
        app.config["TEST_REGION_COUNT"] = db.session.scalar(select(func.count()).select_from(Region))
    return app


@pytest.fixture
def app(_app):
    """The session's app, with every table but the regions emptied after each test."""
    with _app.app_context():
        yield _app
        db.session.rollback()
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "regions":
                db.session.execute(delete(table))
        db.session.commit()
        db.session.remove()
        # The region index costs ~100 ms to rebuild and the regions table outlives every test:
        # drop the cache only when a test changed the table's size (fixtures that edit a region clear it).
        if db.session.scalar(select(func.count()).select_from(Region)) != _app.config["TEST_REGION_COUNT"]:
            clear_cache()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def platforms(app):
    rows = [Platform(code=c, name_zh=zh, name_en=en, url_hosts=hosts, sort_order=i)
            for i, (c, zh, en, hosts) in enumerate(PLATFORMS)]
    db.session.add_all(rows)
    db.session.commit()
    return {p.code: p for p in rows}


_seq = itertools.count(1)


@pytest.fixture
def make_store(app):
    def build(code=None, name=None, city="杭州", district="西湖区", status=StoreStatus.OPEN,
              lon=120.13, lat=30.26, coord_system="wgs84", **extra) -> Store:
        n = next(_seq)
        cleaned = store_values.clean_store({"code": code or f"T-{n:03d}", "name": name or f"测试门店{n}",
                                            "city": city, "district": district, "status": status,
                                            "lon": lon, "lat": lat, "coord_system": coord_system,
                                            "address": extra.pop("address", f"测试路{n}号")})
        assert not cleaned.errors, cleaned.errors
        store = Store(**{**cleaned.values, **extra})
        db.session.add(store)
        db.session.commit()
        return store
    return build


@pytest.fixture
def make_user(app):
    def build(role=Role.OPERATOR, stores=(), username=None, **extra) -> User:
        user = User(username=username or f"user{next(_seq)}", display_name="测试用户", role=role, **extra)
        user.password_hash = PASSWORD_HASH
        user.stores = list(stores)
        db.session.add(user)
        db.session.commit()
        return user
    return build


@pytest.fixture
def make_account(app, platforms):
    def build(store=None, platform="douyin", scope=None, handle=None, **extra) -> Account:
        account = Account(platform_id=platforms[platform].id, store_id=store.id if store else None,
                          scope=scope or (AccountScope.STORE if store else AccountScope.BRAND),
                          handle=handle or f"h{next(_seq)}", display_name=extra.pop("display_name", "测试号"),
                          status=extra.pop("status", AccountStatus.ACTIVE), followers=extra.pop("followers", 100),
                          **extra)
        db.session.add(account)
        db.session.commit()
        return account
    return build


@pytest.fixture
def make_community(app):
    def build(store, name=None, **extra) -> Community:
        community = Community(store_id=store.id, name=name or f"门店群{next(_seq)}", **extra)
        db.session.add(community)
        db.session.commit()
        return community
    return build


def csrf_token(client) -> str:
    """A CSRF token from a rendered page of this client's session."""
    # Any signed-in page carries the token; the own-profile page is the cheapest to render.
    html = client.get("/login" if not _signed_in(client) else "/users/me").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _signed_in(client) -> bool:
    with client.session_transaction() as s:
        return "_user_id" in s


@pytest.fixture
def login(client):
    """Sign `user` in through the real form; returns the client."""
    def sign_in(user, c=None):
        c = c or client
        token = csrf_token(c)
        response = c.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return c
    return sign_in


@pytest.fixture
def post(client):
    """POST a form with a valid CSRF token."""
    def send(url, data=None, c=None, **kwargs):
        c = c or client
        payload = dict(data or {})
        payload.setdefault("csrf_token", csrf_token(c))
        return c.post(url, data=payload, **kwargs)
    return send


@pytest.fixture
def tight(app, monkeypatch):
    """The app's rate limits made small and turned on (the suite runs with them off)."""
    from matrix.ops import ratelimit

    def set_limits(**limits):
        monkeypatch.setitem(app.extensions, ratelimit.EXTENSION,
                            ratelimit.RateLimits("memory://", {**app.config["RATE_LIMITS"], **limits}))
    return set_limits
