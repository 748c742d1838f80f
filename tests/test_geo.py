"""Coordinate systems: conversions, the China check and the names people give systems."""
import math

import pytest
from flask_babel import force_locale

from matrix import geo, geocoding
from matrix.geo import CoordinateError, CoordSystem


@pytest.fixture
def english(app):
    """Messages in the source language, so the checks survive the Chinese catalog."""
    with force_locale("en"):
        yield


# A grid over China, from Kashgar to Harbin and Hainan (WGS-84).
GRID = [(lon + 0.37, lat + 0.21) for lon in range(74, 135, 4) for lat in range(18, 54, 3)]


def test_wgs84_gcj02_round_trip_over_china():
    for lon, lat in GRID:
        back = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(lon, lat))
        assert abs(back[0] - lon) < 1e-6 and abs(back[1] - lat) < 1e-6, (lon, lat, back)


def test_gcj02_shift_is_hundreds_of_metres():
    for lon, lat in GRID:
        g_lon, g_lat = geo.wgs84_to_gcj02(lon, lat)
        metres = math.hypot((g_lon - lon) * 111_320 * math.cos(math.radians(lat)), (g_lat - lat) * 110_570)
        assert 50 < metres < 1500, (lon, lat, metres)


def test_known_reference_pair_tiananmen():
    lon, lat = geo.wgs84_to_gcj02(116.397128, 39.916527)
    assert lon == pytest.approx(116.40337, abs=1e-4)
    assert lat == pytest.approx(39.91793, abs=1e-4)


def test_bd09_round_trip_over_china():
    for lon, lat in GRID:
        g = geo.wgs84_to_gcj02(lon, lat)
        back = geo.bd09_to_gcj02(*geo.gcj02_to_bd09(*g))
        # The BD-09 inverse is the usual closed form, good to well under a metre.
        assert abs(back[0] - g[0]) < 1e-5 and abs(back[1] - g[1]) < 1e-5, (lon, lat, back)


@pytest.mark.parametrize("system", list(CoordSystem))
def test_to_and_from_wgs84_are_inverse(system):
    for lon, lat in GRID[::7]:
        shown = geo.from_wgs84(lon, lat, system)
        back = geo.to_wgs84(shown.lon, shown.lat, system)
        assert back.lon == pytest.approx(lon, abs=1e-5) and back.lat == pytest.approx(lat, abs=1e-5)


def test_wgs84_input_is_kept_as_is():
    assert geo.to_wgs84(120.13, 30.26, CoordSystem.WGS84) == geo.Point(120.13, 30.26)


def test_baidu_point_is_east_north_of_amap_point():
    """Baidu's extra shift is about 0.0065 east and 0.006 north of GCJ-02."""
    b_lon, b_lat = geo.gcj02_to_bd09(120.15, 30.28)
    assert 0.005 < b_lon - 120.15 < 0.008 and 0.004 < b_lat - 30.28 < 0.008


@pytest.mark.parametrize(("lon", "lat", "words"), [
    (30.26, 120.13, "swapped"),              # Hangzhou, columns swapped
    (45.75, 126.6, "swapped"),               # Harbin, latitude stays under 90
    (2.35, 48.85, "outside China"),          # Paris
    (-122.4, 37.8, "outside China"),         # San Francisco
    (0.0, 0.0, "outside China"),
    (200.0, 30.0, "between -180 and 180"),
    (120.0, -95.0, "between -180 and 180"),
    (float("nan"), 30.0, "must be numbers"),
    (120.0, float("inf"), "must be numbers"),
])
def test_check_in_china_says_what_is_wrong(english, lon, lat, words):
    with pytest.raises(CoordinateError) as caught:
        geo.check_in_china(lon, lat)
    assert words in str(caught.value.args[0])


@pytest.mark.parametrize(("lon", "lat"), [(120.13, 30.26), (87.6, 43.8), (109.5, 18.25), (126.6, 45.75)])
def test_check_in_china_accepts_chinese_cities(lon, lat):
    geo.check_in_china(lon, lat)


def test_to_wgs84_checks_before_converting(english):
    with pytest.raises(CoordinateError):
        geo.to_wgs84(30.26, 120.13, CoordSystem.GCJ02)


@pytest.mark.parametrize(("text", "system"), [
    ("WGS84", CoordSystem.WGS84), ("wgs-84", CoordSystem.WGS84), ("GPS", CoordSystem.WGS84),
    ("gcj02", CoordSystem.GCJ02), ("GCJ-02", CoordSystem.GCJ02), ("高德", CoordSystem.GCJ02),
    ("腾讯", CoordSystem.GCJ02), ("火星坐标", CoordSystem.GCJ02), ("AMap", CoordSystem.GCJ02),
    ("bd09", CoordSystem.BD09), ("BD-09", CoordSystem.BD09), ("bd09ll", CoordSystem.BD09),
    ("百度", CoordSystem.BD09), ("百度坐标", CoordSystem.BD09), (" Baidu ", CoordSystem.BD09),
    ("gcj02 (高德)", CoordSystem.GCJ02),
])
def test_parse_system_aliases(text, system):
    assert geo.parse_system(text) == system


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_parse_system_defaults_to_gcj02_or_the_given_default(blank):
    assert geo.parse_system(blank) == CoordSystem.GCJ02
    assert geo.parse_system(blank, default=CoordSystem.WGS84) == CoordSystem.WGS84


def test_parse_system_refuses_unknown_names(english):
    with pytest.raises(CoordinateError) as caught:
        geo.parse_system("mercator")
    assert "mercator" in str(caught.value.args[0])


def test_normalise_query_folds_width_and_spaces():
    assert geocoding.normalise_query("  杭州市西湖区　文三路１２号  ") == "杭州市西湖区文三路12号"
    assert geocoding.normalise_query("杭州市 西湖区 文三路 12 号") == "杭州市西湖区文三路12号"
    assert geocoding.normalise_query("No.12  Wensan Road") == "no.12 wensan road"  # spaces between words stay
