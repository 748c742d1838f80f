"""Calendars of live sessions: layout functions without a request, and the pages with a client."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fixtures_live import DAY, book, text
from flask import url_for

from matrix.extensions import db
from matrix.live import calendars
from matrix.live import day as live_day
from matrix.weeks import monday_of, week_string

ZONE = "Asia/Shanghai"
TZ = ZoneInfo(ZONE)
WEEK = week_string(DAY)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def test_bar_position_is_a_share_of_the_axis():
    day = date(2026, 11, 28)
    start, end = at(day, 6), at(day, 6) + timedelta(hours=18)
    assert live_day.bar_position(at(day, 19), at(day, 21), start, end) == (72.222, 11.111, False, False)
    assert live_day.bar_position(at(day, 6), at(day, 7, 30), start, end) == (0.0, 8.333, False, False)
    # Clipped at the axis' ends, and said so.
    assert live_day.bar_position(at(day, 5), at(day, 7), start, end) == (0.0, 5.556, True, False)
    assert live_day.bar_position(at(day, 23), at(day, 23) + timedelta(hours=2), start, end) == (94.444, 5.556,
                                                                                                   False, True)


def test_day_axis_widens_for_early_and_late_sessions():
    day = date(2026, 11, 28)
    assert live_day.day_axis(day, [(at(day, 19), at(day, 21))], ZONE) == (at(day, 6), at(day + timedelta(days=1), 0))
    early = (at(day, 4, 30), at(day, 6))
    late = (at(day, 23), at(day + timedelta(days=1), 1, 15))
    assert live_day.day_axis(day, [early, late], ZONE) == (at(day, 4), at(day + timedelta(days=1), 2))
    carried = (at(day - timedelta(days=1), 23), at(day, 1))  # from yesterday: the axis starts at midnight
    assert live_day.day_axis(day, [carried], ZONE)[0] == at(day, 0)


def test_nearby_counts_only_other_stores_of_the_same_city_at_overlapping_times():
    d = date(2026, 11, 28)
    rows = [(1, 10, "hz", at(d, 19), at(d, 21)),
            (2, 11, "hz", at(d, 20), at(d, 22)),    # overlaps 1
            (3, 12, "hz", at(d, 21), at(d, 22)),    # touches 1, overlaps 2
            (4, 10, "hz", at(d, 20), at(d, 20, 30)),  # same store as 1: not nearby of 1, but of 2
            (5, 20, "sh", at(d, 19), at(d, 21))]    # another city
    assert calendars.nearby_counts(rows) == {1: 1, 2: 3, 3: 1, 4: 1}


def test_hour_counts_count_sessions_live_within_each_hour():
    d = date(2026, 11, 28)
    hours = live_day.hour_counts([(at(d, 19), at(d, 21)), (at(d, 20, 30), at(d, 21))], at(d, 18), at(d, 22))
    assert [(h.label, h.count, h.left) for h in hours] == [("18:00", 0, 0.0), ("19:00", 1, 25.0), ("20:00", 2, 50.0),
                                                           ("21:00", 0, 75.0)]


def test_day_view_places_bars_groups_by_city_and_marks_overlaps(app, live):
    hq = live["hq"]
    a = book(live["account_a"], hq, start="19:00", end="21:00")
    b = book(live["account_b"], hq, start="20:00", end="22:00", anchor="王芳", title="滨江夜场")
    c = book(live["account_c"], hq, start="20:00", end="21:00", anchor="赵六")
    late = book(live["account_c"], hq, start="23:00", end="01:00", anchor="赵六", title="深夜场")
    view = live_day.day_view(hq, DAY, zone=ZONE)
    assert (view.axis_start, view.axis_end) == (at(DAY, 6), at(DAY + timedelta(days=1), 1))   # 19 hours
    bars = {bar.session.id: bar for _code, group in view.groups for bar in group}
    assert (bars[a.id].left, bars[a.id].width) == (68.421, 10.526)   # 13/19 and 2/19 of the axis
    assert (bars[late.id].left, bars[late.id].width) == (89.474, 10.526)
    assert (bars[a.id].nearby, bars[b.id].nearby, bars[c.id].nearby) == (1, 1, 0)
    assert [code for code, _group in view.groups] == sorted([live["store_a"].city_code, live["store_c"].city_code])
    assert {h.label: h.count for h in view.hours}["20:00"] == 3 and view.busiest == 3
    mine = live_day.day_view(live["manager"], DAY, zone=ZONE)
    assert [bar.session.id for _code, group in mine.groups for bar in group] == [a.id]
    assert mine.axis_end == at(DAY + timedelta(days=1), 0)  # only what the manager sees widens the axis


def test_the_day_draws_a_page_of_bars_and_sums_up_every_session(app, live):
    hq = live["hq"]
    a = book(live["account_a"], hq, start="19:00", end="21:00")
    b = book(live["account_b"], hq, start="20:00", end="22:00", anchor="王芳")
    c = book(live["account_c"], hq, start="20:00", end="21:00", anchor="赵六")
    first = live_day.day_view(hq, DAY, zone=ZONE, per_page=2)
    second = live_day.day_view(hq, DAY, zone=ZONE, per_page=2, page=2)
    drawn = [[bar.session.id for _code, group in view.groups for bar in group] for view in (first, second)]
    in_order = sorted((a, b, c), key=lambda s: (s.store.city_code, s.starts_at))  # by city, then start
    assert drawn == [[s.id for s in in_order[:2]], [in_order[2].id]] and first.total == second.total == 3
    assert (first.bars.pages, first.bars.has_next, second.bars.has_prev, second.bars.has_next) == (2, True, True, False)
    assert {h.label: h.count for h in second.hours}["20:00"] == 3  # every session, not only the page's
    hangzhou, other = first.cities
    assert (hangzhou.code, hangzhou.sessions, hangzhou.nearby) == (live["store_a"].city_code, 2, 2)
    assert (hangzhou.busiest.label, hangzhou.busiest.count) == ("20:00", 2)
    assert (other.code, other.sessions, other.nearby) == (live["store_c"].city_code, 1, 0)
    assert [bar.nearby for _code, group in second.groups for bar in group] == [0 if in_order[2] is c else 1]
    assert live_day.day_view(hq, DAY, zone=ZONE, per_page=2, page=9).bars.page == 2  # past the end: the last page


def test_day_view_page_draws_the_bars(client, login, live):
    a = book(live["account_a"], live["hq"], start="19:00", end="21:00")
    book(live["account_b"], live["hq"], start="20:00", end="22:00", anchor="王芳", title="滨江夜场")
    login(live["hq"])
    html = text(client.get(url_for("live.day", date=DAY.isoformat())), 200)
    assert f".lb-{a.id}{{left:72.222%;width:11.111%}}" in html and f'href="/live/{a.id}"' in html
    assert html.count("is-nearby") == 2 and "Busiest hour: 20:00 with 2 live." in html
    assert (DAY - timedelta(days=1)).isoformat() in html and (DAY + timedelta(days=1)).isoformat() in html
    html = text(client.get(url_for("live.day", date="2026-02-30")), 200)
    assert "is not a date" in html


def test_day_view_page_lists_cities_and_pages_its_bars(client, login, live, monkeypatch):
    for account, anchor in (("account_a", "甲"), ("account_b", "乙"), ("account_c", "丙")):
        book(live[account], live["hq"], start="19:00", end="21:00", anchor=anchor)
    monkeypatch.setattr(live_day, "DAY_BARS", 2)
    login(live["hq"])
    html = text(client.get(url_for("live.day", date=DAY.isoformat())), 200)
    city = live["store_c"].city_code
    assert f'href="/live/day?date={DAY.isoformat()}&amp;city={city}"' in html and "Sessions by city" in html
    assert html.count('class="live-bar') == 2 and "Sessions 1 to 2 of 3, by city and start." in html
    html = text(client.get(url_for("live.day", date=DAY.isoformat(), page=2)), 200)
    assert html.count('class="live-bar') == 1 and "Page 2 of 2" in html
    html = text(client.get(url_for("live.day", date=DAY.isoformat(), city=city)), 200)
    assert html.count('class="live-bar') == 1 and "Sessions by city" not in html


def test_city_calendar_lays_out_stores_by_day(app, live):
    hq = live["hq"]
    a = book(live["account_a"], hq, start="19:00", end="21:00")
    b = book(live["account_b"], hq, start="20:00", end="22:00", anchor="王芳")
    touching = [book(live["account_a"], hq, start="10:00", end="11:00"),   # one ends as the other starts
                book(live["account_b"], hq, start="11:00", end="12:00", anchor="王芳")]
    book(live["account_c"], hq, start="20:00", end="21:00", anchor="赵六")  # another city
    city = live["store_a"].city_code
    calendar = calendars.city_calendar(hq, city, monday_of(DAY), zone=ZONE)
    assert [s.code for s in calendar.stores.items] == ["HZ-001", "HZ-002"]
    assert calendar.cells[(live["store_a"].id, DAY)] == [touching[0], a]
    assert calendar.cells[(live["store_b"].id, DAY)] == [touching[1], b]
    assert calendar.nearby == {a.id: 1, b.id: 1}
    manager = calendars.city_calendar(live["manager"], city, monday_of(DAY), zone=ZONE)
    assert [s.code for s in manager.stores.items] == ["HZ-001"] and list(manager.cells) == [(live["store_a"].id, DAY)]
    assert manager.nearby == {}  # overlaps with stores the manager cannot see are not shown
    assert calendars.city_calendar(live["manager"], live["store_c"].city_code, monday_of(DAY), zone=ZONE) is None


def test_city_calendar_pages_show_only_what_the_user_may_see(client, login, post, live):
    book(live["account_a"], live["hq"], title="西湖专场")
    book(live["account_b"], live["hq"], title="滨江专场", anchor="王芳", start="09:00", end="10:00")
    city = live["store_a"].city_code
    login(live["hq"])
    html = text(client.get(url_for("live.city", city_code=city, week=WEEK)), 200)
    assert "西湖专场" in html and "滨江专场" in html and "SH-001" not in html
    assert f"/live/new?store_id={live['store_b'].id}&amp;day={DAY.isoformat()}" in html
    assert client.get(url_for("live.city_pick", city=city, week=WEEK)).headers["Location"].endswith(
        f"/live/city/{city}?week={WEEK}")
    assert client.get(url_for("live.city", city_code="110100")).status_code == 404   # no stores there
    post(url_for("auth.logout"))
    login(live["manager"])
    html = text(client.get(url_for("live.city", city_code=city, week=WEEK)), 200)
    assert "西湖专场" in html and "滨江专场" not in html and "HZ-002" not in html and "滨江店" not in html
    assert client.get(url_for("live.city", city_code=live["store_c"].city_code)).status_code == 404


def test_city_calendar_can_hide_idle_stores(client, login, live, make_store, make_account):
    for n in range(3):
        make_account(make_store(code=f"HZ-1{n:02d}", name=f"空闲店{n}"))
    book(live["account_a"], live["hq"], title="西湖专场")
    login(live["hq"])
    html = text(client.get(url_for("live.city", city_code=live["store_a"].city_code, week=WEEK, busy=1)), 200)
    assert "西湖专场" in html and "空闲店" not in html and "HZ-002" not in html


def test_store_calendar_lists_sessions_and_the_trailers_to_post(client, login, live):
    own = book(live["account_b"], live["hq"], title="滨江专场", anchor="王芳", start="10:00", end="11:00")
    neighbour = book(live["account_a"], live["hq"], title="西湖专场")
    calendar = calendars.store_calendar(live["hq"], live["store_b"], monday_of(DAY), zone=ZONE)
    assert calendar.sessions == {DAY: [own]}
    dues = [due for day in calendar.days for due in calendar.trailers.get(day, [])]
    assert {due.session.id for due in dues if due.own} <= {own.id}
    assert any(due.session.id == neighbour.id and not due.own for due in dues)  # the sibling's trailers
    assert all(due.item.store_id == live["store_b"].id for due in dues)
    login(live["hq"])
    html = text(client.get(url_for("live.store_calendar", store_id=live["store_b"].id, week=WEEK)), 200)
    assert "滨江专场" in html and "西湖专场" in html and "for HZ-001 西湖店" in html


def test_store_calendar_is_in_the_managers_scope(client, login, live):
    book(live["account_b"], live["hq"], title="滨江专场", anchor="王芳")
    login(live["manager"])
    assert client.get(url_for("live.store_calendar", store_id=live["store_b"].id)).status_code == 404
    html = text(client.get(url_for("live.store_calendar", store_id=live["store_a"].id, week=WEEK)), 200)
    assert "滨江专场" in html  # store A posts trailers for its neighbour's session
    assert "Trailers to post" in html and 'href="/live/' not in html.split("Trailers to post")[1].split("</table>")[0]


def test_week_window_follows_the_chains_zone(app, live):
    monday = monday_of(DAY) + timedelta(days=7)
    # Monday 00:30 in Shanghai is Sunday 16:30 UTC: it belongs to the Monday's week.
    session = book(live["account_a"], live["hq"], day=monday, start="00:30", end="01:30")
    listed = db.session.scalars(calendars.week_sessions(live["hq"], monday, zone=ZONE)).all()
    assert listed == [session]
    assert db.session.scalars(calendars.week_sessions(live["hq"], monday - timedelta(days=7), zone=ZONE)).all() == []


def test_week_search_takes_wildcards_literally(app, live):
    book(live["account_a"], live["hq"], title="100%好评专场")
    book(live["account_b"], live["hq"], anchor="王芳", title="新品直播")
    monday = monday_of(DAY)
    titles = lambda q: [s.title for s in db.session.scalars(  # noqa: E731
        calendars.week_sessions(live["hq"], monday, zone=ZONE, q=q))]
    assert titles("%") == ["100%好评专场"] and titles("1_0") == [] and titles("新品") == ["新品直播"]


def test_hour_counts_match_counting_each_hour_against_each_session():
    import random

    d = date(2026, 11, 28)
    rng = random.Random(4)
    spans = []
    for _ in range(200):
        starts = at(d, 4) + timedelta(minutes=rng.randrange(0, 22 * 60, 15))
        spans.append((starts, starts + timedelta(minutes=rng.choice((15, 30, 60, 90, 120, 180)))))
    axis_start, axis_end = live_day.day_axis(d, spans, ZONE)
    hours = live_day.hour_counts(spans, axis_start, axis_end)
    for i, hour in enumerate(hours):
        begins, ends = axis_start + timedelta(hours=i), axis_start + timedelta(hours=i + 1)
        assert hour.count == sum(1 for s, e in spans if s < ends and e > begins), hour.label
