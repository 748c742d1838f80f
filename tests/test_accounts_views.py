"""Account and platform pages through a web client: lists, forms, and who may see what."""
import pytest
from sqlalchemy import event, select

from matrix.accounts.models import Account, AccountScope, AccountStatus, Platform
from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.brands.models import Brand


@pytest.fixture
def brand(app):
    row = Brand(name="家居品牌")
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Pages in English, so messages match whatever the Chinese catalog says.

    The app fixture keeps one app context (and so one `g`) for a whole test, so the locale of
    the first request sticks: the default is what decides it."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


@pytest.fixture
def two_stores(make_store, make_user):
    """A manager of store A; store B belongs to someone else."""
    own = make_store(code="HZ-001", name="杭州西湖店")
    other = make_store(code="SH-001", name="上海徐汇店", city="上海", district="徐汇区")
    manager = make_user(Role.STORE_MANAGER, stores=[own])
    return own, other, manager


def _form(store=None, **fields):
    data = {"platform": "douyin", "scope": "store", "store_id": store.id if store else "", "brand_id": "",
            "handle": "new_handle", "display_name": "新号", "followers": "1.2万", "status": "active"}
    return data | fields


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, *args):
        self.count += 1


def _count_queries(fn):
    counter = QueryCounter()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return counter.count


def test_list_shows_columns_and_loads_without_a_query_per_row(client, login, make_user, make_store,
                                                              make_account, brand):
    login(make_user(Role.OPERATOR))
    store = make_store(code="HZ-001", name="杭州西湖店")
    make_account(store, handle="hz_west_lake", followers=12345, poi_id="POI-778", run_by="小王")
    make_account(None, handle="brand_main", brand_id=brand.id)
    html = client.get("/accounts/").get_data(as_text=True)
    make_account(make_store(), handle="one_more")
    for text in ("HZ-001", "杭州西湖店", "hz_west_lake", "12.3k", "POI-778", "小王", "家居品牌", "brand_main",
                 "badge-active", "Douyin"):
        assert text in html
    few = _count_queries(lambda: client.get("/accounts/"))  # each builder commits, as before this count
    for n in range(8):
        make_account(make_store(), platform=["douyin", "kuaishou"][n % 2], brand_id=brand.id)
    assert _count_queries(lambda: client.get("/accounts/")) == few


def test_list_search_and_filters(client, login, make_user, make_store, make_account):
    login(make_user(Role.OPERATOR))
    hz = make_store(code="HZ-001", name="杭州西湖店")
    sh = make_store(code="SH-001", name="上海徐汇店", city="上海", district="徐汇区")
    make_account(hz, handle="hz_douyin")
    make_account(hz, platform="kuaishou", handle="hz_kuaishou", status=AccountStatus.BANNED)
    make_account(sh, handle="sh_douyin", display_name="徐汇官方")

    def handles(**args):
        html = client.get("/accounts/", query_string=args).get_data(as_text=True)
        return {h for h in ("hz_douyin", "hz_kuaishou", "sh_douyin") if h in html}

    assert handles(q="徐汇") == {"sh_douyin"}
    assert handles(q="HZ-001") == {"hz_douyin", "hz_kuaishou"}
    assert handles(q="%") == set()
    assert handles(platform="kuaishou") == {"hz_kuaishou"}
    assert handles(status="banned") == {"hz_kuaishou"}
    assert handles(city=sh.city_code) == {"sh_douyin"}
    assert handles(scope="brand") == set()
    assert handles(store=hz.id) == {"hz_douyin", "hz_kuaishou"}


def test_list_is_paginated(app, client, login, make_user, make_store, make_account):
    app.config["PAGE_SIZE"] = 2
    try:
        login(make_user(Role.OPERATOR))
        store = make_store()
        for n in range(5):
            make_account(store, handle=f"paged_{n}")
        html = client.get("/accounts/?page=3").get_data(as_text=True)
        assert "paged_4" in html and "paged_0" not in html and "paged_2" not in html
        assert "Page 3 of 3" in html
    finally:
        app.config["PAGE_SIZE"] = 50


