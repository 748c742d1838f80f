"""The weekly plan through a web client: store picker, week view, item actions, approvals, and scoping."""
from datetime import date

import pytest
from flask import url_for
from sqlalchemy import func, select

from matrix.auth.models import Role
from matrix.extensions import db
from matrix.content.models import Approval, Campaign, ContentItem, ItemSource, ItemStatus
from fixtures_plans import MONDAY, WEEK


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Pages in English, so messages can be matched (see test_accounts_views)."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


@pytest.fixture
def manager_client(client, login, week_shop):
    week_shop["manager"].locale = "en"
    db.session.commit()
    login(week_shop["manager"])
    return client


def page(client, endpoint, status=200, **args) -> str:
    response = client.get(url_for(endpoint, **args))
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def test_manager_of_one_store_goes_straight_to_this_week(manager_client, week_shop):
    response = manager_client.get(url_for("plans.index"))
    assert response.status_code == 302
    assert f"/plans/{week_shop['store'].id}/" in response.headers["Location"]


def test_hq_picks_a_store_by_city(client, login, week_shop, make_user):
    login(make_user(Role.OPERATOR, locale="en"))
    html = page(client, "plans.index")
    assert "HZ-001" in html and "SH-001" in html and "Approval queue" in html
    html = page(client, "plans.index", city=week_shop["other"].city_code)
    assert "SH-001" in html and "HZ-001" not in html


def test_week_view_shows_items_in_a_grid_with_week_links(manager_client, week_shop, make_item):
    make_item(week_shop["store"], week_shop["account"], day=date(2026, 11, 26), slot="18:00", topic="周四探店",
              flag="直播时间已改，预告需要更新")
    html = page(manager_client, "plans.week", store_id=week_shop["store"].id, week=WEEK)
    for text in ("新品到店", "周四探店", "hz_xihu", "Douyin", "本周新品到店", "店员推荐", "Short video",
                 "badge-planned", "直播时间已改", "week-grid", ".wg-r2{grid-row:2}", "2026-W47", "2026-W49",
                 'id="item-%d"' % week_shop["item"].id, "Mark shot"):
        assert text in html, text


@pytest.mark.parametrize("week", ["2026-W54", "W48", "2026-48x"])
def test_week_view_refuses_bad_weeks(manager_client, week_shop, week):
    page(manager_client, "plans.week", 404, store_id=week_shop["store"].id, week=week)


def test_manager_of_a_cannot_see_b(manager_client, week_shop, make_item):
    other_item = make_item(week_shop["other"], week_shop["other_account"], topic="乙店秘密选题")
    for endpoint, args in [("plans.week", {"store_id": week_shop["other"].id, "week": WEEK}),
                           ("plans.print_store", {"store_id": week_shop["other"].id, "week": WEEK}),
                           ("plans.new_item", {"store_id": week_shop["other"].id, "week": WEEK}),
                           ("plans.item", {"item_id": other_item.id}),
                           ("plans.ical_settings", {"store_id": week_shop["other"].id})]:
        assert "乙店秘密选题" not in page(manager_client, endpoint, 404, **args)
    for endpoint in ("plans.approvals", "plans.completion", "plans.print_city"):
        page(manager_client, endpoint, 403)


def test_item_page_offers_the_next_steps(manager_client, week_shop):
    html = page(manager_client, "plans.item", item_id=week_shop["item"].id)
    assert "Change status" in html and 'value="shot"' in html and 'value="planned"' not in html
    assert "Move within the week" in html and "Save texts" in html


def test_edit_texts(manager_client, post, week_shop):
    item = week_shop["item"]
    response = post(url_for("plans.edit_item", item_id=item.id),
                    {"topic": "周末上新", "caption": "到店有礼", "script": "1. 门头", "hashtags": "#杭州"})
    assert response.status_code == 302 and f"#item-{item.id}" in response.headers["Location"]
    db.session.refresh(item)
    assert (item.topic, item.caption, item.edited_by_store) == ("周末上新", "到店有礼", True)


def test_edit_without_topic_keeps_what_was_typed(manager_client, post, week_shop):
    response = post(url_for("plans.edit_item", item_id=week_shop["item"].id),
                    {"topic": "", "caption": "我写的新文案", "script": "", "hashtags": ""})
    assert response.status_code == 422
    assert "我写的新文案" in response.get_data(as_text=True)
    db.session.refresh(week_shop["item"])
    assert week_shop["item"].caption == "本周新品到店，欢迎来店体验！"


def test_move_within_and_outside_the_week(manager_client, post, week_shop):
    item = week_shop["item"]
    response = post(url_for("plans.move_item", item_id=item.id), {"day": "2026-11-28", "slot": "20:30"})
    assert response.status_code == 302
    response = post(url_for("plans.move_item", item_id=item.id), {"day": "2026-12-01", "slot": "20:30"})
    assert response.status_code == 422
    assert "moves only within its week" in response.get_data(as_text=True)
    db.session.refresh(item)
    assert (item.day, item.slot) == (date(2026, 11, 28), "20:30")


