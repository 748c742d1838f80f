"""Coverage by city has its own page; the overview links to it, and its links and the matrix's stay right."""
import re

import pytest

from matrix.auth.models import Role
from matrix.extensions import db
from matrix.stores.chain_cache import forget_summaries


def test_the_coverage_page_lists_every_city_the_user_sees(client, login, make_user, make_store, make_account):
    hangzhou = make_store(city="杭州")
    make_store(city="杭州")
    shanghai = make_store(city="上海", district="浦东新区")
    make_account(hangzhou, "douyin")
    login(make_user(Role.OPERATOR))
    overview = client.get("/").text
    assert 'href="/coverage"' in overview and "city-coverage" not in overview
    page = client.get("/coverage").text
    rows = dict(re.findall(r'<a href="/\?city=(\d+)">([^<]+)</a>', page))
    assert rows == {hangzhou.city_code: "杭州市", shanghai.city_code: "上海市"}
    hangzhou_row = page.split(f'city={hangzhou.city_code}"')[1].split("</tr>")[0]
    assert 'data-platform="douyin">50.0%' in hangzhou_row and 'data-platform="kuaishou">0.0%' in hangzhou_row


def test_a_manager_sees_the_coverage_of_their_own_stores(client, login, make_user, make_store, make_account):
    own, other = make_store(city="宁波", district="海曙区"), make_store(city="杭州")
    make_account(own, "douyin")
    login(make_user(Role.STORE_MANAGER, stores=[own]))
    page = client.get("/coverage").text
    assert "宁波市" in page and "杭州市" not in page and other.code not in page


@pytest.fixture
def kept_summaries(app):
    """Summaries kept, and checked against their fingerprint on every request (the suite runs without)."""
    forget_summaries()
    app.config["CHAIN_CACHE_CHECK_S"] = 1e-9
    yield
    app.config["CHAIN_CACHE_CHECK_S"] = 0.0
    forget_summaries()


def test_kept_coverage_follows_accounts_added_and_changed(kept_summaries, client, login, make_user, make_store,
                                                          make_account):
    store = make_store()
    login(make_user(Role.OPERATOR))
    assert 'data-platform="douyin">0.0%' in client.get("/coverage").text
    account = make_account(store, "douyin")
    assert 'data-platform="douyin">100.0%' in client.get("/coverage").text
    account.status = "banned"
    db.session.commit()
    assert 'data-platform="douyin">0.0%' in client.get("/coverage").text


def test_the_matrixs_links_name_the_right_store_account_and_platform(client, login, make_user, make_store,
                                                                     make_account):
    store = make_store(code="L-1")
    account = make_account(store, "kuaishou")
    login(make_user(Role.OPERATOR))
    row = client.get("/").text.split('data-store="L-1"')[1].split("</tr>")[0]
    assert f'href="/stores/{store.id}"' in row and f'href="/accounts/{account.id}"' in row
    assert f'href="/accounts/new?store_id={store.id}&amp;platform=douyin"' in row
