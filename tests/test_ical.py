"""The private iCalendar feed: RFC 5545 text (escaping, folding, UTC times), tokens, rotation and revocation."""
import hashlib
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from flask import url_for
from sqlalchemy import select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.content.models import Approval, ItemStatus
from matrix.extensions import db
from matrix.plans import ical
from matrix.plans.models import CalendarFeed
from matrix.weeks import today

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)


def test_escape_text():
    assert ical.escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"
    assert ical.escape_text("") == ""


@pytest.mark.parametrize("text", ["X" * 200, "新品到店，欢迎体验！" * 20, "ab" + "店" * 40 + "😀" * 10])
def test_fold_keeps_lines_within_75_octets_and_characters_whole(text):
    folded = ical.fold("DESCRIPTION:" + text)
    lines = folded.split("\r\n")
    assert len(lines) > 1
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])
    assert "".join([lines[0]] + [line[1:] for line in lines[1:]]) == "DESCRIPTION:" + text


def test_short_line_is_not_folded():
    assert ical.fold("X" * 75) == "X" * 75


def test_calendar_text(make_store, make_account, make_item):
    store = make_store(name="杭州西湖店")
    account = make_account(store=store, platform="douyin")
    item = make_item(store, account, day=date(2026, 11, 23), slot="12:00", topic="新品; 到店",
                     caption="第一行，欢迎\n第二行\\完", script="门头")
    skipped = make_item(store, account, day=date(2026, 11, 24), slot="20:30", status=ItemStatus.SKIPPED)
    text = ical.calendar_text(store, [item, skipped], zone="Asia/Shanghai", locale="zh", now=NOW)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    unfolded = text.replace("\r\n ", "")
    assert f"UID:item-{item.id}@storematrix\r\n" in unfolded
    assert "DTSTART:20261123T040000Z\r\n" in unfolded and "DTEND:20261123T043000Z\r\n" in unfolded
    assert "DTSTAMP:20261120T020000Z\r\n" in unfolded
    assert "SUMMARY:抖音 · 新品\\; 到店\r\n" in unfolded
    assert "DESCRIPTION:第一行，欢迎\\n第二行\\\\完\\n\\n门头\r\n" in unfolded  # full-width ， is plain text
    assert "DTSTART:20261124T123000Z" in unfolded and "STATUS:CANCELLED" in unfolded
    assert unfolded.count("BEGIN:VEVENT") == 2


@pytest.fixture
def feed_store(make_store, make_account, make_user, make_item):
    store = make_store(code="HZ-001", name="杭州西湖店")
    other = make_store(code="SH-001", name="上海徐汇店", city="上海", district="徐汇区")
    account = make_account(store=store)
    manager = make_user(Role.STORE_MANAGER, stores=[store])
    stranger = make_user(Role.STORE_MANAGER, stores=[other])
    return {"store": store, "account": account, "manager": manager, "stranger": stranger}


def _new_feed_url(client, post, store) -> str:
    response = post(url_for("plans.ical_create", store_id=store.id))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    match = re.search(r"(http://localhost/plans/ical/[\w-]+\.ics)", response.get_data(as_text=True))
    assert match
    return match.group(1)


def test_make_feed_shows_url_once_and_keeps_only_a_hash(app, client, login, post, feed_store):
    login(feed_store["manager"])
    url = _new_feed_url(client, post, feed_store["store"])
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    feed = db.session.scalar(select(CalendarFeed))
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest() and len(token) >= 32
    page = client.get(url_for("plans.ical_settings", store_id=feed_store["store"].id)).get_data(as_text=True)
    assert token not in page and "••••" in page
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "calendar_feed")).all()
    assert [e.action for e in entries] == ["create"] and token not in repr([e.summary for e in entries])


