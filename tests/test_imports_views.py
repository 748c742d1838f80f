"""Import and export pages: upload, preview, mapping, confirm, access and CSRF."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from matrix.auth.models import Role
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.imports import uploads
from matrix.imports.models import ImportUpload
from matrix.stores.models import Store
from samples import BINJIANG, STORE_HEADER, WEST_LAKE, csv_bytes

ROBOT = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret-robot-key-9876"


@pytest.fixture
def hq(make_user, login):
    user = make_user(Role.OPERATOR)
    login(user)
    return user


def send_file(post, data: bytes, name: str, kind="stores", c=None):
    return post("/imports/", {"kind": kind, "file": (io.BytesIO(data), name)}, c=c,
                content_type="multipart/form-data")


def token_of(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]


def confirm_fields(html: str) -> dict:
    form = html[html.index('/confirm"'):]
    form = form[:form.index("</form>")]
    return dict(re.findall(r'name="([^"]+)"(?: type="hidden")? value="([^"]*)"', form))


def stores() -> int:
    return db.session.scalar(select(func.count()).select_from(Store))


def test_gbk_csv_upload_preview_confirm(client, post, hq):
    token = token_of(send_file(post, csv_bytes([STORE_HEADER, WEST_LAKE, BINJIANG], "gbk"), "门店.csv"))
    page = client.get(f"/imports/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "GB18030 (GBK)" in html and "门店.csv" in html
    assert 'option value="code" selected' in html and "杭州西湖店" in html
    assert stores() == 0
    response = post(f"/imports/{token}/confirm", confirm_fields(html))
    assert response.status_code == 302 and stores() == 2
    assert client.get(f"/imports/{token}").status_code == 404  # the file is gone after the import


def test_bom_csv_reimport_is_all_unchanged(client, post, hq):
    data = csv_bytes([STORE_HEADER, WEST_LAKE], "utf-8-sig")
    token = token_of(send_file(post, data, "a.csv"))
    post(f"/imports/{token}/confirm", confirm_fields(client.get(f"/imports/{token}").get_data(as_text=True)))
    token = token_of(send_file(post, data, "a.csv"))
    html = client.get(f"/imports/{token}").get_data(as_text=True)
    assert "UTF-8 (BOM)" in html and "every row matches" in html
    assert re.search(r"<button class=\"btn primary\" disabled>", html)


def test_xlsx_export_round_trip(client, post, hq, make_store):
    make_store(code="HZ-001")
    make_store(code="HZ-002", city="上海", district="浦东新区", lon=121.5, lat=31.2)
    export = client.get("/imports/export?kind=stores&format=xlsx")
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    token = token_of(send_file(post, export.data, "stores.xlsx"))
    html = client.get(f"/imports/{token}?show=all").get_data(as_text=True)
    assert "XLSX" in html and html.count('badge badge-unchanged') == 2 and "badge-error" not in html


def test_csv_export_names_its_charset_once(client, hq, make_store):
    make_store(code="HZ-001")
    export = client.get("/imports/export?kind=stores&format=csv")
    assert export.status_code == 200 and export.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_operator_maps_an_unknown_header(client, post, hq):
    data = csv_bytes([["门店编码", "门店名称", "所属城市"], ["HZ-009", "测试店", "杭州"]], "utf-8")
    token = token_of(send_file(post, data, "a.csv"))
    html = client.get(f"/imports/{token}").get_data(as_text=True)
    assert "badge-error" in html and "disabled" in html
    html = client.get(f"/imports/{token}?col-0=code&col-1=name&col-2=city").get_data(as_text=True)
    assert 'option value="city" selected' in html and "badge-new" in html
    fields = confirm_fields(html)
    assert fields["col-2"] == "city"
    assert post(f"/imports/{token}/confirm", fields).status_code == 302
    assert db.session.scalar(select(Store.city_code)) == "330100"


def test_forged_confirm_with_an_error_row_writes_nothing(client, post, hq):
    bad = BINJIANG[:]
    bad[5], bad[6] = bad[6], bad[5]
    token = token_of(send_file(post, csv_bytes([STORE_HEADER, WEST_LAKE, bad]), "a.csv"))
    html = client.get(f"/imports/{token}").get_data(as_text=True)
    assert "swapped" in html and "disabled" in html
    response = post(f"/imports/{token}/confirm", confirm_fields(html))
    assert response.status_code == 422 and stores() == 0


def test_confirm_after_the_data_changed_shows_the_new_preview(client, post, hq, make_store):
    token = token_of(send_file(post, csv_bytes([STORE_HEADER, WEST_LAKE]), "a.csv"))
    fields = confirm_fields(client.get(f"/imports/{token}").get_data(as_text=True))
    make_store(code="HZ-001", name="别人刚改的")
    response = post(f"/imports/{token}/confirm", fields)
    assert response.status_code == 409 and "别人刚改的" in response.get_data(as_text=True)
    assert db.session.scalar(select(Store.name)) == "别人刚改的"


@pytest.mark.parametrize("data, name, words", [
    (b"", "a.csv", "empty"), (b"PK\x03\x04broken", "a.xlsx", "could not be opened"),
    ("备注,其他\n1,2\n".encode(), "a.csv", "No column name was recognised"),
    (b"\x81\x30\xff\xfe\x80", "a.csv", "could not be read"),
])
def test_bad_files_are_refused_and_not_stored(client, post, hq, data, name, words):
    response = send_file(post, data, name)
    assert response.status_code == 422 and words in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportUpload)) == 0


def test_the_webhook_never_reaches_the_page(client, post, hq, make_store):
    make_store(code="HZ-001")
    data = csv_bytes([["门店编码", "群名称", "机器人"], ["HZ-001", "西湖1群", ROBOT]], "utf-8")
    token = token_of(send_file(post, data, "g.csv", kind="communities"))
    html = client.get(f"/imports/{token}").get_data(as_text=True)
    assert "secret-robot-key" not in html and "****9876" in html
    post(f"/imports/{token}/confirm", confirm_fields(html))
    assert db.session.scalar(select(Community.robot_webhook_url)) == ROBOT
    export = client.get("/imports/export?kind=communities&format=csv")
    assert export.data.startswith(b"\xef\xbb\xbf") and b"secret-robot-key" not in export.data


def test_templates_download(client, hq):
    response = client.get("/imports/template?kind=accounts&format=csv")
    assert response.status_code == 200 and response.data.decode("utf-8-sig").startswith("平台,类型,门店编码")
    assert client.get("/imports/template?kind=nope&format=csv").status_code == 404
    assert client.get("/imports/export?kind=stores&format=pdf").status_code == 404


def test_another_users_or_an_expired_upload_is_not_found(client, post, hq, make_user, login):
    token = token_of(send_file(post, csv_bytes([STORE_HEADER, WEST_LAKE]), "a.csv"))
    row = db.session.get(ImportUpload, token)
    saved = row.created_at
    row.created_at = saved - timedelta(hours=25)
    db.session.commit()
    assert client.get(f"/imports/{token}").status_code == 404
    row.created_at = saved
    db.session.commit()
    assert client.get(f"/imports/{token}").status_code == 200
    other = make_user(Role.ADMIN)
    with client.application.app_context():  # its own `g`, as a separate request would have
        second = login(other, client.application.test_client())
        assert second.get(f"/imports/{token}").status_code == 404
    assert client.get("/imports/..%2F..%2Fsecret_key").status_code == 404


def test_discard(client, post, hq):
    token = token_of(send_file(post, csv_bytes([STORE_HEADER, WEST_LAKE]), "a.csv"))
    assert post(f"/imports/{token}/discard").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ImportUpload)) == 0


def test_expired_uploads_are_purged(client, post, hq):
    token = token_of(send_file(post, csv_bytes([STORE_HEADER, WEST_LAKE]), "a.csv"))
    db.session.get(ImportUpload, token).created_at -= timedelta(hours=25)
    db.session.commit()
    assert uploads.purge_expired() == 1


ROUTES = [("get", "/imports/"), ("post", "/imports/"), ("get", "/imports/TOKEN"), ("post", "/imports/TOKEN/confirm"),
          ("post", "/imports/TOKEN/discard"), ("get", "/imports/export?kind=stores&format=csv"),
          ("get", "/imports/template?kind=stores&format=xlsx")]


@pytest.mark.parametrize("method, url", ROUTES)
def test_store_manager_gets_403_everywhere(client, post, make_user, make_store, login, method, url):
    with client.application.app_context():  # its own `g`, as a separate request would have
        hq_client = login(make_user(Role.OPERATOR), client.application.test_client())
        token = token_of(send_file(post, csv_bytes([STORE_HEADER, WEST_LAKE]), "a.csv", c=hq_client))
    login(make_user(Role.STORE_MANAGER, stores=[make_store()]))
    url = url.replace("TOKEN", token)
    response = client.get(url) if method == "get" else post(url, {"kind": "stores"})
    assert response.status_code == 403


@pytest.mark.parametrize("url", ["/imports/", "/imports/TOKEN/confirm", "/imports/TOKEN/discard"])
def test_csrf_is_required(client, post, hq, url):
    token = token_of(send_file(post, csv_bytes([STORE_HEADER, WEST_LAKE]), "a.csv"))
    fields = confirm_fields(client.get(f"/imports/{token}").get_data(as_text=True))
    fields.pop("csrf_token")
    response = client.post(url.replace("TOKEN", token), data=fields)
    assert response.status_code == 400 and stores() == 0