def test_manager_sees_only_own_store_accounts(client, login, two_stores, make_account, brand):
    own, other, manager = two_stores
    mine = make_account(own, handle="mine_account")
    theirs = make_account(other, handle="their_account")
    main = make_account(None, handle="brand_main", brand_id=brand.id)
    login(manager)
    html = client.get("/accounts/").get_data(as_text=True)
    assert "mine_account" in html
    assert "their_account" not in html and "brand_main" not in html
    assert client.get(f"/accounts/{mine.id}").status_code == 200
    for account in (theirs, main):
        assert client.get(f"/accounts/{account.id}").status_code == 404
        assert client.get(f"/accounts/{account.id}/edit").status_code == 404
        assert client.get(f"/accounts/{account.id}/delete").status_code == 404


def test_manager_cannot_edit_or_delete_another_stores_account(client, login, post, two_stores, make_account):
    own, other, manager = two_stores
    theirs = make_account(other, handle="their_account")
    login(manager)
    assert post(f"/accounts/{theirs.id}/edit", _form(own, handle="stolen")).status_code == 404
    assert post(f"/accounts/{theirs.id}/delete").status_code == 404
    db.session.expire_all()
    assert db.session.get(Account, theirs.id).handle == "their_account"


def test_manager_creates_a_store_account_for_own_store(client, login, post, two_stores, platforms):
    own, other, manager = two_stores
    login(manager)
    html = client.get(f"/accounts/new?store_id={own.id}&platform=kuaishou").get_data(as_text=True)
    assert "杭州西湖店" in html and "上海徐汇店" not in html
    assert f'selected value="{own.id}"' in html and 'selected value="kuaishou"' in html
    assert 'name="scope"' not in html
    response = post("/accounts/new", _form(own))
    assert response.status_code == 302
    account = db.session.scalar(select(Account).where(Account.handle == "new_handle"))
    assert (account.store_id, account.scope, account.followers) == (own.id, AccountScope.STORE, 12000)


def test_manager_with_forged_store_id_gets_404_and_nothing_saved(client, login, post, two_stores, platforms):
    own, other, manager = two_stores
    login(manager)
    assert client.get(f"/accounts/new?store_id={other.id}").status_code == 404
    assert post("/accounts/new", _form(other)).status_code == 404
    assert post("/accounts/new", _form(other, handle="")).status_code == 404  # scope is checked first
    assert db.session.scalar(select(Account)) is None


def test_manager_moving_own_account_to_another_store_gets_404(client, login, post, two_stores, make_account):
    own, other, manager = two_stores
    mine = make_account(own, handle="mine_account")
    login(manager)
    assert post(f"/accounts/{mine.id}/edit", _form(other, handle="mine_account")).status_code == 404
    db.session.expire_all()
    assert db.session.get(Account, mine.id).store_id == own.id


def test_manager_cannot_create_brand_main_accounts_or_open_platforms(client, login, post, two_stores, brand,
                                                                     platforms):
    own, other, manager = two_stores
    login(manager)
    assert client.get("/accounts/new?scope=brand").status_code == 403
    assert post("/accounts/new", _form(scope="brand", brand_id=brand.id)).status_code == 403
    assert db.session.scalar(select(Account)) is None
    assert client.get("/accounts/platforms").status_code == 403
    assert client.get("/accounts/platforms/new").status_code == 403
    assert client.get(f"/accounts/platforms/{platforms['douyin'].id}/edit").status_code == 403
    assert post("/accounts/platforms/new", {"code": "weibo", "name_zh": "微博", "name_en": "Weibo"}).status_code == 403


def test_hq_creates_a_brand_main_account_and_a_second_is_refused(client, login, post, make_user, brand, platforms):
    login(make_user(Role.OPERATOR))
    assert "家居品牌" in client.get("/accounts/new?scope=brand").get_data(as_text=True)
    assert post("/accounts/new", _form(scope="brand", brand_id=brand.id, handle="brand_main")).status_code == 302
    response = post("/accounts/new", _form(scope="brand", brand_id=brand.id, handle="brand_other"))
    assert response.status_code == 422
    assert "already has a main account" in response.get_data(as_text=True)
    assert db.session.query(Account).count() == 1


