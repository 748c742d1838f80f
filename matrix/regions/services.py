"""Load the region table and match the city and district names people write."""
import csv
import re
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, func, insert, select

from flask_babel import gettext as _

from matrix.errors import DomainError
from matrix.extensions import db
from matrix.geo import gcj02_to_wgs84
from matrix.regions.models import Region, RegionLevel

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "cn_regions.csv"
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县",
             "地区", "新区", "林区", "省", "市", "区", "县", "盟", "旗", "州")
# 大理白族自治州 is called 大理: drop the peoples named before 自治州/自治县.
_PEOPLES = ("蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家",
            "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜",
            "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒",
            "鄂温克", "德昂", "保安", "裕固", "京", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺")
_PEOPLE_SUFFIXES = sorted([p + "族" for p in _PEOPLES] + ["蒙古"], key=len, reverse=True)


def short_name(name: str) -> str:
    """杭州市 -> 杭州, 西湖区 -> 西湖, 大理白族自治州 -> 大理; two-character names stay whole (和县)."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            name = name[: -len(suffix)]
            break
    stripped = True
    while stripped:
        stripped = False
        for people in _PEOPLE_SUFFIXES:
            if name.endswith(people) and len(name) - len(people) >= 2:
                name, stripped = name[: -len(people)], True
                break
    return name


def load_regions() -> int:
    """Replace the region table with the shipped data set; returns the row count."""
    rows = []
    with DATA_FILE.open(encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            lon = lat = None
            if rec["lon_gcj02"]:
                lon, lat = gcj02_to_wgs84(float(rec["lon_gcj02"]), float(rec["lat_gcj02"]))
            rows.append({"code": rec["code"], "name": rec["name"], "short_name": short_name(rec["name"]),
                         "level": RegionLevel(rec["level"]), "parent_code": rec["parent_code"] or None,
                         "lon": lon, "lat": lat})
    existing = db.session.scalar(select(func.count()).select_from(Region))
    if existing == len(rows):
        return existing
    if existing:
        db.session.execute(delete(Region))
    # Parents first, so the self-reference holds on PostgreSQL.
    order = {RegionLevel.PROVINCE: 0, RegionLevel.CITY: 1, RegionLevel.DISTRICT: 2}
    db.session.execute(insert(Region), sorted(rows, key=lambda r: order[r["level"]]))
    db.session.commit()
    _index.cache_clear()
    return len(rows)


@lru_cache(maxsize=1)
def _index() -> dict:
    """Immutable lookups built once per process from the region table."""
    regions = db.session.scalars(select(Region)).all()
    by_code = {r.code: (r.code, r.name, r.short_name, r.level, r.parent_code, r.lon, r.lat) for r in regions}
    cities: dict[str, list[str]] = {}
    districts: dict[str, dict[str, str]] = {}
    for code, name, short, level, parent, *_ in by_code.values():
        if level == RegionLevel.CITY:
            for key in {name, short}:
                cities.setdefault(key, []).append(code)
        elif level == RegionLevel.DISTRICT and parent:
            for key in {name, short}:
                districts.setdefault(parent, {})[key] = code
    return {"by_code": by_code, "cities": cities, "districts": districts}


def clear_cache() -> None:
    _index.cache_clear()


def region_rows() -> dict[str, tuple]:
    """Every region by code as (code, name, short_name, level, parent_code, lon, lat); one dict per cache build."""
    return _index()["by_code"]


def region_name(code: str | None) -> str:
    if not code:
        return ""
    row = _index()["by_code"].get(code)
    return row[1] if row else code


def region_centre(code: str) -> tuple[float, float] | None:
    row = _index()["by_code"].get(code)
    return (row[5], row[6]) if row and row[5] is not None else None


def find_city(text: str) -> str:
    """The city code for a name or code such as 杭州, 杭州市, 浙江杭州 or 330100."""
    text = (text or "").strip()
    if not text:
        raise DomainError(_("The city is empty."))
    idx = _index()
    if re.fullmatch(r"\d{6}", text):
        row = idx["by_code"].get(text)
        if row and row[3] == RegionLevel.CITY:
            return text
        if row and row[3] == RegionLevel.DISTRICT:
            return row[4]
        raise DomainError(_("Unknown city code %(code)s.", code=text))
    codes = idx["cities"].get(text) or idx["cities"].get(short_name(text))
    if not codes:
        # "浙江杭州" or "浙江省杭州市": the longest city name contained in the text wins.
        # The city follows its province (吉林省延边州), so among the longest names the last wins.
        hits = sorted((k for k in idx["cities"] if len(k) >= 2 and k in text),
                      key=lambda k: (len(k), text.rfind(k)), reverse=True)
        codes = idx["cities"][hits[0]] if hits else []
    if len(codes) == 1:
        return codes[0]
    if not codes:
        raise DomainError(_("Unknown city “%(name)s”.", name=text))
    raise DomainError(_("City “%(name)s” is ambiguous: %(options)s.", name=text,
                         options=", ".join(f"{region_name(c)} ({c})" for c in codes)))


def find_district(city_code: str, text: str) -> str | None:
    """The district code of `text` inside the city, or None for an empty text."""
    text = (text or "").strip()
    if not text:
        return None
    idx = _index()
    row = idx["by_code"].get(text)
    if row and row[3] == RegionLevel.DISTRICT:
        if row[4] != city_code:
            raise DomainError(_("District %(code)s is not in %(city)s.", code=text, city=region_name(city_code)))
        return text
    inside = idx["districts"].get(city_code, {})
    code = inside.get(text) or inside.get(short_name(text))
    if code is None:
        raise DomainError(_("Unknown district “%(name)s” in %(city)s.", name=text, city=region_name(city_code)))
    return code


def districts_of(city_code: str) -> list[tuple[str, str]]:
    rows = _index()["by_code"].values()
    return sorted(((r[0], r[1]) for r in rows if r[4] == city_code and r[3] == RegionLevel.DISTRICT))


def cities() -> list[tuple[str, str]]:
    rows = _index()["by_code"].values()
    return sorted(((r[0], r[1]) for r in rows if r[3] == RegionLevel.CITY))
