"""Turn what a person typed or a sheet held into clean store values, or say what is wrong.

Shared by the store form and the bulk import so both accept the same inputs.
"""
import re
from datetime import date, datetime

from flask_babel import gettext as _

from matrix import geo
from matrix.choices import Choices
from matrix.cleaning import CleanedValues
from matrix.errors import DomainError
from matrix.regions import services as regions
from matrix.stores.labels import STORE_STATUS_LABELS
from matrix.stores.models import GeocodeStatus, Store, StoreStatus

STATUS_WORDS = {
    "planned": StoreStatus.PLANNED, "筹备": StoreStatus.PLANNED, "筹备中": StoreStatus.PLANNED,
    "计划": StoreStatus.PLANNED, "待开业": StoreStatus.PLANNED, "规划中": StoreStatus.PLANNED,
    "open": StoreStatus.OPEN, "营业": StoreStatus.OPEN, "营业中": StoreStatus.OPEN, "正常营业": StoreStatus.OPEN,
    "开业": StoreStatus.OPEN, "已开业": StoreStatus.OPEN, "正常": StoreStatus.OPEN,
    "closed_temporarily": StoreStatus.CLOSED_TEMPORARILY, "暂停营业": StoreStatus.CLOSED_TEMPORARILY,
    "暂停": StoreStatus.CLOSED_TEMPORARILY, "临时关闭": StoreStatus.CLOSED_TEMPORARILY,
    "装修": StoreStatus.CLOSED_TEMPORARILY, "装修中": StoreStatus.CLOSED_TEMPORARILY,
    "歇业": StoreStatus.CLOSED_TEMPORARILY, "closed temporarily": StoreStatus.CLOSED_TEMPORARILY,
    "closed": StoreStatus.CLOSED, "关闭": StoreStatus.CLOSED, "已关闭": StoreStatus.CLOSED,
    "闭店": StoreStatus.CLOSED, "已闭店": StoreStatus.CLOSED, "关店": StoreStatus.CLOSED,
}
# What a status column may hold: the UI's words in both languages, the stored code, and the words above.
STATUS_CHOICES = Choices({s.value: s for s in StoreStatus}, labels=STORE_STATUS_LABELS, aliases=STATUS_WORDS)
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
PHONE_PATTERN = re.compile(r"^[0-9+\-() ]{5,40}$")
OPENING_HOURS_MAX = 120


class StoreValues(CleanedValues):
    """Clean values for a store; `errors` and `warnings` are keyed by field."""


def parse_status(text) -> StoreStatus:
    if isinstance(text, StoreStatus):
        return text
    if not str(text or "").strip():
        return StoreStatus.OPEN
    found = STATUS_CHOICES.find(text)
    if found is not None:
        return found
    raise DomainError(_("Unknown status “%(value)s”: use planned, open, closed temporarily or closed (筹备, 营业, 暂停营业, 关闭).", value=text))


def parse_date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    text = re.sub(r"(\d+)年(\d+)月(\d+)日?", r"\1-\2-\3", text)
    try:
        y, m, d = (int(p) for p in text.split(" ")[0].split("-"))
        return date(y, m, d)
    except (ValueError, TypeError):
        raise DomainError(_("“%(value)s” is not a date; write it as 2024-05-01.", value=value)) from None


def parse_float(value, label: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(str(value).strip().replace("，", "."))
    except ValueError:
        raise DomainError(_("%(field)s “%(value)s” is not a number.", field=label, value=value)) from None


def clean_store(raw: dict) -> StoreValues:
    """Validate raw fields (strings, or typed values from a form) into store values."""
    out = StoreValues()
    v, err = out.values, out.errors

    def attempt(name, fn):
        try:
            out.attempt(name, fn)
        except geo.CoordinateError as e:
            err[name] = str(e.args[0])

    code = str(raw.get("code") or "").strip()
    if not code:
        err["code"] = _("The store code is required.")
    elif not CODE_PATTERN.match(code):
        err["code"] = _("Store code “%(code)s” may hold letters, digits, “-”, “_” and “.”, up to 40.", code=code)
    v["code"] = code
    v["name"] = str(raw.get("name") or "").strip()
    if not v["name"]:
        err["name"] = _("The store name is required.")
    attempt("city_code", lambda: regions.find_city(str(raw.get("city") or "")))
    if "city_code" in v:
        attempt("district_code", lambda: regions.find_district(v["city_code"], str(raw.get("district") or "")))
    v["address"] = str(raw.get("address") or "").strip()
    attempt("status", lambda: parse_status(raw.get("status")))
    attempt("opened_on", lambda: parse_date(raw.get("opened_on")))
    attempt("service_radius_km", lambda: _radius(raw.get("service_radius_km")))
    phone = str(raw.get("phone") or "").strip()
    if phone and not PHONE_PATTERN.match(phone):
        err["phone"] = _("Phone “%(value)s” may hold digits, spaces, “+”, “-” and brackets.", value=phone)
    v["phone"] = phone or None
    hours = " ".join(str(raw.get("opening_hours") or "").split())
    if len(hours) > OPENING_HOURS_MAX:
        err["opening_hours"] = _("This text is too long: at most %(n)d characters.", n=OPENING_HOURS_MAX)
    v["opening_hours"] = hours or None
    _clean_point(raw, out)
    return out


def _radius(value) -> float:
    radius = parse_float(value, _("Service radius"))
    if radius is None:
        return 3.0
    if not 0.1 <= radius <= 100:
        raise DomainError(_("The service radius must be between 0.1 and 100 km."))
    return radius


def _clean_point(raw: dict, out: StoreValues) -> None:
    try:
        lon = parse_float(raw.get("lon"), _("Longitude"))
        lat = parse_float(raw.get("lat"), _("Latitude"))
        system = geo.parse_system(raw.get("coord_system"))
    except (DomainError, geo.CoordinateError) as e:
        out.errors["lon"] = getattr(e, "message", None) or str(e.args[0])
        return
    if lon is None and lat is None:
        out.values.update(lon=None, lat=None)
        return
    if lon is None or lat is None:
        out.errors["lon"] = _("Give both longitude and latitude, or neither.")
        return
    try:
        point = geo.to_wgs84(lon, lat, system)
    except geo.CoordinateError as e:
        out.errors["lon"] = str(e.args[0])
        return
    out.values.update(lon=round(point.lon, 7), lat=round(point.lat, 7))
    centre = regions.region_centre(out.values.get("city_code") or "")
    if centre and _rough_km(centre, (point.lon, point.lat)) > 150:
        out.warnings["lon"] = _("The point is more than 150 km from the centre of %(city)s: check the city and the coordinate system.",
                                city=regions.region_name(out.values["city_code"]))


def _rough_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    import math
    dx = (a[0] - b[0]) * 111.32 * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot(dx, (a[1] - b[1]) * 110.57)


# Prefilled coordinates come back through another system; below this they were not edited.
ROUND_TRIP_DEGREES = 1e-6


def keep_untouched_point(store: Store, values: dict) -> None:
    """Coordinates sent back as prefilled are not an edit: keep the stored point exactly.

    A geocoded point left alone stays "geocoded" (or is found again for a new address).
    """
    if values.get("lon") is None or not store.has_point:
        return
    if abs(values["lon"] - store.lon) < ROUND_TRIP_DEGREES and abs(values["lat"] - store.lat) < ROUND_TRIP_DEGREES:
        if store.geocode_status == GeocodeStatus.GEOCODED:
            values.update(lon=None, lat=None)
        else:
            values.update(lon=store.lon, lat=store.lat)
