"""Planning and applying imports without a web client."""

import pytest
from sqlalchemy import func, select

from matrix import geo
from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.imports.apply import apply_import
from matrix.stores.models import GeocodeStatus, Store, StoreStatus
from matrix.brands.models import Brand
from samples import BINJIANG, STORE_HEADER, WEST_LAKE, preview_csv, store_count

class FakeGeocoder(geo.Geocoder):
    provider = "fake"

    def __init__(self, point=None, error=None):
        self.point, self.error, self.asked = point, error, []

    def geocode(self, query):
        self.asked.append(query)
        if self.error:
            raise geo.GeocodeError(self.error)
        return self.point


def test_new_stores_from_gbk_csv_with_chinese_headers(app, make_user):
    preview = preview_csv("stores", [STORE_HEADER, WEST_LAKE, BINJIANG])
    assert preview.encoding == "GB18030 (GBK)"
    assert preview.ok and preview.counts["new"] == 2
    assert [r.line for r in preview.rows] == [2, 3]
    counts = apply_import(preview, make_user(Role.OPERATOR))
    assert counts == {"new": 2, "changed": 0, "unchanged": 0, "total": 2}
    store = db.session.scalar(select(Store).where(Store.code == "HZ-001"))
    assert store.city_code == "330100" and store.district.name == "西湖区"
    # GCJ-02 in the sheet, WGS-84 in the database: a few hundred metres apart.
    assert 0.003 < abs(store.lon - 120.1551) + abs(store.lat - 30.2741) < 0.01
    assert store.geocode_status == GeocodeStatus.IMPORTED and store.phone == "0571-88880001"
    assert db.session.scalar(select(Store).where(Store.code == "HZ-002")).status == StoreStatus.PLANNED
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert entry.entity == "store" and entry.changes["new"] == 2 and entry.changes["file"] == "stores.csv"


def test_reimport_same_file_is_unchanged_and_writes_nothing(app, make_user):
    user = make_user(Role.OPERATOR)
    apply_import(preview_csv("stores", [STORE_HEADER, WEST_LAKE, BINJIANG]), user)
    before = db.session.scalar(select(Store.updated_at).where(Store.code == "HZ-001"))
    preview = preview_csv("stores", [STORE_HEADER, WEST_LAKE, BINJIANG], encoding="utf-8-sig")
    assert preview.counts["unchanged"] == 2 and not preview.has_writes
    apply_import(preview, user)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1
    assert db.session.scalar(select(Store.updated_at).where(Store.code == "HZ-001")) == before


def test_changed_row_reports_old_and_new(app, make_store, make_user):
    make_store(code="HZ-001", name="旧名字", city="杭州", district="西湖区")
    row = WEST_LAKE[:]
    row[9] = "4.5"
    preview = preview_csv("stores", [STORE_HEADER, row])
    report = preview.rows[0]
    assert report.status == "changed"
    assert report.changes["name"] == ("旧名字", "杭州西湖店")
    assert report.changes["service_radius_km"] == ("3", "4.5")
    apply_import(preview, make_user(Role.OPERATOR))
    store = db.session.scalar(select(Store).where(Store.code == "HZ-001"))
    assert (store.name, store.service_radius_km, store.version) == ("杭州西湖店", 4.5, 2)


def test_absent_columns_and_empty_status_keep_stored_values(app, make_store, make_user):
    store = make_store(code="HZ-001", name="西湖店", status=StoreStatus.CLOSED, phone="0571-1")
    lon, lat = store.lon, store.lat
    preview = preview_csv("stores", [["门店编码", "门店名称", "状态"], ["HZ-001", "西湖新店", ""]])
    assert preview.rows[0].status == "changed" and set(preview.rows[0].changes) == {"name"}
    apply_import(preview, make_user(Role.OPERATOR))
    db.session.refresh(store)
    assert (store.status, store.phone, store.lon, store.lat) == (StoreStatus.CLOSED, "0571-1", lon, lat)


def test_unknown_header_mapped_by_operator(app):
    rows = [["门店编码", "门店名称", "所属城市"], ["HZ-009", "测试店", "杭州"]]
    preview = preview_csv("stores", rows)
    assert preview.mapping == {0: "code", 1: "name"}
    assert preview.rows[0].status == "error" and "city_code" in preview.rows[0].errors
    preview = preview_csv("stores", rows, mapping={0: "code", 1: "name", 2: "city"})
    assert preview.ok and preview.rows[0].status == "new"


def test_mapping_problems_stop_the_preview(app):
    preview = preview_csv("stores", [["门店名称", "城市"], ["店", "杭州"]])
    assert preview.problems and not preview.rows and not preview.ok
    preview = preview_csv("stores", [["a", "b"], ["A1", "A2"]], mapping={0: "code", 1: "code"})
    assert any("both read as" in p for p in preview.problems)


def test_swapped_lon_lat_is_an_error(app):
    row = WEST_LAKE[:]
    row[5], row[6] = row[6], row[5]
    preview = preview_csv("stores", [STORE_HEADER, row])
    assert preview.rows[0].status == "error" and "swapped" in preview.rows[0].errors["lon"]


def test_one_bad_coordinate_refuses_the_whole_import(app, make_user):
    bad = BINJIANG[:]
    bad[5] = "东经120度"
    preview = preview_csv("stores", [STORE_HEADER, WEST_LAKE, bad])
    assert preview.counts["new"] == 1 and preview.counts["error"] == 1 and not preview.ok
    assert preview.rows[1].line == 3 and "lon" in preview.rows[1].errors
    with pytest.raises(DomainError):
        apply_import(preview, make_user(Role.OPERATOR))
    assert store_count() == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_duplicate_codes_in_the_file(app):
    preview = preview_csv("stores", [STORE_HEADER, WEST_LAKE, BINJIANG, WEST_LAKE])
    assert [r.status for r in preview.rows] == ["new", "new", "error"]
    assert "line 2" in preview.rows[2].errors["key"]


