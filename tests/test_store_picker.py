"""The store picker: a select while the user has few stores, a store code with suggestions past the limit."""
import csv
import io
import re

import pytest
from sqlalchemy import func, select

from matrix.accounts.models import Account
from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.leads.models import Lead
from matrix.models import utcnow
from matrix.stores import picker

PHONE = "13812345678"
UNKNOWN = "No store you can choose has the code"


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Pages in English, so messages match whatever the Chinese catalog says (see test_accounts_views)."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


@pytest.fixture
def chain(make_store, make_user):
    """Three open stores, an archived one, HQ, and a manager of the two Hangzhou stores."""
    xihu = make_store(code="HZ-001", name="杭州西湖店")
    binjiang = make_store(code="HZ-002", name="杭州滨江店", district="滨江区")
    shanghai = make_store(code="SH-001", name="上海徐汇店", city="上海", district="徐汇区")
    closed = make_store(code="HZ-009", name="杭州旧店", archived_at=utcnow())
    return {"xihu": xihu, "binjiang": binjiang, "shanghai": shanghai, "closed": closed,
            "hq": make_user(Role.OPERATOR), "manager": make_user(Role.STORE_MANAGER, stores=[xihu, binjiang])}


@pytest.fixture
def limit(monkeypatch):
    """Lower the select's limit, as if the chain had thousands of stores: limit(2)."""
    return lambda n: monkeypatch.setattr(picker, "SELECT_MAX", n)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def written() -> tuple[int, int, int, int]:
    return count(Account), count(Community), count(Lead), count(AuditEntry)


def suggestions(html: str) -> list[str]:
    lists = re.findall(r"<datalist[^>]*>(.*?)</datalist>", html, re.S)
    assert len(lists) == 1, "one list of suggestions on the page"
    return re.findall(r'<option value="([^"]*)"', lists[0])


def test_the_picker_counts_to_the_limit_and_finds_codes_in_scope(chain, limit):
    limit(2)
    hq, manager = chain["hq"], chain["manager"]
    assert not picker.offers_select(hq) and picker.offers_select(manager)
    assert picker.find_store(hq, " hz-002 ") == chain["binjiang"]
    assert picker.find_store(manager, "SH-001") is None  # another manager's store
    assert picker.find_store(hq, "HZ-009") is None  # archived stores are not picked for new data
    assert picker.find_store(hq, "HZ-009", include_archived=True) == chain["closed"]
    assert picker.find_store(hq, "hz-009", current=chain["closed"]) == chain["closed"]  # what an edit already has
    assert picker.suggest_stores(hq) == [("HZ-001", "杭州西湖店"), ("HZ-002", "杭州滨江店")]
    assert picker.suggest_stores(hq, "上海") == [("SH-001", "上海徐汇店"), ("HZ-001", "杭州西湖店")]
    assert picker.suggest_stores(hq, "%") == picker.suggest_stores(hq)  # typed text is not a LIKE pattern
    assert picker.suggest_stores(manager, "SH") == [("HZ-001", "杭州西湖店"), ("HZ-002", "杭州滨江店")]


FORM_PAGES = ("/accounts/new", "/communities/new", "/leads/new")


