"""Clean what HQ types for a campaign: slots, cadence, store scope, platforms, dates."""
import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from matrix.accounts.models import Platform
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.content.models import ContentKind, StoreScope
from matrix.regions import services as regions
from matrix.stores.models import Store

MAX_SLOTS = 12
MAX_TAG = 40
_SEPARATORS = re.compile(r"[\s,;，；、]+")
_SLOT = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def split_list(text: str | list | None) -> list[str]:
    """Items as people paste them: commas (also Chinese ones), semicolons, spaces or new lines."""
    if isinstance(text, list):
        return [str(t).strip() for t in text if str(t).strip()]
    return [part for part in _SEPARATORS.split(text or "") if part]


def clean_slots(text: str | list | None) -> list[str]:
    """"12:00, 18:00, 20:30" -> ["12:00", "18:00", "20:30"]: valid times, sorted, no duplicates."""
    slots = set()
    for part in split_list(text):
        match = _SLOT.match(part)
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise DomainError(_("“%(slot)s” is not a time such as 18:30.", slot=part), field="slots")
        slots.add(f"{int(match.group(1)):02d}:{match.group(2)}")
    if not slots:
        raise DomainError(_("Give at least one posting slot, such as 12:00."), field="slots")
    if len(slots) > MAX_SLOTS:
        raise DomainError(_("Give at most %(n)d posting slots.", n=MAX_SLOTS), field="slots")
    return sorted(slots)


def clean_cadence(cadence: dict, slots: list[str]) -> dict[str, int]:
    """Items per account per week by kind; at least one, at most one per slot and day."""
    out = {}
    for kind in ContentKind:
        value = cadence.get(kind.value) or 0
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise DomainError(_("The weekly number must be a whole number."), field="cadence") from None
        if value < 0:
            raise DomainError(_("The weekly number cannot be negative."), field="cadence")
        if value:
            out[kind.value] = value
    total = sum(out.values())
    if total == 0:
        raise DomainError(_("Plan at least one item a week."), field="cadence")
    if total > 7 * len(slots):
        raise DomainError(_("%(total)d items a week do not fit in 7 days × %(slots)d slots: add slots or plan "
                            "fewer items.", total=total, slots=len(slots)), field="cadence")
    return out


def clean_dates(starts_on: date | None, ends_on: date | None) -> tuple[date, date]:
    if not starts_on or not ends_on:
        raise DomainError(_("Give the campaign's first and last day."), field="starts_on")
    if ends_on < starts_on:
        raise DomainError(_("The last day comes before the first day."), field="ends_on")
    return starts_on, ends_on


def clean_scope(scope: str, *, cities: list[str] | None = None, store_codes: str | list | None = None,
                tags: str | list | None = None) -> tuple[StoreScope, list]:
    """The scope and its values: city codes, store ids (from typed codes) or tags."""
    try:
        scope = StoreScope(scope or StoreScope.ALL)
    except ValueError:
        raise DomainError(_("Choose which stores the campaign covers."), field="store_scope") from None
    if scope == StoreScope.ALL:
        return scope, []
    if scope == StoreScope.CITY:
        codes = []
        for name in split_list(cities):
            try:
                codes.append(regions.find_city(name))
            except DomainError as e:
                raise DomainError(e.message, field="cities") from None
        if not codes:
            raise DomainError(_("Choose at least one city."), field="cities")
        return scope, sorted(set(codes))
    if scope == StoreScope.LIST:
        return scope, _store_ids(split_list(store_codes))
    values = sorted({clean_tag(t) for t in split_list(tags)})
    if not values:
        raise DomainError(_("Give at least one store tag."), field="tags")
    return scope, values


def _store_ids(codes: list[str]) -> list[int]:
    if not codes:
        raise DomainError(_("Give at least one store code."), field="store_codes")
    found: dict[str, int] = {}
    for start in range(0, len(codes), 900):  # stay under SQLite's limit of bound parameters
        found.update(db.session.execute(select(Store.code, Store.id).where(
            Store.code.in_(codes[start:start + 900]), Store.archived_at.is_(None))).tuples().all())
    missing = [c for c in codes if c not in found]
    if missing:
        raise DomainError(_("Unknown store codes: %(codes)s.", codes=", ".join(missing[:20])), field="store_codes")
    return sorted(set(found.values()))


def clean_tag(tag: str) -> str:
    tag = (tag or "").strip().lstrip("#")
    if not tag or len(tag) > MAX_TAG:
        raise DomainError(_("A tag has 1 to %(n)d characters.", n=MAX_TAG), field="tags")
    return tag


def clean_platforms(platform_ids: list[int] | None) -> list[int]:
    """Platform ids that exist; an empty list means every enabled platform."""
    ids = sorted({int(p) for p in platform_ids or []})
    known = set(db.session.scalars(select(Platform.id).where(Platform.id.in_(ids)))) if ids else set()
    if set(ids) - known:
        raise DomainError(_("Unknown platform."), field="platform_ids")
    return ids


def clean_spacing(value) -> float:
    try:
        km = float(value or 0)
    except (TypeError, ValueError):
        raise DomainError(_("The spacing is a distance in km, such as 3."), field="spacing_km") from None
    if not 0 <= km <= 100:
        raise DomainError(_("The spacing is between 0 and 100 km."), field="spacing_km")
    return km
