"""Campaign and template services: validation, audit, delete, reorder, store tags."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.campaigns import services
from matrix.content.generation import generate_week
from matrix.content.models import Campaign, ContentItem, ContentTemplate, ItemStatus, StoreScope
from matrix.errors import DomainError
from matrix.extensions import db

RAW = {"name": "国庆焕新", "starts_on": date(2026, 11, 1), "ends_on": date(2026, 11, 30), "store_scope": "all",
       "cadence": {"short_video": 5, "image_post": 1}, "slots": "20:30，12:00 18:00"}


@pytest.fixture
def hq(make_user):
    return make_user(Role.ADMIN)


def entries(entity):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)).all()


def test_create_cleans_values_and_audits(hq, platforms):
    c = services.create_campaign(actor=hq, **RAW, platform_ids=[platforms["douyin"].id], spacing_km="2.5")
    assert c.slots == ["12:00", "18:00", "20:30"] and c.cadence == {"short_video": 5, "image_post": 1}
    assert c.spacing_km == 2.5 and c.platform_ids == [platforms["douyin"].id] and c.created_by_id == hq.id
    assert entries("campaign")[0].action == "create"
    changes = services.update_campaign(c, actor=hq, **{**RAW, "name": "国庆焕新2", "slots": "9:00"})
    assert changes["name"] == ["国庆焕新", "国庆焕新2"] and c.slots == ["09:00"]
    assert [e.action for e in entries("campaign")] == ["create", "update"]


@pytest.mark.parametrize("change, field", [
    ({"name": " "}, "name"),
    ({"slots": "12:00, 25:00"}, "slots"), ({"slots": "noon"}, "slots"), ({"slots": ""}, "slots"),
    ({"cadence": {}}, "cadence"), ({"cadence": {"short_video": -1}}, "cadence"),
    ({"cadence": {"short_video": 22}}, "cadence"),  # 22 > 7 days x 3 slots
    ({"ends_on": date(2026, 10, 1)}, "ends_on"),
    ({"store_scope": "city", "cities": []}, "cities"), ({"store_scope": "city", "cities": ["火星"]}, "cities"),
    ({"store_scope": "list", "store_codes": "NOPE-1"}, "store_codes"),
    ({"store_scope": "tag", "tags": ""}, "tags"), ({"store_scope": "tag", "tags": "x" * 41}, "tags"),
    ({"spacing_km": "-1"}, "spacing_km"), ({"spacing_km": "far"}, "spacing_km"),
    ({"platform_ids": [999]}, "platform_ids"),
])
def test_invalid_campaigns_are_refused_naming_the_field(hq, platforms, change, field):
    with pytest.raises(DomainError) as info:
        services.create_campaign(actor=hq, **{**RAW, **change})
    assert info.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(Campaign)) is None


def test_scope_values(hq, make_store):
    a, b = make_store(code="HZ-9"), make_store(code="SH-9", city="上海", district="徐汇区")
    c = services.create_campaign(actor=hq, **{**RAW, "store_scope": "list", "store_codes": "SH-9, HZ-9"})
    assert c.store_scope == StoreScope.LIST and c.scope_values == sorted([a.id, b.id])
    services.update_campaign(c, actor=hq, **{**RAW, "store_scope": "city", "cities": ["杭州市", "上海"]})
    assert c.scope_values == ["310100", "330100"]
    services.update_campaign(c, actor=hq, **{**RAW, "store_scope": "tag", "tags": "#新店, 旗舰店，新店"})
    assert c.scope_values == ["新店", "旗舰店"]


def test_template_texts_must_compile(hq):
    c = services.create_campaign(actor=hq, **RAW)
    with pytest.raises(DomainError) as info:
        services.add_template(c, actor=hq, kind="short_video", topic="t", script="ok\n{{ store_name ")
    assert info.value.field == "script" and "2" in info.value.message
    db.session.rollback()
    with pytest.raises(DomainError) as info:
        services.add_template(c, actor=hq, kind="short_video", topic="t", caption="{{ config }}")
    assert info.value.field == "caption"
    db.session.rollback()
    with pytest.raises(DomainError):
        services.add_template(c, actor=hq, kind="podcast", topic="t")


def test_templates_reorder_edit_delete_with_audit(hq):
    c = services.create_campaign(actor=hq, **RAW)
    t1, t2, t3 = (services.add_template(c, actor=hq, kind="short_video", topic=f"T{i}") for i in range(3))
    services.move_template(t3, direction=-1, actor=hq)
    services.move_template(t1, direction=-1, actor=hq)  # already first: nothing moves
    db.session.refresh(c)
    assert [t.topic for t in c.templates] == ["T0", "T2", "T1"]
    assert services.update_template(t2, actor=hq, kind="image_post", topic="T1", caption="{{ city }}") == \
        {"kind": ["short_video", "image_post"], "caption": ["", "{{ city }}"]}
    services.delete_template(t1, actor=hq)
    assert [e.action for e in entries("content_template")] == ["create"] * 3 + ["update"] * 2 + ["delete"]


def test_delete_campaign_keeps_items_stores_worked_on(hq, make_store, make_account):
    store = make_store()
    make_account(store, "douyin")
    c = services.create_campaign(actor=hq, **{**RAW, "cadence": {"short_video": 7}})
    services.add_template(c, actor=hq, kind="short_video", topic="T", caption="{{ store_name }}")
    generate_week(c, date(2026, 11, 23), actor=hq, now=datetime(2026, 11, 1, tzinfo=timezone.utc))
    kept = db.session.scalars(select(ContentItem)).first()
    kept.status = ItemStatus.PUBLISHED
    db.session.commit()
    assert services.delete_campaign(c, actor=hq) == 6
    items = db.session.scalars(select(ContentItem)).all()
    assert [i.id for i in items] == [kept.id] and items[0].campaign_id is None and items[0].template_id is None
    assert db.session.scalar(select(ContentTemplate)) is None and entries("campaign")[-1].action == "delete"


def test_store_tags(hq, make_store):
    store = make_store()
    assert services.set_store_tags(store, "旗舰店，#新店 旗舰店", actor=hq) == ["新店", "旗舰店"]
    assert services.set_store_tags(store, "新店, 旗舰店", actor=hq) == ["新店", "旗舰店"]
    assert len([e for e in entries("store") if "tags" in (e.changes or {})]) == 1
    assert services.store_tags_of([store.id]) == {store.id: ["新店", "旗舰店"]}
    assert services.known_tags() == [("新店", 1), ("旗舰店", 1)]
    assert services.set_store_tags(store, "", actor=hq) == []
    assert services.known_tags() == []
