"""Trailer rules and live settings pages: parsing, refusals with the input kept, the preview, HQ only."""
import pytest
from flask import url_for
from sqlalchemy import func, select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.live.models import TrailerRule
from matrix.live.settings import live_settings, save_rule


@pytest.fixture
def hq(login, make_user):
    user = make_user(Role.OPERATOR)
    login(user)
    return user


def rule_form(name="周末大促预告", steps=(("3d", True, False), ("1d", True, True), ("3h", False, True),
                                      ("30m", False, False)), rows=6, **extra) -> dict:
    data = {"name": name, "sibling_km": "3", "max_siblings": "4", "topic": "直播预告：{{ title }}",
            "caption": "{{ starts_label }} {{ store_name }}见！", "hashtags": "#{{ city }}直播", "action": "save"}
    for i in range(rows):
        offset, brand, siblings, *community = steps[i] if i < len(steps) else ("", False, False)
        data[f"steps-{i}-offset"] = offset
        if community and community[0]:
            data[f"steps-{i}-community"] = "y"
        if brand:
            data[f"steps-{i}-brand"] = "y"
        if siblings:
            data[f"steps-{i}-siblings"] = "y"
    data.update(extra)
    return data


def rules() -> list[TrailerRule]:
    return list(db.session.scalars(select(TrailerRule).order_by(TrailerRule.id)))


