"""Coordinates: the only module that converts coordinate systems or talks to a geocoder.

Stores keep WGS-84. Chinese map services shift points: AMap and Tencent use GCJ-02,
Baidu uses BD-09 (a further shift of GCJ-02), several hundred metres in all. Every input
says its system; we convert on the way in and on the way out.
"""
import enum
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from geopy import exc as geopy_exc
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import BaiduV3, Nominatim
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from matrix.extensions import db
from matrix.regions.models import GeocodeCacheEntry


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
    key = str(value).strip().lower().replace(" ", "")
    if key in COORD_SYSTEM_ALIASES:
        return COORD_SYSTEM_ALIASES[key]
    for alias, system in COORD_SYSTEM_ALIASES.items():
        if alias in key:
            return system
    raise CoordinateError(_l("Unknown coordinate system “%(value)s”: use WGS-84, GCJ-02 or BD-09.", value=value))


def check_in_china(lon: float, lat: float) -> None:
    """Refuse points outside valid ranges or outside China, with a message saying which."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise CoordinateError(_l("Coordinates must be numbers."))
    # Swapped before range: a swapped Chinese point usually has a "latitude" above 90.
    if _inside(lat, lon):
        raise CoordinateError(_l("Longitude and latitude look swapped (%(lon)s, %(lat)s): longitude comes first in China, around 73–135.", lon=lon, lat=lat))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise CoordinateError(_l("Longitude must be between -180 and 180 and latitude between -90 and 90."))
    if not _inside(lon, lat):
        raise CoordinateError(_l("The point (%(lon)s, %(lat)s) is outside China.", lon=lon, lat=lat))


def _inside(lon: float, lat: float) -> bool:
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


# --- Geocoding through geopy -------------------------------------------------------------
# Addresses become WGS-84 points here. Answers (found and not found) are kept in the
# GeocodeCacheEntry table so every web and CLI process shares them: an address is asked once.
# Failures are not cached, so a later run asks again.
#
# Transactions: a cache row is INSERTed into the caller's session and commits with the
# caller's own work (create_store commits it with the store). geocode() never commits,
# never rolls back, and a concurrent duplicate is skipped by ON CONFLICT DO NOTHING, so a
# race between two processes cannot break the caller's transaction.
# The rate limit holds per geocoder object (app_geocoder keeps one per process); several
# workers multiply the rate, which the shared cache keeps rare.
log = logging.getLogger(__name__)
PROVIDERS = ("none", "nominatim", "baidu")
_CACHE_QUERY_MAX = 400  # GeocodeCacheEntry.query length; longer queries are asked but not cached
_MISS = object()
# Errors a second try cannot fix: they skip the rate limiter's retry.
_PERMANENT = (geopy_exc.GeocoderQuotaExceeded, geopy_exc.GeocoderAuthenticationFailure,
              geopy_exc.GeocoderInsufficientPrivileges, geopy_exc.GeocoderQueryError)


class _NoRetry(Exception):
    """Carries a permanent geopy error past RateLimiter, which retries GeocoderServiceError."""


def normalise_query(query: str) -> str:
    """One spelling per address: full-width forms folded (ＮＯ．１２ -> no.12), spaces collapsed,
    and dropped next to Chinese characters, where they mean nothing."""
    text = " ".join(unicodedata.normalize("NFKC", query or "").split()).lower()
    return re.sub(r" ?([^\x00-\x7f]) ?", r"\1", text)


class GeopyGeocoder(Geocoder):
    """A geopy geocoder behind a rate limiter and the shared cache, answering WGS-84."""

    def __init__(self, provider: str, search: Callable[[str], object], *, to_wgs84: Callable[[float, float], Point],
                 timeout_s: float, min_delay_s: float = 0.0, max_retries: int = 1):
        self.provider = provider
        self.timeout_s = timeout_s
        self._to_wgs84 = to_wgs84
        self._search = search
        self._limited = RateLimiter(self._ask, min_delay_seconds=min_delay_s, max_retries=max_retries,
                                    error_wait_seconds=min_delay_s, swallow_exceptions=False)

    def geocode(self, query: str) -> Point | None:
        """The WGS-84 point of an address, or None when nothing in China matches it."""
        key = normalise_query(query)
        if not key:
            return None
        cacheable = len(key) <= _CACHE_QUERY_MAX
        if cacheable:
            hit = self._cached(key)
            if hit is not _MISS:
                return hit
        point = self._lookup(key)
        if cacheable:
            self._remember(key, point)
        return point

    def _ask(self, query: str):
        try:
            return self._search(query)
        except _PERMANENT as e:
            raise _NoRetry() from e

    def _lookup(self, query: str) -> Point | None:
        try:
            location = self._limited(query)
        except (_NoRetry, geopy_exc.GeopyError) as e:
            error = e.__cause__ if isinstance(e, _NoRetry) else e
            log.warning("geocoder %s failed: %s: %s", self.provider, type(error).__name__, error)
            raise GeocodeError(self._describe(error)) from error
        except (KeyError, TypeError, ValueError) as e:  # an answer in a shape geopy did not expect
            log.warning("geocoder %s: unreadable answer: %r", self.provider, e)
            raise GeocodeError(_("The geocoder sent an answer that could not be read.")) from e
        if location is None:
            return None
        point = self._to_wgs84(float(location.longitude), float(location.latitude))
        if not _inside(point.lon, point.lat):
            return None  # a namesake abroad is not the store
        return Point(round(point.lon, 7), round(point.lat, 7))

    def _describe(self, error: Exception) -> str:
        """A message naming the cause, for the store's geocode_error and the user."""
        status = getattr(error.__cause__, "status_code", None)  # set when the provider sent an HTTP error
        if isinstance(error, geopy_exc.GeocoderTimedOut) and not status:
            return _("The geocoder did not answer within %(seconds)s seconds.", seconds=self.timeout_s)
        if isinstance(error, geopy_exc.GeocoderQuotaExceeded):  # includes GeocoderRateLimited
            return _("The geocoder refused the request: its quota or rate limit is used up.")
        if isinstance(error, (geopy_exc.GeocoderAuthenticationFailure, geopy_exc.GeocoderInsufficientPrivileges)):
            return _("The geocoder refused access: check GEOCODER_API_KEY, or whether the provider blocks this server.")
        # geopy reports a refused connection as a plain service error; the OSError behind it tells.
        if isinstance(error, geopy_exc.GeocoderUnavailable) or (
                not status and isinstance(error.__cause__ or error.__context__, OSError)):
            return _("The geocoder cannot be reached.")
        if isinstance(error, geopy_exc.GeocoderQueryError):
            return _("The geocoder rejected the address as an invalid request.")
        if status:
            return _("The geocoder answered with an error (HTTP %(status)s).", status=status)
        return _("The geocoder reported an error.")

    def _cached(self, key: str):
        """The cached point, None for a cached "not found", or _MISS."""
        row = db.session.execute(select(GeocodeCacheEntry.lon, GeocodeCacheEntry.lat).where(
            GeocodeCacheEntry.provider == self.provider, GeocodeCacheEntry.query == key)).first()
        if row is None:
            return _MISS
        return Point(row.lon, row.lat) if row.lon is not None else None

    def _remember(self, key: str, point: Point | None) -> None:
        """Add the answer to the caller's transaction; a row another process wrote first wins."""
        values = {"provider": self.provider, "query": key,
                  "lon": point.lon if point else None, "lat": point.lat if point else None}
        dialect = db.session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            insert = (postgresql if dialect == "postgresql" else sqlite).insert
            db.session.execute(insert(GeocodeCacheEntry).values(**values).on_conflict_do_nothing())
        else:
            db.session.add(GeocodeCacheEntry(**values))


