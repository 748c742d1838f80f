"""Fixtures of live sessions: two stores of one city and one of another, a brand account, HQ and a manager."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from matrix.accounts.models import AccountScope
from matrix.auth.models import Role
from matrix.brands.models import Brand
from matrix.content.models import ContentItem
from matrix.extensions import db
from matrix.live import services
from matrix.live.models import LiveSession

ZONE = ZoneInfo("Asia/Shanghai")
DAY = (datetime.now(ZONE) + timedelta(days=7)).date()   # far enough ahead for every default trailer


@pytest.fixture
def live(make_store, make_account, make_user):
    """Two stores of one city, a store of another city, a brand main account, HQ and a manager of store A."""
    brand = Brand(name="栖木家居")
    db.session.add(brand)
    db.session.commit()
    store_a = make_store(code="HZ-001", name="西湖店", brand_id=brand.id)
    store_b = make_store(code="HZ-002", name="滨江店", brand_id=brand.id, lon=120.21, lat=30.21)
    store_c = make_store(code="SH-001", name="徐汇店", city="上海", district="徐汇区", lon=121.43, lat=31.18,
                         brand_id=brand.id)
    return {"brand": brand, "store_a": store_a, "store_b": store_b, "store_c": store_c,
            "account_a": make_account(store_a, handle="hz_xihu"),
            "account_b": make_account(store_b, handle="hz_binjiang"),
            "account_c": make_account(store_c, handle="sh_xuhui"),
            "brand_account": make_account(scope=AccountScope.BRAND, brand_id=brand.id, handle="qimu_official"),
            "hq": make_user(Role.OPERATOR, locale="en"),
            "manager": make_user(Role.STORE_MANAGER, stores=[store_a], locale="en")}


def form(account, *, day=DAY, start="19:00", end="21:00", title="冬季新品直播", anchor="李娜", **extra) -> dict:
    return {"account_id": account.id, "day": str(day), "start": start, "end": end, "title": title,
            "anchor": anchor, "theme": "羽绒被、床品四件套", **extra}


def book(account, actor, **values) -> LiveSession:
    """A session scheduled through the service (the setup of a test, not what it tests)."""
    cleaned = services.clean_session(form(account, **values), actor=actor)
    return services.schedule_session(cleaned, actor=actor, accept_nearby=True)[0]


def count_sessions() -> int:
    return db.session.scalar(select(func.count(LiveSession.id)))


def trailers_of(session_id: int) -> list[ContentItem]:
    db.session.expire_all()
    return db.session.scalars(select(ContentItem).where(ContentItem.session_id == session_id)
                              .order_by(ContentItem.id)).all()


def text(response, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:600]
    return response.get_data(as_text=True)
