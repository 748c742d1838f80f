"""A session's time span reads as Babel would print it, in both languages, without Babel's cost per call."""
from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import force_locale, format_datetime, format_time

from matrix.live.calendars import span_text, weekday_names

ZONE = "Asia/Shanghai"


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_span_reads_as_babels_patterns(app, locale):
    start = datetime(2026, 11, 30, 11, 30, tzinfo=timezone.utc)  # Monday 19:30 in Shanghai
    with app.test_request_context(), force_locale(locale):
        for day in range(8):
            starts, ends = start + timedelta(days=day), start + timedelta(days=day, hours=2 + day % 3 * 3)
            babel = f"{format_datetime(starts, 'EEE MM-dd HH:mm')}–{format_time(ends, 'HH:mm')}"
            days = (ends + timedelta(hours=8)).date() - (starts + timedelta(hours=8)).date()
            expected = babel + (f" (+{days.days})" if days.days else "")
            assert span_text(starts, ends, ZONE) == expected
            assert span_text(starts, ends, ZONE, weekdays=weekday_names()) == expected
            assert span_text(starts, ends, ZONE, pattern="HH:mm") == expected.split(" ", 2)[-1]
        assert span_text(start, start + timedelta(hours=1), ZONE, pattern="yyyy-MM-dd HH:mm") == "2026-11-30 19:30–20:30"
