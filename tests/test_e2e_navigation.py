"""End to end in Chromium: every page each role reaches from the navigation opens and passes PAGE_CHECKS (no script
error, no CSP refusal, nothing loaded from outside, no sideways scrolling on a phone)."""
import pytest
from fixtures_e2e import nav_pages
from fixtures_live import book

from matrix.auth.models import Role

pytestmark = pytest.mark.slow

# The pages each role's navigation offers, by endpoint (a change to matrix.templating.NAVIGATION shows here).
EXPECTED = {
    "admin": ["/matrix", "/plans/", "/live/", "/stores/", "/accounts/", "/communities/", "/leads/", "/sources/",
              "/campaigns/", "/imports/", "/brands/", "/users/", "/audit/", "/notifications/", "/channels/",
              "/joins/", "/storefront/", "/onboarding/"],
    "store_manager": ["/today/", "/matrix", "/plans/", "/live/", "/stores/", "/accounts/", "/communities/",
                      "/leads/", "/onboarding/mine"],
}


@pytest.fixture
def chain(live, make_user, make_community, make_lead):
    """The live fixture's stores with a booked session (trailers on plans), groups, a lead, and an admin."""
    book(live["account_a"], live["hq"])
    make_community(live["store_a"], name="西湖店福利1群", members=120, invite_link="https://work.weixin.qq.com/gm/a1")
    make_lead(live["store_a"], name="周女士")
    return {**live, "admin": make_user(Role.ADMIN, locale="zh")}


def walk(tab) -> list[str]:
    """Open every page of the navigation in turn (PAGE_CHECKS run on each); returns their paths."""
    pages = nav_pages(tab)
    for path in pages:
        tab.visit(path)
    return pages


@pytest.mark.parametrize("role, phone", [("admin", False), ("hq", True), ("manager", True)])
def test_every_page_of_a_roles_navigation_opens_cleanly(browse, chain, role, phone):
    tab = browse(chain[role], phone=phone)
    pages = walk(tab)
    expected = EXPECTED.get(tab.role)
    if expected is not None:
        assert pages == expected
    assert set(pages) <= set(EXPECTED["admin"]) | set(EXPECTED["store_manager"])
