"""Store services without a web client: save, convert, retire, managers and the list queries."""
import pytest
from sqlalchemy import func, select

from matrix import geo
from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.permissions import visible_stores
from matrix.stores import services
from matrix.stores.values import keep_untouched_point
from matrix.stores.models import GeocodeStatus, Store, StoreStatus
from matrix.stores.values import clean_store

# 杭州 西湖 as AMap shows it (GCJ-02).
GCJ = (120.153576, 30.287459)


def raw(**changes) -> dict:
    base = {"code": "HZ-001", "name": "杭州西湖店", "city": "杭州", "district": "西湖区", "address": "文三路1号",
            "lon": GCJ[0], "lat": GCJ[1], "coord_system": "gcj02", "status": "营业", "phone": "0571-8888 1234"}
    return {**base, **changes}


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN)


def audit_actions(store_id: int) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.store_id == store_id)
                                   .order_by(AuditEntry.id)))


def test_create_store_stores_wgs84_and_shows_gcj02_back(admin):
    store = services.create_store(clean_store(raw()), actor=admin)
    assert store.geocode_status == GeocodeStatus.MANUAL
    # Stored in WGS-84: several hundred metres away from the AMap point ...
    assert abs(store.lon - GCJ[0]) > 1e-3 or abs(store.lat - GCJ[1]) > 1e-3
    # ... and shown back in GCJ-02 as typed.
    shown = geo.from_wgs84(store.lon, store.lat, geo.CoordSystem.GCJ02)
    assert shown.lon == pytest.approx(GCJ[0], abs=1e-6) and shown.lat == pytest.approx(GCJ[1], abs=1e-6)
    assert audit_actions(store.id) == ["create"]


def test_bd09_input_round_trips(admin):
    bd = geo.from_wgs84(*geo.gcj02_to_wgs84(*GCJ), geo.CoordSystem.BD09)
    store = services.create_store(clean_store(raw(lon=bd.lon, lat=bd.lat, coord_system="百度")), actor=admin)
    shown = geo.from_wgs84(store.lon, store.lat, geo.CoordSystem.GCJ02)
    assert shown.lon == pytest.approx(GCJ[0], abs=1e-6) and shown.lat == pytest.approx(GCJ[1], abs=1e-6)


def test_duplicate_code_is_refused(admin):
    services.create_store(clean_store(raw()), actor=admin)
    with pytest.raises(DomainError) as error:
        services.create_store(clean_store(raw(name="另一家")), actor=admin)
    assert error.value.field == "code" and "HZ-001" in error.value.message
    assert db.session.scalar(select(func.count()).select_from(Store)) == 1


def test_update_records_what_changed(admin):
    store = services.create_store(clean_store(raw()), actor=admin)
    changes = services.update_store(store, clean_store(raw(name="杭州西湖旗舰店", status="暂停营业")), actor=admin)
    assert changes["name"] == ["杭州西湖店", "杭州西湖旗舰店"]
    assert changes["status"] == ["open", "closed_temporarily"]
    assert audit_actions(store.id) == ["create", "update"]


def test_untouched_prefilled_point_is_not_an_edit(admin):
    store = services.create_store(clean_store(raw()), actor=admin)
    shown = geo.from_wgs84(store.lon, store.lat, geo.CoordSystem.BD09)
    cleaned = clean_store(raw(lon=f"{shown.lon:.6f}", lat=f"{shown.lat:.6f}", coord_system="bd09"))
    keep_untouched_point(store, cleaned.values)
    assert services.update_store(store, cleaned, actor=admin) == {}


def test_delete_without_history_deletes(admin):
    store = services.create_store(clean_store(raw()), actor=admin)
    assert services.delete_store(store, actor=admin) == "deleted"
    assert db.session.get(Store, store.id) is None
    assert "delete" in audit_actions(store.id)


def test_store_with_history_is_archived_once_confirmed_and_restored(admin, make_store, make_account):
    store = make_store()
    make_account(store=store)
    with pytest.raises(DomainError):
        services.delete_store(store, actor=admin)
    assert store.archived_at is None
    assert services.delete_store(store, actor=admin, confirm_history=True) == "archived"
    assert store.archived_at is not None
    assert store.id not in db.session.scalars(select(Store.id).where(visible_stores(admin).whereclause)).all()
    services.restore_store(store, actor=admin)
    assert store.archived_at is None
    assert audit_actions(store.id)[-2:] == ["archive", "restore"]


