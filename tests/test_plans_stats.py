"""Completion of a week: grouped counts per campaign, city and store, overdue against a frozen "now"."""
from datetime import date, datetime, timezone

import pytest
from fixtures_plans import MONDAY
from flask import url_for

from matrix.auth.models import Role
from matrix.content.models import Approval, Campaign, ItemStatus
from matrix.extensions import db
from matrix.plans import stats

ZONE = "Asia/Shanghai"
# Wednesday 2026-11-25 13:00 in Shanghai.
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=timezone.utc)
WED = date(2026, 11, 25)


@pytest.fixture
def week(make_store, make_account, make_item):
    """Two Hangzhou stores and one in Shanghai, two campaigns and store-own items."""
    hz1 = make_store(code="HZ-001", name="杭州一店")
    hz2 = make_store(code="HZ-002", name="杭州二店")
    sh1 = make_store(code="SH-001", name="上海一店", city="上海", district="徐汇区")
    spring, autumn = Campaign(name="A 春", starts_on=MONDAY, ends_on=MONDAY), Campaign(name="B 秋", starts_on=MONDAY,
                                                                                       ends_on=MONDAY)
    db.session.add_all([spring, autumn])
    db.session.commit()
    a1, a2, a3 = (make_account(store=s) for s in (hz1, hz2, sh1))

    def item(store, account, day, slot, status=ItemStatus.PLANNED, campaign=spring, **extra):
        return make_item(store, account, day=day, slot=slot, status=status,
                         campaign_id=campaign.id if campaign else None, **extra)

    item(hz1, a1, MONDAY, "12:00")                                   # overdue (day passed)
    item(hz1, a1, MONDAY, "18:00", ItemStatus.SHOT)                  # shot, not published: late
    item(hz1, a1, WED, "12:00")                                      # overdue (slot passed today)
    item(hz1, a1, WED, "13:00")                                      # due this minute: not yet overdue
    item(hz1, a1, WED, "18:00", ItemStatus.SHOT)                     # shot, not due
    item(hz1, a1, MONDAY, "20:30", ItemStatus.PUBLISHED, post_url="https://www.douyin.com/v/1")
    item(hz2, a2, MONDAY, "12:00", ItemStatus.SKIPPED, skip_reason="停电")
    item(hz2, a2, date(2026, 11, 27), "12:00", campaign=autumn)     # planned
    item(hz2, a2, MONDAY, "12:00", ItemStatus.CANCELLED)             # left out
    item(hz2, a2, MONDAY, "12:00", campaign=None, approval=Approval.REJECTED)  # left out
    item(sh1, a3, MONDAY, "18:00", ItemStatus.PUBLISHED, campaign=None, post_url="https://www.douyin.com/v/2")
    item(sh1, a3, date(2026, 11, 30), "12:00")                       # next week: left out
    return {"hz1": hz1, "hz2": hz2, "sh1": sh1, "spring": spring, "autumn": autumn}


def counts(c: stats.Counts) -> tuple:
    return c.planned, c.shot, c.published, c.skipped, c.overdue, c.shot_late


def test_totals_and_overdue(week):
    total = stats.totals(MONDAY, now=NOW, zone=ZONE)
    assert counts(total) == (2, 1, 2, 1, 2, 1)
    assert total.total == 9 and total.percent_done == 22 and total.late == 3


def test_per_store_page(week):
    page, by_store = stats.stores_page(MONDAY, now=NOW, zone=ZONE, page=1, per_page=2)
    assert [s.code for s in page.items] == ["HZ-001", "HZ-002"] and page.total == 3
    assert counts(by_store[week["hz1"].id]) == (1, 1, 1, 0, 2, 1)
    assert counts(by_store[week["hz2"].id]) == (1, 0, 0, 1, 0, 0)
    page2, by_store2 = stats.stores_page(MONDAY, now=NOW, zone=ZONE, page=2, per_page=2)
    assert [s.code for s in page2.items] == ["SH-001"] and counts(by_store2[week["sh1"].id]) == (0, 0, 1, 0, 0, 0)
    assert by_store2[week["sh1"].id].percent_done == 100


def test_per_city_and_campaign(week):
    cities = dict(stats.by_city(MONDAY, now=NOW, zone=ZONE))
    assert counts(cities[week["hz1"].city_code]) == (2, 1, 1, 1, 2, 1)
    assert counts(cities[week["sh1"].city_code]) == (0, 0, 1, 0, 0, 0)
    rows = stats.by_campaign(MONDAY, now=NOW, zone=ZONE)
    assert [(c.name if c else None, counts(n)) for c, n in rows] == [
        ("A 春", (1, 1, 1, 1, 2, 1)), ("B 秋", (1, 0, 0, 0, 0, 0)), (None, (0, 0, 1, 0, 0, 0))]


def test_filters(week):
    hz = stats.totals(MONDAY, now=NOW, zone=ZONE, city=week["hz1"].city_code, campaign_id=week["autumn"].id)
    assert counts(hz) == (1, 0, 0, 0, 0, 0)
    page, _by_store = stats.stores_page(MONDAY, now=NOW, zone=ZONE, page=1, per_page=10,
                                        campaign_id=week["autumn"].id)
    assert [s.code for s in page.items] == ["HZ-002"]


def test_later_now_makes_more_overdue(week):
    sunday_night = datetime(2026, 11, 29, 15, 0, tzinfo=timezone.utc)
    # The shot item of Wednesday 18:00 is now late too: shot, not published; the rest is overdue.
    assert counts(stats.totals(MONDAY, now=sunday_night, zone=ZONE)) == (0, 0, 2, 1, 4, 2)


def test_a_shot_item_past_its_day_counts_once_as_shot_not_published(make_store, make_account, make_item):
    """Not as overdue (nothing was shot) and not twice: the bar and the columns still add up to the total."""
    store = make_store()
    make_item(store, make_account(store=store), day=MONDAY, slot="12:00", status=ItemStatus.SHOT)
    late = stats.totals(MONDAY, now=NOW, zone=ZONE)
    assert counts(late) == (0, 0, 0, 0, 0, 1) and late.total == 1 and late.late == 1
    assert [part for part, _x, _w in late.bar(100)] == ["shot_late"]


def test_bar_parts_add_up():
    bar = stats.Counts(planned=1, shot=1, published=2, skipped=0, overdue=0).bar(100)
    assert [p for p, _x, _w in bar] == ["published", "shot", "planned"]
    assert bar[-1][1] + bar[-1][2] == pytest.approx(100)
    assert stats.Counts().bar() == [] and stats.Counts().percent_done == 0


def test_completion_page_for_hq_only(app, client, login, make_user, week):
    manager = make_user(Role.STORE_MANAGER, stores=[week["hz1"]])
    login(make_user(Role.OPERATOR))
    html = client.get(url_for("plans.completion", week="2026-W48")).get_data(as_text=True)
    for text in ("HZ-001", "SH-001", "A 春", "<svg", "bar-published", "bar-shot_late", "Shot, not published", "22%"):
        assert text in html
    assert client.get(url_for("plans.completion", week="2026-W48", city=week["sh1"].city_code)).status_code == 200
    assert client.get(url_for("plans.completion", week="bad")).status_code == 200  # falls back to this week
    with app.app_context():
        other = app.test_client()
        login(manager, other)
        assert other.get(url_for("plans.completion")).status_code == 403
