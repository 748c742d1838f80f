"""A chain's own store sheet: a title row above the header, no brand column, coordinates that say they were imported."""
import io
import re

from samples import BINJIANG, STORE_HEADER, WEST_LAKE, csv_bytes, preview_csv
from sqlalchemy import select

from matrix.auth.models import Role
from matrix.brands.models import Brand
from matrix.extensions import db
from matrix.imports.apply import apply_import
from matrix.imports.preview import preview_import
from matrix.imports.readers import read_table
from matrix.stores.models import GeocodeStatus, Store

TITLE = ["林氏家居门店清单（2026年12月）"]
NOTE = ["制表：运营部"]


def brands(*names) -> list[Brand]:
    rows = [Brand(name=name) for name in names]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_title_rows_above_the_header_are_skipped_and_said(app):
    table = read_table(csv_bytes([TITLE, NOTE, [], STORE_HEADER, WEST_LAKE, BINJIANG]), "stores.csv")
    assert table.headers[:2] == ["门店编码", "门店名称"] and len(table.rows) == 2
    assert [line for line, _text in table.titles] == [1, 2]
    assert table.lines == [5, 6]  # lines as the operator's Excel numbers them
    preview = preview_csv("stores", [TITLE, STORE_HEADER, WEST_LAKE])
    assert preview.ok and any("林氏家居门店清单" in note for note in preview.notes)


def test_a_one_column_sheet_keeps_its_header(app):
    table = read_table(csv_bytes([["手机号"], ["13800138000"], ["13900139000"]]), "leads.csv")
    assert table.headers == ["手机号"] and not table.titles


def test_with_one_brand_stores_naming_none_get_it(app, make_user):
    (brand,) = brands("林氏家居")
    preview = preview_csv("stores", [STORE_HEADER, WEST_LAKE, BINJIANG])
    assert preview.ok and not preview.questions
    apply_import(preview, make_user(Role.OPERATOR))
    assert {s.brand_id for s in db.session.scalars(select(Store))} == {brand.id}


def test_with_several_brands_the_preview_asks(app, make_user):
    first, second = brands("林氏家居", "林氏木业")
    preview = preview_csv("stores", [STORE_HEADER, WEST_LAKE, BINJIANG])
    assert not preview.ok and preview.questions["brand_id"]["rows"] == 2
    answered = preview_import("stores", read_table(csv_bytes([STORE_HEADER, WEST_LAKE, BINJIANG]), "s.csv"),
                              options={"brand_id": second.id})
    assert answered.ok and answered.fingerprint() != preview.fingerprint()
    apply_import(answered, make_user(Role.OPERATOR))
    assert {s.brand_id for s in db.session.scalars(select(Store))} == {second.id}


def test_a_brand_cell_wins_and_an_empty_one_keeps_the_stores_brand(app, make_user, make_store):
    first, second = brands("林氏家居", "林氏木业")
    make_store(code="HZ-001", brand_id=second.id)
    rows = [STORE_HEADER + ["品牌"], WEST_LAKE + [""], BINJIANG + ["林氏家居"]]
    preview = preview_csv("stores", rows)
    assert preview.ok, [(r.key, r.errors) for r in preview.rows]
    apply_import(preview, make_user(Role.OPERATOR))
    stores = {s.code: s.brand_id for s in db.session.scalars(select(Store))}
    assert stores == {"HZ-001": second.id, "HZ-002": first.id}


def test_the_import_page_asks_for_the_brand(app, client, login, post, make_user):
    brands("林氏家居", "林氏木业")
    login(make_user(Role.OPERATOR))
    response = post("/imports/", {"kind": "stores", "file": (io.BytesIO(csv_bytes([TITLE, STORE_HEADER, WEST_LAKE])),
                                                             "stores.csv")}, content_type="multipart/form-data")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="brand"' in html and "林氏木业" in html and "林氏家居门店清单" in html
    assert re.search(r'<button class="btn primary" disabled>', html)


def test_imported_coordinates_say_so(app, make_user):
    apply_import(preview_csv("stores", [STORE_HEADER, WEST_LAKE]), make_user(Role.OPERATOR))
    store = db.session.scalar(select(Store))
    assert store.geocode_status == GeocodeStatus.IMPORTED


def test_lead_and_session_sheets_say_their_title_was_skipped(app, make_user):
    from matrix.leads.lead_import import preview_lead_import
    from matrix.live.session_import import preview_session_import

    leads = preview_lead_import(read_table(csv_bytes([["线索导出"], ["手机号", "城市"], ["13800138000", "杭州"]]), "l.csv"))
    assert leads.ok and "线索导出" in leads.notes[0]
    sessions = preview_session_import(read_table(csv_bytes([["直播排期"], ["平台", "账号", "日期", "开始时间", "结束时间",
                                                                          "标题", "主播"], ["抖音", "x", "", "", "", "", ""]]),
                                                 "s.csv"), actor=make_user(Role.OPERATOR))
    assert "直播排期" in sessions.notes[0]


def test_answering_the_brand_question_through_the_pages(app, client, make_user):
    from browser import Browser

    first, second = brands("林氏家居", "林氏木业")
    user = make_user(Role.OPERATOR)
    browser = Browser(client)
    login = browser.open("/login")
    browser.submit(login.form(having="username"), {"username": user.username, "password": "correct-horse-battery"})
    page = browser.open("/imports/")
    preview = browser.submit(page.form(action="/imports/", having="file"), {"kind": "stores"},
                             files={"file": (io.BytesIO(csv_bytes([STORE_HEADER, WEST_LAKE, BINJIANG])), "s.csv")})
    answered = browser.submit(preview.form(having="brand"), {"brand": str(second.id)})
    done = browser.submit(answered.form(action="/confirm"))
    assert done.status == 200 and "flash-success" in done.html
    assert {s.brand_id for s in db.session.scalars(select(Store))} == {second.id}