def test_set_managers_takes_only_store_managers(admin, make_store, make_user):
    store = make_store()
    manager = make_user(Role.STORE_MANAGER)
    operator = make_user(Role.OPERATOR)
    services.set_managers(store, [manager.id, operator.id], actor=admin)
    assert store.managers == [manager]
    services.set_managers(store, [], actor=admin)
    assert store.managers == []
    assert audit_actions(store.id) == ["update", "update"]


def test_filters_and_counts(admin, make_store, make_account, make_community):
    west = make_store(code="W-1", name="西湖店", district="西湖区")
    bin_ = make_store(code="B-1", name="滨江店", district="滨江区", address="江南大道")
    far = make_store(code="N-1", name="南京店", city="南京", district="", lon=118.79, lat=32.06)
    bare = make_store(code="X-1", name="无坐标店", lon=None, lat=None, geocode_status=GeocodeStatus.FAILED)
    make_account(store=west)
    make_account(store=west, platform="kuaishou")
    make_community(west)
    make_community(bin_)

    def codes(**filters):
        query = services.filter_stores(visible_stores(admin), **filters).order_by(Store.code)
        return [s.code for s in db.session.scalars(query)]

    assert codes(q="江南") == ["B-1"]
    assert codes(q="w-1") == ["W-1"]
    assert codes(q="%") == [] and codes(q="W_1") == []  # wildcards are searched for, not expanded
    assert codes(city_code=far.city_code) == ["N-1"]
    assert codes(district_code=bin_.district_code) == ["B-1"]
    assert codes(problem="no_point") == ["X-1"]
    assert codes(problem="geocode_failed") == ["X-1"]
    assert codes(problem="no_community") == ["N-1", "X-1"]
    make_community(far, active=False)  # an inactive group takes no one: still without a community
    assert codes(problem="no_community") == ["N-1", "X-1"]
    assert codes(problem="no_account") == ["B-1", "N-1", "X-1"]
    assert codes(status=StoreStatus.CLOSED.value) == []
    assert services.link_counts([west.id, bare.id]) == {west.id: (2, 1), bare.id: (0, 0)}
    cities, districts = services.used_regions(visible_stores(admin))
    assert cities == sorted({west.city_code, far.city_code})
    assert (west.city_code, bin_.district_code) in districts



def test_a_concurrent_save_is_refused_and_answered_with_409(app, make_store, make_user):
    """Two operators save the same store: the later save fails cleanly, the earlier one stays."""
    from sqlalchemy import text
    from sqlalchemy.orm.exc import StaleDataError

    from matrix.auth.models import Role
    from matrix.extensions import db
    from matrix.stores import services
    from matrix.stores.models import Store
    from matrix.stores.values import clean_store

    actor = make_user(Role.OPERATOR)
    store = make_store(code="HZ-900", name="原名")
    with db.engine.begin() as other_process:
        other_process.execute(text("UPDATE stores SET name = '别人改的', version = version + 1 WHERE id = :id"),
                              {"id": store.id})
    cleaned = clean_store({"code": "HZ-900", "name": "我改的", "city": "330100", "status": "open"})
    with pytest.raises(StaleDataError):
        services.update_store(store, cleaned, actor=actor)
    db.session.rollback()
    assert db.session.get(Store, store.id).name == "别人改的"
    with app.test_request_context("/stores/1/edit"):
        body, status = app.handle_user_exception(StaleDataError())
    assert status == 409 and ("Reload" in body or "刷新" in body)


def test_a_store_with_leads_is_archived_not_deleted(app, make_store, make_user):
    from matrix.auth.models import Role
    from matrix.errors import DomainError
    from matrix.extensions import db
    from matrix.leads.models import Lead
    from matrix.stores import services
    from matrix.stores.models import Store

    store = make_store()
    db.session.add(Lead(name="张三", store_id=store.id))
    db.session.commit()
    actor = make_user(Role.OPERATOR)
    with pytest.raises(DomainError):
        services.delete_store(store, actor=actor)
    assert services.delete_store(store, actor=actor, confirm_history=True) == "archived"
    assert db.session.get(Store, store.id).archived_at is not None
