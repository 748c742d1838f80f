"""The matrix overview: gaps, coverage, filters, scoping and a query count that does not grow."""
import re

import pytest
from sqlalchemy import event

from matrix.accounts.models import AccountStatus
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.overview.services import OverviewFilters, overview_page
from matrix.stores.models import StoreStatus


def row_html(html: str, code: str) -> str:
    """The table row of one store."""
    match = re.search(rf'<tr class="store-row[^"]*" data-store="{re.escape(code)}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {code}"
    return match.group(1)


def shown_codes(html: str) -> list[str]:
    return re.findall(r'data-store="([^"]+)"', html)


@pytest.fixture
def operator(make_user, login):
    user = make_user(Role.OPERATOR)
    login(user)
    return user


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_missing_platform_is_a_highlighted_gap(client, operator, make_store, make_account):
    store = make_store(code="HZ-001")
    make_account(store, "douyin", followers=12345)
    row = row_html(client.get("/").get_data(as_text=True), "HZ-001")
    assert 'class="cell" data-platform="douyin"' in row
    assert 'class="cell gap" data-platform="kuaishou"' in row
    assert "no account" in row
    assert "badge-active" in row


def test_retired_account_leaves_a_gap(client, operator, make_store, make_account):
    store = make_store(code="HZ-002")
    make_account(store, "douyin", status=AccountStatus.RETIRED)
    assert 'class="cell gap" data-platform="douyin"' in row_html(client.get("/").get_data(as_text=True), "HZ-002")


def test_coverage_counts_open_stores_with_a_running_account(operator, make_store, make_account, platforms):
    a, b, c = make_store(), make_store(), make_store(city="上海", district="浦东新区")
    closed = make_store(status=StoreStatus.CLOSED)
    make_account(a, "douyin")
    make_account(b, "douyin", status=AccountStatus.INCUBATING)
    make_account(b, "douyin")  # a second account does not count the store twice
    make_account(c, "douyin", status=AccountStatus.BANNED)  # banned reaches nobody
    make_account(closed, "douyin")
    page = overview_page(operator, OverviewFilters())
    coverage = {cov.platform.code: cov for cov in page.coverage}
    assert (coverage["douyin"].covered, coverage["douyin"].open_stores) == (2, 3)
    assert coverage["douyin"].percent == 66.7
    assert coverage["kuaishou"].percent == 0.0
    by_city = {city.name: city for city in page.cities}
    assert by_city["杭州市"].open_stores == 2 and by_city["杭州市"].stores == 3
    assert by_city["杭州市"].percent(platforms["douyin"].id) == 100.0
    assert by_city["上海市"].percent(platforms["douyin"].id) == 0.0


def test_coverage_follows_the_city_filter(client, operator, make_store, make_account):
    make_account(make_store(), "douyin")
    make_store(city="上海", district="浦东新区")
    html = client.get("/?city=310100").get_data(as_text=True)
    assert re.search(r'data-platform="douyin">\s*<div class="muted">[^<]+</div>\s*<div class="big">0.0%', html)
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'data-platform="douyin">\s*<div class="muted">[^<]+</div>\s*<div class="big">50.0%', html)


def test_filters(client, operator, make_store, make_account, make_community):
    full = make_store(code="F-1")
    for code in ("douyin", "kuaishou", "channels", "xiaohongshu"):
        make_account(full, code)
    make_community(full, members=10)
    shanghai = make_store(code="SH-1", city="上海", district="浦东新区", status=StoreStatus.PLANNED)
    make_account(shanghai, "kuaishou")
    bare = make_store(code="B-1", lon=None, lat=None)

    assert shown_codes(client.get("/?city=310100").get_data(as_text=True)) == ["SH-1"]
    assert shown_codes(client.get("/?status=planned").get_data(as_text=True)) == ["SH-1"]
    assert sorted(shown_codes(client.get("/?platform=kuaishou&gaps=1").get_data(as_text=True))) == ["B-1"]
    only_kuaishou = client.get("/?platform=kuaishou").get_data(as_text=True)
    assert 'data-platform="kuaishou"' in row_html(only_kuaishou, "F-1")
    assert 'data-platform="douyin"' not in row_html(only_kuaishou, "F-1")
    assert sorted(shown_codes(client.get("/?gaps=1").get_data(as_text=True))) == ["B-1", "SH-1"]
    assert sorted(shown_codes(client.get("/?problems=1").get_data(as_text=True))) == ["B-1", "SH-1"]
    assert "flag-no-point" in row_html(client.get("/").get_data(as_text=True), bare.code)
    # Nonsense values are ignored, not errors.
    assert client.get("/?status=bogus&city=abc&platform=nope&page=-3").status_code == 200


