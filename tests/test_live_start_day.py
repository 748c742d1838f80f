"""A trailer names the session's day from its own post's date ({{ start_day }}), so one rule reads right at every step."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from matrix.auth.models import Role
from matrix.content.models import ContentItem
from matrix.extensions import db
from matrix.live import services
from matrix.live.settings import save_rule
from matrix.live.trailer_texts import start_day

SATURDAY = date(2026, 11, 28)


@pytest.mark.parametrize("before, word", [(0, "today"), (1, "tomorrow"), (2, "the day after tomorrow"),
                                          (3, "Saturday"), (6, "Saturday"), (7, "Nov 28")])
def test_the_day_is_named_from_the_posts_date(app, before, word):
    assert start_day(SATURDAY - timedelta(days=before), SATURDAY) == word


def test_one_rule_reads_right_at_every_step(app, make_store, make_account, make_user):
    hq = make_user(Role.OPERATOR)
    account = make_account(make_store(code="HZ-001"), handle="hz_xihu")
    rule = save_rule(None, {"name": "快闪", "steps": [{"offset": "3d"}, {"offset": "1d"}, {"offset": "1h"}],
                            "topic": "{{ start_day }} {{ start_time }}: {{ title }}"}, actor=hq)
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=8)).date()
    values = services.clean_session({"account_id": account.id, "day": day.isoformat(), "start": "14:00",
                                     "end": "15:00", "title": "快闪", "anchor": "李娜", "rule_id": rule.id}, actor=hq)
    session, _report = services.schedule_session(values, actor=hq)
    topics = {item.day: item.topic for item in db.session.scalars(
        select(ContentItem).where(ContentItem.session_id == session.id))}
    weekday = start_day(day - timedelta(days=3), day)
    assert topics == {day - timedelta(days=3): f"{weekday} 14:00: 快闪", day - timedelta(days=1): "tomorrow 14:00: 快闪",
                      day: "today 14:00: 快闪"}
