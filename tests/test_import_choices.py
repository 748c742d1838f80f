"""Every choice column of every import reads what the UI shows (Chinese and English), the stored code, and sloppy
versions of them (spaces, case, full width), through the import itself."""
from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from samples import csv_bytes, preview_csv

from matrix import geo
from matrix.accounts.labels import ACCOUNT_STATUS_LABELS, SCOPE_LABELS
from matrix.accounts.models import AccountScope, AccountStatus
from matrix.auth.models import Role
from matrix.brands.models import Brand
from matrix.choices import Choices, normalise_choice
from matrix.communities.labels import KIND_LABELS
from matrix.communities.models import CommunityKind
from matrix.extensions import db
from matrix.imports.readers import read_table
from matrix.leads.lead_import import preview_lead_import
from matrix.live.session_import import preview_session_import
from matrix.stores.labels import STORE_STATUS_LABELS
from matrix.stores.models import StoreStatus

POINT = (120.1551, 30.2741)  # a Hangzhou point, read in each system


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def spoken(label, language: str) -> str:
    with force_locale(language):
        return str(label)


def words_for(code: str, label) -> list[str]:
    """The stored code, the label in both languages, and the label as a careless hand types it."""
    zh, en = spoken(label, "zh"), spoken(label, "en")
    return [code, zh, en, f"  {' '.join(zh)} ", full_width(en.upper()), en.lower().replace(" ", "_")]


def cases(enum_cls, labels):
    return [(member, word) for member in enum_cls for word in words_for(member.value, labels[member.value])]


@pytest.fixture
def brand(app):
    row = Brand(name="林氏家居")
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.parametrize("member,word", cases(StoreStatus, STORE_STATUS_LABELS))
def test_store_status_column(app, member, word):
    preview = preview_csv("stores", [["门店编码", "门店名称", "城市", "状态"], ["HZ-001", "西湖店", "杭州", word]])
    assert preview.ok, preview.rows[0].errors
    assert preview.rows[0].values["status"] == member


@pytest.mark.parametrize("member,word", cases(geo.CoordSystem, geo.COORD_SYSTEM_LABELS))
def test_store_coordinate_system_column(app, member, word):
    preview = preview_csv("stores", [["门店编码", "门店名称", "城市", "经度", "纬度", "坐标系"],
                                     ["HZ-001", "西湖店", "杭州", *POINT, word]])
    assert preview.ok, preview.rows[0].errors
    expected = geo.to_wgs84(*POINT, member)
    assert preview.rows[0].values["lon"] == pytest.approx(expected.lon, abs=1e-6)


@pytest.mark.parametrize("member,word", cases(AccountStatus, ACCOUNT_STATUS_LABELS))
def test_account_status_column(app, platforms, make_store, member, word):
    make_store(code="HZ-001")
    preview = preview_csv("accounts", [["平台", "门店编码", "账号", "状态"], ["抖音", "HZ-001", "hz001", word]])
    assert preview.ok, preview.rows[0].errors
    assert preview.rows[0].values["status"] == member


def test_the_account_form_word_for_active_imports(app, platforms, make_store):
    """The bug: 启用 (the account form's word for Active) blocked every row."""
    make_store(code="HZ-001")
    preview = preview_csv("accounts", [["平台", "门店编码", "账号", "状态"], ["抖音", "HZ-001", "hz001", "启用"]])
    assert preview.ok and preview.rows[0].values["status"] == AccountStatus.ACTIVE


@pytest.mark.parametrize("member,word", cases(AccountScope, SCOPE_LABELS))
def test_account_type_column(app, platforms, make_store, brand, member, word):
    make_store(code="HZ-001")
    code = "HZ-001" if member == AccountScope.STORE else ""
    preview = preview_csv("accounts", [["平台", "类型", "门店编码", "品牌", "账号"], ["抖音", word, code, "林氏家居", "h1"]])
    assert preview.ok, preview.rows[0].errors
    assert preview.rows[0].values["scope"] == member


@pytest.mark.parametrize("code", ["douyin", "kuaishou", "channels", "xiaohongshu"])
def test_account_platform_column(app, platforms, make_store, code):
    make_store(code="HZ-001")
    platform = platforms[code]
    for word in (code, platform.name_zh, platform.name_en, f" {platform.name_zh} ", full_width(platform.name_en.upper())):
        preview = preview_csv("accounts", [["平台", "门店编码", "账号"], [word, "HZ-001", "h1"]])
        assert preview.ok, (word, preview.rows[0].errors)
        assert preview.rows[0].values["platform_id"] == platform.id


@pytest.mark.parametrize("member,word", cases(CommunityKind, KIND_LABELS))
def test_community_kind_column(app, make_store, member, word):
    make_store(code="HZ-001")
    preview = preview_csv("communities", [["门店编码", "群名称", "群类型"], ["HZ-001", "一群", word]])
    assert preview.ok, preview.rows[0].errors
    assert preview.rows[0].values["kind"] == member


@pytest.mark.parametrize("word,active", [("是", True), ("Yes", True), ("启用", True), ("Active", True), (" true ", True),
                                         ("ＹＥＳ", True), ("否", False), ("No", False), ("已停用", False),
                                         ("Inactive", False), ("false", False), ("0", False)])
def test_community_active_column(app, make_store, word, active):
    make_store(code="HZ-001")
    preview = preview_csv("communities", [["门店编码", "群名称", "启用"], ["HZ-001", "一群", word]])
    assert preview.ok, preview.rows[0].errors
    assert preview.rows[0].values["active"] is active


@pytest.mark.parametrize("member,word", cases(geo.CoordSystem, geo.COORD_SYSTEM_LABELS))
def test_lead_coordinate_system_column(app, member, word):
    table = read_table(csv_bytes([["手机号", "经度", "纬度", "坐标系"], ["13800138000", *POINT, word]]), "leads.csv")
    preview = preview_lead_import(table)
    assert preview.ok, preview.rows[0].errors
    assert preview.rows[0].data.coord_system == member.value


@pytest.mark.parametrize("code", ["douyin", "kuaishou", "channels", "xiaohongshu"])
def test_live_session_platform_column(app, platforms, make_store, make_account, make_user, code):
    account = make_account(make_store(code="HZ-001"), platform=code, handle="hz001")
    day = (datetime.now(timezone.utc) + timedelta(days=10)).date().isoformat()
    platform = platforms[code]
    for word in (code, platform.name_zh, platform.name_en, f" {platform.name_zh} ", full_width(platform.name_en.upper())):
        table = read_table(csv_bytes([["平台", "账号", "日期", "开始时间", "结束时间", "标题", "主播"],
                                      [word, "hz001", day, "19:00", "21:00", "直播", "李娜"]]), "s.csv")
        preview = preview_session_import(table, actor=make_user(Role.OPERATOR))
        assert preview.ok, (word, preview.rows[0].errors)
        assert preview.rows[0].values.account.id == account.id


def test_a_word_naming_two_values_is_refused_when_the_lists_are_built(app):
    clash = Choices({"a": 1, "b": 2}, aliases={"A ": 2})
    with pytest.raises(ValueError):
        clash.words()


def test_normalising_is_forgiving_about_width_case_and_spaces():
    assert normalise_choice(" 启 用 ") == "启用"
    assert normalise_choice("ＡＣＴＩＶＥ") == normalise_choice("active")
    assert normalise_choice("Closed_Temporarily") == normalise_choice("closed temporarily")
