"""Turn an uploaded file (CSV in any encoding Excel writes, or XLSX) into a header and rows."""
import csv
import io
import re
from datetime import date, datetime

from flask_babel import gettext as _

from matrix.imports.tables import BadFile, Table
from matrix.imports.xlsx import read_rows

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLUMNS = 200
# Excel keeps formatting on thousands of blank rows below the data; that many in a row means the end.
BLANK_RUN_END = 1000
MAX_ROWS_READ = 2 * MAX_ROWS  # rows looked at, blank ones included
TITLE_ROWS = 5  # title and note lines people put above the column names
DELIMITERS = (",", ";", "\t")
# A leading apostrophe our CSV export adds so Excel does not run the cell as a formula.
_GUARDED = re.compile(r"^'(?=[=+\-@\t\r])")
# ="…": how our CSV export keeps long digits (POI ids) as text in Excel; the digits alone are the value.
_AS_TEXT = re.compile(r'^="(\d+)"$')


def read_table(data: bytes, filename: str = "") -> Table:
    """Read CSV (UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16) or XLSX bytes into a Table."""
    if len(data) > MAX_BYTES:
        raise BadFile(_("The file is larger than 20 MB; split it into several files."))
    if not data.strip():
        raise BadFile(_("The file is empty."))
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04" or name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or name.endswith(".xls"):
        raise BadFile(_("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV and upload that."))
    text, encoding = decode_text(data)
    return _read_csv(text, encoding)


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and the name of its encoding: UTF-8 (with or without BOM) first, then GB18030."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" export
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:4096]:
        raise BadFile(_("The file is not a text table (CSV) or an Excel workbook (.xlsx)."))
    try:
        text = data.decode("utf-8-sig")
        return text, "UTF-8 (BOM)" if data.startswith(b"\xef\xbb\xbf") else "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312: what Excel writes on Chinese Windows.
        return data.decode("gb18030"), "GB18030 (GBK)"
    except UnicodeDecodeError:
        raise BadFile(_("The file's characters could not be read: save it as CSV UTF-8 or as .xlsx.")) from None


def sniff_delimiter(first_line: str) -> str:
    """Comma, semicolon or tab: whichever the header line holds most of."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(text: str, encoding: str) -> Table:
    # The widest of the first lines: a title line above the header may hold no delimiter at all.
    first = max([line for line in text.splitlines()[:TITLE_ROWS + 1] if line.strip()] or [""],
                key=lambda line: max(line.count(d) for d in DELIMITERS))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first))
    try:
        return _collect(((reader.line_num, row) for row in reader), encoding)
    except csv.Error as e:
        raise BadFile(_("The CSV file is malformed near line %(line)d: %(reason)s", line=reader.line_num,
                        reason=str(e))) from None


def _read_xlsx(data: bytes) -> Table:
    return _collect(read_rows(data, max_columns=MAX_COLUMNS), "XLSX")


def _collect(numbered_rows, encoding: str) -> Table:
    """Take the first non-blank row as the header and the non-blank rows under it as data (titles skipped)."""
    headers: list[str] | None = None
    header_line = 0
    rows: list[list] = []
    lines: list[int] = []
    blank_run = 0
    for read, (line, raw) in enumerate(numbered_rows, start=1):
        if read > MAX_ROWS_READ:  # counted while reading: blank rows cost time too
            raise BadFile(_("The file has more than %(max)d rows, blank ones included; split it into several "
                            "files.", max=MAX_ROWS_READ))
        cells = [clean_cell(c) for c in raw[:MAX_COLUMNS]]
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            blank_run += 1
            if blank_run >= BLANK_RUN_END:  # the end of the data (or, before any header, an empty file)
                break
            continue
        blank_run = 0
        if headers is None:
            headers, header_line = [str(c) for c in cells], line
            continue
        if len(rows) >= MAX_ROWS:
            raise BadFile(_("The file has more than %(max)d rows; split it into several files.", max=MAX_ROWS))
        rows.append(cells)
        lines.append(line)
    if headers is None:
        raise BadFile(_("The file is empty."))
    titles = []
    while rows and _is_title(headers, rows[:TITLE_ROWS]):
        titles.append((header_line, str(next(c for c in headers if c != ""))))
        headers, header_line = [str(c) for c in rows.pop(0)], lines.pop(0)
    if not rows:
        raise BadFile(_("The file has a header row but no data rows."))
    width = max(len(headers), *(len(r) for r in rows))
    headers.extend("" for _ in range(width - len(headers)))
    return Table(headers=headers, rows=rows, encoding=encoding, lines=lines, titles=titles)


def _is_title(row: list, below: list[list]) -> bool:
    """A row with one filled cell (a merged title, a date note) above rows with several is not the header."""
    filled = sum(1 for c in row if c != "")
    return filled <= 1 and any(sum(1 for c in r if c != "") >= 2 for r in below)


def clean_cell(value):
    """Strings stripped; whole floats as ints (Excel stores 1001 as 1001.0); dates kept as dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, (int, float, date, datetime)):
        return value
    text = str(value).strip()
    as_text = _AS_TEXT.match(text)
    return as_text.group(1) if as_text else _GUARDED.sub("", text)
