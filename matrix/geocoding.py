"""Addresses become WGS-84 points: the only module that talks to a geocoder (geopy).

Answers (found and not found) are kept in the GeocodeCacheEntry table so every web and CLI
process shares them: an address is asked once. Failures are not cached, so a later run asks again.
"""
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping

from flask import current_app
from flask_babel import gettext as _
from geopy import exc as geopy_exc
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import BaiduV3, Nominatim
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from matrix.extensions import db
from matrix.geo import GeocodeError, Geocoder, Point, bd09_to_gcj02, gcj02_to_wgs84, in_china
from matrix.regions.models import GeocodeCacheEntry

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
        if not in_china(point.lon, point.lat):
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
