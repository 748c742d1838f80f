"""Fixtures of leads: a lead builder as intake stores leads, and two stores with a manager and HQ (lead_shop)."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from matrix.auth.models import Role
from matrix.extensions import db
from matrix.leads.models import Lead, LeadStatus, RoutingRule
from matrix.leads.phones import protect_phone

T0 = datetime(2024, 5, 6, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def make_lead(app):
    """Build a lead as intake would have stored and routed it."""
    def build(store=None, name="张三", phone="13812345678", status=LeadStatus.NEW, received_at=T0,
              **extra) -> Lead:
        fields = protect_phone(phone) if phone else None
        lead = Lead(name=name, store_id=store.id if store else None, status=status, received_at=received_at,
                    city_code=extra.pop("city_code", store.city_code if store else None),
                    routing_rule=extra.pop("routing_rule", RoutingRule.DISTRICT if store else RoutingRule.UNROUTED),
                    phone_encrypted=fields.encrypted if fields else None, phone_hash=fields.hash if fields else None,
                    phone_masked=fields.masked if fields else None, **extra)
        db.session.add(lead)
        db.session.commit()
        return lead
    return build


@pytest.fixture
def lead_shop(make_store, make_user):
    """Two stores in two cities, a manager of the first and an HQ operator."""
    own = make_store(code="HZ-001", name="杭州西湖店")
    other = make_store(code="SH-001", name="上海徐汇店", city="上海", district="徐汇区")
    return {"own": own, "other": other, "manager": make_user(Role.STORE_MANAGER, stores=[own]),
            "hq": make_user(Role.OPERATOR)}