def test_feed_serves_the_window_of_items_without_login(app, client, login, post, feed_store, make_item):
    store, account = feed_store["store"], feed_store["account"]
    now_day = today("Asia/Shanghai")
    inside = [make_item(store, account, day=now_day + timedelta(days=d), topic=f"在内{d}") for d in (-7, 0, 28)]
    outside = [make_item(store, account, day=now_day + timedelta(days=d), topic=f"在外{d}") for d in (-8, 29)]
    rejected = make_item(store, account, day=now_day, topic="被拒", approval=Approval.REJECTED)
    login(feed_store["manager"])
    url = _new_feed_url(client, post, store)
    anonymous = app.test_client()
    response = anonymous.get(url)
    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"
    body = response.get_data(as_text=True).replace("\r\n ", "")
    for item in inside:
        assert f"UID:item-{item.id}@storematrix" in body
    for item in outside + [rejected]:
        assert f"UID:item-{item.id}@" not in body


def test_rotate_and_revoke(app, client, login, post, feed_store):
    login(feed_store["manager"])
    store = feed_store["store"]
    first = _new_feed_url(client, post, store)
    second = _new_feed_url(client, post, store)
    anonymous = app.test_client()
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    response = post(url_for("plans.ical_revoke", store_id=store.id))
    assert response.status_code == 302
    assert anonymous.get(second).status_code == 404
    assert anonymous.get(url_for("plans.ical", token="0" * 43)).status_code == 404
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "calendar_feed")
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["create", "rotate", "revoke"]


def test_archived_stores_feed_stops(app, client, login, post, feed_store):
    login(feed_store["manager"])
    url = _new_feed_url(client, post, feed_store["store"])
    feed_store["store"].archived_at = NOW
    db.session.commit()
    assert app.test_client().get(url).status_code == 404


def test_manager_of_another_store_cannot_make_or_revoke(app, client, login, post, feed_store):
    store = feed_store["store"]
    login(feed_store["stranger"])
    assert client.get(url_for("plans.ical_settings", store_id=store.id)).status_code == 404
    assert post(url_for("plans.ical_create", store_id=store.id)).status_code == 404
    assert post(url_for("plans.ical_revoke", store_id=store.id)).status_code == 404
    assert db.session.scalar(select(CalendarFeed)) is None


def test_feed_carries_the_stores_own_live_sessions(app, client, login, post, feed_store, make_user):
    from matrix.live import services as live

    hq = make_user(Role.OPERATOR)
    store, account = feed_store["store"], feed_store["account"]
    day = today("Asia/Shanghai") + timedelta(days=3)

    def book(title, start, end, anchor):
        values = live.clean_session({"account_id": account.id, "day": day.isoformat(), "start": start, "end": end,
                                     "title": title, "anchor": anchor, "theme": "羽绒被; 床品"}, actor=hq)
        return live.schedule_session(values, actor=hq)[0]

    on = book("冬季新品直播", "19:00", "21:00", "李娜")
    off = book("取消的直播", "10:00", "11:00", "王芳")
    live.cancel_session(off, actor=hq)
    login(feed_store["manager"])
    body = app.test_client().get(_new_feed_url(client, post, store)).get_data(as_text=True).replace("\r\n ", "")
    event = body.split(f"UID:live-{on.id}@storematrix")[1].split("END:VEVENT")[0]
    assert "DTSTART:" + on.starts_at.strftime("%Y%m%dT%H%M%SZ") in event and "DTEND:" in event
    assert "Live: 冬季新品直播" in event and "羽绒被\\; 床品" in event and "STATUS:CONFIRMED" in event
    cancelled = body.split(f"UID:live-{off.id}@storematrix")[1].split("END:VEVENT")[0]
    assert "STATUS:CANCELLED" in cancelled


def test_the_feed_is_named_in_the_chains_language(app, client, login, post, feed_store, monkeypatch):
    """The calendar's name was half English in Chinese (its message hid in an f-string from the extractor)."""
    login(feed_store["manager"])
    url = _new_feed_url(client, post, feed_store["store"])
    name = feed_store["store"].name
    with app.app_context():     # its own context: Flask-Babel keeps the locale in `g`
        english = app.test_client().get(url).get_data(as_text=True)
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "zh")      # the chain's language, as shipped
    with app.app_context():
        chinese = app.test_client().get(url).get_data(as_text=True)
    assert f"X-WR-CALNAME:{name} content plan" in english.replace("\r\n ", "")
    assert f"X-WR-CALNAME:{name} 内容计划" in chinese.replace("\r\n ", "")
