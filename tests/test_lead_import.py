"""Lead import from CSV/XLSX: preview, then every row or none; phones protected like webhook leads."""
import io
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, text

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.imports.readers import read_table
from matrix.imports.uploads import save_upload
from matrix.leads import lead_import
from matrix.leads.models import Lead
from matrix.notifications.models import Notification

CSV = ("线索编号,姓名,手机号,城市,区县,门店编码,留资时间\n"
       "X-1,张三,13800138000,杭州,西湖区,,2024-05-01 10:00\n"
       "X-2,李四,+86 139 1234 5678,杭州,上城区,HZ-01,\n"
       "X-3,王五,13700137000,上海,,,\n")


@pytest.fixture
def hq(login, make_user):
    return login(make_user(Role.OPERATOR))


def leads() -> int:
    return db.session.scalar(select(func.count()).select_from(Lead))


def upload(client, post, data: bytes, name="leads.csv"):
    response = post("/sources/import/", {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return response.headers["Location"]


def confirm(client, post, preview_url: str, **extra):
    html = client.get(preview_url).get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([^"]+)"', html).group(1)
    mapping = dict(re.findall(r'<input type="hidden" name="(col-\d+)" value="([^"]*)"', html))
    return post(preview_url + "/confirm", {"fingerprint": fingerprint, "notify": "y", **mapping, **extra})


def test_csv_in_gbk_imports_every_row_once(client, post, hq, make_store, make_community):
    store = make_store(code="HZ-01", district="上城区")
    make_community(store, robot_webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=imp")
    url = upload(client, post, CSV.encode("gbk"))
    preview = client.get(url).get_data(as_text=True)
    assert "139****5678" in preview and "13912345678" not in preview
    response = confirm(client, post, url)
    assert response.status_code == 302
    assert leads() == 3
    lead = db.session.scalar(select(Lead).where(Lead.external_id == "X-2"))
    assert lead.phone_masked == "139****5678" and lead.source_store_id == store.id and lead.store_id == store.id
    assert db.session.scalar(select(func.count()).select_from(Notification).where(Notification.lead_id == lead.id))
    assert "13912345678" not in repr(db.session.execute(text("SELECT * FROM leads")).all())
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "import", AuditEntry.entity == "lead")).all()
    assert len(entries) == 1 and entries[0].changes["new"] == 3
    again = upload(client, post, CSV.encode("utf-8"))
    assert client.get(again).status_code == 200
    assert confirm(client, post, again).status_code == 302 and leads() == 3  # nothing new: nothing written
    preview = lead_import.preview_lead_import(read_table(CSV.encode()))
    assert preview.counts == {"new": 0, "duplicate": 3, "error": 0, "warning": 0, "total": 3}


def test_a_file_with_an_error_imports_nothing(client, post, hq):
    bad = CSV + "X-4,赵六,12345,杭州,,,\nX-5,孙七,13600136000,杭州,,NOPE,\n"
    url = upload(client, post, bad.encode())
    response = confirm(client, post, url)
    assert response.status_code == 422 and leads() == 0
    preview = lead_import.preview_lead_import(read_table(bad.encode()))
    assert preview.counts["error"] == 3 and not preview.ok  # X-2 names store HZ-01, which does not exist here
    assert set(preview.rows[3].errors) == {"phone"} and set(preview.rows[4].errors) == {"store_code"}


def test_a_failure_while_writing_rolls_every_row_back(app, make_user, make_store, monkeypatch):
    make_store(code="HZ-01")
    preview = lead_import.preview_lead_import(read_table(CSV.encode()), filename="x.csv")
    calls = []
    real = lead_import.stage_lead

    def second_fails(data, **kwargs):
        calls.append(data)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(data, **kwargs)
    monkeypatch.setattr(lead_import, "stage_lead", second_fails)
    with pytest.raises(RuntimeError):
        lead_import.apply_lead_import(preview, make_user())
    assert leads() == 0


def test_xlsx_with_english_headers_and_coordinates(client, post, hq):
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Mobile", "City", "lng", "lat", "坐标系"])
    sheet.append(["Amy", 13800138000, "杭州", 120.1350, 30.2590, "GCJ-02"])
    data = io.BytesIO()
    book.save(data)
    url = upload(client, post, data.getvalue(), name="leads.xlsx")
    assert confirm(client, post, url).status_code == 302
    lead = db.session.scalar(select(Lead))
    assert lead.phone_masked == "138****8000" and lead.lon == pytest.approx(120.1303, abs=0.002)


def test_duplicate_ids_in_one_file_and_missing_contact_are_errors(app):
    data = "线索编号,姓名,手机号\nA,甲,13800138000\nA,乙,13800138001\n,丙,\n".encode()
    preview = lead_import.preview_lead_import(read_table(data))
    assert [r.status for r in preview.rows] == ["new", "error", "error"]


def test_no_contact_column_is_a_file_problem(app):
    preview = lead_import.preview_lead_import(read_table("姓名,城市\n甲,杭州\n".encode()))
    assert preview.problems and not preview.ok


def test_changed_data_since_the_preview_asks_again(client, post, hq, make_store):
    make_store(code="HZ-01")
    url = upload(client, post, CSV.encode())
    response = post(url + "/confirm", {"fingerprint": "0" * 32})
    assert response.status_code == 409 and leads() == 0


def test_store_manager_and_other_uploads_are_refused(client, post, login, make_user, make_store, app):
    operator = make_user(Role.OPERATOR)
    registry = save_upload(b"code\nX\n", filename="s.csv", kind="stores", user_id=operator.id)
    login(operator)
    assert client.get(f"/sources/import/{registry.token}").status_code == 404
    with app.app_context():
        manager_client = app.test_client()
        login(make_user(Role.STORE_MANAGER, stores=[make_store()]), manager_client)
        assert manager_client.get("/sources/import/").status_code == 403
        own = save_upload(CSV.encode(), filename="l.csv", kind="leads", user_id=operator.id)
        assert manager_client.get(f"/sources/import/{own.token}").status_code == 403
