"""Item services without a web client: edit, move, add, status steps, approvals, and who may do them."""
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.errors import DomainError, NotFound
from matrix.extensions import db
from matrix.content.models import (Approval, Campaign, ContentItem, ItemSource, ItemStatus,
                                    StoreScope)
from matrix.plans import services
from fixtures_plans import MONDAY

def audit_actions(entity="content_item") -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == entity)
                                   .order_by(AuditEntry.id)))


def test_edit_texts_marks_item_edited_and_audits(week_shop):
    item = week_shop["item"]
    changes = services.edit_item(item, actor=week_shop["manager"], topic=" 周末活动 ", caption="到店送礼\r\n限前50名",
                                 script="门头\n礼品", hashtags="#杭州 #西湖")
    assert item.topic == "周末活动" and item.caption == "到店送礼\n限前50名" and item.edited_by_store
    assert set(changes) >= {"topic", "caption", "script", "hashtags", "edited_by_store"}
    assert audit_actions() == ["update"]


def test_edit_without_change_writes_nothing(week_shop):
    item = week_shop["item"]
    services.edit_item(item, actor=week_shop["manager"], topic=item.topic, caption=item.caption, script=item.script,
                       hashtags=item.hashtags)
    assert not item.edited_by_store and audit_actions() == []


def test_edit_needs_topic_and_open_status(week_shop):
    item = week_shop["item"]
    with pytest.raises(DomainError) as e:
        services.edit_item(item, actor=week_shop["manager"], topic=" ", caption="", script="", hashtags="")
    assert e.value.field == "topic"
    item.status = ItemStatus.PUBLISHED
    db.session.commit()
    with pytest.raises(DomainError):
        services.edit_item(item, actor=week_shop["manager"], topic="新", caption="", script="", hashtags="")
    db.session.refresh(item)
    assert item.topic == "新品到店"


def test_manager_of_another_store_cannot_touch_the_item(week_shop, make_user):
    stranger = make_user(Role.STORE_MANAGER, stores=[week_shop["other"]])
    item = week_shop["item"]
    with pytest.raises(NotFound):
        services.edit_item(item, actor=stranger, topic="x", caption="", script="", hashtags="")
    with pytest.raises(NotFound):
        services.move_item(item, actor=stranger, day=MONDAY, slot="18:00", zone="Asia/Shanghai")
    with pytest.raises(NotFound):
        services.change_status(item, actor=stranger, status="shot")
    with pytest.raises(NotFound):
        services.add_item(week_shop["store"], actor=stranger, account_id=week_shop["account"].id, day=MONDAY, slot="12:00",
                          kind="short_video", topic="x")
    assert audit_actions() == []


def test_move_within_the_week_normalises_the_slot(week_shop):
    item = week_shop["item"]
    services.move_item(item, actor=week_shop["manager"], day=date(2026, 11, 29), slot="9:30", zone="Asia/Shanghai")
    assert (item.day, item.slot, item.edited_by_store) == (date(2026, 11, 29), "09:30", True)
    assert audit_actions() == ["move"]


@pytest.mark.parametrize("day, slot, field", [(date(2026, 11, 30), "12:00", "day"),   # next Monday
                                              (date(2026, 11, 22), "12:00", "day"),   # the Sunday before
                                              (MONDAY, "25:00", "slot"), (MONDAY, "noon", "slot")])
def test_move_outside_the_week_or_bad_time_is_refused(week_shop, day, slot, field):
    item = week_shop["item"]
    with force_locale("en"), pytest.raises(DomainError) as e:
        services.move_item(item, actor=week_shop["manager"], day=day, slot=slot, zone="Asia/Shanghai")
    assert e.value.field == field
    if field == "day":
        assert "within its week (2026-W48)" in e.value.message
    db.session.refresh(item)
    assert (item.day, item.slot) == (MONDAY, "12:00")


def test_add_own_item_on_own_account(week_shop):
    item = services.add_item(week_shop["store"], actor=week_shop["manager"], account_id=week_shop["account"].id,
                             day=date(2026, 11, 25), slot="20:30", kind="image_post", topic="店员日常",
                             caption="今天的店员推荐")
    assert item.source == ItemSource.STORE and item.status == ItemStatus.PLANNED
    assert item.approval == Approval.NOT_NEEDED and item.generation_key is None
    assert audit_actions() == ["create"]


