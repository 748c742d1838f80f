"""XLSX bombs: the archive is checked before openpyxl parses it, and rows stop at their caps while read.

The issue's files: 205 KB holding 4 M cells (64 s, 2.8 GB) and 409 KB holding one 400 MB string
(1.9 GB). Each runs in a child capped at 256 MB and 10 s (tests/capped.py).
"""
import pytest

import xlsx_bombs
from capped import run_capped
from matrix.imports import readers, xlsx
from matrix.imports.readers import BadFile, read_table


def refusal(data: bytes) -> str:
    try:
        table = read_table(data, "bomb.xlsx")
    except BadFile as e:
        return e.message
    return f"read {len(table.rows)} rows"


@pytest.mark.parametrize("build, words", [
    (xlsx_bombs.many_cells, "packed 500 times"),
    (lambda: xlsx_bombs.many_cells(value=b""), "packed"),   # 4 M blank cells: no header ever comes
    (xlsx_bombs.huge_string, "unpacks to more than 200 MB"),
])
def test_the_issues_bombs_are_refused_within_256_mb_and_10_s(app, build, words):
    data = build()
    assert len(data) < 500_000
    outcome = run_capped(refusal, data)
    assert outcome.ok, outcome
    assert words in outcome.value and outcome.value.startswith("The Excel file was refused")
    assert outcome.seconds < 2 and outcome.grown_mb < 64


def test_shared_strings_have_their_own_cap(app, monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_SHARED_STRINGS", 1000)
    assert "sharedStrings.xml unpacks to more than" in refusal(xlsx_bombs.shared_text("好" * 1000))


def test_the_declared_dimension_is_checked_before_parsing(app):
    data = xlsx_bombs.rows((1, ["code"]), (2, ["A1"]), dimension="A1:XFD1048576")
    assert "declares 1048576 rows × 16384 columns" in refusal(data)


def test_cells_are_counted_before_parsing_when_no_dimension_says(app, monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_CELLS", 1000)
    data = xlsx_bombs.rows(*[(n, [f"v{n}-{i}" for i in range(10)]) for n in range(1, 102)])
    assert "more than 1000 cells" in refusal(data)
    monkeypatch.setattr(xlsx, "MAX_CELLS", 1010)
    assert refusal(data) == "read 100 rows"


def test_a_text_longer_than_a_cell_can_hold_is_refused_before_parsing(app):
    data = xlsx_bombs.rows((1, ["code"]), (2, ["x" * 300_000]))  # 300 KB: under the ratio check's 1 MB
    assert "a text of more than 32767 characters" in refusal(data)


def test_a_shared_string_longer_than_a_cell_can_hold_is_refused_while_reading(app):
    assert "holds more than 32767 characters" in refusal(xlsx_bombs.shared_text("y" * 40_000))


def test_blank_rows_count_while_reading(app, monkeypatch):
    # 999 blank rows (openpyxl fills the gaps) between data rows: never a run of 1,000, yet endless.
    monkeypatch.setattr(readers, "MAX_ROWS_READ", 5_000)
    data = xlsx_bombs.rows((1, ["code"]), *[(2 + 1000 * n, [f"S{n}"]) for n in range(10)])
    assert "more than 5000 rows, blank ones included" in refusal(data)
    monkeypatch.setattr(readers, "MAX_ROWS_READ", 20_000)
    assert refusal(data) == "read 10 rows"


def test_columns_stop_at_the_cap_while_reading(app):
    data = xlsx_bombs.rows((1, ["code", "name"]), (2, ["A1", "西湖店"] + ["x"] * 16000))
    table = read_table(data, "wide.xlsx")
    assert table.rows == [["A1", "西湖店"] + ["x"] * (readers.MAX_COLUMNS - 2)]
