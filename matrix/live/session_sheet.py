"""The live-session sheet: its columns, and its cells read as chains write them (Excel dates and times, @handles)."""
from datetime import date, datetime, time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matrix.imports.headers import Column, header_lookup, map_headers
from matrix.imports.readers import BadFile, Table

MAX_ROWS = 5_000  # every row is conflict-checked and gets its trailers inside the confirm request
KIND = "live_sessions"  # the ImportUpload kind: another import's token does not open here
# The header each column is written with in the template is part of the file format, so not translated.
COLUMNS = [
    Column("platform", "平台", _l("Platform"), ("直播平台", "platform")),
    Column("handle", "账号", _l("Account (handle)"),
           ("直播账号", "抖音号", "快手号", "视频号id", "小红书号", "账号id", "handle", "account", "accountid")),
    Column("day", "日期", _l("Day"), ("直播日期", "开播日期", "day", "date")),
    Column("start", "开始时间", _l("Start"), ("开始", "开播时间", "start", "starttime", "from")),
    Column("end", "结束时间", _l("End"), ("结束", "下播时间", "end", "endtime", "to")),
    Column("title", "标题", _l("Title"), ("直播标题", "title")),
    Column("theme", "主题", _l("Theme or products"), ("主题或商品", "商品", "直播主题", "theme", "products")),
    Column("anchor", "主播", _l("Anchor"), ("主播姓名", "anchor", "host")),
    Column("rule", "预告规则", _l("Trailer rule"), ("规则", "预告", "rule", "trailerrule")),
]
REQUIRED = ("platform", "handle", "day", "start", "end", "title", "anchor")
EXAMPLE = {"platform": "抖音", "handle": "@qimu_hz_xihu", "day": "2026-11-28", "start": "19:00", "end": "21:00",
           "title": "冬季新品直播", "theme": "羽绒被、床品四件套", "anchor": "李娜", "rule": ""}
LABELS = {c.field: c.label for c in COLUMNS}
_LOOKUP = header_lookup(COLUMNS)
def guess_mapping(headers: list[str]) -> dict[int, str]:
    """Column index -> field for every recognised header of this file kind."""
    return map_headers(headers, _LOOKUP)


def check_table(table: Table) -> dict[int, str]:
    """The column mapping of an uploaded table; raises BadFile for missing columns or too many rows."""
    mapping = guess_mapping(table.headers)
    missing = [c.header for c in COLUMNS if c.field in REQUIRED and c.field not in mapping.values()]
    if missing:
        raise BadFile(_("The first row must hold the column names. Missing: %(columns)s. Download the template "
                        "to see them all.", columns="、".join(missing)))
    if len(table.rows) > MAX_ROWS:
        raise BadFile(_("The file has %(n)d rows; at most %(max)d sessions are imported at once. Split it into "
                        "several files.", n=len(table.rows), max=MAX_ROWS))
    return mapping


def handle_cell(value) -> str:
    return str(value or "").strip().lstrip("@").strip()


def text_cell(value) -> str:
    """A cell as the report shows it: dates as 2026-11-28, times as 19:00."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat() if isinstance(value, date) else value.strftime("%H:%M")
    return "" if value is None else str(value).strip()


def day_cell(value):
    """A date cell (Excel gives a date) or text: 2026-11-28, 2026/11/28 and 2026.11.28 are read."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    parts = text.replace("/", "-").replace(".", "-").split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):  # 2026-1-5 as Excel users write it
        return f"{int(parts[0]):04d}-{int(parts[1]):02d}-{int(parts[2]):02d}"
    return text or None


def clock_cell(value) -> str:
    """A time cell (Excel gives a time or a fraction of a day) or text: 19:00:00 is read as 19:00."""
    if isinstance(value, (time, datetime)):
        return value.strftime("%H:%M")
    if isinstance(value, float) and 0 <= value < 1:
        minutes = round(value * 24 * 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    text = str(value or "").strip()
    if text.count(":") == 2 and text.endswith((":00", ":0")):
        text = text.rsplit(":", 1)[0]
    return text


def template_headers() -> list[str]:
    return [c.header for c in COLUMNS]
