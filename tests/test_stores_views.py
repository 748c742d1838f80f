"""Store screens through the web client: list, detail, form, delete and restore, in scope."""
import re

import pytest
from flask import url_for
from flask_babel import force_locale
from sqlalchemy import event, func, select

from matrix import geo
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.stores import views
from matrix.stores.models import GeocodeStatus, Store

GCJ = ("120.153576", "30.287459")


def form(**changes) -> dict:
    base = {"code": "HZ-009", "name": "杭州文三店", "brand_id": "0", "city": "330100", "district": "西湖区",
            "address": "文三路9号", "lon": GCJ[0], "lat": GCJ[1], "coord_system": "gcj02",
            "service_radius_km": "3", "status": "open", "opened_on": "2024-05-01", "phone": "0571-88881234"}
    return {**base, **changes}


def store_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Store))


@pytest.fixture(autouse=True)
def english(app):
    """Assertions read the English messages; the requests share the app fixture's context."""
    with force_locale("en"):
        yield


@pytest.fixture
def hq(make_user, login):
    user = make_user(Role.OPERATOR)
    login(user)
    return user


@pytest.fixture
def manager_setup(make_store, make_user, login):
    own = make_store(code="OWN-1", name="自己的店")
    other = make_store(code="OTH-1", name="别人的店")
    manager = make_user(Role.STORE_MANAGER, stores=[own])
    login(manager)
    return own, other


def test_hq_creates_a_store_through_the_form(hq, post, make_user, client):
    manager = make_user(Role.STORE_MANAGER, username="wang")
    response = post(url_for("stores.new"), form(managers=str(manager.id)))
    assert response.status_code == 302
    store = db.session.scalar(select(Store).where(Store.code == "HZ-009"))
    assert store.managers == [manager] and store.geocode_status == GeocodeStatus.MANUAL
    shown = geo.from_wgs84(store.lon, store.lat, geo.CoordSystem.GCJ02)
    assert (shown.lon, shown.lat) == (pytest.approx(float(GCJ[0]), abs=1e-6), pytest.approx(float(GCJ[1]), abs=1e-6))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Store HZ-009 added." in page
    assert f"position={GCJ[0]},{GCJ[1]}" in page  # the AMap link is in GCJ-02


def test_city_may_be_typed_as_a_name(hq, post):
    assert post(url_for("stores.new"), form(city="浙江杭州")).status_code == 302
    assert db.session.scalar(select(Store.city_code)) == "330100"


@pytest.mark.parametrize("pasted", [f"{GCJ[0]},{GCJ[1]}", f"{GCJ[0]}, {GCJ[1]}", f"{GCJ[0]}，{GCJ[1]}"])
def test_a_point_pasted_whole_into_longitude_is_split(hq, post, pasted):
    assert post(url_for("stores.new"), form(lon=pasted, lat="")).status_code == 302
    store = db.session.scalar(select(Store))
    shown = geo.from_wgs84(store.lon, store.lat, geo.CoordSystem.GCJ02)
    assert (shown.lon, shown.lat) == (pytest.approx(float(GCJ[0]), abs=1e-6), pytest.approx(float(GCJ[1]), abs=1e-6))


@pytest.mark.parametrize("changes, message", [
    ({"code": ""}, "The store code is required."),
    ({"city": "不存在市"}, "Unknown city"),
    ({"district": "朝阳区"}, "Unknown district"),
    ({"lon": "30.287459", "lat": "120.153576"}, "look swapped"),
    ({"lon": "2.35", "lat": "48.85"}, "outside China"),
    ({"lon": "120.15", "lat": ""}, "Give both longitude and latitude"),
    ({"service_radius_km": "500"}, "between 0.1 and 100 km"),
    ({"opened_on": "soon"}, "is not a date"),
])
def test_bad_input_is_refused_and_nothing_saved(hq, post, changes, message):
    response = post(url_for("stores.new"), form(**changes))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert "文三路9号" in body  # what the user typed stays
    assert store_count() == 0


def test_duplicate_code_shows_next_to_the_field(hq, post, make_store):
    make_store(code="HZ-009")
    response = post(url_for("stores.new"), form())
    assert response.status_code == 422 and "Store code HZ-009 is already used." in response.get_data(as_text=True)
    assert store_count() == 1


def test_far_point_is_saved_with_a_warning(hq, post, client):
    response = post(url_for("stores.new"), form(city="北京", district=""), follow_redirects=True)
    assert response.status_code == 200 and store_count() == 1
    assert "flash-warning" in response.get_data(as_text=True)


def test_geocoder_fills_or_flags_the_point(hq, post, client, monkeypatch):
    class Stub(geo.Geocoder):
        def geocode(self, query):
            if "坏" in query:
                raise geo.GeocodeError("geocoder timed out")
            return geo.Point(120.1, 30.2)

    monkeypatch.setattr(views, "current_geocoder", lambda: Stub())
    post(url_for("stores.new"), form(lon="", lat=""))
    response = post(url_for("stores.new"), form(code="HZ-010", lon="", lat="", address="坏地址"), follow_redirects=True)
    stores = {s.code: s for s in db.session.scalars(select(Store))}
    assert stores["HZ-009"].geocode_status == GeocodeStatus.GEOCODED and stores["HZ-009"].lon == 120.1
    assert stores["HZ-010"].geocode_status == GeocodeStatus.FAILED and stores["HZ-010"].lon is None
    assert "geocoder timed out" in response.get_data(as_text=True)


