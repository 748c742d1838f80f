"""Long POI ids through a spreadsheet: exports keep them as text, an import never takes a rounded one for a change."""
import io

import pytest
from openpyxl import Workbook, load_workbook
from samples import preview_csv

from matrix.auth.models import Role
from matrix.imports.exports import export_table, to_csv, to_xlsx
from matrix.imports.identifiers import check_long_identifier
from matrix.imports.preview import preview_import
from matrix.imports.readers import read_table

POI = "9786693996606481"
HEADER = ["平台", "账号类型", "门店编码", "抖音号", "POI ID"]


@pytest.fixture
def shop(app, make_store, make_account, make_user):
    store = make_store(code="HZ-001")
    make_account(store, handle="hz_xihu", poi_id=POI)
    return {"store": store, "hq": make_user(Role.OPERATOR)}


@pytest.mark.parametrize("value, stored, expected", [
    ("9.78669399660648E+015", POI, POI),          # a CSV opened and saved
    ("9.78669399660648e+15", POI, POI),
    (9786693996606480, POI, POI),                 # an XLSX saved: the 16th digit is gone
    (9.78669399660648e15, POI, POI),              # a float cell
    ("9786693996606480", POI, POI),               # the number written out in full
    ("9786693996606481", POI, POI),               # untouched
    ("1234567890123450", POI, "1234567890123450"),  # another id that happens to end in 0: a real change
    (123456789012345, None, "123456789012345"),   # 15 digits survive a number cell
    ("B001", None, "B001"),
])
def test_a_rounded_id_keeps_the_stored_one(value, stored, expected):
    checked = check_long_identifier(value, stored)
    assert checked.value == expected and checked.error is None
    assert (checked.warning is not None) == (expected == stored and str(value) != stored)


@pytest.mark.parametrize("value", ["9.78669399660648E+015", 9786693996606480, 9.78669399660648e15])
def test_a_rounded_id_with_nothing_stored_is_refused(value):
    checked = check_long_identifier(value, None)
    assert checked.value is None and "lost digits" in checked.error


def test_the_csv_export_keeps_the_id_as_text_and_imports_back_unchanged(shop):
    data = to_csv(*export_table("accounts", shop["hq"]))
    assert f'"=""{POI}"""'.encode() in data        # ="9786693996606481": text when Excel opens it
    preview = preview_import("accounts", read_table(data, "accounts.csv"))
    assert [r.status for r in preview.rows] == ["unchanged"]


def test_the_xlsx_export_writes_the_id_as_a_text_cell(shop):
    headers, rows = export_table("accounts", shop["hq"])
    sheet = load_workbook(io.BytesIO(to_xlsx(headers, rows))).active
    cell = next(c for c in sheet[2] if c.value == POI)
    assert (cell.value, cell.data_type, cell.number_format) == (POI, "s", "@")


def test_an_import_after_a_spreadsheet_save_changes_nothing_and_says_why(shop):
    rows = [HEADER, ["抖音", "门店号", "HZ-001", "hz_xihu", "9.78669399660648E+015"],
            ["抖音", "门店号", "HZ-001", "hz_new", "9.78669399660648E+015"]]
    kept, refused = preview_csv("accounts", rows).rows
    assert kept.status == "unchanged" and "rounded" in kept.warnings["poi_id"] and not kept.changes
    assert refused.status == "error" and "lost digits" in refused.errors["poi_id"]


def test_an_xlsx_number_cell_is_noticed(shop):
    book = Workbook()
    book.active.append(HEADER)
    book.active.append(["抖音", "门店号", "HZ-001", "hz_xihu", 9786693996606480])
    out = io.BytesIO()
    book.save(out)
    (row,) = preview_import("accounts", read_table(out.getvalue(), "accounts.xlsx")).rows
    assert row.status == "unchanged" and "poi_id" in row.warnings
