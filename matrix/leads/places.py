"""Read the city and district out of place text as people (and lead forms) write it.

"杭州市西湖区", "杭州 西湖", "浙江杭州", "浙江省杭州市西湖区文三路", "西湖区" with city "杭州",
Ocean Engine's free-text `location` ("浙江省+杭州市", "浙江-杭州-西湖区") and "北京市朝阳区"
(Beijing's 朝阳区, not Liaoning's 朝阳市). Names are read from the left of each field until the
street part begins; then the city that the most names agree on wins. A district name found in
several cities with nothing else to tell them apart gives no city: guessing would send the lead
to the wrong store. Pure functions over the region data cached per process.
"""
import re
from dataclasses import dataclass

from matrix.regions import services as regions
from matrix.regions.models import RegionLevel

_SEPARATORS = re.compile(r"[\s+\-_/|,，、;；·:：()（）\[\]【】]+")
_COUNTRY = ("中华人民共和国", "中国")


@dataclass(frozen=True)
class _Names:
    rows: dict                                   # the region rows this lookup was built from
    by_name: dict[str, list[tuple[str, bool]]]   # name -> [(code, is a short name)]
    longest: int


_built: _Names | None = None


def _names() -> _Names:
    """Name lookups, rebuilt when the region cache is (region_rows returns a new dict then)."""
    global _built
    rows = regions.region_rows()
    if _built is None or _built.rows is not rows:
        by_name: dict[str, list[tuple[str, bool]]] = {}
        for code, name, short, *_ in rows.values():
            by_name.setdefault(name, []).append((code, False))
            if short != name and len(short) >= 2:
                by_name.setdefault(short, []).append((code, True))
        _built = _Names(rows, by_name, max(map(len, by_name), default=2))
    return _built


def parse_place(province: str | None, city: str | None, text: str | None) -> tuple[str | None, str | None]:
    """(city code, district code) named by a lead's province, city and district/address fields; None if unknown."""
    names = _names()
    matches: list[set[str]] = []
    for field in (province, city, text):
        matches += _scan(field or "", names, matches)
    return _resolve(matches, names.rows)


def _scan(field: str, names: _Names, before: list[set[str]]) -> list[set[str]]:
    """Region names at the start of a field, in order; stops where the street address begins."""
    text = _SEPARATORS.sub(" ", field).strip()
    for country in _COUNTRY:
        if text.startswith(country):
            text = text[len(country):].lstrip()
    if re.fullmatch(r"\d{6}", text):
        return [{text}] if text in names.rows else []
    found: list[set[str]] = []
    cities = {c for codes in before for c in codes if names.rows[c][3] == RegionLevel.CITY}
    pos = 0
    while pos < len(text):
        if text[pos] == " ":
            pos += 1
            continue
        hit = _match_at(text, pos, names, cities)
        if hit is None:
            break
        codes, pos = hit
        found.append(codes)
        cities |= {c for c in codes if names.rows[c][3] == RegionLevel.CITY}
    return found


def _match_at(text: str, pos: int, names: _Names, cities: set[str]) -> tuple[set[str], int] | None:
    """The longest region name starting at `pos` (short names only where they cannot be a street's)."""
    for length in range(min(names.longest, len(text) - pos), 1, -1):
        entries = names.by_name.get(text[pos:pos + length])
        if not entries:
            continue
        end = pos + length
        codes = {code for code, short in entries if not short}
        shorts = {code for code, short in entries if short}
        if shorts and (codes or _boundary(text, end, names)):
            codes |= shorts
        else:
            # "西湖文三路" after 杭州: a short name right before other text counts only inside a known city.
            codes |= {c for c in shorts if names.rows[c][4] in cities}
        if codes:
            return codes, end
    return None


def _boundary(text: str, end: int, names: _Names) -> bool:
    """A short name ends a word when the text ends, a separator follows, or another region name does
    ("南京路" is a street, "杭州西湖" two places)."""
    if end >= len(text) or text[end] == " ":
        return True
    return any(text[end:end + n] in names.by_name for n in range(2, min(names.longest, len(text) - end) + 1))


def _resolve(matches: list[set[str]], rows: dict) -> tuple[str | None, str | None]:
    """The city most names agree with (a named city beats one implied by a district), and its district."""
    candidates = set()
    for codes in matches:
        for code in codes:
            level, parent = rows[code][3], rows[code][4]
            if level == RegionLevel.CITY:
                candidates.add(code)
            elif level == RegionLevel.DISTRICT and parent:
                candidates.add(parent)
    scored = []
    for city in candidates:
        province, agree, named, district = rows[city][4], 0, False, None
        for codes in matches:
            if city in codes:
                agree, named = agree + 1, True
                continue
            inside = [c for c in codes if rows[c][3] == RegionLevel.DISTRICT and rows[c][4] == city]
            if inside:
                agree += 1
                if district is None and len(inside) == 1:
                    district = inside[0]
            elif province in codes:
                agree += 1
        scored.append(((agree, named), city, district))
    if not scored:
        return None, None
    scored.sort(reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None, None
    return scored[0][1], scored[0][2]