def test_add_refuses_another_stores_account_and_brand_accounts(week_shop, make_account):
    brand = make_account(platform="kuaishou", handle="brand_main")
    for account_id in (week_shop["other_account"].id, brand.id, 0, 999999):
        with pytest.raises(DomainError) as e:
            services.add_item(week_shop["store"], actor=week_shop["manager"], account_id=account_id, day=MONDAY,
                              slot="12:00", kind="short_video", topic="x")
        assert e.value.field == "account_id"
    assert db.session.scalar(select(ContentItem).where(ContentItem.topic == "x")) is None


def _campaign(**fields) -> Campaign:
    values = {"name": "双十二", "starts_on": date(2026, 11, 20), "ends_on": date(2026, 12, 12),
              "store_scope": StoreScope.ALL, "requires_approval": True} | fields
    campaign = Campaign(**values)
    db.session.add(campaign)
    db.session.commit()
    return campaign


@pytest.mark.parametrize("fields, pending", [
    ({}, True),
    ({"store_scope": StoreScope.CITY, "scope_values": ["310100"]}, False),   # Shanghai only
    ({"requires_approval": False}, False),
    ({"active": False}, False),
    ({"starts_on": date(2026, 12, 1)}, False),                               # starts after the week
    ({"ends_on": date(2026, 11, 23)}, True),                                 # ends on the week's Monday
    ({"platform_ids": [-1]}, False),                                         # other platforms only
])
def test_approval_rule(week_shop, fields, pending):
    _campaign(**fields)
    item = services.add_item(week_shop["store"], actor=week_shop["manager"], account_id=week_shop["account"].id,
                             day=date(2026, 11, 27), slot="12:00", kind="short_video", topic="自拍")
    assert item.approval == (Approval.PENDING if pending else Approval.NOT_NEEDED)


def test_approval_rule_by_city_and_list(week_shop):
    store = week_shop["store"]
    _campaign(store_scope=StoreScope.CITY, scope_values=[store.city_code])
    assert services.approval_required(store, week_shop["account"].platform_id, MONDAY)
    assert not services.approval_required(week_shop["other"], week_shop["account"].platform_id, MONDAY)


def test_status_steps_to_published_with_platform_url(week_shop):
    item, manager = week_shop["item"], week_shop["manager"]
    services.change_status(item, actor=manager, status="shot")
    assert item.status == ItemStatus.SHOT
    services.change_status(item, actor=manager, status="published", post_url=" https://www.douyin.com/video/7312 ")
    assert item.status == ItemStatus.PUBLISHED and item.post_url == "https://www.douyin.com/video/7312"
    assert audit_actions() == ["status", "status"]


@pytest.mark.parametrize("url", ["", "www.douyin.com/video/1", "https://www.kuaishou.com/short-video/1",
                                 "https://douyin.com.evil.example/x", "javascript:alert(1)"])
def test_published_needs_a_url_on_the_accounts_platform(week_shop, url):
    item = week_shop["item"]
    with pytest.raises(DomainError) as e:
        services.change_status(item, actor=week_shop["manager"], status="published", post_url=url)
    assert e.value.field == "post_url"
    db.session.refresh(item)
    assert item.status == ItemStatus.PLANNED and item.post_url is None


def test_skipped_needs_a_reason(week_shop):
    item = week_shop["item"]
    with pytest.raises(DomainError) as e:
        services.change_status(item, actor=week_shop["manager"], status="skipped", reason="  ")
    assert e.value.field == "reason"
    services.change_status(item, actor=week_shop["manager"], status="skipped", reason="店内装修")
    assert item.status == ItemStatus.SKIPPED and item.skip_reason == "店内装修"


@pytest.mark.parametrize("start, target", [(ItemStatus.PUBLISHED, "shot"), (ItemStatus.PUBLISHED, "skipped"),
                                           (ItemStatus.SKIPPED, "published"), (ItemStatus.SHOT, "shot"),
                                           (ItemStatus.CANCELLED, "shot"), (ItemStatus.PLANNED, "cancelled"),
                                           (ItemStatus.PLANNED, "done")])
def test_invalid_transitions_are_refused(week_shop, start, target):
    item = week_shop["item"]
    item.status = start
    db.session.commit()
    with pytest.raises(DomainError):
        services.change_status(item, actor=week_shop["hq"], status=target, post_url="https://www.douyin.com/v/1",
                               reason="x")
    assert item.status == start


