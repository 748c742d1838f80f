"""Live sessions through a web client: schedule, conflicts, move, cancel, status, results and scoping."""
from datetime import datetime, timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from matrix.extensions import db
from matrix.live import services
from matrix.live.models import LiveSession, SessionStatus
from matrix.content.models import ContentItem, ItemStatus
from fixtures_live import DAY, ZONE, book, count_sessions, form, text, trailers_of

def test_schedule_through_the_form_creates_trailers_and_shows_them(client, login, post, live):
    login(live["hq"])
    response = post(url_for("live.new"), form(live["account_a"]))
    session = db.session.scalar(select(LiveSession))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/live/{session.id}")
    items = trailers_of(session.id)
    host = [i for i in items if i.account_id == live["account_a"].id]
    assert len(host) == 4 and all(i.status == ItemStatus.PLANNED for i in host)
    assert {i.account_id for i in items} >= {live["brand_account"].id, live["account_b"].id}  # brand and sibling
    assert live["account_c"].id not in {i.account_id for i in items}                           # another city
    html = text(client.get(response.headers["Location"]), 200)
    assert f"Trailers: {len(items)} added" in html
    for expected in ("冬季新品直播", "@hz_xihu", "李娜", "羽绒被", "Asia/Shanghai", "19:00–21:00", "@hz_binjiang",
                     "@qimu_official", "brand main account", f'href="/plans/items/{host[0].id}"'):
        assert expected in html, expected
    assert "Save results" not in html  # not started yet


def test_new_form_prefills_from_a_calendar_link_and_lists_what_hq_may_book(client, login, live):
    login(live["hq"])
    html = text(client.get(url_for("live.new", store_id=live["store_b"].id, day=DAY.isoformat())), 200)
    assert f'value="{DAY.isoformat()}"' in html and "@hz_binjiang · Douyin · HZ-002" in html
    assert f'<option selected value="{live["account_b"].id}"' in html  # the store's only account is chosen
    assert "@hz_xihu" not in html
    html = text(client.get(url_for("live.new")), 200)
    assert "@qimu_official · Douyin · brand main account" in html and "Standard trailers (default)" in html


def test_double_booked_account_is_refused_naming_the_other_session(client, login, post, live):
    first = book(live["account_a"], live["hq"], title="秋季清仓")
    login(live["hq"])
    html = text(post(url_for("live.new"), form(live["account_a"], start="20:00", end="22:00", title="第二场",
                                               anchor="王芳")), 422)
    assert "秋季清仓" in html and "already live" in html
    assert 'value="第二场"' in html and 'value="王芳"' in html and 'value="20:00"' in html  # input kept
    assert count_sessions() == 1 and len(trailers_of(first.id)) > 0


def test_anchor_double_booking_is_refused(client, login, post, live):
    book(live["account_a"], live["hq"], title="秋季清仓", anchor="Li Na")
    login(live["hq"])
    html = text(post(url_for("live.new"), form(live["account_c"], start="20:00", end="22:00", anchor="li na")), 422)
    assert "The anchor Li Na is already on “秋季清仓”" in html
    assert 'name="accept_nearby"' not in html  # a double booking cannot be accepted away
    assert count_sessions() == 1


def test_nearby_overlap_warns_then_schedules_once_accepted(client, login, post, live):
    first = book(live["account_a"], live["hq"], title="秋季清仓")
    login(live["hq"])
    values = form(live["account_b"], start="20:00", end="22:00", title="滨江夜场", anchor="王芳")
    html = text(post(url_for("live.new"), values), 422)
    assert "is live at an overlapping time in “秋季清仓”" in html and "same city" in html
    assert 'name="accept_nearby"' in html and f'name="seen_overlaps" type="hidden" value="{first.id}"' in html
    assert 'value="滨江夜场"' in html and count_sessions() == 1
    # Ticking "accept" without having been shown the overlap (a forged first post) does not schedule.
    text(post(url_for("live.new"), {**values, "accept_nearby": "y"}), 422)
    assert count_sessions() == 1
    response = post(url_for("live.new"), {**values, "accept_nearby": "y", "seen_overlaps": str(first.id)})
    assert response.status_code == 302
    second = db.session.scalar(select(LiveSession).where(LiveSession.title == "滨江夜场"))
    assert second.accepted_overlaps == [first.id]
    html = text(client.get(url_for("live.detail", session_id=second.id)), 200)
    assert "Accepted overlaps" in html and "秋季清仓" in html