def test_a_big_chains_pages_ask_for_the_store_code(client, login, chain, limit, make_community, make_lead):
    group = make_community(chain["xihu"])
    lead = make_lead(chain["xihu"])
    login(chain["hq"])
    pages = (*FORM_PAGES, f"/communities/{group.id}/edit", f"/leads/{lead.id}", "/communities/", "/leads/")
    for url in pages:  # under the limit: the select, as before
        html = client.get(url).get_data(as_text=True)
        assert re.search(r'<select[^>]*name="store(_id)?"', html) and "<datalist" not in html, url
    limit(2)
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert 'name="store_code"' in html and "Type the store code." in html, url
        assert not re.search(r'<select[^>]*name="store(_id)?"', html), url
        assert suggestions(html) == ["HZ-001", "HZ-002"], url  # no more than the limit, first by code
    html = client.get(f"/communities/{group.id}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="store_code"[^>]*value="HZ-001"', html)  # the group's store, ready to keep
    html = client.get("/accounts/new", query_string={"store_id": chain["shanghai"].id}).get_data(as_text=True)
    assert 'value="SH-001"' in html


def test_hq_picks_stores_by_code(client, login, post, chain, limit, platforms, make_lead):
    limit(2)
    login(chain["hq"])
    response = post("/accounts/new", {"platform": "douyin", "scope": "store", "store_code": " hz-002 ",
                                      "handle": "binjiang_dy", "display_name": "滨江号", "followers": "10",
                                      "status": "active"})
    assert response.status_code == 302
    assert db.session.scalar(select(Account.store_id)) == chain["binjiang"].id
    response = post("/communities/new", {"store_code": "SH-001", "name": "徐汇一群", "kind": "wecom",
                                         "capacity": "200", "members": "0", "active": "y"})
    assert response.status_code == 302
    assert db.session.scalar(select(Community.store_id)) == chain["shanghai"].id
    response = post("/leads/new", {"store_code": "HZ-001", "name": "电话客户", "phone": PHONE})
    assert response.status_code == 302
    assert db.session.scalar(select(Lead.store_id)) == chain["xihu"].id
    lead = db.session.scalar(select(Lead))
    assert post(f"/leads/{lead.id}/reassign", {"store_code": "HZ-002"}).status_code == 302
    db.session.expire_all()
    assert lead.store_id == chain["binjiang"].id


def _posts(chain, code: str, lead_id: int) -> dict[str, dict]:
    return {"/accounts/new": {"platform": "douyin", "scope": "store", "store_code": code, "handle": "typed_handle",
                              "followers": "0", "status": "active"},
            "/communities/new": {"store_code": code, "name": "打错群", "kind": "wecom", "capacity": "200",
                                 "members": "0"},
            "/leads/new": {"store_code": code, "name": "打错客户", "phone": PHONE},
            f"/leads/{lead_id}/reassign": {"store_code": code}}


@pytest.mark.parametrize("code", ["NO-SUCH", "HZ-009"])  # unknown, archived
def test_an_unknown_or_archived_code_is_a_field_error_and_nothing_is_written(
        client, login, post, chain, limit, platforms, make_lead, code):
    limit(2)
    lead = make_lead(None, name="无处可去")
    login(chain["hq"])
    before = written()
    for url, data in _posts(chain, code, lead.id).items():
        response = post(url, data)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, url
        assert f"{UNKNOWN} “{code}”." in html and f'value="{code}"' in html, url  # said, and kept
        assert "has-error" in html, url
    db.session.expire_all()
    assert written() == before and lead.store_id is None  # HQ's lead was not left to routing either


def test_a_manager_past_the_limit_cannot_type_another_stores_code(client, login, post, chain, limit, make_lead):
    limit(1)
    login(chain["manager"])
    html = client.get("/communities/new").get_data(as_text=True)
    assert 'name="store_code"' in html and suggestions(html) == ["HZ-001"]
    lead = make_lead(chain["xihu"])
    before = written()
    for url, data in _posts(chain, "SH-001", lead.id).items():
        if url.endswith("/reassign"):
            assert post(url, data).status_code == 403  # reassigning is HQ's
            continue
        response = post(url, data)
        assert response.status_code == 422 and f"{UNKNOWN} “SH-001”." in response.get_data(as_text=True), url
    assert written() == before
    response = post("/communities/new", {"store_code": "HZ-002", "name": "滨江一群", "kind": "wecom",
                                         "capacity": "200", "members": "0"})
    assert response.status_code == 302
    assert db.session.scalar(select(Community.store_id)) == chain["binjiang"].id


def test_an_edit_keeps_its_archived_store_and_an_emptied_code_is_refused(client, login, post, chain, limit,
                                                                         make_community):
    limit(2)
    group = make_community(chain["closed"], name="旧店群")
    login(chain["hq"])
    data = {"store_code": "HZ-009", "name": "旧店群改名", "kind": "wecom", "capacity": "200", "members": "0"}
    assert post(f"/communities/{group.id}/edit", data).status_code == 302
    response = post(f"/communities/{group.id}/edit", data | {"store_code": "", "name": "无店群"})
    assert response.status_code == 422 and "A community belongs to a store." in response.get_data(as_text=True)
    db.session.expire_all()
    assert (group.name, group.store_id) == ("旧店群改名", chain["closed"].id)


def test_lists_filter_by_store_code_or_id(client, login, chain, limit, make_community, make_lead, make_store):
    numeric = make_store(code="1001", name="数字店")
    for store in (chain["xihu"], chain["binjiang"], chain["closed"], numeric):
        make_community(store, name=f"{store.code}群")
        make_lead(store, name=f"{store.code}客户")
    login(chain["hq"])

    def shown(url, suffix, **args):
        response = client.get(url, query_string=args)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        return {code for code in ("HZ-001", "HZ-002", "HZ-009", "1001") if f"{code}{suffix}" in html}, html

    for url, suffix in (("/communities/", "群"), ("/leads/", "客户")):
        assert shown(url, suffix, store=chain["binjiang"].id)[0] == {"HZ-002"}  # the app's links
        found, html = shown(url, suffix, store="HZ-002")  # a code, under the limit: the select shows it
        assert found == {"HZ-002"} and re.search(rf'<option value="{chain["binjiang"].id}" selected>', html)
        limit(2)
        assert shown(url, suffix, store_code="hz-002")[0] == {"HZ-002"}
        found, html = shown(url, suffix, store="HZ-009")
        assert found == {"HZ-009"} and "new?store_id" not in html  # an archived store's history, no new data
        found, html = shown(url, suffix, store="HZ-002")
        assert f"new?store_id={chain['binjiang'].id}" in html  # "New" starts from the store filtered by
        assert shown(url, suffix, store_code="1001")[0] == {"1001"}  # digits typed are a code
        found, html = shown(url, suffix, store=chain["xihu"].id)
        assert found == {"HZ-001"} and 'name="store_code" value="HZ-001"' in html  # a link fills the code in
        found, html = shown(url, suffix, store_code="NOPE")
        assert found == set() and f"{UNKNOWN} “NOPE”." in html and 'value="NOPE"' in html
        limit(200)


def test_a_manager_filtering_by_another_stores_code_is_told_so(client, login, chain, make_community):
    make_community(chain["shanghai"], name="徐汇一群")
    login(chain["manager"])
    for url in ("/communities/", "/leads/"):
        html = client.get(url, query_string={"store": "SH-001"}).get_data(as_text=True)
        assert f"{UNKNOWN} “SH-001”." in html and "上海徐汇店" not in html, url


def test_the_export_follows_the_typed_code(client, login, post, chain, limit, make_lead):
    make_lead(chain["xihu"], name="西湖客户")
    make_lead(chain["binjiang"], name="滨江客户")
    limit(2)
    login(chain["hq"])
    html = client.get("/leads/", query_string={"store_code": "HZ-002"}).get_data(as_text=True)
    assert 'type="hidden" name="store_code" value="HZ-002"' in html

    def names(**data):
        response = post("/leads/export", data)
        assert response.status_code == 200
        return {row[2] for row in list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))[1:]}

    assert names(store_code="HZ-002") == {"滨江客户"}
    assert names(store_code="NOPE") == set()  # an unknown code exports nothing, never everything
    assert post("/leads/export", {"store": 999999}).status_code == 404  # a forged id, as before
