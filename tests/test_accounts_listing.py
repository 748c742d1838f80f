"""The accounts list keeps its order (brand accounts, then store accounts by store code, platform, handle) page by page."""
import re

from sqlalchemy import select

from matrix.accounts.listing import account_page
from matrix.accounts.models import Account, Platform
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.stores.models import Store


def test_pages_follow_the_lists_order_across_brand_and_store_accounts(app, make_store, make_account):
    stores = [make_store(code=code) for code in ("S-30", "S-10", "S-20", "S-05")]  # ids not in code order
    for store in stores:
        make_account(store, "kuaishou", handle=f"z{store.code}")
        make_account(store, "douyin", handle=f"y{store.code}")
    for platform in ("kuaishou", "douyin", "channels"):
        make_account(None, platform, handle=f"brand-{platform}")
    query = (select(Account).join(Account.platform).outerjoin(Account.store))
    expected = [a.id for a in db.session.scalars(query.order_by(Account.scope, Store.code, Platform.sort_order,
                                                                Account.handle))]
    for per_page in (1, 2, 3, 4, 5, 50):
        seen = []
        for number in range(1, 20):
            page = account_page(query, page=number, per_page=per_page)
            seen += [a.id for a in page.items]
            assert page.total == len(expected)
        assert seen == expected, per_page
    assert account_page(query.where(Store.code == "S-10"), page=1, per_page=5).total == 2


def test_the_accounts_page_lists_in_that_order(client, login, make_user, make_store, make_account):
    for code in ("B-2", "B-1"):
        make_account(make_store(code=code), "douyin", handle=f"h-{code}")
    make_account(None, "kuaishou", handle="brand-main")
    login(make_user(Role.OPERATOR))
    html = client.get("/accounts/").text
    handles = re.findall(r'/accounts/\d+">([^<]+)</a>', html)
    assert handles == ["brand-main", "h-B-1", "h-B-2"]
