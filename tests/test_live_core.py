"""Live sessions without a request: conflict rules, trailer audiences, quiet hours, moving and cancelling."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from matrix.auth.models import Role
from matrix.content.models import ContentItem, ContentKind, ItemStatus
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.live import services
from matrix.live.batch import schedule_many
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.settings import default_rule, live_settings, save_rule, update_settings
from matrix.live.timing import in_quiet_hours, parse_clock, parse_offset, trailer_moment

ZONE = "Asia/Shanghai"
DAY = (datetime.now(ZoneInfo(ZONE)) + timedelta(days=10)).date()


@pytest.fixture
def hq(make_user):
    return make_user(Role.OPERATOR)


def values(account, actor, *, day=DAY, start="19:00", end="21:00", title="新品直播", anchor="李娜", rule_id=None):
    return services.clean_session({"account_id": account.id, "day": day.isoformat(), "start": start, "end": end,
                                   "title": title, "anchor": anchor, "theme": "床品", "rule_id": rule_id}, actor=actor)


def book(account, actor, **kwargs):
    accept = kwargs.pop("accept", False)
    return services.schedule_session(values(account, actor, **kwargs), actor=actor, accept_nearby=accept)[0]


def trailers(session) -> list[ContentItem]:
    return list(db.session.scalars(select(ContentItem).where(ContentItem.session_id == session.id)
                                   .order_by(ContentItem.day, ContentItem.slot, ContentItem.account_id)))


def sessions_count() -> int:
    return db.session.scalar(select(func.count()).select_from(LiveSession))


# --- conflicts -------------------------------------------------------------------------------------------

def test_same_account_double_booked_is_refused_naming_the_other_session(hq, make_store, make_account):
    account = make_account(make_store())
    book(account, hq, title="周末大促")
    with pytest.raises(services.ScheduleConflict) as refused:
        book(account, hq, start="20:00", end="22:00", anchor="王强", title="晚场")
    assert "周末大促" in refused.value.message and refused.value.errors
    assert sessions_count() == 1


def test_same_anchor_on_two_accounts_is_refused_whatever_the_spacing_and_case(hq, make_store, make_account):
    first, second = make_account(make_store()), make_account(make_store(city="宁波", district="海曙区"))
    book(first, hq, anchor="Li Na", title="杭州场")
    with pytest.raises(services.ScheduleConflict) as refused:
        book(second, hq, anchor="  li  na ", start="20:30", end="21:30")
    assert "杭州场" in refused.value.message and "Li Na" in refused.value.message
    assert sessions_count() == 1


def test_back_to_back_sessions_do_not_overlap(hq, make_store, make_account):
    account = make_account(make_store())
    book(account, hq, start="19:00", end="20:00")
    book(account, hq, start="20:00", end="21:00")
    assert sessions_count() == 2


def test_same_city_overlap_warns_and_books_once_accepted(hq, make_store, make_account):
    west, east = make_store(), make_store(district="上城区")
    other = book(make_account(west), hq, anchor="甲", title="西湖店直播")
    with pytest.raises(services.ScheduleConflict) as warned:
        book(make_account(east), hq, anchor="乙", start="20:00", end="22:00")
    assert not warned.value.errors and "西湖店直播" in warned.value.nearby[0].message
    assert sessions_count() == 1
    session = book(make_account(east), hq, anchor="乙", start="20:00", end="22:00", accept=True)
    assert session.accepted_overlaps == [other.id]


def test_nearby_distance_warns_across_cities_only_within_it(hq, make_store, make_account):
    # Hangzhou and Shaoxing stores about 4.5 km apart across the city line.
    near = make_store(lon=120.30, lat=30.20)
    across = make_store(city="绍兴", district="柯桥区", lon=120.30, lat=30.16)
    far = make_store(city="宁波", district="海曙区", lon=121.55, lat=29.87)
    book(make_account(near), hq, anchor="甲")
    book(make_account(far), hq, anchor="丙")          # different city, no distance set: no warning
    book(make_account(across), hq, anchor="乙")       # idem
    update_settings({"nearby_km": "5", "quiet_start": "22:00", "quiet_end": "08:00", "evening_slot": "20:00"},
                    actor=hq)
    another_shaoxing = make_store(city="绍兴", district="柯桥区", lon=120.31, lat=30.16)
    with pytest.raises(services.ScheduleConflict) as warned:
        book(make_account(another_shaoxing), hq, anchor="丁")
    messages = " ".join(o.message for o in warned.value.nearby)
    assert "km away" in messages and "same city" in messages   # the Shaoxing neighbour and the Hangzhou one
    assert len(warned.value.nearby) == 2                        # Ningbo, 120 km off, is not nearby


def test_cancelled_sessions_and_brand_accounts_raise_nothing(hq, make_store, make_account):
    store = make_store()
    account = make_account(store)
    cancelled = book(account, hq)
    services.cancel_session(cancelled, actor=hq)
    book(account, hq)                                    # the slot is free again
    book(make_account(None), hq, anchor="品牌主播")        # brand main account: no store, no nearby warning
    assert sessions_count() == 3


def test_moving_checks_conflicts_without_counting_itself(hq, make_store, make_account):
    account = make_account(make_store())
    first = book(account, hq, start="10:00", end="12:00", anchor="甲")
    book(account, hq, start="19:00", end="21:00", anchor="乙", title="晚场")
    services.move_session(first, values(account, hq, start="10:30", end="12:30", anchor="甲"), actor=hq)
    with pytest.raises(services.ScheduleConflict) as refused:
        services.move_session(first, values(account, hq, start="18:00", end="19:30", anchor="甲"), actor=hq)
    assert "晚场" in refused.value.message
    db.session.refresh(first)
    assert first.starts_at.astimezone(ZoneInfo(ZONE)).hour == 10


def test_batch_checks_rows_against_each_other_and_writes_nothing_on_error(hq, make_store, make_account):
    account, other = make_account(make_store()), make_account(make_store(city="宁波", district="海曙区"))
    batch = [values(account, hq, anchor="甲"), values(other, hq, anchor="乙"),
             values(account, hq, anchor="丙", start="20:00", end="22:00")]
    for n, v in enumerate(batch, start=2):
        v.key = n
    report = schedule_many(batch, actor=hq)
    assert not report.ok and set(report.errors) == {2, 4}
    assert sessions_count() == 0
    batch.pop()
    assert schedule_many(batch, actor=hq).ok and sessions_count() == 2


def test_a_batch_records_the_overlaps_it_accepted_among_its_own_rows(hq, make_store, make_account):
    west, east = make_account(make_store()), make_account(make_store(district="上城区"))
    batch = [values(west, hq, anchor="甲"), values(east, hq, anchor="乙")]
    for n, v in enumerate(batch):
        v.key = n
    assert not schedule_many(batch, actor=hq).ok                 # same city, same time: a warning
    first, second = schedule_many(batch, actor=hq, accept_nearby=True).sessions
    assert (first.accepted_overlaps, second.accepted_overlaps) == ([second.id], [first.id])


def test_a_manager_books_only_their_stores_accounts(make_user, make_store, make_account):
    mine, theirs = make_store(), make_store()
    manager = make_user(Role.STORE_MANAGER, stores=[mine])
    assert values(make_account(mine), manager).account.store_id == mine.id
    for account in (make_account(theirs), make_account(None)):
        with pytest.raises(DomainError) as refused:
            values(account, manager)
        assert refused.value.field == "account_id"


def test_bad_values_are_refused_with_their_field(hq, make_store, make_account):
    account = make_account(make_store())
    for change, field in (({"day": "2026-13-01"}, "day"), ({"start": "25:00"}, "start"),
                          ({"end": "09:00", "start": "08:00", "day": DAY.isoformat(), "title": "x"}, None),
                          ({"title": " "}, "title"), ({"anchor": ""}, "anchor"), ({"rule_id": "999"}, "rule_id")):
        data = {"account_id": account.id, "day": DAY.isoformat(), "start": "19:00", "end": "21:00",
                "title": "t", "anchor": "a", **change}
        if field is None:  # 08:00 to 09:00 is fine; 08:00 to 07:59 would be 24 h: refused
            data["end"] = "07:59"
            field = "end"
        with pytest.raises(DomainError) as refused:
            services.clean_session(data, actor=hq)
        assert refused.value.field == field


def test_a_session_past_midnight_ends_the_next_day(hq, make_store, make_account):
    session = book(make_account(make_store()), hq, start="22:00", end="01:00")
    assert session.ends_at - session.starts_at == timedelta(hours=3)


# --- trailers ------------------------------------------------------------------------------------------

def test_default_rule_posts_on_the_host_brand_and_nearest_same_city_siblings(hq, make_store, make_account):
    host_store = make_store(lon=120.13, lat=30.26)
    host = make_account(host_store)
    brand_account = make_account(None)
    brand_id = brand_account.brand_id
    near = make_store(lon=120.14, lat=30.26)
    far = make_store(lon=120.30, lat=30.30)
    closed = make_store(lon=120.131, lat=30.26, status="closed")
    elsewhere = make_store(city="宁波", district="海曙区")
    near_account, far_account = make_account(near), make_account(far)
    kuaishou = make_account(near, platform="kuaishou")
    make_account(closed), make_account(elsewhere)
    assert brand_id is None  # test stores and accounts have no brand: the brand main account is not theirs
    session = book(host, hq)
    by_account = {}
    for item in trailers(session):
        by_account.setdefault(item.account_id, []).append(item)
    assert item.kind == ContentKind.TRAILER and "新品直播" in item.topic
    assert len(by_account[host.id]) == 4                      # every step
    assert len(by_account[near_account.id]) == len(by_account[far_account.id]) == 2  # the 1-day and 3-hour steps
    assert kuaishou.id not in by_account                       # another platform
    assert set(by_account) == {host.id, near_account.id, far_account.id}
    assert {i.store_id for i in by_account[near_account.id]} == {near.id}  # on the sibling's own plan


def _sibling_trailers(session, account) -> list[ContentItem]:
    db.session.expire_all()
    return [i for i in trailers(session) if i.account_id == account.id and i.status != ItemStatus.CANCELLED]


def test_a_sibling_live_at_the_same_time_does_not_announce_the_session(hq, make_store, make_account):
    """Whichever is booked first, a store live during the session is left out and the next nearest asked."""
    host = make_account(make_store(lon=120.13, lat=30.26))
    busy_store, next_store = make_store(lon=120.14, lat=30.26), make_store(lon=120.20, lat=30.26)
    busy, spare = make_account(busy_store), make_account(next_store)
    rule = save_rule(None, {"name": "最近一家", "steps": [{"offset": "1d", "brand": False, "siblings": True}],
                            "sibling_km": "0", "max_siblings": "1", "topic": "预告", "caption": "", "hashtags": ""},
                     actor=hq)
    own = book(busy, hq, start="20:00", end="22:00", accept=True, anchor="王芳")
    session = book(host, hq, rule_id=rule.id, accept=True)         # 19:00-21:00 overlaps the sibling's own
    assert _sibling_trailers(session, busy) == [] and len(_sibling_trailers(session, spare)) == 1
    services.move_session(own, values(busy, hq, start="21:30", end="22:30", anchor="王芳"), actor=hq,
                          accept_nearby=True)                     # no longer overlapping: the nearest again
    assert len(_sibling_trailers(session, busy)) == 1 and _sibling_trailers(session, spare) == []
    _again, report = services.move_session(own, values(busy, hq, start="19:30", end="20:30", anchor="王芳"),
                                           actor=hq, accept_nearby=True)  # booked into it: its trailer goes
    assert _sibling_trailers(session, busy) == [] and len(_sibling_trailers(session, spare)) == 1
    assert report.cancelled >= 1 and report.revived >= 1  # the neighbour's trailers are in the report too
    services.cancel_session(own, actor=hq)                        # cancelled: free to announce again
    assert len(_sibling_trailers(session, busy)) == 1


def test_brand_main_account_and_sibling_distance_and_platform_settings(hq, make_store, make_account):
    from matrix.brands.models import Brand

    brand = Brand(name="栖木")
    db.session.add(brand)
    db.session.commit()
    host_store, near, far = (make_store(lon=lon, lat=30.26, brand_id=brand.id) for lon in (120.13, 120.14, 120.30))
    host, near_account = make_account(host_store), make_account(near)
    make_account(far)
    near_kuaishou = make_account(near, platform="kuaishou")
    main = make_account(None, brand_id=brand.id)
    rule = save_rule(None, {"name": "近邻", "steps": [{"offset": "1d", "brand": True, "siblings": True}],
                            "sibling_km": "3", "max_siblings": "5", "other_platforms": "y",
                            "topic": "{{ store_name }} {{ offset }}", "caption": "{{ starts_label }}", "hashtags": ""},
                     actor=hq)
    session = book(host, hq, rule_id=rule.id)
    posted = {i.account_id: i for i in trailers(session)}
    assert set(posted) == {host.id, main.id, near_account.id, near_kuaishou.id}   # the far store is 16 km off
    assert posted[main.id].store_id is None                                       # HQ posts the brand's
    assert session.brand_id == brand.id
    assert posted[host.id].topic == f"{host_store.name} 1 day"


def test_night_trailers_move_to_the_previous_evening_and_merge(hq, make_store, make_account):
    account = make_account(make_store())
    save_rule(default_rule(), {"name": "早场", "is_default": "y", "steps": [
        {"offset": "3h"}, {"offset": "90m"}, {"offset": "30m"}], "sibling_km": "0", "max_siblings": "0",
        "topic": "预告", "caption": "", "hashtags": ""}, actor=hq)
    session = book(account, hq, start="08:30", end="10:00")
    slots = [(i.day, i.slot) for i in trailers(session)]
    # 05:30 and 07:00 are in the quiet hours (22:00-08:00): one trailer the evening before; 08:00 stays.
    assert slots == [(DAY - timedelta(days=1), "20:00"), (DAY, "08:00")]


def test_quiet_hours_rules():
    q = parse_clock("22:00"), parse_clock("08:00")
    assert in_quiet_hours(parse_clock("23:30"), *q) and in_quiet_hours(parse_clock("07:59"), *q)
    assert not in_quiet_hours(parse_clock("08:00"), *q) and not in_quiet_hours(parse_clock("21:59"), *q)
    start = datetime(2026, 12, 3, 1, 0, tzinfo=ZoneInfo(ZONE))      # a 01:00 session
    due = trailer_moment(start, 30, zone=ZONE, quiet_start=q[0], quiet_end=q[1], evening=parse_clock("20:00"))
    assert (due.day, due.hour) == (2, 20)
    due = trailer_moment(start, 150, zone=ZONE, quiet_start=q[0], quiet_end=q[1], evening=parse_clock("20:00"))
    assert (due.day, due.hour) == (2, 20)                            # 22:30 the evening before: same evening
    assert parse_offset("3天") == 3 * 1440 and parse_offset("3h") == 180 and parse_offset("45") == 45
    with pytest.raises(DomainError):
        parse_offset("3 weeks")


def test_trailers_already_past_are_not_created(hq, make_store, make_account):
    account = make_account(make_store())
    # No quiet hours: run at 03:xx or 18:xx, two steps would merge into one evening slot and spoil the count.
    update_settings({"nearby_km": "0", "quiet_start": "00:00", "quiet_end": "00:00", "evening_slot": "20:00"},
                    actor=hq)
    soon = (datetime.now(ZoneInfo(ZONE)) + timedelta(hours=5)).replace(minute=0)
    later = soon + timedelta(hours=1)
    session, report = services.schedule_session(values(account, hq, day=soon.date(), start=f"{soon:%H:%M}",
                                                      end=f"{later:%H:%M}"), actor=hq)
    offsets = {int(i.generation_key.rsplit(":", 1)[1]) for i in trailers(session)}
    assert not offsets & {4320, 1440}              # three days and one day before: already past
    assert report.too_late == 4 - len(offsets) >= 2


def test_moving_a_session_moves_rewrites_flags_and_leaves_per_status(hq, make_store, make_account):
    account = make_account(make_store())
    session = book(account, hq)
    items = {int(i.generation_key.rsplit(":", 1)[1]): i for i in trailers(session)}
    items[4320].status = ItemStatus.PUBLISHED
    items[1440].status = ItemStatus.SHOT
    items[180].edited_by_store, items[180].caption = True, "我们自己写的"
    items[30].status = ItemStatus.PLANNED
    before = {m: (i.day, i.slot) for m, i in items.items()}
    db.session.commit()
    _session, report = services.move_session(session, values(account, hq, day=DAY + timedelta(days=1), start="20:00",
                                                             end="22:00"), actor=hq)
    retired = [i for i in trailers(session) if ":old" in i.generation_key]
    after = {int(i.generation_key.rsplit(":", 1)[1]): i for i in trailers(session) if ":old" not in i.generation_key}
    assert [(i.id, i.day, i.slot) for i in retired] == [(items[4320].id, *before[4320])]               # published
    assert "old time" in retired[0].flag and retired[0].status == ItemStatus.PUBLISHED
    assert after[4320].status == ItemStatus.PLANNED and after[4320].day == before[4320][0] + timedelta(days=1)
    assert after[1440].day == before[1440][0] + timedelta(days=1) and "shot" in after[1440].flag       # shot
    assert after[1440].status == ItemStatus.SHOT
    assert after[180].caption == "我们自己写的" and after[180].slot == "17:00" and after[180].flag     # edited
    assert after[30].slot == "19:30" and after[30].flag is None and "20:00" in after[30].caption      # re-written
    assert report.flagged == 3


def test_cancelling_cancels_open_trailers_flags_published_and_leaves_skipped(hq, make_store, make_account):
    account = make_account(make_store())
    session = book(account, hq)
    for item in trailers(session):
        minutes = int(item.generation_key.rsplit(":", 1)[1])
        item.status = {4320: ItemStatus.PUBLISHED, 1440: ItemStatus.SKIPPED, 180: ItemStatus.SHOT}.get(
            minutes, ItemStatus.PLANNED)
    db.session.commit()
    report = services.cancel_session(session, actor=hq, reason="主播生病")
    after = {int(i.generation_key.rsplit(":", 1)[1]): i for i in trailers(session)}
    assert after[4320].status == ItemStatus.PUBLISHED and "cancelled" in after[4320].flag
    assert after[1440].status == ItemStatus.SKIPPED and after[1440].flag is None
    assert after[180].status == after[30].status == ItemStatus.CANCELLED
    assert (report.cancelled, report.flagged) == (2, 1)
    assert session.status == SessionStatus.CANCELLED and session.cancel_reason == "主播生病"
    with pytest.raises(DomainError):
        services.move_session(session, values(account, hq), actor=hq)


def test_moving_closer_cancels_steps_now_past_and_moving_back_revives_them(hq, make_store, make_account):
    account = make_account(make_store())
    session = book(account, hq)
    soon = datetime.now(ZoneInfo(ZONE)) + timedelta(days=2)
    services.move_session(session, values(account, hq, day=soon.date()), actor=hq)
    statuses = {int(i.generation_key.rsplit(":", 1)[1]): i.status for i in trailers(session)}
    assert statuses[4320] == ItemStatus.CANCELLED and statuses[30] == ItemStatus.PLANNED
    services.move_session(session, values(account, hq), actor=hq)
    assert {i.status for i in trailers(session)} == {ItemStatus.PLANNED}


def test_a_session_on_another_account_moves_trailers_to_the_new_host(hq, make_store, make_account):
    store = make_store()
    first, second = make_account(store), make_account(store, platform="kuaishou")
    session = book(first, hq)
    services.move_session(session, values(second, hq), actor=hq)
    by_status = {}
    for item in trailers(session):
        by_status.setdefault(item.status, set()).add(item.account_id)
    assert by_status == {ItemStatus.CANCELLED: {first.id}, ItemStatus.PLANNED: {second.id}}


def test_status_and_results(hq, make_store, make_account):
    account = make_account(make_store())
    with pytest.raises(DomainError):                                 # ten days ahead: too early to go live
        services.set_status(book(account, hq), "live", actor=hq)
    soon = datetime.now(ZoneInfo(ZONE)) + timedelta(minutes=30)
    session = book(account, hq, day=soon.date(), start=f"{soon:%H:%M}", end=f"{soon + timedelta(hours=1):%H:%M}")
    with pytest.raises(DomainError):
        services.record_results(session, {"orders": "3"}, actor=hq)   # not started yet
    services.set_status(session, "live", actor=hq)
    with pytest.raises(DomainError) as refused:
        services.record_results(session, {"orders": "-1"}, actor=hq)
    assert refused.value.field == "orders"
    with pytest.raises(DomainError) as refused:
        services.record_results(session, {"replay_url": "https://evil.example.com/x"}, actor=hq)
    assert refused.value.field == "replay_url"
    services.record_results(session, {"peak_viewers": "1,200", "orders": "35", "leads": "",
                                      "replay_url": "https://www.douyin.com/video/1"}, actor=hq)
    assert (session.status, session.peak_viewers, session.orders, session.leads) == (SessionStatus.DONE, 1200, 35, None)
    with pytest.raises(DomainError):
        services.set_status(session, "live", actor=hq)


def test_settings_refuse_an_evening_slot_inside_quiet_hours(hq):
    with pytest.raises(DomainError) as refused:
        update_settings({"nearby_km": "0", "quiet_start": "20:00", "quiet_end": "08:00", "evening_slot": "21:00"},
                        actor=hq)
    assert refused.value.field == "evening_slot"
    assert live_settings().evening_slot == "20:00"


def test_content_templates_read_the_stores_next_session_of_the_week(hq, make_store, make_account):
    from matrix.content.variables import store_variables
    from matrix.weeks import monday_of

    store, quiet = make_store(), make_store()
    account = make_account(store)
    late = book(account, hq, start="20:00", end="21:00", title="晚场", anchor="甲")
    book(account, hq, start="10:00", end="11:00", title="早场", anchor="乙")
    services.cancel_session(book(account, hq, start="08:00", end="09:00", title="取消场", anchor="丙"), actor=hq)
    assert late.id
    text = store_variables(store, monday_of(DAY))["next_live_session"]
    assert text.endswith("10:00 早场")                     # the first one still scheduled
    assert store_variables(quiet, monday_of(DAY))["next_live_session"] == ""
    assert store_variables(store, monday_of(DAY) + timedelta(days=7))["next_live_session"] == ""


def test_trailer_rule_names_are_unique_ignoring_case_and_spaces(hq):
    steps = [{"offset": "1d"}]
    rule = save_rule(None, {"name": "Weekend Sale", "steps": steps, "topic": "x"}, actor=hq)
    with pytest.raises(DomainError) as refused:
        save_rule(None, {"name": " weekend  sale", "steps": steps, "topic": "y"}, actor=hq)
    assert refused.value.field == "name"
    assert save_rule(rule, {"name": "Weekend Sale", "steps": steps, "topic": "z"}, actor=hq).topic == "z"


def test_a_published_trailer_loses_its_flag_when_the_session_moves_back(hq, make_store, make_account):
    account = make_account(make_store())
    session = book(account, hq)
    published = next(i for i in trailers(session) if i.generation_key.endswith(":4320"))
    published.status = ItemStatus.PUBLISHED
    db.session.commit()
    services.move_session(session, values(account, hq, start="20:00", end="22:00"), actor=hq)
    db.session.refresh(published)
    assert "old time" in published.flag
    replacement = next(i for i in trailers(session) if i.generation_key.endswith(":4320"))
    assert replacement.status == ItemStatus.PLANNED and replacement.slot == "20:00"     # the host posts again
    services.move_session(session, values(account, hq), actor=hq)              # back to 19:00
    db.session.refresh(published)
    db.session.refresh(replacement)
    assert published.flag is None and published.status == ItemStatus.PUBLISHED
    assert replacement.status == ItemStatus.CANCELLED                          # the old post is right again
    services.cancel_session(session, actor=hq)
    db.session.refresh(published)
    assert "cancelled" in published.flag


def test_an_accepted_overlap_is_not_asked_again_when_the_session_changes(hq, make_store, make_account):
    west, east = make_store(), make_store(district="上城区")
    book(make_account(west), hq, anchor="甲")
    account = make_account(east)
    session = book(account, hq, anchor="乙", accept=True)
    services.move_session(session, values(account, hq, anchor="乙", title="改了标题"), actor=hq)  # no new question
    third = make_store(district="拱墅区")
    book(make_account(third), hq, anchor="丙", start="20:30", end="21:30", accept=True)
    with pytest.raises(services.ScheduleConflict) as warned:                   # a new neighbour: asked again
        services.move_session(session, values(account, hq, anchor="乙", title="再改"), actor=hq)
    assert len(warned.value.nearby) == 1 and third.name in warned.value.nearby[0].message


def test_a_manager_books_with_the_default_rule_or_the_one_hq_gave(hq, make_user, make_store, make_account):
    store = make_store()
    manager = make_user(Role.STORE_MANAGER, stores=[store])
    account = make_account(store)
    default = default_rule()
    special = save_rule(None, {"name": "品牌加推", "steps": [{"offset": "1d", "brand": "y"}], "topic": "x"}, actor=hq)
    assert values(account, manager, rule_id=default.id).rule_id == default.id
    with pytest.raises(DomainError) as refused:
        values(account, manager, rule_id=special.id)
    assert refused.value.field == "rule_id"
    kept = services.clean_session({"account_id": account.id, "day": DAY.isoformat(), "start": "19:00", "end": "20:00",
                                   "title": "t", "anchor": "a", "rule_id": special.id}, actor=manager,
                                  current_rule_id=special.id)
    assert kept.rule_id == special.id


def test_settings_report_every_bad_value_at_once(hq):
    from matrix.errors import field_errors

    with pytest.raises(DomainError) as refused:
        update_settings({"nearby_km": "far", "quiet_start": "25:00", "quiet_end": "08:00", "evening_slot": "x"},
                        actor=hq)
    assert set(field_errors(refused.value)) == {"nearby_km", "quiet_start", "evening_slot"}