def test_archived_store_code_is_an_error(app, make_store):
    from matrix.models import utcnow
    make_store(code="HZ-001", archived_at=utcnow())
    preview = preview_csv("stores", [STORE_HEADER, WEST_LAKE])
    assert "archived" in preview.rows[0].errors["code"]


def test_brand_and_managers(app, make_store, make_user):
    db.session.add(Brand(name="林氏家居"))
    db.session.commit()
    manager = make_user(Role.STORE_MANAGER, username="zhang")
    make_user(Role.OPERATOR, username="hq")
    rows = [["门店编码", "门店名称", "城市", "品牌", "店长"], ["HZ-001", "店", "杭州", "林氏家居", "zhang"],
            ["HZ-002", "店2", "杭州", "无此品牌", "hq"]]
    preview = preview_csv("stores", rows)
    assert preview.rows[0].status == "new"
    assert "brand" in preview.rows[1].errors and "managers" in preview.rows[1].errors
    preview = preview_csv("stores", rows[:2])
    apply_import(preview, make_user(Role.OPERATOR))
    store = db.session.scalar(select(Store).where(Store.code == "HZ-001"))
    assert store.brand.name == "林氏家居" and [u.id for u in store.managers] == [manager.id]
    assert preview_csv("stores", rows[:2]).rows[0].status == "unchanged"


def test_geocoding_on_confirm_only_for_rows_without_coordinates(app, make_user):
    rows = [STORE_HEADER, WEST_LAKE, ["HZ-003", "无坐标店", "杭州", "西湖区", "文二路 5 号", "", "", "", "", "", ""],
            ["HZ-004", "又一家", "杭州", "", "文一路 9 号", "", "", "", "", "", ""]]
    preview = preview_csv("stores", rows)
    fake = FakeGeocoder(error="The geocoder cannot be reached.")
    apply_import(preview, make_user(Role.OPERATOR), geocoder=fake)
    assert fake.asked == ["杭州市西湖区文二路 5 号"]  # asked once: after a provider failure it is not asked again
    stores = {s.code: s for s in db.session.scalars(select(Store))}
    assert len(stores) == 3
    assert stores["HZ-001"].geocode_status == GeocodeStatus.IMPORTED
    assert stores["HZ-003"].geocode_status == GeocodeStatus.FAILED and stores["HZ-003"].lon is None
    assert stores["HZ-004"].geocode_status == GeocodeStatus.FAILED


def test_geocoder_point_is_saved(app, make_user):
    rows = [STORE_HEADER, ["HZ-003", "无坐标店", "杭州", "西湖区", "文二路 5 号", "", "", "", "", "", ""]]
    apply_import(preview_csv("stores", rows), make_user(Role.OPERATOR), geocoder=FakeGeocoder(geo.Point(120.1, 30.2)))
    store = db.session.scalar(select(Store))
    assert (store.lon, store.lat, store.geocode_status) == (120.1, 30.2, GeocodeStatus.GEOCODED)


def test_confirm_rechecks_what_changed_since_the_preview(app, make_store, make_user):
    preview = preview_csv("stores", [STORE_HEADER, WEST_LAKE])
    make_store(code="HZ-001", name="别人刚建的")
    again = preview_csv("stores", [STORE_HEADER, WEST_LAKE])
    assert again.rows[0].status == "changed" and again.fingerprint() != preview.fingerprint()


def test_geocoding_is_capped_per_import(app, make_user):
    rows = [STORE_HEADER] + [[f"HZ-{i}", f"店{i}", "杭州", "", f"文三路 {i} 号", "", "", "", "", "", ""]
                             for i in range(3)]
    fake = FakeGeocoder(geo.Point(120.1, 30.2))
    apply_import(preview_csv("stores", rows), make_user(Role.OPERATOR), geocoder=fake, geocode_limit=2)
    statuses = sorted(s.geocode_status for s in db.session.scalars(select(Store)))
    assert len(fake.asked) == 2 and statuses == [GeocodeStatus.FAILED, GeocodeStatus.GEOCODED, GeocodeStatus.GEOCODED]


@pytest.fixture
def count_queries(app):
    from sqlalchemy import event

    statements = []

    def listener(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    yield statements
    event.remove(db.engine, "before_cursor_execute", listener)


def test_planning_makes_no_query_per_row(app, platforms, make_store, make_user, count_queries):
    manager = make_user(Role.STORE_MANAGER, username="wang")
    for i in range(20):
        make_store(code=f"HZ-{i:03d}")
    rows = [STORE_HEADER + ["店长"]] + [[f"HZ-{i:03d}", f"店{i}", "杭州", "西湖区", "路", "120.15", "30.27", "",
                                         "营业", "3", "", manager.username] for i in range(300)]
    count_queries.clear()
    assert preview_csv("stores", rows).counts["error"] == 0
    assert len(count_queries) <= 6, count_queries
    accounts = [["平台", "门店编码", "账号"]] + [["抖音", f"HZ-{i % 20:03d}", f"h{i}"] for i in range(300)]
    count_queries.clear()
    assert preview_csv("accounts", accounts).counts["new"] == 300
    assert len(count_queries) <= 6, count_queries
    groups = [["门店编码", "群名称"]] + [[f"HZ-{i % 20:03d}", f"群{i}"] for i in range(300)]
    count_queries.clear()
    assert preview_csv("communities", groups).counts["new"] == 300
    assert len(count_queries) <= 3, count_queries
