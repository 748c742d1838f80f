"""Accessible markup (issue 14) checked without a browser: landmarks, headers, titles, lang and form errors.

The browser suite runs axe-core on every page (tests/test_e2e_accessibility.py); these catch the same faults in a
second and name the template.
"""
import re
from pathlib import Path

from matrix.auth.models import Role

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def templates() -> dict[str, str]:
    return {str(p.relative_to(TEMPLATES)): p.read_text() for p in TEMPLATES.rglob("*.html")}


def test_no_table_header_is_empty():
    empty = [name for name, text in templates().items() if re.search(r"<th[^>]*>\s*</th>", text)]
    assert not empty, f"empty <th> in {empty}"


def test_every_page_layout_has_a_main_landmark_and_names_its_language():
    layouts = {name: text for name, text in templates().items() if "<html" in text}
    assert len(layouts) >= 5      # base, the public pages, print week and cover, posters, unavailable
    for name, text in layouts.items():
        assert "<main" in text, f"{name} has no <main>"
        assert re.search(r"<html lang=\"\{\{ 'zh-Hans' if", text), f"{name}: lang is not zh-Hans / en"


def test_every_svg_chart_has_a_title():
    for name, text in templates().items():
        for chart in re.findall(r"<svg[^>]*role=\"img\".*?</svg>", text, flags=re.S):
            assert "<title>" in chart, f"{name}: an SVG chart without <title>"


def test_a_signed_in_page_has_a_skip_link_named_navigation_and_a_title_that_says_where(client, login, make_user):
    login(make_user(Role.OPERATOR))
    html = client.get("/plans/").get_data(as_text=True)
    assert re.search(r'<a class="skip-link" href="#main">', html) and '<main class="page" id="main"' in html
    labels = re.findall(r"<nav[^>]*aria-label=\"([^\"]+)\"", html)
    assert len(labels) == html.count("<nav") and len(set(labels)) == len(labels)
    title = re.search(r"<title>(.*?)</title>", html, flags=re.S).group(1)
    assert title.split(" · ")[0].strip() and title.strip().endswith("StoreMatrix")
    assert 'aria-current="page"' in html


def test_form_errors_are_tied_to_their_fields(client, login, post, make_user):
    login(make_user(Role.ADMIN))
    response = post("/stores/new", {"code": "", "name": ""})
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 422)
    invalid = re.findall(r"<(?:input|select|textarea)[^>]*aria-invalid=\"true\"[^>]*>", html)
    assert invalid, "no field is marked invalid"
    for control in invalid:
        ids = re.search(r"aria-describedby=\"([^\"]+)\"", control).group(1).split()
        for ref in ids:
            assert f'id="{ref}"' in html, f"{ref} is described by nothing on the page"