def test_missing_csrf_is_refused(hq, client):
    response = client.post(url_for("stores.new"), data=form())
    assert response.status_code == 400 and store_count() == 0


def test_edit_prefills_gcj02_and_an_untouched_form_changes_nothing(hq, post, client, make_store):
    store = make_store(lon=120.148, lat=30.29, geocode_status=GeocodeStatus.MANUAL)
    page = client.get(url_for("stores.edit", store_id=store.id)).get_data(as_text=True)
    shown = geo.from_wgs84(store.lon, store.lat, geo.CoordSystem.GCJ02)
    assert f'value="{shown.lon:.6f}"' in page and f'value="{shown.lat:.6f}"' in page
    data = form(code=store.code, name=store.name, address=store.address, lon=f"{shown.lon:.6f}",
                lat=f"{shown.lat:.6f}", opened_on="", phone="")
    response = post(url_for("stores.edit", store_id=store.id), data, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "Nothing changed." in body, body[body.find("<main"):body.find("<main") + 3000]
    db.session.refresh(store)
    assert (store.lon, store.lat) == (120.148, 30.29)


def test_detail_shows_the_chosen_system(hq, client, make_store, make_community):
    store = make_store()
    make_community(store, robot_webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdefSECRET9876")
    bd = geo.from_wgs84(store.lon, store.lat, geo.CoordSystem.BD09)
    body = client.get(url_for("stores.detail", store_id=store.id, cs="bd09")).get_data(as_text=True)
    assert f"{bd.lon:.6f}, {bd.lat:.6f}" in body
    assert "key=****9876" in body and "abcdefSECRET" not in body


def test_list_for_a_manager_shows_only_own_stores(manager_setup, client):
    body = client.get(url_for("stores.index")).get_data(as_text=True)
    assert "OWN-1" in body and "OTH-1" not in body and "别人的店" not in body


@pytest.mark.parametrize("endpoint", ["stores.detail", "stores.edit", "stores.delete"])
def test_manager_gets_404_for_another_store(manager_setup, client, post, endpoint):
    _own, other = manager_setup
    url = url_for(endpoint, store_id=other.id)
    assert client.get(url).status_code == 404
    if endpoint != "stores.detail":
        assert post(url, form(code="OTH-1", name="改掉")).status_code == 404
    db.session.refresh(other)
    assert other.name == "别人的店"


def test_manager_edits_own_store_but_not_code_or_city(manager_setup, client, post):
    own, _other = manager_setup
    assert client.get(url_for("stores.new")).status_code == 403
    assert client.get(url_for("stores.delete", store_id=own.id)).status_code == 403
    response = post(url_for("stores.edit", store_id=own.id), form(code="HACKED", city="北京", district="", name="新名字",
                                                                  lon="", lat=""))
    assert response.status_code == 302
    db.session.refresh(own)
    assert (own.code, own.city_code, own.name) == ("OWN-1", "330100", "新名字")


def test_archived_stores_are_hidden_unless_asked(hq, client, post, make_store, make_account):
    store = make_store(code="ARC-1")
    make_account(store=store)
    page = client.get(url_for("stores.delete", store_id=store.id)).get_data(as_text=True)
    assert "Accounts: 1" in page
    assert post(url_for("stores.delete", store_id=store.id)).status_code == 422
    response = post(url_for("stores.delete", store_id=store.id), {"confirm_history": "y"}, follow_redirects=True)
    assert "Store ARC-1 archived" in response.get_data(as_text=True)
    assert "Archived · Store" in response.get_data(as_text=True)  # the history reads as words, not codes
    assert "ARC-1" not in client.get(url_for("stores.index")).get_data(as_text=True)
    assert "ARC-1" in client.get(url_for("stores.index", archived=1)).get_data(as_text=True)
    post(url_for("stores.restore", store_id=store.id))
    db.session.refresh(store)
    assert store.archived_at is None


def test_list_filters_and_query_count_stays_flat(hq, client, make_store, make_account, make_community, app):
    def queries_for_list() -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(url_for("stores.index")).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    first = make_store(code="Q-1")
    make_account(store=first)
    make_community(first)
    few = queries_for_list()
    for i in range(6):
        store = make_store(code=f"Q-{i + 2}")
        make_account(store=store)
    assert queries_for_list() == few
    body = client.get(url_for("stores.index", problem="no_community")).get_data(as_text=True)
    assert "Q-2" in body and ">Q-1<" not in body


def test_store_list_pages_link_to_the_next_page(app, client, make_store, make_user, login):
    app.config["PAGE_SIZE"] = 2
    try:
        for _ in range(5):
            make_store()
        login(make_user(Role.OPERATOR))
        html = client.get("/stores/?status=open").get_data(as_text=True)
        links = re.findall(r'href="([^"]*page=2[^"]*)"', html)
        assert links and all("status=open" in link for link in links)  # the filter survives paging
    finally:
        app.config["PAGE_SIZE"] = 50