def test_new_rule_reads_offsets_in_both_languages_and_who_posts(client, post, hq):
    page = client.get("/live/rules/new").get_data(as_text=True)
    assert 'value="3d"' in page and 'value="30m"' in page  # starts from the standard steps
    assert "host account always posts" in page
    response = post("/live/rules/new", rule_form(steps=(("30分钟", False, False), ("3天", True, False),
                                                        ("", True, True), ("3小时", False, True),
                                                        ("1 day", True, True, True)), other_platforms="y"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    [rule] = rules()
    assert rule.steps == [{"minutes": 4320, "brand": True, "siblings": False, "community": False},
                          {"minutes": 1440, "brand": True, "siblings": True, "community": True},
                          {"minutes": 180, "brand": False, "siblings": True, "community": False},
                          {"minutes": 30, "brand": False, "siblings": False, "community": False}]
    assert (rule.sibling_km, rule.max_siblings, rule.other_platforms) == (3.0, 4, True)
    assert rule.is_default  # the chain's first rule becomes its default
    audited = select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "trailer_rule")
    assert db.session.scalar(audited) == 1
    listing = client.get("/live/rules").get_data(as_text=True)
    assert "3d · 1d · 3h · 30m" in listing and "周末大促预告" in listing and "Default" in listing
    assert "The nearest 4 within 3 km" in listing


def test_edit_shows_the_rule_and_saves_changes(client, post, hq):
    rule = save_rule(None, {"name": "标准", "steps": [{"offset": "2d", "brand": True}], "sibling_km": "0",
                            "max_siblings": "5", "topic": "预告"}, actor=hq)
    page = client.get(f"/live/rules/{rule.id}/edit").get_data(as_text=True)
    assert 'value="2d"' in page and "标准" in page
    assert "applies to sessions scheduled or moved afterwards" in page
    response = post(f"/live/rules/{rule.id}/edit", rule_form(name="标准二", steps=(("90m", False, True),)))
    assert response.status_code == 302
    db.session.refresh(rule)
    assert rule.name == "标准二" and rule.steps == [{"minutes": 90, "brand": False, "siblings": True,
                                                   "community": False}]


@pytest.mark.parametrize("steps, message", [
    ((("3h", False, False), ("180m", True, False)), "The offset 180m appears twice."),
    ((), "A rule needs at least one offset."),
    ((("3x", False, False),), "is not an offset; write it like 3d, 3h or 30m."),
])
def test_bad_offsets_are_refused_and_the_input_kept(client, post, hq, steps, message):
    response = post("/live/rules/new", rule_form(name="不会保存", steps=steps))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "不会保存" in html  # the name typed is still there
    assert rules() == []


@pytest.mark.parametrize("field, source, message", [
    ("caption", "第一行\n{{ ''.__class__ }}", "line 2 The attribute “__class__” is not allowed."),
    ("topic", "{{ cycler }}", "line 1 Unknown variable “cycler”."),
    ("hashtags", "#a\n#b\n{% import 'x' as y %}", "line 3"),
])
def test_a_template_escaping_the_sandbox_is_refused_with_its_line(client, post, hq, field, source, message):
    response = post("/live/rules/new", rule_form(**{field: source}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "error-line" in html  # the preview below marks the line too
    assert rules() == []


def test_preview_renders_the_example_values_and_saves_nothing(client, post, hq):
    caption = "{{ starts_label }}见\n{{ anchor }}\n{{ lipsum() }}"
    response = post("/live/rules/new", rule_form(action="preview", caption=caption))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "直播预告：冬季新品直播" in html  # topic with the example title
    assert "#City直播" in html  # no store yet: a placeholder saying what the variable holds
    assert "Line 3" in html and "Unknown variable “lipsum”" in html
    assert rules() == []


def test_examples_are_the_chains_own_first_store(client, post, hq, make_store, make_account):
    make_account(make_store(code="NJ-001", name="南京新街口店", city="南京", district="玄武区"), handle="nj_xjk")
    html = post("/live/rules/new", rule_form(action="preview", caption="{{ host_account }} {{ store_name }}")
                ).get_data(as_text=True)
    assert "@nj_xjk 南京新街口店" in html and "#南京市直播" in html
    assert "栖木" not in html and "qimu" not in html  # never the demo chain's names


def test_default_switching_keeps_exactly_one_default(client, post, hq):
    assert post("/live/rules/new", rule_form(name="A", is_default="y")).status_code == 302
    assert post("/live/rules/new", rule_form(name="B", is_default="y")).status_code == 302
    a, b = rules()
    assert (a.is_default, b.is_default) == (False, True)
    # Unticking the default does not leave the chain without one.
    assert post(f"/live/rules/{b.id}/edit", rule_form(name="B")).status_code == 302
    assert post(f"/live/rules/{a.id}/edit", rule_form(name="A")).status_code == 302
    db.session.expire_all()
    assert [(r.name, r.is_default) for r in rules()] == [("A", False), ("B", True)]
    assert post(f"/live/rules/{a.id}/edit", rule_form(name="A", is_default="y")).status_code == 302
    db.session.expire_all()
    assert [(r.name, r.is_default) for r in rules()] == [("A", True), ("B", False)]


def test_unknown_rule_is_404(client, hq):
    assert client.get("/live/rules/999/edit").status_code == 404


def test_settings_form_saves_and_the_card_shows_them(client, post, hq):
    page = client.get("/live/settings").get_data(as_text=True)
    assert 'value="22:00"' in page and 'value="20:00"' in page
    response = post("/live/settings", {"nearby_km": "2.5", "quiet_start": "23:00", "quiet_end": "7:30",
                                       "evening_slot": "21：00"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/live/rules")
    row = live_settings()
    assert (row.nearby_km, row.quiet_start, row.quiet_end, row.evening_slot) == (2.5, "23:00", "07:30", "21:00")
    card = client.get("/live/rules").get_data(as_text=True)
    assert "within 2.5 km" in card and "23:00–07:30" in card and "21:00" in card


@pytest.mark.parametrize("values, message", [
    ({"evening_slot": "23:30"}, "The evening slot falls inside the quiet hours"),
    ({"nearby_km": "far"}, "Write a distance in kilometres"),
    ({"quiet_start": "25:00"}, "“25:00” is not a time"),
])
def test_bad_settings_are_refused_and_the_input_kept(client, post, hq, values, message):
    data = {"nearby_km": "0", "quiet_start": "22:00", "quiet_end": "08:00", "evening_slot": "20:00", **values}
    response = post("/live/settings", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    for value in values.values():
        assert f'value="{value}"' in html
    row = live_settings()
    assert (row.nearby_km, row.quiet_start, row.evening_slot) == (0.0, "22:00", "20:00")


def test_store_manager_gets_403_on_every_rules_settings_and_import_route(app, client, post, login, make_user,
                                                                          make_store):
    rule = save_rule(None, {"name": "R", "steps": [{"offset": "1d"}], "topic": "t"}, actor=make_user(Role.ADMIN))
    login(make_user(Role.STORE_MANAGER, stores=[make_store()]))
    checked = 0
    for url_rule in app.url_map.iter_rules():
        if url_rule.endpoint in ("live.rules", "live.rule_new", "live.rule_edit", "live.settings") \
                or url_rule.endpoint.startswith("live.import"):
            url = url_for(url_rule.endpoint, **{k: v for k, v in {"rule_id": rule.id, "token": "0" * 32}.items()
                                                if k in url_rule.arguments})
            for method in url_rule.methods & {"GET", "POST"}:
                response = client.get(url) if method == "GET" else post(url, rule_form(name="forged"))
                assert response.status_code == 403, f"{method} {url}"
                checked += 1
    assert checked >= 10
    db.session.expire_all()
    assert [r.name for r in rules()] == ["R"]
