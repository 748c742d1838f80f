"""Security headers: a strict CSP with a per-request nonce, no framing or sniffing, HSTS in production.

Pages keep working under the policy: no template carries inline script or style attributes, and
headless Chromium reports no CSP violation on pages with computed layouts, forms and the print sheet.
"""
import re
import subprocess
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures_browser import USER_AGENT, browser, signed_in_cookie
from fixtures_plans import MONDAY, WEEK
from flask import url_for
from werkzeug.serving import make_server

from config import ProductionConfig
from matrix import create_app
from matrix.auth.models import Role
from matrix.live import services as live
from matrix.ops.headers import POLICY

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_html_pages_carry_a_strict_policy_with_a_fresh_nonce(client):
    first, second = client.get("/login"), client.get("/login")
    policy = first.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy
    assert "script-src 'self'" in policy and "form-action 'self'" in policy and "base-uri 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert nonce not in second.headers["Content-Security-Policy"]
    assert first.headers["X-Content-Type-Options"] == "nosniff" and first.headers["X-Frame-Options"] == "DENY"
    assert first.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in first.headers  # not over plain HTTP in development


def test_json_and_files_carry_headers_too(client):
    for response in (client.post("/hooks/nope", data=b"{}"), client.get("/static/css/app.css")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_production_sends_hsts(monkeypatch, tmp_path):
    class Settings(ProductionConfig):
        SECRET_KEY, LEAD_PHONE_KEY, LEAD_HASH_KEY = "k" * 32, "dGVzdC1sZWFkLXBob25lLWtleS0zMi1ieXRlcy1vayE=", "h"
        SQLALCHEMY_DATABASE_URI = "sqlite:///" + str(tmp_path / "p.db")
        BASE_URL = "https://matrix.example.com"
        RATELIMIT_STORAGE_URI = "memory://"

    response = create_app(Settings).test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_no_template_has_inline_script_or_style_attributes():
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = re.sub(r"{#.*?#}", "", path.read_text(), flags=re.S)  # comments may name what they avoid
        found += [f"{path.name}: {m.group()}" for m in re.finditer(r"\sstyle=|<script(?![^>]*\ssrc=)|\son[a-z]+=", text)]
        found += [f"{path.name}: <style> without nonce" for m in re.finditer(r"<style(?![^>]*nonce=)", text)]
    assert found == []


# --- in a browser -------------------------------------------------------------------------------------------

def violations(url: str, cookie_profile: Path) -> tuple[str, list[str]]:
    command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0",
               f"--user-data-dir={cookie_profile}", f"--user-agent={USER_AGENT}", "--dump-dom", url]
    result = subprocess.run(command, capture_output=True, timeout=60)
    log = result.stderr.decode(errors="replace").splitlines()
    return result.stdout.decode(errors="replace"), [line for line in log if "Content Security Policy" in line]


@pytest.mark.slow
def test_pages_work_under_the_policy_in_chromium(app, login, live_server, tmp_path, make_store,  # noqa: F811
                                                 make_account, make_user, make_item):  # noqa: F811
    browser()
    store = make_store(code="HZ-018", name="杭州西湖文化广场店")
    account = make_account(store=store, platform="douyin", handle="hz_xihu_dy")
    make_item(store, account, day=MONDAY, slot="12:00", topic="新品探店")
    make_item(store, account, day=MONDAY + timedelta(days=2), slot="18:30", topic="周三直播预告")
    hq = make_user(Role.OPERATOR)
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=3)).date()
    live.schedule_session(live.clean_session({"account_id": account.id, "day": day.isoformat(), "start": "19:00",
                                              "end": "21:00", "title": "冬季新品直播", "anchor": "李娜"}, actor=hq),
                          actor=hq)
    live_server["cookie"] = signed_in_cookie(app, login, hq)
    pages = {url_for("overview.index", _external=False): "HZ-018",
             url_for("plans.week", store_id=store.id, week=WEEK, _external=False): "周三直播预告",
             url_for("plans.print_store", store_id=store.id, week=WEEK, _external=False): "新品探店",
             url_for("live.day", date=day.isoformat(), _external=False): "冬季新品直播",
             url_for("users.me", _external=False): 'name="new_password"'}
    for path, expected in pages.items():
        dom, refused = violations(live_server["base"] + path, tmp_path / "profile")
        assert expected in dom, (path, dom[:500])
        assert refused == [], (path, refused)


@pytest.mark.slow
def test_the_browser_check_sees_a_violation(tmp_path):
    """The control: a page under our policy with a style attribute is reported, so silence above means none."""
    def page(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html"),
                                  ("Content-Security-Policy", POLICY.format(nonce="n0nce"))])
        return [b'<p style="color:red">x</p><style nonce="n0nce">p{}</style>']

    server = make_server("127.0.0.1", 0, page)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        dom, refused = violations(f"http://127.0.0.1:{server.server_port}/", tmp_path / "profile")
    finally:
        server.shutdown()
    assert len(refused) == 1 and "style-src" in refused[0]


def test_the_policy_lets_a_wecom_join_code_image_show_and_nothing_else_from_elsewhere(client):
    policy = client.get("/login").headers["Content-Security-Policy"]
    img = next(part for part in policy.split(";") if part.strip().startswith("img-src")).split()[1:]
    assert img == ["'self'", "data:", "https://wework.qpic.cn"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
