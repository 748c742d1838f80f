"""Geocoding store addresses through geopy against the loopback stand-in."""
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from geocoder_server import Found, HttpError, NotFound, Quota, Refused
from matrix import geo, geocoding
from matrix.audit.models import AuditEntry
from matrix.auth.models import Role, User
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.regions.models import GeocodeCacheEntry
from matrix.stores import regeocoding
from matrix.stores.models import GeocodeStatus
from matrix.stores.services import create_store
from matrix.stores.values import clean_store

# Where the store really is (WGS-84), near West Lake in Hangzhou.
TRUE_LON, TRUE_LAT = 120.1301, 30.2598


@pytest.fixture
def english(app):
    """Messages in the source language, so the checks survive the Chinese catalog."""
    with force_locale("en"):
        yield


@pytest.fixture
def operator(app):
    """An HQ operator who never signs in (no password hashing, which is slow on purpose)."""
    user = User(username="geo-operator", display_name="运营", role=Role.OPERATOR, password_hash="!")
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def nominatim(geocoder_server):
    return geocoding.make_geocoder(geocoder_server.config("nominatim"))


@pytest.fixture
def baidu(geocoder_server):
    return geocoding.make_geocoder(geocoder_server.config("baidu"))


def add_store(actor, geocoder, code="HZ-001", address="文三路90号", **raw):
    cleaned = clean_store({"code": code, "name": "西湖店", "city": "杭州", "district": "西湖区",
                           "address": address, **raw})
    assert not cleaned.errors, cleaned.errors
    return create_store(cleaned, actor=actor, geocoder=geocoder)


def cache_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(GeocodeCacheEntry))


def test_make_geocoder_from_settings(app, geocoder_server):
    assert geocoding.make_geocoder({"GEOCODER": "none"}) is None
    assert geocoding.make_geocoder({}) is None
    assert geocoding.make_geocoder(geocoder_server.config("nominatim")).provider == "nominatim"
    assert geocoding.make_geocoder(geocoder_server.config("baidu")).provider == "baidu"
    with pytest.raises(ValueError, match="GEOCODER must be one of"):
        geocoding.make_geocoder({"GEOCODER": "google"})
    with pytest.raises(ValueError, match="GEOCODER_API_KEY"):
        geocoding.make_geocoder({**geocoder_server.config("baidu"), "GEOCODER_API_KEY": ""})


@pytest.fixture
def app_settings(app, monkeypatch):
    """Change the app's GEOCODER* settings for one test; the app's geocoder is rebuilt after."""
    app.extensions.pop("matrix.geocoder", None)
    yield lambda config: [monkeypatch.setitem(app.config, k, v) for k, v in config.items()]
    app.extensions.pop("matrix.geocoder", None)


def test_app_geocoder_is_built_once_from_the_settings(app_settings, geocoder_server):
    assert geocoding.app_geocoder() is None  # TestConfig says GEOCODER = "none"
    geocoding.current_app.extensions.pop("matrix.geocoder")
    app_settings(geocoder_server.config("baidu"))
    assert geocoding.app_geocoder().provider == "baidu" and geocoding.app_geocoder() is geocoding.app_geocoder()


def test_cli_wrapper_uses_the_apps_geocoder(english, app_settings, geocoder_server):
    add_store(None, None)
    with pytest.raises(DomainError, match="No geocoder is configured"):
        regeocoding.regeocode_for_cli()
    geocoding.current_app.extensions.pop("matrix.geocoder")
    app_settings(geocoder_server.config("nominatim"))
    geocoder_server.answer(Found(TRUE_LON, TRUE_LAT))
    assert regeocoding.regeocode_for_cli(limit=5) == "1 store placed, 0 still without coordinates."


def test_nominatim_point_is_stored_as_is(operator, nominatim, geocoder_server):
    geocoder_server.answer(Found(TRUE_LON, TRUE_LAT))
    store = add_store(operator, nominatim)
    assert (store.lon, store.lat) == (pytest.approx(TRUE_LON, abs=1e-7), pytest.approx(TRUE_LAT, abs=1e-7))
    assert store.geocode_status == GeocodeStatus.GEOCODED and store.geocode_error is None
    [request] = geocoder_server.requests
    assert request.path == "/search" and request.query == "杭州市西湖区文三路90号"
    assert request.params["format"] == "json" and request.params["countrycodes"] == "cn"