def test_community_flags(client, operator, make_store, make_community):
    make_store(code="N-1")
    full = make_store(code="N-2")
    make_community(full, members=200, capacity=200)
    roomy = make_store(code="N-3")
    make_community(roomy, members=200, capacity=200)
    make_community(roomy, members=50)
    html = client.get("/").get_data(as_text=True)
    assert "flag-no-community" in row_html(html, "N-1")
    assert "flag-groups-full" in row_html(html, "N-2")
    assert "flag-" not in row_html(html, "N-3")


def test_store_manager_sees_only_own_stores(client, make_user, login, make_store, make_account):
    mine, other = make_store(code="MINE-1"), make_store(code="OTHER-1")
    make_account(mine, "douyin")
    make_account(other, "douyin")
    make_account(None, "douyin", display_name="品牌官方号")
    manager = make_user(Role.STORE_MANAGER, stores=[mine])
    login(manager)
    first = client.get("/")
    assert first.status_code == 302 and first.headers["Location"].endswith("/today/")  # a manager's first page
    html = client.get("/matrix").get_data(as_text=True)
    assert "MINE-1" in html
    assert "OTHER-1" not in html
    assert "品牌官方号" not in html  # the brand strip is for HQ
    page = overview_page(manager, OverviewFilters())
    assert [c.open_stores for c in page.cities] == [1]


def test_brand_strip_for_hq(client, operator, make_account, make_store):
    make_store()  # a chain without stores starts on the setup list instead
    make_account(None, "douyin", display_name="品牌官方号", followers=250000)
    html = client.get("/").get_data(as_text=True)
    assert "品牌官方号" in html and "brand-strip" in html


def test_pages_keep_city_order(operator, make_store):
    for code in ("C-3", "C-1", "C-2"):
        make_store(code=code)
    make_store(code="A-1", city="北京", district="朝阳区")
    first = overview_page(operator, OverviewFilters(), page=1, per_page=2)
    second = overview_page(operator, OverviewFilters(), page=2, per_page=2)
    assert [r.store.code for b in first.blocks for r in b.rows] == ["A-1", "C-1"]
    assert [r.store.code for b in second.blocks for r in b.rows] == ["C-2", "C-3"]
    assert first.pagination.total == 4 and first.blocks[0].name == "北京市"


def _build(n, make_store, make_account, make_community, start):
    for i in range(start, start + n):
        store = make_store(code=f"Q-{i:03d}", city="杭州" if i % 2 else "上海", district="" if i % 2 else "浦东新区")
        make_account(store, "douyin")
        if i % 3:
            make_account(store, "kuaishou")
            make_community(store)


def count_queries(client, url: str) -> int:
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


@pytest.mark.parametrize("url", ["/", "/?problems=1", "/?platform=douyin&gaps=1&city=330100"])
def test_query_count_does_not_grow_with_stores(client, operator, make_store, make_account, make_community, url):
    make_account(None, "douyin")
    _build(5, make_store, make_account, make_community, 0)
    few = count_queries(client, url)
    _build(45, make_store, make_account, make_community, 5)
    many = count_queries(client, url)
    assert few == many
    assert many <= 12


def test_a_closed_store_shows_no_gaps_and_is_left_out_of_the_gaps_filter(app, client, make_store, make_user, login,
                                                                          platforms):
    from matrix.auth.models import Role as _Role
    from matrix.stores.models import StoreStatus as _Status

    make_store(code="GAP-OPEN", name="缺号营业店")
    make_store(code="GAP-SHUT", name="已关门店", status=_Status.CLOSED)
    login(make_user(_Role.OPERATOR))
    html = client.get("/?gaps=1").get_data(as_text=True)
    assert "GAP-OPEN" in html and "GAP-SHUT" not in html
    html = client.get("/").get_data(as_text=True)
    shut_row = html.split("GAP-SHUT")[1].split("</tr>")[0]
    assert 'class="cell gap"' not in shut_row
