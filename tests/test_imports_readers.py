"""Reading uploaded files: encodings, delimiters, XLSX, and the files we refuse."""
import io

import pytest
from openpyxl import Workbook

from matrix.imports.headers import guess_mapping, normalise_header, recognise
from matrix.imports.readers import MAX_ROWS, BadFile, read_table

HEADER = "门店编码,门店名称,城市,经度,纬度\n"
ROW = "HZ-001,杭州西湖店,杭州,120.15,30.27\n"


def xlsx_bytes(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("encoding, label", [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 (BOM)"),
                                             ("gbk", "GB18030 (GBK)"), ("gb18030", "GB18030 (GBK)"),
                                             ("utf-16", "UTF-16")])
def test_csv_encodings(app, encoding, label):
    table = read_table((HEADER + ROW).encode(encoding), "stores.csv")
    assert table.encoding == label
    assert table.headers == ["门店编码", "门店名称", "城市", "经度", "纬度"]
    assert table.rows == [["HZ-001", "杭州西湖店", "杭州", "120.15", "30.27"]]
    assert table.lines == [2]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed(app, delimiter):
    text = (HEADER + ROW).replace(",", delimiter)
    table = read_table(text.encode("gbk"), "stores.csv")
    assert table.rows[0][1] == "杭州西湖店"


def test_quoted_fields_blank_rows_and_line_numbers(app):
    text = '\n门店编码,详细地址\nA1,"西湖区, 文三路 1 号"\n\n,\nA2,"两行\n地址"\nA3,x\n'
    table = read_table(text.encode("utf-8"), "a.csv")
    assert table.rows[0] == ["A1", "西湖区, 文三路 1 号"]
    assert [r[0] for r in table.rows] == ["A1", "A2", "A3"]
    assert table.lines == [3, 7, 8]  # A2's quoted field spans lines 6 and 7


def test_formula_guard_apostrophe_is_dropped(app):
    table = read_table("门店编码,电话\nA1,'+86 571 8888\n".encode(), "a.csv")
    assert table.rows[0][1] == "+86 571 8888"


def test_xlsx_first_sheet_typed_cells(app):
    data = xlsx_bytes([["门店编码", "门店名称", "经度", "开业日期"], ["A1", " 西湖店 ", 120.15, "2024-05-01"],
                       [None, None, None, None], [1001.0, "数字编码", 120, None]])
    table = read_table(data, "stores.xlsx")
    assert table.encoding == "XLSX"
    assert table.rows[0] == ["A1", "西湖店", 120.15, "2024-05-01"]
    assert table.rows[1] == [1001, "数字编码", 120]
    assert table.lines == [2, 4]


@pytest.mark.parametrize("data, name, words", [
    (b"", "a.csv", "empty"),
    (b"\n\n ,,\n", "a.csv", "empty"),
    ("门店编码,门店名称\n".encode(), "a.csv", "no data rows"),
    (b"PK\x03\x04 this is no workbook", "a.xlsx", "could not be opened"),
    (b"not a zip at all", "a.xlsx", "could not be opened"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "a.xls", ".xls"),
    (b"\x00\x01\x02binary\x00", "a.csv", "not a text table"),
    (b"\x81\x30\xff\xfe\x80", "a.csv", "could not be read"),
])
def test_bad_files_are_refused(app, data, name, words):
    with pytest.raises(BadFile) as e:
        read_table(data, name)
    assert words in e.value.message


def test_too_large_and_too_many_rows(app):
    with pytest.raises(BadFile, match="20 MB"):
        read_table(b"a" * (20 * 1024 * 1024 + 1), "a.csv")
    rows = "".join(f"A{i},n\n" for i in range(MAX_ROWS + 1))
    with pytest.raises(BadFile, match="50000 rows"):
        read_table(("门店编码,门店名称\n" + rows).encode(), "a.csv")


@pytest.mark.parametrize("header, field", [
    ("门店编码", "code"), ("门店代码", "code"), ("Store Code", "code"), (" CODE* ", "code"),
    ("门店名", "name"), ("所在城市", "city"), ("区/县", "district"), ("县", "district"), ("地址", "address"),
    ("lng", "lon"), ("经度（GCJ-02）", "lon"), ("Latitude", "lat"), ("坐标系", "coord_system"),
    ("Coord System", "coord_system"), ("门店状态", "status"), ("服务半径(km)", "service_radius_km"),
    ("服务半径（公里）", "service_radius_km"), ("Opening date", "opened_on"), ("门店电话", "phone"),
    ("品牌", "brand"), ("店长", "managers"), ("备注", None),
])
def test_store_headers(header, field):
    assert recognise("stores", header) == field


@pytest.mark.parametrize("kind, header, field", [
    ("accounts", "账号类型", "scope"), ("accounts", "类型", "scope"), ("accounts", "抖音号", "handle"),
    ("accounts", "账号ID", "handle"), ("accounts", "账号名称", "display_name"), ("accounts", "POI ID", "poi_id"),
    ("accounts", "粉丝", "followers"), ("accounts", "负责人", "run_by"), ("accounts", "Profile URL", "profile_url"),
    ("communities", "群名", "name"), ("communities", "类型", "kind"), ("communities", "群人数", "members"),
    ("communities", "webhook", "robot_webhook_url"), ("communities", "启用", "active"),
    ("communities", "顺序", "rotation_order"), ("communities", "store code", "store_code"),
])
def test_account_and_community_headers(kind, header, field):
    assert recognise(kind, header) == field


def test_guess_mapping_keeps_a_field_on_its_first_column():
    assert guess_mapping("stores", ["门店编码", "备注", "编码", "名称"]) == {0: "code", 3: "name"}
    assert normalise_header("服务半径（km）") == normalise_header("服务半径 [公里]") == "服务半径"