def test_baidu_bd09_point_is_converted_to_wgs84(operator, baidu, geocoder_server):
    bd = geo.from_wgs84(TRUE_LON, TRUE_LAT, geo.CoordSystem.BD09)
    geocoder_server.answer(Found(bd.lon, bd.lat))
    store = add_store(operator, baidu)
    expected = geo.gcj02_to_wgs84(*geo.bd09_to_gcj02(bd.lon, bd.lat))
    assert store.lon == pytest.approx(expected[0], abs=1e-7) and store.lat == pytest.approx(expected[1], abs=1e-7)
    assert store.lon == pytest.approx(TRUE_LON, abs=1e-5) and store.lat == pytest.approx(TRUE_LAT, abs=1e-5)
    assert abs(store.lon - bd.lon) > 0.005  # the raw BD-09 point would be off by hundreds of metres
    [request] = geocoder_server.requests
    assert request.path == "/geocoding/v3/" and request.params["ak"] == "test-ak"
    assert request.params["output"] == "json" and request.query == "杭州市西湖区文三路90号"


def test_an_address_asked_twice_calls_the_provider_once(app, nominatim, geocoder_server):
    geocoder_server.answer(Found(TRUE_LON, TRUE_LAT))
    first = nominatim.geocode("杭州市西湖区文三路90号")
    again = nominatim.geocode("杭州市西湖区 文三路９０号 ")  # same address, other spelling
    db.session.commit()
    other_process = geocoding.make_geocoder(geocoder_server.config("nominatim"))
    assert first == again == other_process.geocode("杭州市西湖区文三路90号")
    assert len(geocoder_server.requests) == 1 and cache_rows() == 1


def test_cache_is_per_provider(app, nominatim, baidu, geocoder_server):
    geocoder_server.answer(Found(TRUE_LON, TRUE_LAT))
    nominatim.geocode("杭州市西湖区文三路90号")
    baidu.geocode("杭州市西湖区文三路90号")
    assert len(geocoder_server.requests) == 2


@pytest.mark.parametrize("provider", ["nominatim", "baidu"])
def test_not_found_flags_the_store_and_is_cached(english, operator, geocoder_server, provider):
    geocoder = geocoding.make_geocoder(geocoder_server.config(provider))
    geocoder_server.answer(NotFound())
    store = add_store(operator, geocoder)
    assert store.id and store.lon is None
    assert store.geocode_status == GeocodeStatus.FAILED
    assert "found no place" in store.geocode_error
    assert geocoder.geocode("杭州市西湖区文三路90号") is None
    assert len(geocoder_server.requests) == 1 and cache_rows() == 1


def test_a_match_outside_china_is_not_found(app, nominatim, geocoder_server):
    geocoder_server.answer(Found(-0.1276, 51.5072))  # a "West Lake Road" in London
    assert nominatim.geocode("West Lake Road 90") is None


@pytest.mark.parametrize(("provider", "answer", "words", "requests"), [
    ("nominatim", HttpError(500), "HTTP 500", 2),            # retried once, then given up
    ("baidu", HttpError(500), "HTTP 500", 2),
    ("nominatim", Found(TRUE_LON, TRUE_LAT, delay=0.5), "did not answer within 0.2 seconds", 2),
    ("baidu", Found(TRUE_LON, TRUE_LAT, delay=0.5), "did not answer within 0.2 seconds", 2),
    ("nominatim", Quota(), "quota", 1),                      # no retry: it cannot help
    ("baidu", Quota(), "quota", 1),
    ("nominatim", Refused(), "refused access", 1),
    ("baidu", Refused(), "refused access", 1),
])
def test_provider_failure_saves_the_store_flagged(english, operator, geocoder_server, provider, answer, words,
                                                  requests):
    geocoder = geocoding.make_geocoder(geocoder_server.config(provider))
    geocoder_server.answer(answer)
    store = add_store(operator, geocoder)
    db.session.expire_all()
    assert store.id and store.code == "HZ-001" and store.lon is None
    assert store.geocode_status == GeocodeStatus.FAILED
    assert words in store.geocode_error
    assert len(geocoder_server.requests) == requests
    assert cache_rows() == 0  # failures are asked again next time


def test_wrong_baidu_key_is_an_authentication_failure(english, app, geocoder_server):
    geocoder = geocoding.make_geocoder({**geocoder_server.config("baidu"), "GEOCODER_API_KEY": "stolen"})
    geocoder_server.answer(Found(TRUE_LON, TRUE_LAT))
    with pytest.raises(geo.GeocodeError, match="GEOCODER_API_KEY"):
        geocoder.geocode("杭州市西湖区文三路90号")


def test_unreachable_geocoder(english, app, geocoder_server):
    config = {**geocoder_server.config("nominatim"), "GEOCODER_DOMAIN": "127.0.0.1:9"}  # discard port: refused
    with pytest.raises(geo.GeocodeError, match="cannot be reached"):
        geocoding.make_geocoder(config).geocode("杭州市西湖区文三路90号")


