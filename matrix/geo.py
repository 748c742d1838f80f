"""Coordinates: the only module that converts coordinate systems (geocoding.py turns addresses into points).

Stores keep WGS-84. Chinese map services shift points: AMap and Tencent use GCJ-02,
Baidu uses BD-09 (a further shift of GCJ-02), several hundred metres in all. Every input
says its system; we convert on the way in and on the way out.
"""
import enum
import math
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from matrix.choices import Choices, normalise_choice


class CoordSystem(enum.StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


COORD_SYSTEM_LABELS = {
    CoordSystem.GCJ02: _l("GCJ-02 (AMap, Tencent)"),
    CoordSystem.BD09: _l("BD-09 (Baidu)"),
    CoordSystem.WGS84: _l("WGS-84 (GPS)"),
}

# Words operators put in a 坐标系 column.
COORD_SYSTEM_ALIASES = {
    "wgs84": CoordSystem.WGS84, "wgs-84": CoordSystem.WGS84, "wgs": CoordSystem.WGS84, "gps": CoordSystem.WGS84,
    "gcj02": CoordSystem.GCJ02, "gcj-02": CoordSystem.GCJ02, "gcj": CoordSystem.GCJ02, "高德": CoordSystem.GCJ02,
    "amap": CoordSystem.GCJ02, "gaode": CoordSystem.GCJ02, "腾讯": CoordSystem.GCJ02, "tencent": CoordSystem.GCJ02,
    "火星": CoordSystem.GCJ02, "国测局": CoordSystem.GCJ02,
    "bd09": CoordSystem.BD09, "bd-09": CoordSystem.BD09, "bd09ll": CoordSystem.BD09, "baidu": CoordSystem.BD09,
    "百度": CoordSystem.BD09,
}

# What a 坐标系 column may hold: the UI's words in both languages, the codes and the words above.
COORD_SYSTEM_CHOICES = Choices({s.value: s for s in CoordSystem}, labels=COORD_SYSTEM_LABELS,
                               aliases=COORD_SYSTEM_ALIASES)

# Mainland China, Hainan and the South China Sea islands; a rough box, but it catches
# the usual mistakes (swapped columns, a missing minus sign, zeros, a point abroad).
CHINA_LON = (73.4, 135.1)
CHINA_LAT = (3.8, 53.6)

_A = 6378245.0                 # Krasovsky 1940 semi-major axis, used by GCJ-02
_EE = 0.00669342162296594323   # its eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0


class CoordinateError(ValueError):
    """A coordinate that cannot be a store's place; the message is for the user."""


@dataclass(frozen=True)
class Point:
    lon: float
    lat: float


def parse_system(value: str | None, default: CoordSystem = CoordSystem.GCJ02) -> CoordSystem:
    if value is None or not str(value).strip():
        return default
    found = COORD_SYSTEM_CHOICES.find(value)
    if found is not None:
        return found
    key = normalise_choice(value)
    for alias, system in COORD_SYSTEM_ALIASES.items():  # "高德坐标", "百度地图": a known word inside
        if normalise_choice(alias) in key:
            return system
    raise CoordinateError(_l("Unknown coordinate system “%(value)s”: use WGS-84, GCJ-02 or BD-09.", value=value))


def check_in_china(lon: float, lat: float) -> None:
    """Refuse points outside valid ranges or outside China, with a message saying which."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise CoordinateError(_l("Coordinates must be numbers."))
    # Swapped before range: a swapped Chinese point usually has a "latitude" above 90.
    if in_china(lat, lon):
        raise CoordinateError(_l("Longitude and latitude look swapped (%(lon)s, %(lat)s): longitude comes first in China, around 73–135.", lon=lon, lat=lat))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise CoordinateError(_l("Longitude must be between -180 and 180 and latitude between -90 and 90."))
    if not in_china(lon, lat):
        raise CoordinateError(_l("The point (%(lon)s, %(lat)s) is outside China.", lon=lon, lat=lat))


def in_china(lon: float, lat: float) -> bool:
    """Inside the box around China (a rough check: a namesake abroad is not the store)."""
    return CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]


def to_wgs84(lon: float, lat: float, system: CoordSystem) -> Point:
    """Check a point given in `system` and return it in WGS-84."""
    check_in_china(lon, lat)
    if system == CoordSystem.WGS84:
        return Point(lon, lat)
    if system == CoordSystem.BD09:
        lon, lat = bd09_to_gcj02(lon, lat)
    return Point(*gcj02_to_wgs84(lon, lat))


def from_wgs84(lon: float, lat: float, system: CoordSystem) -> Point:
    """Show a stored WGS-84 point in the system the user chose."""
    if system == CoordSystem.WGS84:
        return Point(lon, lat)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    if system == CoordSystem.GCJ02:
        return Point(g_lon, g_lat)
    return Point(*gcj02_to_bd09(g_lon, g_lat))


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    d_lat = _shift_lat(lon - 105.0, lat - 35.0)
    d_lon = _shift_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Invert GCJ-02 by fixed-point iteration; converges to well under a millimetre."""
    w_lon, w_lat = lon, lat
    for _ in range(30):
        g_lon, g_lat = wgs84_to_gcj02(w_lon, w_lat)
        d_lon, d_lat = g_lon - lon, g_lat - lat
        w_lon, w_lat = w_lon - d_lon, w_lat - d_lat
        if abs(d_lon) < 1e-10 and abs(d_lat) < 1e-10:
            break
    return w_lon, w_lat


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


class GeocodeError(Exception):
    """The geocoder could not answer (down, timed out, refused); the message is for the user."""


class Geocoder:
    """Interface of the configured geocoder; see `make_geocoder`."""

    provider = "none"

    def geocode(self, query: str) -> Point | None:  # pragma: no cover - interface
        raise NotImplementedError
