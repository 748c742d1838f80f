"""Reading city and district out of the place text leads carry."""
import pytest

from matrix.leads.places import parse_place

HANGZHOU, WEST_LAKE = "330100", "330106"


@pytest.mark.parametrize("province, city, text, expected", [
    ("", "", "杭州市西湖区", (HANGZHOU, WEST_LAKE)),
    ("", "", "杭州 西湖", (HANGZHOU, WEST_LAKE)),
    ("", "", "浙江杭州", (HANGZHOU, None)),
    ("", "", "浙江省杭州市西湖区文三路478号", (HANGZHOU, WEST_LAKE)),
    ("", "杭州", "西湖区", (HANGZHOU, WEST_LAKE)),
    ("", "杭州市 西湖区", "文三路478号", (HANGZHOU, WEST_LAKE)),      # intake's "city district" field
    ("", "", "杭州西湖文三路", (HANGZHOU, WEST_LAKE)),               # a short district name inside its city
    ("", "", "中国 浙江 杭州 西湖区", (HANGZHOU, WEST_LAKE)),
    ("浙江省", "杭州市", "", (HANGZHOU, None)),
    ("", "330100", "330106", (HANGZHOU, WEST_LAKE)),
])
def test_common_ways_of_writing_hangzhou_west_lake(app, province, city, text, expected):
    assert parse_place(province, city, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("北京市朝阳区", ("110100", "110105")),     # Beijing's 朝阳区, not Liaoning's 朝阳市
    ("北京朝阳", ("110100", "110105")),
    ("朝阳市朝阳县", ("211300", "211321")),
    ("上海市浦东新区张江路", ("310100", "310115")),
    ("重庆江北", ("500100", "500105")),
    ("吉林省吉林市船营区", ("220200", "220204")),
])
def test_municipalities_and_look_alike_names(app, text, expected):
    assert parse_place("", "", text) == expected


@pytest.mark.parametrize("province, city, text, expected", [
    ("", "", "西湖区", (None, None)),               # 杭州 or 南昌: no guessing
    ("", "", "鼓楼区", (None, None)),
    ("江苏", "", "鼓楼区", (None, None)),           # 南京 and 徐州 are both in 江苏
    ("江苏", "南京", "鼓楼区", ("320100", "320106")),
    ("浙江", "", "西湖区", (HANGZHOU, WEST_LAKE)),  # the province tells them apart
    ("", "", "浦东新区", ("310100", "310115")),      # a district name found once is enough
    ("", "", "宁波江北区", ("330200", "330205")),
])
def test_district_names_found_in_several_cities_need_the_city(app, province, city, text, expected):
    assert parse_place(province, city, text) == expected


@pytest.mark.parametrize("province, city, location, expected", [
    ("浙江省", "杭州市", "浙江省+杭州市", (HANGZHOU, None)),
    ("", "", "浙江省+杭州市+西湖区", (HANGZHOU, WEST_LAKE)),
    ("", "", "浙江-杭州-西湖区", (HANGZHOU, WEST_LAKE)),
    ("广东", "东莞", "", ("441900", None)),
])
def test_ocean_engine_location_fields(app, province, city, location, expected):
    assert parse_place(province, city, location) == expected


@pytest.mark.parametrize("province, city, text", [
    ("", "", ""), (None, None, None), ("浙江", "", ""), ("", "", "南京路100号"), ("", "", "文三路478号"),
])
def test_no_city_in_the_text(app, province, city, text):
    assert parse_place(province, city, text) == (None, None)


def test_street_names_after_the_city_are_not_places(app):
    assert parse_place("", "杭州", "朝阳路88号") == (HANGZHOU, None)
    assert parse_place("", "", "杭州市西湖区南京路1号") == (HANGZHOU, WEST_LAKE)


def test_a_district_of_another_city_leaves_the_district_unknown(app):
    assert parse_place("", "杭州", "朝阳区") == (HANGZHOU, None)