def test_a_passing_error_is_retried(app, nominatim, geocoder_server):
    geocoder_server.answer(HttpError(502), Found(TRUE_LON, TRUE_LAT))
    assert nominatim.geocode("杭州市西湖区文三路90号") == geo.Point(TRUE_LON, TRUE_LAT)
    assert len(geocoder_server.requests) == 2


def test_cache_row_joins_the_callers_transaction(app, nominatim, geocoder_server):
    geocoder_server.answer(Found(TRUE_LON, TRUE_LAT))
    nominatim.geocode("杭州市西湖区文三路90号")
    assert cache_rows() == 1
    db.session.rollback()  # the caller gave up: its cache row goes with it
    assert cache_rows() == 0


def test_typed_coordinates_skip_the_geocoder(operator, nominatim, geocoder_server):
    store = add_store(operator, nominatim, lon="120.13", lat="30.26", coord_system="wgs84")
    assert store.geocode_status == GeocodeStatus.MANUAL and not geocoder_server.requests


def test_regeocode_fixes_flagged_stores_once_the_geocoder_answers(operator, nominatim, geocoder_server):
    geocoder_server.answer(HttpError(500))
    failed = add_store(operator, nominatim, code="HZ-001")
    missing = add_store(operator, None, code="HZ-002", address="文三路100号")  # saved with no geocoder set
    no_address = add_store(operator, nominatim, code="HZ-003", address="")
    manual = add_store(operator, nominatim, code="HZ-004", lon="120.2", lat="30.3", coord_system="wgs84")
    assert (failed.geocode_status, missing.geocode_status) == (GeocodeStatus.FAILED, GeocodeStatus.MISSING)
    geocoder_server.answer(Found(TRUE_LON, TRUE_LAT))
    geocoder_server.requests.clear()

    assert regeocoding.regeocode_flagged(actor=operator, geocoder=nominatim) == (2, 0)
    db.session.expire_all()
    for store in (failed, missing):
        assert store.geocode_status == GeocodeStatus.GEOCODED and store.geocode_error is None
        assert (store.lon, store.lat) == (pytest.approx(TRUE_LON), pytest.approx(TRUE_LAT))
    assert no_address.geocode_status == GeocodeStatus.MISSING and manual.lon == 120.2
    assert sorted(r.query for r in geocoder_server.requests) == ["杭州市西湖区文三路100号", "杭州市西湖区文三路90号"]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.store_id == failed.id)
                                 .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["create", "update"] and entries[-1].actor_id == operator.id
    assert entries[-1].changes["geocode_status"] == ["failed", "geocoded"]
    assert regeocoding.regeocode_flagged(actor=operator, geocoder=nominatim) == (0, 0)  # nothing left


def test_regeocode_keeps_not_found_stores_flagged(english, operator, nominatim, geocoder_server):
    add_store(operator, None, code="HZ-001")
    geocoder_server.answer(NotFound())
    assert regeocoding.regeocode_flagged(actor=None, geocoder=nominatim) == (0, 1)
    [store] = regeocoding.flagged_stores()
    assert store.geocode_status == GeocodeStatus.FAILED and "found no place" in store.geocode_error


def test_regeocode_stops_at_a_provider_failure(english, operator, nominatim, geocoder_server):
    for n in range(3):
        add_store(operator, None, code=f"HZ-00{n}", address=f"文三路{n}号")
    geocoder_server.answer(Quota())
    assert regeocoding.regeocode_flagged(actor=operator, geocoder=nominatim, limit=10) == (0, 3)
    assert len(geocoder_server.requests) == 1  # the others would fail the same way
    first, *rest = regeocoding.flagged_stores()
    assert "quota" in first.geocode_error and all(s.geocode_status == GeocodeStatus.MISSING for s in rest)


def test_regeocode_respects_the_limit(operator, nominatim, geocoder_server):
    for n in range(3):
        add_store(operator, None, code=f"HZ-00{n}", address=f"文三路{n}号")
    geocoder_server.answer(Found(TRUE_LON, TRUE_LAT))
    assert regeocoding.regeocode_flagged(actor=operator, geocoder=nominatim, limit=2) == (2, 0)
    assert len(regeocoding.flagged_stores()) == 1


def test_regeocode_needs_a_geocoder(english, operator):
    with pytest.raises(DomainError, match="No geocoder is configured"):
        regeocoding.regeocode_flagged(actor=operator, geocoder=None)
