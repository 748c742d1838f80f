"""One budget per render (steps, characters built, seconds) for content templates and trailer rules.

The issue's 66-character caption took a worker to 2.3 GB; `|sum(start=[])` made one booking take
14.7 s. Each probe here would do as much without the budget: they run in a child capped at 256 MB
and 10 s (tests/capped.py), and must end there quickly with an error for the operator.
"""
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from capped import run_capped
from matrix.auth.models import Role
from matrix.live import services as live
from matrix.live.settings import save_rule
from matrix.live.trailer_texts import TRAILER_ENV, TRAILER_VARIABLES
from matrix.sandbox import limits
from matrix.content.variables import CONTENT_ENV, VARIABLES
from matrix.sandbox.engine import compile_fields, render_fields, render_text

ISSUE_EXPRESSION = "([([range(1000)|list] * 20000)] * 5)|string|length"
ISSUE_CAPTION = "库存件数：{{ " + ISSUE_EXPRESSION + " }} 件好物！"
QUADRATIC_SUM = "{% set rows = [range(1000)|list] * 3000 %}{{ rows|sum(start=[])|length }}"


@pytest.fixture(autouse=True)
def english(app):
    with app.test_request_context(), force_locale("en"):
        yield


def render_errors(source: str, variables=VARIABLES, environment=None):
    result = render_text(source, variables, environment or CONTENT_ENV)
    return result.text, [message for _line, message in result.errors]


def test_the_issues_caption_is_66_characters():
    assert len(ISSUE_CAPTION) == 66


@pytest.mark.parametrize("source, environment, variables", [
    (ISSUE_CAPTION, None, VARIABLES),
    (ISSUE_CAPTION, TRAILER_ENV, TRAILER_VARIABLES),
    (QUADRATIC_SUM, None, VARIABLES),
    (QUADRATIC_SUM, TRAILER_ENV, TRAILER_VARIABLES),
])
def test_the_issues_templates_stop_within_256_mb_and_10_s(source, environment, variables):
    outcome = run_capped(render_errors, source, variables, environment)
    assert outcome.ok, outcome
    text, errors = outcome.value
    assert text == "" and errors == ["The template builds too much text (more than 1000000 characters in all)."]
    assert outcome.seconds < 1 and outcome.grown_mb < 64


# Each of these builds gigabytes (or hours of work) with nothing charged before it allocates.
@pytest.mark.parametrize("source", [
    "{{ (['x' * 20000] * 20000)|length }}",                                     # a list of 400 M characters
    "{% set a = ['x' * 20000] * 20000 %}{{ a|join|length }}",
    "{% set a = range(1000)|list %}{% set b = [a] * 1000 %}{{ ([b] * 100)|string|length }}",
    "{% set a = ['x' * 19999] * 1000 %}{{ [a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a]|length }}",
    "{% set a = range(1000)|list %}{% set b = [a] * 900 %}{{ (b ~ b ~ b)|length }}",
    "{% set a = range(1000)|list %}{% set b = [a] * 900 %}{{ ('%s' % [b, b, b])|length }}",
    "{% set a = range(1000)|list %}{% set b = [a] * 900 %}{{ b|upper|length }}",
    "{% set a = range(1000)|list %}{% set b = [a] * 900 %}{{ b|urlencode|length }}",
    "{% set a = range(1000)|list %}{% set b = [a] * 900 %}{{ [b]|join|length }}",
    "{% set a = range(1000)|list %}{% set b = [a] * 900 %}{{ b|replace('1', '2')|length }}",
    "{% set a = range(1000)|list %}{% set b = [a] * 900 %}{{ (b + b)|length }}",
    "{% set s = 'x' * 20000 %}{% for i in range(1000) %}{{ s[1:]|length > 0 }}{% endfor %}",
    "{% set s = 'x ' * 10000 %}{% for i in range(1000) %}{{ s.split()|length > 0 }}{% endfor %}",
    "{% set s = 'x' * 20000 %}{% for i in range(1000) %}{{ (s|list)|length > 0 }}{% endfor %}",
    "{% set s = 'x' * 20000 %}{% for i in range(1000) %}{{ s|upper|length > 0 }}{% endfor %}",
    "{% set a = range(1000)|list * 20 %}{% for i in range(1000) %}{{ a|sort|length > 0 }}{% endfor %}",
])
def test_every_builder_is_charged_before_it_builds(source):
    started = time.perf_counter()
    text, errors = render_errors(source)
    assert time.perf_counter() - started < 1
    assert text == "" and errors and any(words in errors[0] for words in ("in all", "longer than", "too long")), errors