def test_status_through_the_forms(manager_client, post, week_shop):
    item = week_shop["item"]
    response = post(url_for("plans.item_status", item_id=item.id), {"status": "shot", "back": "week"})
    assert response.status_code == 302 and "/plans/%d/2026-W48" % week_shop["store"].id in response.headers["Location"]
    response = post(url_for("plans.item_status", item_id=item.id),
                    {"status": "published", "post_url": "https://www.xiaohongshu.com/explore/1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "is not a Douyin address" in html and "https://www.xiaohongshu.com/explore/1" in html
    response = post(url_for("plans.item_status", item_id=item.id), {"status": "skipped", "reason": ""})
    assert response.status_code == 422 and "Say why" in response.get_data(as_text=True)
    response = post(url_for("plans.item_status", item_id=item.id),
                    {"status": "published", "post_url": "https://www.douyin.com/video/1"})
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == ItemStatus.PUBLISHED
    response = post(url_for("plans.item_status", item_id=item.id), {"status": "planned"})
    assert response.status_code == 422 and "Only HQ" in response.get_data(as_text=True)


def test_add_own_item(manager_client, post, week_shop):
    html = page(manager_client, "plans.new_item", store_id=week_shop["store"].id, week=WEEK)
    assert "hz_xihu" in html and "sh_xuhui" not in html
    data = {"account_id": week_shop["account"].id, "kind": "short_video", "day": "2026-11-27", "slot": "19:00",
            "topic": "店长推荐", "caption": "周五店长推荐", "script": "", "hashtags": ""}
    response = post(url_for("plans.new_item", store_id=week_shop["store"].id, week=WEEK), data)
    assert response.status_code == 302
    item = db.session.scalar(select(ContentItem).where(ContentItem.topic == "店长推荐"))
    assert item.source == ItemSource.STORE and item.day == date(2026, 11, 27)


@pytest.mark.parametrize("change, message", [({"account_id": "other"}, "Choose one of this store"),
                                             ({"day": "2026-12-02"}, "Choose a day of this week"),
                                             ({"slot": "7pm"}, "is not a time"),
                                             ({"topic": ""}, "This field is required")])
def test_add_item_refuses_bad_input(manager_client, post, week_shop, change, message):
    data = {"account_id": week_shop["account"].id, "kind": "short_video", "day": "2026-11-27", "slot": "19:00",
            "topic": "店长推荐"} | change
    if data["account_id"] == "other":
        data["account_id"] = week_shop["other_account"].id
    response = post(url_for("plans.new_item", store_id=week_shop["store"].id, week=WEEK), data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ContentItem.id))) == 1


def _pending(week_shop, n=3):
    db.session.add(Campaign(name="审核活动", starts_on=MONDAY, ends_on=date(2026, 11, 29), requires_approval=True))
    db.session.commit()
    return [ContentItem(store_id=week_shop["store"].id, account_id=week_shop["account"].id, day=MONDAY, slot="19:00",
                        kind="short_video", topic=f"待审{i}", source=ItemSource.STORE, approval=Approval.PENDING)
            for i in range(n)]


def test_approval_queue_bulk_and_single(client, login, post, week_shop, make_user):
    items = _pending(week_shop)
    db.session.add_all(items)
    db.session.commit()
    login(make_user(Role.OPERATOR, locale="en"))
    html = page(client, "plans.approvals")
    assert all(f"待审{i}" in html for i in range(3))
    response = post(url_for("plans.decide"), {"item_ids": [items[0].id, items[1].id], "decision": "approve"})
    assert response.status_code == 302
    response = post(url_for("plans.decide"), {"one": f"reject:{items[2].id}", "reason": ""})
    assert response.status_code == 422 and "Say why" in response.get_data(as_text=True)
    response = post(url_for("plans.decide"), {"one": f"reject:{items[2].id}", "reason": "不符合品牌调性"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [i.approval for i in items] == [Approval.APPROVED, Approval.APPROVED, Approval.REJECTED]
    assert items[2].approval_note == "不符合品牌调性"
    assert "No item waits for approval" in page(client, "plans.approvals")


def test_store_sees_the_rejection_reason(manager_client, week_shop):
    item = _pending(week_shop, 1)[0]
    item.approval, item.approval_note = Approval.REJECTED, "请换个角度拍"
    db.session.add(item)
    db.session.commit()
    html = page(manager_client, "plans.week", store_id=week_shop["store"].id, week=WEEK)
    assert "请换个角度拍" in html and "badge-rejected" in html


def test_nav_has_the_weekly_plan(manager_client, week_shop):
    html = page(manager_client, "plans.week", store_id=week_shop["store"].id, week=WEEK)
    assert 'href="/plans/"' in html and "Weekly plan" in html


def test_manager_of_two_stores_picks_one(client, login, week_shop, make_store, make_user):
    second = make_store(code="HZ-002", name="杭州滨江店")
    login(make_user(Role.STORE_MANAGER, stores=[week_shop["store"], second], locale="en"))
    html = page(client, "plans.index")
    assert "HZ-001" in html and "HZ-002" in html and "SH-001" not in html
    assert "Approval queue" not in html and "Print all stores of a city" not in html
