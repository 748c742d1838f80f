"""Lead-source admin pages: HQ only, secret shown once then masked, rotation, refused deliveries, curl example."""
import json
import re
import subprocess
import time

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.leads import signatures
from matrix.leads.models import LeadSource
from matrix.leads.sources import create_source, source_secret


@pytest.fixture
def hq(login, make_user):
    return login(make_user(Role.OPERATOR))


def shown_secret(html: str) -> str:
    return re.search(r"SECRET='([^']+)'", html).group(1)


def test_store_manager_cannot_open_source_pages(client, login, make_user, make_store):
    login(make_user(Role.STORE_MANAGER, stores=[make_store()]))
    for url in ("/sources/", "/sources/new", "/sources/rejected", "/sources/import/"):
        assert client.get(url).status_code == 403


def test_create_shows_the_secret_once_then_masked(hq, post, client):
    with force_locale("en"):
        response = post("/sources/new", {"name": "官网表单", "kind": "generic", "slug": "site", "signature_scheme": "",
                                         "store_code": "", "field_map": "", "active": "y"})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    secret = shown_secret(html)
    source = db.session.scalar(select(LeadSource).where(LeadSource.slug == "site"))
    assert source_secret(source) == secret and len(secret) >= 32
    assert "http://localhost/hooks/site" in html and "X-Signature" in html
    detail = client.get(f"/sources/{source.id}").get_data(as_text=True)
    assert secret not in detail and "****" + secret[-4:] in detail
    assert secret not in client.get("/sources/").get_data(as_text=True)
    assert secret not in client.get(f"/sources/{source.id}/edit").get_data(as_text=True)
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "lead_source")).all()
    assert audit and secret not in repr([(e.summary, e.changes) for e in audit])


def test_typed_secret_kind_scheme_and_field_map(hq, post):
    response = post("/sources/new", {"name": "抖音", "kind": "douyin", "slug": "douyin-app", "secret": "client-secret-123456",
                                     "signature_scheme": "", "store_code": "",
                                     "field_map": "phone = content.mobile|content.telephone\n# comment\nname = content.nick"})
    assert response.status_code == 201
    source = db.session.scalar(select(LeadSource).where(LeadSource.slug == "douyin-app"))
    assert source_secret(source) == "client-secret-123456"
    assert source.field_map == {"phone": "content.mobile|content.telephone", "name": "content.nick"}


@pytest.mark.parametrize("data, field", [
    ({"slug": "Bad Slug!"}, "slug"), ({"slug": "manual"}, "slug"), ({"field_map": "nonsense"}, "field_map"),
    ({"field_map": "colour = a.b"}, "field_map"), ({"store_code": "NOPE-1"}, "store_code"), ({"name": ""}, "name"),
])
def test_invalid_source_form_is_shown_again(hq, post, data, field):
    form = {"name": "来源", "kind": "generic", "slug": "", "signature_scheme": "", "store_code": "", "field_map": ""}
    response = post("/sources/new", {**form, **data})
    assert response.status_code == 422
    assert db.session.scalar(select(LeadSource)) is None


def test_edit_keeps_slug_and_secret(hq, post, make_user, make_store):
    store = make_store(code="HZ-55")
    source, secret = create_source(name="旧名", kind="generic", slug="keep", actor=make_user())
    response = post(f"/sources/{source.id}/edit", {"name": "新名", "signature_scheme": "douyin_sha1",
                                                   "store_code": "HZ-55", "field_map": "phone = tel", "active": ""})
    assert response.status_code == 302
    db.session.expire_all()
    source = db.session.get(LeadSource, source.id)
    assert (source.name, source.slug, source.signature_scheme, source.store_id, source.active) == \
        ("新名", "keep", "douyin_sha1", store.id, False)
    assert source_secret(source) == secret and source.field_map == {"phone": "tel"}


def test_rotate_shows_the_new_secret_and_the_old_one_stops_working(hq, post, client, make_user):
    source, old = create_source(name="轮换", kind="generic", slug="rot", actor=make_user())
    response = post(f"/sources/{source.id}/rotate", {"secret": ""})
    assert response.status_code == 200
    new = shown_secret(response.get_data(as_text=True))
    assert new != old
    body = json.dumps({"id": "x1", "phone": "13800138000"}).encode()
    for secret, status in ((old, 403), (new, 200)):
        headers = signatures.sign(source, secret, body)
        assert client.post("/hooks/rot", data=body, content_type="application/json", headers=headers).status_code \
            == status


def test_refused_deliveries_are_listed_for_hq(hq, client, make_user):
    create_source(name="表单", kind="generic", slug="listed", actor=make_user())
    client.post("/hooks/listed", data=b"{}", content_type="application/json")
    client.post("/hooks/nowhere", data=b"{}", content_type="application/json")
    with force_locale("en"):
        html = client.get("/sources/rejected").get_data(as_text=True)
        assert "Signature header missing" in html and "Unknown or inactive source" in html
        assert "nowhere" in html
        filtered = client.get("/sources/rejected?source=listed").get_data(as_text=True)
    assert "nowhere" not in filtered


def test_index_lists_sources_with_their_leads(hq, client, make_user):
    source, secret = create_source(name="计数来源", kind="generic", slug="counted", actor=make_user())
    body = json.dumps({"id": "c1", "phone": "13800138000"}).encode()
    client.post("/hooks/counted", data=body, content_type="application/json",
                headers=signatures.sign(source, secret, body))
    html = client.get("/sources/").get_data(as_text=True)
    assert "计数来源" in html and "/hooks/counted" in html and secret not in html


@pytest.mark.parametrize("scheme", ["hmac_sha256_ts", "douyin_sha1", "kuaishou_md5", "oceanengine_hmac"])
def test_curl_example_signs_like_the_server_checks(app, make_user, scheme):
    """Run the page's shell lines for the signature and compare with what the webhook expects."""
    kind = {"hmac_sha256_ts": "generic", "douyin_sha1": "douyin", "kuaishou_md5": "kuaishou",
            "oceanengine_hmac": "oceanengine"}[scheme]
    source, secret = create_source(name="curl", kind=kind, slug=f"curl-{kind}", actor=make_user())
    from flask import render_template
    from matrix.leads.sources_views import _context

    with app.test_request_context():
        html = render_template("sources/_webhook.html", **_context(source), secret=secret)
    script = re.search(r'<pre class="mono curl">(.*?)</pre>', html, re.S).group(1)
    script = script.replace("&#39;", "'").replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")
    signing = "\n".join(line for line in script.splitlines() if not line.startswith(("curl", "  -H")))
    now = int(time.time())
    out = subprocess.run(["bash", "-c", signing.replace("$(date +%s)", str(now)) + '\necho "$SIG"'],
                         capture_output=True, text=True, check=True).stdout.strip()
    body = re.search(r"BODY='(.*)'", signing).group(1).encode()
    expected = signatures.sign(source, secret, body, now=now)
    assert out == [v for k, v in expected.items() if k != "X-Timestamp"][0]


def test_forms_and_built_in_source_pages_render(hq, client):
    from matrix.leads.sources import manual_source

    assert client.get("/sources/new").status_code == 200
    manual = manual_source()
    db.session.commit()
    page = client.get(f"/sources/{manual.id}")
    assert page.status_code == 200 and "/hooks/manual" not in page.get_data(as_text=True)
    assert client.get(f"/sources/{manual.id}/edit").status_code == 404
    assert client.get("/sources/import/").status_code == 200
