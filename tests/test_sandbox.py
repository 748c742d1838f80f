"""The content-template sandbox: whitelisted variables only, limits, errors with their line, never raises."""
import time
from datetime import date

import pytest
from flask_babel import force_locale

from matrix.content.variables import CONTENT_ENV, VARIABLES, store_variables
from matrix.sandbox import engine
from matrix.sandbox.engine import MAX_OUTPUT, render_compiled, render_fields


def compile_text(source):
    return engine.compile_text(source, CONTENT_ENV)


def compile_fields(sources):
    return engine.compile_fields(sources, CONTENT_ENV)


def render_text(source, variables):
    return engine.render_text(source, variables, CONTENT_ENV)


@pytest.fixture(autouse=True)
def english(app):
    with app.test_request_context(), force_locale("en"):
        yield


def render(source):
    return render_text(source, VARIABLES)


def test_renders_the_store_variables():
    r = render("{{ store_name }}｜{{ city }}{{ district }}\n{{ week_start|date('%m月%d日') }}-{{ week_end.day }}日"
               "{% for i in range(2) %} #{{ loop.index }}{% endfor %}{{ next_live_session }}")
    assert r.ok and r.text == "栖木家居·杭州西湖店｜杭州市西湖区\n11月23日-29日 #1 #2" + VARIABLES["next_live_session"]


def test_plain_text_is_returned_as_is():
    assert render("#栖木家居 #家居好物").text == "#栖木家居 #家居好物"


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}", "{{ config }}", "{{ request }}", "{{ self }}", "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum }}", "{{ lipsum() }}", "{{ joiner }}", "{{ namespace() }}", "{{ dict(a=1) }}",
    "{{ store_name.__class__ }}", "{{ store_name['__class__'] }}", "{{ week_start.__class__.__subclasses__() }}",
    "{{ store_name.format(1) }}", "{{ store_name.encode }}", "{{ store_name|attr('__class__') }}",
    "{{ ''.join }}", "{% macro m() %}{% endmacro %}", "{% include 'base.html' %}", "{% extends 'base.html' %}",
    "{% import 'x' as y %}", "{% set x %}a{% endset %}", "{% filter upper %}a{% endfilter %}",
    "{% for i in [1] recursive %}{{ loop(i) }}{% endfor %}",
])
def test_reaching_outside_is_an_error_not_data(source):
    r = render(source)
    assert r.text == "" and r.errors and r.errors[0][0] == 1, (source, r)
    assert "0x" not in r.errors[0][1] or "not safely callable" in r.errors[0][1]


@pytest.mark.parametrize("source", [
    "{% for i in range(10**9) %}x{% endfor %}", "{{ 'a' * 10**9 }}", "{{ 9**9**9 }}", "{{ [1] * 10**8 }}",
    "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
    "{% endfor %}{% endfor %}{% endfor %}",
    "{% for i in range(1000) %}{{ store_name * 10 }}{% endfor %}",
    "{{ 'x'|replace('', 'y' * 20000) }}", "{{ '%999999999s' % 'a' }}", "{{ '%*d' % (10**9, 1) }}",
    "{% set a = 'x' * 9000 %}{% set b = a ~ a ~ a %}{{ b|length }}",
    "{{ range(1000)|join('-' * 100) }}",
])
def test_huge_work_stops_fast_with_an_error(source):
    started = time.perf_counter()
    r = render(source)
    assert time.perf_counter() - started < 1
    assert not r.ok and r.text == ""
    assert len(r.errors[0][1]) < 300


def test_output_is_capped():
    r = render("{% for i in range(999) %}" + "x" * 30 + "{% endfor %}")
    assert not r.ok and str(MAX_OUTPUT) in r.errors[0][1]


def test_typo_names_the_variable_and_its_line():
    r = render("第一行\n第二行 {{ store_name }}\n第三行 {{ stroe_name }}")
    assert r.errors == [(3, "Unknown variable “stroe_name”.")]


def test_syntax_error_has_its_line():
    r = render("a\nb\n{% if store_name %}\nno end")
    assert r.errors[0][0] == 4 or r.errors[0][0] == 3
    assert render("x\n{{ store_name }\n").errors[0][0] == 2


def test_runtime_error_has_its_line():
    r = render("a\n\n{{ 1 // (store_code|length - 6) }}")
    assert r.errors[0][0] == 3 and "ZeroDivisionError" in r.errors[0][1]
    r = render("a\n{{ store_name.nosuch }}")
    assert r.errors[0][0] == 2


def test_compile_once_render_many():
    compiled = compile_text("{{ store_code }}:{{ city }}")
    assert render_compiled(compiled, {**VARIABLES, "store_code": "A"}).text == "A:杭州市"
    assert render_compiled(compiled, {**VARIABLES, "store_code": "B"}).text == "B:杭州市"


def test_store_variables_are_plain_values(make_store, make_community):
    store = make_store(name="栖木家居·杭州西湖店", address="文三路1号")
    make_community(store, name="满员群", members=200, rotation_order=0)
    make_community(store, name="二群", members=10, rotation_order=1, invite_link="https://work.weixin.qq.com/g/x")
    variables = store_variables(store, date(2026, 11, 23))
    assert set(variables) == set(VARIABLES)
    assert all(v is None or type(v) in (str, int, date) for v in variables.values())
    assert variables["community_name"] == "二群" and variables["city"] == "杭州市"
    assert variables["week"] == "2026-W48" and variables["week_end"] == date(2026, 11, 29)
    assert render_text("{{ community_name }} {{ address }}", variables).text == "二群 文三路1号"


def test_fields_render_together_like_alone():
    sources = {"caption": "{% set city = '别处' %}{{ city }}{{ store_code }}", "script": "{{ city }}\n{{ week }}",
               "tags": "#纯文本", "broken": "{{ store_name", "bad_at_runtime": "a\n{{ 1 // (week_end.day - 29) }}"}
    compiled = compile_fields({k: v for k, v in sources.items() if k not in ("broken", "bad_at_runtime")})
    together = render_fields(compiled, VARIABLES)
    assert {k: r.text for k, r in together.items()} == {"caption": "别处HZ-001", "script": "杭州市\n2026-W48",
                                                       "tags": "#纯文本"}
    assert together == {k: render_text(sources[k], VARIABLES) for k in together}
    compiled = compile_fields(sources)
    results = render_fields(compiled, VARIABLES)
    assert results["broken"].errors[0][0] == 1 and results["bad_at_runtime"].errors[0][0] == 2
    assert results["script"].text == "杭州市\n2026-W48"