def test_accepting_does_not_cover_an_overlap_booked_after_the_warning(client, login, post, live, make_store,
                                                                       make_account):
    first = book(live["account_a"], live["hq"], title="秋季清仓")
    third_store = make_store(code="HZ-003", name="拱墅店", brand_id=live["brand"].id)
    login(live["hq"])
    values = form(live["account_b"], start="20:00", end="22:00", title="滨江夜场", anchor="王芳")
    text(post(url_for("live.new"), values), 422)
    book(make_account(third_store, handle="hz_gongshu"), live["hq"], title="拱墅新场", anchor="赵六")
    html = text(post(url_for("live.new"), {**values, "accept_nearby": "y", "seen_overlaps": str(first.id)}), 422)
    assert "拱墅新场" in html and count_sessions() == 2


def test_manager_cannot_book_another_stores_account_or_the_brand_account(client, login, post, live):
    login(live["manager"])
    html = text(client.get(url_for("live.new")), 200)
    assert "@hz_xihu" in html and "@hz_binjiang" not in html and "@qimu_official" not in html
    for account in (live["account_b"], live["brand_account"]):
        html = text(post(url_for("live.new"), form(account)), 422)
        assert "Choose the account that goes live." in html
    assert count_sessions() == 0 and db.session.scalar(select(func.count(ContentItem.id))) == 0
    assert post(url_for("live.new"), form(live["account_a"])).status_code == 302


def test_bad_values_are_shown_next_to_their_field_and_kept(client, login, post, live):
    login(live["hq"])
    html = text(post(url_for("live.new"), form(live["account_a"], start="25:00", title="保留我")), 422)
    assert "is not a time" in html and 'value="保留我"' in html and 'value="25:00"' in html
    html = text(post(url_for("live.new"), form(live["account_a"], day="2026-13-40")), 422)
    assert "is not a date" in html
    assert count_sessions() == 0


@pytest.mark.parametrize("method, endpoint", [("get", "live.detail"), ("get", "live.edit"), ("post", "live.edit"),
                                              ("get", "live.cancel"), ("post", "live.cancel"),
                                              ("post", "live.change_status"), ("post", "live.results")])
def test_manager_gets_404_for_another_stores_session(client, login, post, live, method, endpoint):
    other = book(live["account_b"], live["hq"], title="滨江隐私场")
    brand = book(live["brand_account"], live["hq"], title="品牌场", anchor="王五")
    login(live["manager"])
    for session in (other, brand):
        url = url_for(endpoint, session_id=session.id)
        response = client.get(url) if method == "get" else post(url, {**form(live["account_a"]), "status": "live",
                                                                      "reason": "x", "orders": "3"})
        assert response.status_code == 404
    db.session.expire_all()
    assert other.status == SessionStatus.SCHEDULED and other.title == "滨江隐私场" and other.orders is None


def test_edit_moves_the_session_and_its_trailers(client, login, post, live):
    session = book(live["account_a"], live["hq"])
    before = {i.generation_key: i.day for i in trailers_of(session.id)}
    login(live["hq"])
    html = text(client.get(url_for("live.edit", session_id=session.id)), 200)
    assert f'value="{DAY.isoformat()}"' in html and 'value="19:00"' in html and "冬季新品直播" in html
    response = post(url_for("live.edit", session_id=session.id), form(live["account_a"], day=DAY + timedelta(days=1)))
    assert response.status_code == 302
    after = {i.generation_key: i.day for i in trailers_of(session.id)}
    assert after.keys() == before.keys()
    assert all(after[key] == day + timedelta(days=1) for key, day in before.items())
    assert "moved" in text(client.get(response.headers["Location"]), 200)


