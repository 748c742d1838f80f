"""What a poster's words may say: the sandboxed variables of HQ's poster template, its sizes and colours."""
from functools import lru_cache

from flask_babel import lazy_gettext as _l

from matrix.sandbox.engine import CompiledFields, ContentEnvironment, compile_fields

SIZES = {"A4": _l("A4 (210 × 297 mm)"), "A5": _l("A5 (148 × 210 mm)")}
# The brand's look comes from a fixed palette: a class per colour, so no page needs an inline style.
ACCENTS = {"red": _l("Red"), "orange": _l("Orange"), "green": _l("Green"), "blue": _l("Blue"),
           "purple": _l("Purple"), "black": _l("Black")}
TEXT_FIELDS = ("poster_headline", "poster_body", "poster_footer")

# The names a poster template may read, with the example values its help and preview use.
POSTER_VARIABLES = {
    "store_name": "栖木家居·杭州西湖店", "store_code": "HZ-001", "brand": "栖木家居", "city": "杭州市",
    "district": "西湖区", "address": "文三路100号", "phone": "0571-88880000", "opening_hours": "周一至周日 10:00-22:00",
    "next_live": "11月28日 19:00 冬季新品直播", "community_name": "栖木家居·杭州西湖店1群",
}
POSTER_ENV = ContentEnvironment(names=POSTER_VARIABLES)


@lru_cache(maxsize=16)
def compiled_texts(texts: tuple[str, str, str], _locale: str) -> CompiledFields:
    """The three texts compiled once; cached by text (and by locale, which compile errors are written in)."""
    return compile_fields(dict(zip(TEXT_FIELDS, texts)), POSTER_ENV)
