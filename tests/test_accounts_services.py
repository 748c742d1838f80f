"""Account and platform services, without a web client."""
import pytest
from sqlalchemy import select

from matrix.accounts import platforms as platform_services, services
from matrix.accounts.models import Account, AccountScope, Platform
from matrix.accounts.values import clean_account
from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.brands.models import Brand


@pytest.fixture
def brand(app):
    row = Brand(name="家居品牌")
    db.session.add(row)
    db.session.commit()
    return row


def test_ensure_default_platforms_adds_the_four_once(app, make_user):
    added = platform_services.ensure_default_platforms()
    assert [p.code for p in added] == ["douyin", "kuaishou", "channels", "xiaohongshu"]
    douyin = db.session.scalar(select(Platform).where(Platform.code == "douyin"))
    assert (douyin.name_zh, douyin.url_hosts) == ("抖音", "douyin.com,iesdouyin.com")
    assert db.session.scalar(select(Platform).where(Platform.code == "kuaishou")).url_hosts == "kuaishou.com,gifshow.com"
    assert platform_services.ensure_default_platforms() == []
    assert len(db.session.scalars(select(Platform)).all()) == 4
    assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "platform")).all()) == 4


def test_ensure_default_platforms_keeps_existing_rows(platforms):
    platforms["douyin"].name_en = "TikTok CN"
    db.session.commit()
    assert platform_services.ensure_default_platforms() == []
    assert db.session.get(Platform, platforms["douyin"].id).name_en == "TikTok CN"


def test_create_platform_normalises_hosts_and_audits(app, make_user):
    admin = make_user(Role.ADMIN)
    platform = platform_services.create_platform(code=" Bilibili ", name_zh="哔哩哔哩", name_en="Bilibili",
                                                 url_hosts="https://www.bilibili.com/, b23.tv，space.bilibili.com",
                                                 sort_order=50, actor=admin)
    assert platform.code == "bilibili"
    assert platform.url_hosts == "bilibili.com,b23.tv,space.bilibili.com"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "platform"))
    assert (entry.action, entry.actor_id, entry.changes["code"]) == ("create", admin.id, "bilibili")


@pytest.mark.parametrize("fields, field", [
    ({"code": "douyin"}, "code"),
    ({"code": "抖音"}, "code"),
    ({"url_hosts": "not a host"}, "url_hosts"),
    ({"name_en": " "}, "name_en"),
])
def test_create_platform_refuses_bad_values(platforms, fields, field):
    values = {"code": "weibo", "name_zh": "微博", "name_en": "Weibo", "url_hosts": "weibo.com"} | fields
    with pytest.raises(DomainError) as raised:
        platform_services.create_platform(**values, actor=None)
    assert raised.value.field == field
    assert db.session.scalar(select(Platform).where(Platform.code == "weibo")) is None


def test_update_platform_records_the_change(platforms, make_user):
    admin = make_user(Role.ADMIN)
    douyin = platforms["douyin"]
    changes = platform_services.update_platform(douyin, code="douyin", name_zh="抖音", name_en="Douyin",
                                                url_hosts="douyin.com", sort_order=0, enabled=False, actor=admin)
    assert changes == {"url_hosts": ["douyin.com,iesdouyin.com", "douyin.com"], "enabled": [True, False]}
    assert [p.code for p in platform_services.ordered_platforms(enabled_only=True)] == \
        ["kuaishou", "channels", "xiaohongshu"]
    with pytest.raises(DomainError):
        platform_services.update_platform(douyin, code="kuaishou", name_zh="抖音", name_en="Douyin", actor=admin)


def _store_account(store, handle="store_one", **extra):
    return clean_account({"platform": "douyin", "scope": "store", "store_id": store.id, "handle": handle} | extra)


def test_second_brand_main_account_on_a_platform_is_refused(platforms, brand, make_user):
    admin = make_user(Role.ADMIN)
    services.create_account(clean_account({"platform": "douyin", "scope": "brand", "brand_id": brand.id,
                                           "handle": "brand_main"}), actor=admin)
    with pytest.raises(DomainError) as raised:
        services.create_account(clean_account({"platform": "抖音", "scope": "品牌主号", "brand_id": brand.id,
                                               "handle": "brand_second"}), actor=admin)
    assert raised.value.field == "platform"
    # The same brand may have its main account on another platform.
    services.create_account(clean_account({"platform": "kuaishou", "scope": "brand", "brand_id": brand.id,
                                           "handle": "brand_main"}), actor=admin)
    assert db.session.query(Account).filter_by(scope=AccountScope.BRAND).count() == 2


def test_duplicate_handle_on_a_platform_is_refused(platforms, make_store, make_user):
    admin, store = make_user(Role.ADMIN), make_store()
    services.create_account(_store_account(store, "same_handle"), actor=admin)
    with pytest.raises(DomainError) as raised:
        services.create_account(_store_account(make_store(), "@same_handle"), actor=admin)
    assert raised.value.field == "handle"
    assert db.session.query(Account).count() == 1


def test_profile_url_must_be_on_the_platforms_hosts(platforms, make_store):
    store = make_store()
    assert not _store_account(store, profile_url="https://v.douyin.com/abc").errors
    cleaned = _store_account(store, profile_url="https://www.kuaishou.com/profile/abc")
    assert "profile_url" in cleaned.errors
    with pytest.raises(services.InvalidAccount):
        services.create_account(cleaned, actor=None)


def test_update_and_delete_account_are_audited(platforms, make_store, make_user, make_account):
    admin, store = make_user(Role.ADMIN), make_store()
    account = make_account(store, handle="old_handle")
    changes = services.update_account(account, _store_account(store, "new_handle", followers="1.2万"), actor=admin)
    assert changes["handle"] == ["old_handle", "new_handle"]
    assert account.followers == 12000
    services.delete_account(account, actor=admin)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "account")
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["update", "delete"]
    assert db.session.get(Account, account.id) is None