def test_edit_keeps_the_conflict_flow(client, login, post, live):
    book(live["account_a"], live["hq"], title="秋季清仓")
    mine = book(live["account_a"], live["hq"], title="第二场", start="22:00", end="23:00")
    login(live["hq"])
    html = text(post(url_for("live.edit", session_id=mine.id), form(live["account_a"], title="第二场", start="20:00")),
                422)
    assert "秋季清仓" in html
    db.session.expire_all()
    assert mine.starts_at.astimezone(ZONE).hour == 22


def test_cancel_asks_first_then_cancels_the_trailers(client, login, post, live):
    session = book(live["account_a"], live["hq"])
    login(live["hq"])
    html = text(client.get(url_for("live.cancel", session_id=session.id)), 200)
    assert "Trailers now: " in html and session.status == SessionStatus.SCHEDULED
    response = post(url_for("live.cancel", session_id=session.id), {"reason": "主播生病"})
    assert response.status_code == 302
    db.session.expire_all()
    assert session.status == SessionStatus.CANCELLED and session.cancel_reason == "主播生病"
    assert {i.status for i in trailers_of(session.id)} == {ItemStatus.CANCELLED}
    html = text(client.get(response.headers["Location"]), 200)
    assert "主播生病" in html and "Change or move" not in html
    assert client.get(url_for("live.edit", session_id=session.id)).status_code == 302  # no editing a cancelled one


def test_go_live_then_mark_done(client, login, post, live):
    far = book(live["account_a"], live["hq"])
    soon = datetime.now(ZONE) + timedelta(minutes=30)
    session = book(live["account_a"], live["hq"], day=soon.date(), start=f"{soon:%H:%M}",
                   end=f"{soon + timedelta(hours=1):%H:%M}")
    login(live["hq"])
    assert "an hour before its start" in text(post(url_for("live.change_status", session_id=far.id),
                                                   {"status": "live"}), 422)
    assert post(url_for("live.change_status", session_id=session.id), {"status": "live"}).status_code == 302
    db.session.expire_all()
    assert session.status == SessionStatus.LIVE
    html = text(client.get(url_for("live.detail", session_id=session.id)), 200)
    assert "Save results" in html and "Go live" not in html  # results once live
    text(post(url_for("live.change_status", session_id=session.id), {"status": "cancelled"}), 422)
    assert post(url_for("live.change_status", session_id=session.id), {"status": "done"}).status_code == 302
    db.session.expire_all()
    assert session.status == SessionStatus.DONE


@pytest.mark.parametrize("field, value, message", [
    ("peak_viewers", "-5", "Between 0 and 100,000,000."),
    ("orders", "many", "Write a whole number."),
    ("replay_url", "https://evil.example.com/replay/1", "evil.example.com"),
])
def test_results_are_checked_field_by_field(client, login, post, live, field, value, message):
    yesterday = (datetime.now(ZONE) - timedelta(days=1)).date()
    session = book(live["account_a"], live["hq"], day=yesterday)
    login(live["hq"])
    values = {"peak_viewers": "1200", "new_followers": "35", "orders": "8", "leads": "12", "replay_url": "",
              field: value}
    html = text(post(url_for("live.results", session_id=session.id), values), 422)
    assert message in html and f'value="{value}"' in html and 'value="35"' in html
    db.session.expire_all()
    assert session.status == SessionStatus.SCHEDULED and session.new_followers is None