def test_duplicate_handle_is_refused_on_the_form(client, login, post, make_user, make_store, make_account):
    login(make_user(Role.OPERATOR))
    make_account(make_store(), handle="taken_handle")
    store = make_store()
    response = post("/accounts/new", _form(store, handle="taken_handle", display_name="我输入的名字"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "already registered" in html and "我输入的名字" in html  # kept what was typed
    assert db.session.query(Account).count() == 1


@pytest.mark.parametrize("fields, message", [
    ({"profile_url": "https://www.kuaishou.com/u/1"}, "is not a Douyin address"),
    ({"followers": "lots"}, "is not a number"),
    ({"handle": "has space"}, "may hold letters"),
    ({"store_id": ""}, "needs its store"),
])
def test_invalid_fields_are_shown_on_the_form(client, login, post, make_user, make_store, platforms, fields, message):
    login(make_user(Role.OPERATOR))
    response = post("/accounts/new", _form(make_store()) | fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Account)) is None


def test_edit_and_delete_an_account(client, login, post, two_stores, make_account):
    own, other, manager = two_stores
    account = make_account(own, handle="before_edit")
    login(manager)
    page = client.get(f"/accounts/{account.id}/edit").get_data(as_text=True)
    assert "before_edit" in page
    response = post(f"/accounts/{account.id}/edit", _form(own, handle="after_edit", status="restricted"))
    assert response.status_code == 302
    db.session.expire_all()
    assert (account.handle, account.status) == ("after_edit", AccountStatus.RESTRICTED)
    assert "after_edit" in client.get(f"/accounts/{account.id}/delete").get_data(as_text=True)
    assert post(f"/accounts/{account.id}/delete").status_code == 302
    assert db.session.get(Account, account.id) is None
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.entity == "account")
                             .order_by(AuditEntry.id.desc()).limit(1)) == "delete"


def test_platforms_admin(client, login, post, make_user, platforms):
    login(make_user(Role.ADMIN))
    html = client.get("/accounts/platforms").get_data(as_text=True)
    assert "视频号" in html and "WeChat Channels" in html and "xhslink.com" in html
    response = post("/accounts/platforms/new", {"code": "weibo", "name_zh": "微博", "name_en": "Weibo",
                                                "url_hosts": "weibo.com, m.weibo.cn", "sort_order": "40",
                                                "enabled": "y"})
    assert response.status_code == 302
    weibo = db.session.scalar(select(Platform).where(Platform.code == "weibo"))
    assert (weibo.url_hosts, weibo.enabled) == ("weibo.com,m.weibo.cn", True)
    response = post(f"/accounts/platforms/{weibo.id}/edit", {"code": "weibo", "name_zh": "新浪微博",
                                                             "name_en": "Weibo", "url_hosts": "weibo.com",
                                                             "sort_order": "5"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (weibo.name_zh, weibo.enabled, weibo.sort_order) == ("新浪微博", False, 5)
    # A disabled platform is not offered for new accounts.
    assert "Weibo" not in client.get("/accounts/new").get_data(as_text=True)


def test_platform_form_errors(client, login, post, make_user, platforms):
    login(make_user(Role.OPERATOR))
    response = post("/accounts/platforms/new", {"code": "douyin", "name_zh": "抖音2", "name_en": "Douyin 2"})
    assert response.status_code == 422 and "already has the code" in response.get_data(as_text=True)
    response = post("/accounts/platforms/new", {"code": "weibo", "name_zh": "微博", "name_en": "Weibo",
                                                "url_hosts": "weibo.com, not a host!"})
    assert response.status_code == 422 and "is not a host name" in response.get_data(as_text=True)
    assert db.session.scalar(select(Platform).where(Platform.code == "weibo")) is None
    assert client.get("/accounts/platforms/9999/edit").status_code == 404
