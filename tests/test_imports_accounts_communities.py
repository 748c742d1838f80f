"""Account and community imports, and exports that import back unchanged."""
import pytest
from sqlalchemy import select

from matrix.accounts.models import Account, AccountScope, AccountStatus
from matrix.auth.models import Role
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.imports.apply import apply_import
from matrix.imports.exports import export_table, template_table, to_csv, to_xlsx
from matrix.imports.preview import preview_import
from matrix.imports.readers import read_table
from matrix.stores.models import StoreStatus
from matrix.brands.models import Brand
from samples import preview_csv

ROBOT = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdef-1234-5678"
ACCOUNT_HEADER = ["平台", "账号类型", "门店编码", "品牌", "抖音号", "昵称", "主页链接", "POI ID", "粉丝数", "状态", "运营人"]


@pytest.fixture
def brand(app):
    brand = Brand(name="林氏家居")
    db.session.add(brand)
    db.session.commit()
    return brand


def test_accounts_resolve_store_codes_and_brands(app, platforms, make_store, make_user, brand):
    make_store(code="HZ-001")
    rows = [ACCOUNT_HEADER,
            ["抖音", "门店号", "HZ-001", "", "@linshi_hz1", "林氏·西湖店", "https://www.douyin.com/user/x", "B001",
             "1.2万", "运营中", "小王"],
            ["douyin", "品牌主号", "", "林氏家居", "linshi", "林氏家居官方", "", "", "12,000", "", ""],
            ["快手", "门店号", "NOPE-9", "", "ks_1", "", "", "", "", "", ""],
            ["微博", "门店号", "HZ-001", "", "wb_1", "", "", "", "", "", ""]]
    preview = preview_csv("accounts", rows)
    assert [r.status for r in preview.rows] == ["new", "new", "error", "error"]
    assert "NOPE-9" in preview.rows[2].errors["store_code"]
    assert "微博" in preview.rows[3].errors["platform"]
    apply_import(preview_csv("accounts", rows[:3]), make_user(Role.OPERATOR))
    store_account = db.session.scalar(select(Account).where(Account.handle == "linshi_hz1"))
    assert (store_account.followers, store_account.status, store_account.poi_id) == \
        (12000, AccountStatus.ACTIVE, "B001")
    main = db.session.scalar(select(Account).where(Account.handle == "linshi"))
    assert main.scope == AccountScope.BRAND and main.brand_id == brand.id and main.store_id is None
    assert {r.status for r in preview_csv("accounts", rows[:3]).rows} == {"unchanged"}


def test_second_brand_main_account_on_a_platform_is_an_error(app, platforms, make_account, brand):
    make_account(handle="official", brand_id=brand.id)
    rows = [["平台", "类型", "品牌", "账号"], ["抖音", "品牌主号", "林氏家居", "another"],
            ["抖音", "品牌主号", "林氏家居", "official"]]
    preview = preview_csv("accounts", rows)
    assert "main account" in preview.rows[0].errors["scope"]
    assert preview.rows[1].status == "unchanged"


def test_communities_keep_the_webhook_when_the_column_is_absent_or_empty(app, make_store, make_user):
    store = make_store(code="HZ-001")
    db.session.add(Community(store_id=store.id, name="西湖1群", robot_webhook_url=ROBOT, members=10))
    db.session.commit()
    rows = [["门店编码", "群名称", "群人数", "机器人"], ["HZ-001", "西湖1群", "180", ""],
            ["HZ-001", "西湖2群", "0", ROBOT + "x"], ["HZ-404", "孤儿群", "", ""]]
    preview = preview_csv("communities", rows)
    assert [r.status for r in preview.rows] == ["changed", "new", "error"]
    assert preview.rows[0].changes == {"members": ("10", "180")}
    apply_import(preview_csv("communities", rows[:3]), make_user(Role.OPERATOR))
    groups = {c.name: c for c in db.session.scalars(select(Community))}
    assert groups["西湖1群"].robot_webhook_url == ROBOT and groups["西湖1群"].members == 180
    assert groups["西湖2群"].robot_webhook_url == ROBOT + "x"


def test_a_changed_webhook_is_shown_masked(app, make_store, make_community):
    store = make_store(code="HZ-001")
    make_community(store, name="群", robot_webhook_url=ROBOT)
    preview = preview_csv("communities", [["门店编码", "群名称", "webhook"], ["HZ-001", "群", ROBOT.replace("abc", "xyz")]])
    old, new = preview.rows[0].changes["robot_webhook_url"]
    assert "abcdef" not in old and "xyzdef" not in new and new.endswith("****5678")


def seed_everything(make_store, make_account, make_community, make_user, brand):
    manager = make_user(Role.STORE_MANAGER, username="li")
    west = make_store(code="HZ-001", name="西湖店", status=StoreStatus.CLOSED_TEMPORARILY, phone="+86 571 8888",
                      brand_id=brand.id, service_radius_km=2.5, address="=HYPERLINK(\"x\")")
    west.managers = [manager]
    make_store(code="SH-001", city="上海", district="浦东新区", lon=121.5, lat=31.2, name="浦东店")
    make_store(code="BJ-001", city="北京", district="", lon=None, lat=None, name="无坐标店")
    make_account(store=west, handle="hz_west", poi_id="P1", run_by="小王", profile_url="https://www.douyin.com/u/1")
    make_account(platform="kuaishou", handle="brand_ks", brand_id=brand.id, status=AccountStatus.RESTRICTED)
    make_community(west, name="西湖1群", robot_webhook_url=ROBOT, members=199, active=False, rotation_order=2,
                   invite_link="https://work.weixin.qq.com/g/abc")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_imports_back_unchanged(app, platforms, make_store, make_account, make_community, make_user,
                                       brand, fmt):
    seed_everything(make_store, make_account, make_community, make_user, brand)
    hq = make_user(Role.OPERATOR)
    for kind in ("stores", "accounts", "communities"):
        headers, rows = export_table(kind, hq)
        data = to_csv(headers, rows) if fmt == "csv" else to_xlsx(headers, rows)
        if fmt == "csv":
            assert data.startswith(b"\xef\xbb\xbf")
        table = read_table(data, f"{kind}.{fmt}")
        preview = preview_import(kind, table)
        assert len(preview.mapping) == len(headers), (kind, table.headers)
        assert [r.status for r in preview.rows] == ["unchanged"] * len(rows), [(r.key, r.errors, r.changes)
                                                                             for r in preview.rows]
    community_headers, _rows = export_table("communities", hq)
    assert "机器人" not in community_headers
    stores_csv = to_csv(*export_table("stores", hq)).decode("utf-8-sig")
    assert "坐标系" in stores_csv and "GCJ-02" in stores_csv and "暂停营业" in stores_csv
    assert "'=HYPERLINK" in stores_csv  # Excel shows it as text instead of running it


def test_templates_hold_every_column(app):
    assert template_table("communities")[:2] == ["门店编码", "群名称"] and "机器人" in template_table("communities")
    for kind in ("stores", "accounts", "communities"):
        headers = template_table(kind)
        table = read_table(to_csv(headers, [["x"] * len(headers)]), "t.csv")
        assert preview_import(kind, table).mapping.keys() == set(range(len(headers)))