def test_results_are_saved_and_close_the_session(client, login, post, live):
    yesterday = (datetime.now(ZONE) - timedelta(days=1)).date()
    session = book(live["account_a"], live["hq"], day=yesterday)
    login(live["hq"])
    html = text(client.get(url_for("live.detail", session_id=session.id)), 200)
    assert "Save results" in html  # started, though nobody pressed "go live"
    response = post(url_for("live.results", session_id=session.id),
                    {"peak_viewers": "1,200", "new_followers": "35", "orders": "8", "leads": "12",
                     "replay_url": "https://www.douyin.com/video/123"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (session.status, session.peak_viewers, session.leads) == (SessionStatus.DONE, 1200, 12)
    html = text(client.get(response.headers["Location"]), 200)
    assert "https://www.douyin.com/video/123" in html and "Peak viewers <strong>1,200</strong>" in html


def test_manager_sees_sibling_trailers_of_own_session_without_links(client, login, live):
    session = book(live["account_a"], live["hq"])
    items = trailers_of(session.id)
    own = [i for i in items if i.store_id == live["store_a"].id]
    others = [i for i in items if i.store_id != live["store_a"].id]
    assert own and any(i.store_id is None for i in others) and any(i.store_id == live["store_b"].id for i in others)
    login(live["manager"])
    html = text(client.get(url_for("live.detail", session_id=session.id)), 200)
    assert all(f'href="/plans/items/{i.id}"' in html for i in own)
    assert not any(f'href="/plans/items/{i.id}"' in html for i in others)
    assert "@hz_binjiang" in html  # listed as text: the sibling posts it


def test_post_without_csrf_is_refused(client, login, live):
    login(live["hq"])
    assert client.post(url_for("live.new"), data=form(live["account_a"])).status_code == 400
    session = book(live["account_a"], live["hq"])
    assert client.post(url_for("live.cancel", session_id=session.id), data={"reason": "x"}).status_code == 400
    assert count_sessions() == 1
    db.session.expire_all()
    assert session.status == SessionStatus.SCHEDULED


def test_week_list_shows_the_weeks_sessions_in_scope(client, login, post, live):
    mine = book(live["account_a"], live["hq"], title="本店直播")
    book(live["account_b"], live["hq"], title="邻店直播", anchor="王五", start="09:00", end="10:00")
    book(live["brand_account"], live["hq"], title="品牌直播", anchor="赵六", start="06:00", end="07:00")
    book(live["account_a"], live["hq"], title="下周直播", day=DAY + timedelta(days=7))
    week = f"{DAY.isocalendar()[0]}-W{DAY.isocalendar()[1]:02d}"
    login(live["hq"])
    html = text(client.get(url_for("live.index", week=week)), 200)
    assert "本店直播" in html and "邻店直播" in html and "品牌直播" in html and "下周直播" not in html
    assert "brand main account" in html and "@qimu_official" in html
    html = text(client.get(url_for("live.index", week=week, status="cancelled")), 200)
    assert "本店直播" not in html
    post(url_for("auth.logout"))
    login(live["manager"])
    html = text(client.get(url_for("live.index", week=week)), 200)
    assert "本店直播" in html and "邻店直播" not in html and "品牌直播" not in html
    assert f'href="/live/{mine.id}"' in html
    assert "Trailer rules" not in html  # HQ's links


def test_bad_week_is_said_not_crashed(client, login, live):
    login(live["hq"])
    html = text(client.get(url_for("live.index", week="2026-W99")), 200)
    assert "has no week 99" in html


def test_narrowing_the_account_list_keeps_what_was_typed(client, login, post, live):
    login(live["hq"])
    response = post(url_for("live.new"), {**form(live["account_a"], title="保留我的标题", anchor="保留主播"),
                                          "narrow": "1", "narrow_q": "sh_xuhui"})
    html = text(response, 200)
    assert 'value="保留我的标题"' in html and 'value="保留主播"' in html and "@sh_xuhui" in html
    assert count_sessions() == 0


def test_a_stale_edit_form_does_not_overwrite_a_newer_change(client, login, post, live):
    session = book(live["account_a"], live["hq"])
    login(live["hq"])
    opened = text(client.get(url_for("live.edit", session_id=session.id)), 200)
    assert f'name="version" type="hidden" value="{session.version}"' in opened
    services.move_session(session, services.clean_session(form(live["account_a"], start="20:00", end="22:00"),
                                                           actor=live["hq"]), actor=live["hq"])
    html = text(post(url_for("live.edit", session_id=session.id),
                     {**form(live["account_a"], title="旧表单"), "version": "1"}), 422)
    assert "Someone else changed this session" in html
    db.session.expire_all()
    assert session.title != "旧表单" and session.starts_at.astimezone(ZONE).hour == 20


def test_a_manager_is_offered_only_the_default_rule(client, login, post, live):
    from matrix.live.settings import default_rule, save_rule

    default = default_rule()
    special = save_rule(None, {"name": "品牌加推", "steps": [{"offset": "1d", "brand": "y"}], "topic": "x"},
                        actor=live["hq"])
    login(live["manager"])
    html = text(client.get(url_for("live.new")), 200)
    assert f'value="{default.id}"' in html and "品牌加推" not in html
    text(post(url_for("live.new"), form(live["account_a"], rule_id=special.id)), 422)
    assert count_sessions() == 0


def test_cancel_page_of_a_session_no_longer_scheduled_goes_back(client, login, post, live):
    session = book(live["account_a"], live["hq"])
    services.cancel_session(session, actor=live["hq"])
    login(live["hq"])
    response = client.get(url_for("live.cancel", session_id=session.id))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/live/{session.id}")


def test_the_form_suggests_known_anchors_and_the_results_count_the_sessions_leads(client, login, live):
    from matrix.leads.models import Lead

    live["account_a"].run_by = "店员小周"
    db.session.commit()
    book(live["account_a"], live["hq"], anchor="李娜")
    book(live["account_b"], live["hq"], anchor="王芳")           # another store: not the manager's to see
    login(live["manager"])
    html = text(client.get(url_for("live.new")), 200)
    assert '<option value="李娜">' in html and '<option value="店员小周">' in html and "王芳" not in html
    started = datetime.now(ZONE) - timedelta(minutes=30)
    session = book(live["account_a"], live["hq"], day=started.date(), start=f"{started:%H:%M}",
                   end=f"{started + timedelta(hours=1):%H:%M}", anchor="赵六")
    for minutes in (-60, 10, 100, 200):                          # before, during, just after, too late
        db.session.add(Lead(store_id=live["store_a"].id, received_at=session.starts_at + timedelta(minutes=minutes)))
    db.session.add(Lead(store_id=live["store_b"].id, received_at=session.starts_at + timedelta(minutes=10)))
    db.session.commit()
    assert "2 leads reached this store during the session" in text(
        client.get(url_for("live.detail", session_id=session.id)), 200)


def test_every_mistake_of_a_form_is_shown_at_once(client, login, post, live):
    login(live["hq"])
    html = text(post(url_for("live.new"), form(live["account_a"], start="25:00", title="", anchor="")), 422)
    assert "“25:00” is not a time" in html and "The title is required." in html and "Name the anchor" in html
    soon = datetime.now(ZONE) - timedelta(minutes=30)
    session = book(live["account_a"], live["hq"], day=soon.date(), start=f"{soon:%H:%M}",
                   end=f"{soon + timedelta(hours=1):%H:%M}")
    html = text(post(url_for("live.results", session_id=session.id),
                     {"peak_viewers": "many", "orders": "-3", "replay_url": "https://evil.example.com/v"}), 422)
    assert html.count("Write a whole number.") == 1 and "Between 0 and 100,000,000." in html
    assert "evil.example.com" in html and "is not a" in html
    db.session.expire_all()
    assert session.peak_viewers is None and session.status == SessionStatus.SCHEDULED
