"""Today: a store manager's first page, its lists from a frozen "now", its scope, and the week that opens at today."""
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import url_for

from matrix.auth.models import Role
from matrix.content.models import Approval, ContentKind, ItemStatus
from matrix.extensions import db
from matrix.leads.models import Lead, LeadStatus
from matrix.live.models import LiveSession
from matrix.stores.models import Store
from matrix.today.gaps import onboarding_gaps
from matrix.today.services import store_day

ZONE = "Asia/Shanghai"
WED = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=timezone.utc)   # Wednesday 13:00 in Shanghai


@pytest.fixture
def day_shop(week_shop, make_item, make_community, make_account):
    """Store HZ-001's Wednesday: two posts (one past its time), a trailer, yesterday's leftover, a session,
    leads; the other store's item that day; an item HQ rejected."""
    store, account, other = week_shop["store"], week_shop["account"], week_shop["other"]
    items = {
        "morning": make_item(store, account, day=WED, slot="09:00", topic="早间探店"),
        "evening": make_item(store, account, day=WED, slot="18:30", topic="晚间上新", status=ItemStatus.SHOT),
        "trailer": make_item(store, account, day=WED, slot="20:00", kind=ContentKind.TRAILER, topic="周六直播预告"),
        "left": make_item(store, account, day=WED - timedelta(days=1), slot="12:00", topic="昨天没发的"),
        "done": make_item(store, account, day=WED - timedelta(days=1), slot="18:00", topic="昨天发了的",
                          status=ItemStatus.PUBLISHED, post_url="https://www.douyin.com/video/1"),
        "rejected": make_item(store, account, day=WED, slot="10:00", topic="被拒的", approval=Approval.REJECTED),
        "theirs": make_item(other, week_shop["other_account"], day=WED, slot="11:00", topic="别店的条目"),
    }
    db.session.add(LiveSession(account_id=account.id, store_id=store.id, title="周六新品直播", anchor="李娜",
                               anchor_key="李娜", starts_at=datetime(2026, 11, 28, 11, tzinfo=timezone.utc),
                               ends_at=datetime(2026, 11, 28, 13, tzinfo=timezone.utc)))
    db.session.add_all([
        Lead(name="新客户甲", phone_masked="138****0001", store_id=store.id, status=LeadStatus.NEW),
        Lead(name="回访客户乙", phone_masked="139****0002", store_id=store.id, status=LeadStatus.CONTACTED,
             follow_up_at=NOW - timedelta(hours=1)),
        Lead(name="别店客户", phone_masked="137****0003", store_id=other.id, status=LeadStatus.NEW)])
    db.session.commit()
    make_account(store=store, platform="kuaishou")
    make_community(other, name="别店群")
    return {**week_shop, **items}


def test_the_day_from_a_frozen_now(day_shop):
    store = day_shop["store"]
    day = store_day(day_shop["manager"], [store], now=NOW, zone=ZONE)
    assert day.day == WED
    assert [i.topic for i in day.items] == ["早间探店", "晚间上新"]          # rejected and other stores' left out
    assert [i.topic for i in day.trailers] == ["周六直播预告"]
    assert [i.topic for i in day.overdue] == ["新品到店", "昨天没发的"]      # Monday's, then Tuesday's
    assert day.late_ids == {day_shop["item"].id, day_shop["morning"].id, day_shop["left"].id}  # 09:00 passed
    assert [s.title for s in day.sessions] == ["周六新品直播"]
    assert (day.new_leads.total, day.due_leads.total) == (1, 1)
    assert day.new_leads.leads[0].name == "新客户甲" and day.due_leads.leads[0].name == "回访客户乙"
    gaps = [g.text for g in day.gaps[store.id]]
    assert "No customer group yet: leads have nowhere to join" in gaps
    assert "No WeChat Channels account yet" in gaps and "No Kuaishou account yet" not in gaps


def test_gaps_name_the_page_that_fills_them(week_shop, make_community):
    store = week_shop["store"]
    make_community(store)
    gaps = onboarding_gaps(week_shop["manager"], [store.id])[store.id]
    # The store's setup page, where the manager fills in handles, links and QR codes on the phone.
    assert gaps and all(g.endpoint == "onboarding.store" and dict(g.args)["store_id"] == store.id for g in gaps)
    assert onboarding_gaps(week_shop["manager"], []) == {}


def test_a_manager_lands_on_today_and_sees_only_their_store(client, login, day_shop):
    login(day_shop["manager"])
    assert client.get("/").headers["Location"].endswith("/today/")
    html = client.get(url_for("today.index")).get_data(as_text=True)
    assert "mainnav" in html and 'href="/today/"' in html
    assert "别店的条目" not in html and "别店客户" not in html and "被拒的" not in html
    assert "新客户甲" in html and "138****0001" in html


def test_todays_items_show_with_their_times_and_one_tap_to_shoot(client, login, post, week_shop, make_item):
    from zoneinfo import ZoneInfo
    today = datetime.now(ZoneInfo(ZONE)).date()
    item = make_item(week_shop["store"], week_shop["account"], day=today, slot="23:59", topic="今晚要发的")
    login(week_shop["manager"])
    html = client.get(url_for("today.index")).get_data(as_text=True)
    assert "今晚要发的" in html and "23:59" in html and url_for("plans.item", item_id=item.id, _external=False) in html
    response = post(url_for("plans.item_status", item_id=item.id), {"status": "shot", "back": "today"})
    assert response.headers["Location"].endswith("/today/")
    db.session.refresh(item)
    assert item.status == ItemStatus.SHOT


def test_hq_keeps_the_matrix_and_may_open_a_stores_day(client, login, week_shop):
    login(week_shop["hq"])
    assert client.get("/").status_code == 200
    assert client.get(url_for("today.index")).headers["Location"].endswith("/")
    html = client.get(url_for("today.index", store=week_shop["store"].id)).get_data(as_text=True)
    assert "HZ-001" in html


def test_a_manager_cannot_open_another_stores_day(client, login, week_shop):
    login(week_shop["manager"])
    assert client.get(url_for("today.index", store=week_shop["other"].id)).status_code == 404


def test_a_manager_of_several_stores_sees_each_stores_code(client, login, make_user, week_shop, make_item):
    from zoneinfo import ZoneInfo
    today = datetime.now(ZoneInfo(ZONE)).date()
    both = make_user(Role.STORE_MANAGER, stores=[week_shop["store"], week_shop["other"]])
    make_item(week_shop["other"], week_shop["other_account"], day=today, slot="23:58", topic="上海的条目")
    login(both)
    html = client.get(url_for("today.index")).get_data(as_text=True)
    assert "上海的条目" in html and "SH-001" in html and "HZ-001" in html


def test_the_week_view_marks_today_for_the_phone(client, login, week_shop):
    from zoneinfo import ZoneInfo

    from matrix.weeks import week_string
    today = datetime.now(ZoneInfo(ZONE)).date()
    login(week_shop["manager"])
    html = client.get(url_for("plans.week", store_id=week_shop["store"].id,
                              week=week_string(today))).get_data(as_text=True)
    assert 'id="today"' in html and 'src="/static/js/week.js"' in html  # the script scrolls to today on a phone
    assert "scrollIntoView" in (Path(__file__).parent.parent / "static" / "js" / "week.js").read_text()
    assert client.get(url_for("plans.index")).headers["Location"].endswith("#today")
    assert db.session.get(Store, week_shop["store"].id) is not None