def test_only_hq_puts_an_item_back_to_planned(week_shop):
    item = week_shop["item"]
    services.change_status(item, actor=week_shop["manager"], status="published", post_url="https://v.douyin.com/abc")
    with force_locale("en"), pytest.raises(DomainError) as e:
        services.change_status(item, actor=week_shop["manager"], status="planned")
    assert "Only HQ" in e.value.message
    services.change_status(item, actor=week_shop["hq"], status="planned")
    assert item.status == ItemStatus.PLANNED and item.post_url is None


def test_allowed_statuses(week_shop):
    item, manager, hq = week_shop["item"], week_shop["manager"], week_shop["hq"]
    assert services.allowed_statuses(item, manager) == [ItemStatus.SHOT, ItemStatus.PUBLISHED, ItemStatus.SKIPPED]
    item.status = ItemStatus.SHOT
    assert services.allowed_statuses(item, manager) == [ItemStatus.PUBLISHED, ItemStatus.SKIPPED]
    assert services.allowed_statuses(item, hq)[0] == ItemStatus.PLANNED
    item.status, item.approval = ItemStatus.PLANNED, Approval.PENDING
    assert services.allowed_statuses(item, manager) == [ItemStatus.SKIPPED]


def _pending_items(week_shop, n=2):
    _campaign()
    return [services.add_item(week_shop["store"], actor=week_shop["manager"], account_id=week_shop["account"].id,
                              day=MONDAY, slot="18:00", kind="short_video", topic=f"自选{i}") for i in range(n)]


def test_pending_item_cannot_be_shot_until_approved(week_shop):
    first, second = _pending_items(week_shop)
    with pytest.raises(DomainError):
        services.change_status(first, actor=week_shop["manager"], status="shot")
    assert services.decide([first, second], actor=week_shop["hq"], approve=True) == 2
    assert first.approval == second.approval == Approval.APPROVED
    services.change_status(first, actor=week_shop["manager"], status="shot")
    assert first.status == ItemStatus.SHOT
    assert audit_actions().count("approve") == 2


def test_reject_needs_a_reason_and_skips_decided_items(week_shop):
    first, second = _pending_items(week_shop)
    with pytest.raises(DomainError) as e:
        services.decide([first], actor=week_shop["hq"], approve=False)
    assert e.value.field == "reason" and first.approval == Approval.PENDING
    services.decide([first], actor=week_shop["hq"], approve=True)
    assert services.decide([first, second], actor=week_shop["hq"], approve=False, reason="与活动主题无关") == 1
    assert first.approval == Approval.APPROVED
    assert second.approval == Approval.REJECTED and second.approval_note == "与活动主题无关"


def test_only_hq_decides(week_shop):
    first, _second = _pending_items(week_shop)
    with pytest.raises(NotFound):
        services.decide([first], actor=week_shop["manager"], approve=True)
    assert first.approval == Approval.PENDING


def test_store_rewriting_a_rejected_item_sends_it_back_to_the_queue(week_shop):
    _first, second = _pending_items(week_shop)
    services.decide([second], actor=week_shop["hq"], approve=False, reason="换个选题")
    services.edit_item(second, actor=week_shop["manager"], topic="新选题", caption="", script="", hashtags="")
    assert second.approval == Approval.PENDING and second.approval_note is None


def test_overdue_is_to_the_minute_in_the_chains_zone(week_shop):
    from datetime import datetime, timezone

    item, zone = week_shop["item"], "Asia/Shanghai"   # Monday 12:00 in Shanghai is 04:00 UTC
    assert not services.is_overdue(item, now=datetime(2026, 11, 23, 4, 0, 59, tzinfo=timezone.utc), zone=zone)
    assert services.is_overdue(item, now=datetime(2026, 11, 23, 4, 1, tzinfo=timezone.utc), zone=zone)
    item.approval = Approval.REJECTED
    assert not services.is_overdue(item, now=datetime(2026, 11, 24, tzinfo=timezone.utc), zone=zone)
    item.approval, item.status = Approval.NOT_NEEDED, ItemStatus.PUBLISHED
    assert not services.is_overdue(item, now=datetime(2026, 11, 24, tzinfo=timezone.utc), zone=zone)


def test_items_hq_adds_need_no_approval(week_shop):
    _campaign()
    item = services.add_item(week_shop["store"], actor=week_shop["hq"], account_id=week_shop["account"].id, day=MONDAY,
                             slot="12:00", kind="short_video", topic="总部补充")
    assert item.approval == Approval.NOT_NEEDED and item.source == ItemSource.STORE