class _BaiduV3(BaiduV3):
    """geopy's BaiduV3 with a configurable host, reading Baidu's "no result" answer as not found."""

    def __init__(self, api_key: str, *, domain: str | None = None, **kwargs):
        super().__init__(api_key, **kwargs)
        if domain:  # geopy fixes api.map.baidu.com; tests and proxies need another host
            host = domain.strip("/")
            self.api = f"{self.scheme}://{host}{self.api_path}"
            self.reverse_api = f"{self.scheme}://{host}{self.reverse_path}"

    def _parse_json(self, page, exactly_one=True):
        # Baidu answers an unknown address with status 1 ("Internal Service Error:无相关结果"),
        # which geopy reads as a server error.
        if page.get("status") == 1 and "无相关结果" in str(page.get("msg") or page.get("message") or ""):
            return None
        return super()._parse_json(page, exactly_one)


def _bd09_to_wgs84(lon: float, lat: float) -> Point:
    return Point(*gcj02_to_wgs84(*bd09_to_gcj02(lon, lat)))


def make_geocoder(config: Mapping) -> Geocoder | None:
    """The geocoder the settings ask for (GEOCODER*), or None when GEOCODER is "none"."""
    provider = (config.get("GEOCODER") or "none").strip().lower()
    if provider not in PROVIDERS:
        raise ValueError(f"GEOCODER must be one of {', '.join(PROVIDERS)}, not {provider!r}.")
    if provider == "none":
        return None
    timeout = float(config.get("GEOCODER_TIMEOUT_S", 5))
    common = {"scheme": config.get("GEOCODER_SCHEME") or "https", "timeout": timeout,
              "user_agent": config.get("GEOCODER_USER_AGENT") or "storematrix"}
    limits = {"timeout_s": timeout, "min_delay_s": float(config.get("GEOCODER_MIN_DELAY_S", 1.0))}
    domain = config.get("GEOCODER_DOMAIN")
    if provider == "nominatim":
        backend = Nominatim(domain=domain or "nominatim.openstreetmap.org", **common)
        # Nominatim answers WGS-84; restrict to China and prefer Chinese names.
        return GeopyGeocoder("nominatim", lambda q: backend.geocode(q, country_codes="cn", language="zh"),
                             to_wgs84=Point, **limits)
    if not config.get("GEOCODER_API_KEY"):
        raise ValueError("GEOCODER=baidu needs GEOCODER_API_KEY (the Baidu Maps AK).")
    backend = _BaiduV3(config["GEOCODER_API_KEY"], domain=domain, **common)
    return GeopyGeocoder("baidu", backend.geocode, to_wgs84=_bd09_to_wgs84, **limits)  # Baidu answers BD-09


def app_geocoder() -> Geocoder | None:
    """The current app's geocoder, built once so its rate limit holds across requests."""
    key = "matrix.geocoder"
    if key not in current_app.extensions:
        current_app.extensions[key] = make_geocoder(current_app.config)
    return current_app.extensions[key]