def test_what_captions_do_still_renders():
    text, errors = render_errors(
        "{{ store_name ~ '｜' ~ city }} {{ ['a', 'b']|join('/') }} {{ (store_code + '-x')[0:3] }} "
        "{{ [3, 1, 2]|sort|list|join(',') }} {{ [[1], [2]]|sum(start=[])|join }} {{ '#新品 #好物'.split()|length }} "
        "{{ week_start|date('%m月%d日') }}{% for i in range(3) %}{{ loop.index }}{% endfor %} {{ 'ab' * 3 }}")
    assert errors == []
    assert text == "栖木家居·杭州西湖店｜杭州市 a/b HZ- 1,2,3 12 2 11月23日123 ababab"


def test_a_big_but_honest_caption_fits_the_budget():
    # 20,000 characters printed through loops, joins and concatenations: what MAX_OUTPUT allows.
    text, errors = render_errors("{% for i in range(1000) %}{{ (store_code ~ '-' ~ i)|upper|trim }}|{% endfor %}")
    assert errors == [] and len(text) > 10_000


def test_the_clock_stops_a_render(monkeypatch):
    monkeypatch.setattr(limits, "MAX_RENDER_S", 0.0)
    text, errors = render_errors("{% for i in range(10) %}{{ i }}{% endfor %}")
    assert text == "" and errors == ["The template takes too long (more than 0.0 seconds)."]


def test_comparisons_are_steps(monkeypatch):
    text, errors = render_errors("{% set a = range(1000)|list %}{% for i in range(1000) %}{% for j in range(9) %}"
                                 "{% if a == a %}{% endif %}{% endfor %}{% endfor %}")
    assert text == "" and "loops too much" in errors[0]


def test_a_job_shares_one_rendering_budget():
    compiled = compile_fields({"caption": "{% for i in range(10) %}{{ i }}{% endfor %}"}, CONTENT_ENV)
    with limits.render_job(seconds=0.0):
        result = render_fields(compiled, VARIABLES)["caption"]
    assert result.text == "" and "in all" in result.errors[0][1]
    with limits.render_job(seconds=5.0):
        assert render_fields(compiled, VARIABLES)["caption"].text == "0123456789"


def test_a_trailer_rule_cannot_hold_a_booking(app, make_user, make_store, make_account):
    """The issue's 14.7 s booking: the rule's caption sums lists quadratically; now the booking is quick."""
    hq = make_user(Role.OPERATOR)
    rule = save_rule(None, {"name": "大促", "steps": [{"offset": "3d"}, {"offset": "1d"}, {"offset": "3h"}],
                            "sibling_km": "0", "max_siblings": "0", "topic": "预告 {{ title }}",
                            "caption": QUADRATIC_SUM}, actor=hq)
    account = make_account(make_store())
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=10)).date()
    values = live.clean_session({"account_id": account.id, "day": day.isoformat(), "start": "19:00", "end": "21:00",
                                 "title": "新品直播", "anchor": "李娜", "rule_id": rule.id}, actor=hq)
    started = time.perf_counter()
    session, report = live.schedule_session(values, actor=hq)
    assert time.perf_counter() - started < 2
    assert session.id and report.added == 0 and len(report.failures) == 3
    assert "builds too much text" in report.failures[0]
