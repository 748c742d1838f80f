"""What a trailer says: the variables its sandboxed template may read, and the time it announces."""
from datetime import date, datetime
from functools import lru_cache

from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _

from matrix.chain import chain_language
from matrix.live.timing import clock
from matrix.sandbox.engine import CompiledFields, ContentEnvironment, compile_fields

TEXT_FIELDS = ("topic", "caption", "hashtags")

# The names a trailer template may read, with the example values its preview and help use.
TRAILER_VARIABLES = {
    "title": "冬季新品直播", "theme": "羽绒被、床品四件套", "anchor": "李娜",
    "start_date": date(2026, 11, 28), "start_time": "19:00", "end_time": "21:00", "starts_label": "11月28日 19:00",
    "weekday": 6, "offset": "1天", "hours_before": 24, "start_day": "明天", "host_account": "@qimu_hz_xihu", "platform": "抖音",
    "brand": "栖木家居", "store_name": "栖木家居·杭州西湖店", "store_code": "HZ-001", "city": "杭州市",
    "district": "西湖区", "address": "文三路100号", "phone": "0571-88880000",
    "community_name": "栖木家居·杭州西湖店1群", "community_link": "https://work.weixin.qq.com/…",
}
TRAILER_ENV = ContentEnvironment(names=TRAILER_VARIABLES)



def starts_label(start: datetime) -> str:
    """“11月28日 19:00” in Chinese, “Nov 28, 19:00” otherwise: the time a trailer announces."""
    if get_locale() and get_locale().language == "zh":
        return f"{start.month}月{start.day}日 {clock(start)}"
    return format_datetime(start, "MMM d, HH:mm")


def start_day(post_day: date, start: date) -> str:
    """How a trailer posted on `post_day` names the session's day: today, tomorrow, the weekday or the date.

    Per step, so one rule reads right at every step (“今天14:00” only on the day itself)."""
    days = (start - post_day).days
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    if days == 2:
        return _("the day after tomorrow")
    if 2 < days < 7:
        return format_date(start, "EEEE")
    return f"{start.month}月{start.day}日" if get_locale() and get_locale().language == "zh" else format_date(start, "MMM d")


def chain_text(message_factory):
    """Stored notes are written in the chain's language, whoever triggered them."""
    with chain_language():
        return message_factory()


@lru_cache(maxsize=32)
def compiled_texts(texts: tuple[str, str, str], _locale: str) -> CompiledFields:
    """A rule's texts compiled; cached by text (and by locale, which compile errors are written in)."""
    return compile_fields(dict(zip(TEXT_FIELDS, texts)), TRAILER_ENV)
