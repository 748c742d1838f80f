"""axe-core in Chromium on every page a role reaches, at desktop (1366x768) and phone (390x844) width.

Signed in as HQ (an admin, in Chinese) and as a store manager (in English), and as a visitor on the store's
public page. Fails on any serious or critical violation and lists them all. One browser, one tab per role: each
page is opened once and judged at both widths (the layout follows the viewport, no reload needed).
Run it alone: `MATRIX_REQUIRE_BROWSER=1 python -m pytest tests/test_e2e_accessibility.py`.
"""
import pytest
from fixtures_e2e import axe_violations, nav_pages, no_sideways_scroll
from fixtures_live import book

from matrix.auth.models import Role
from matrix.weeks import current_week, week_string

pytestmark = pytest.mark.slow

WIDE = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def chain(live, make_user, make_community, make_lead):
    """The live fixture's stores with a booked session (trailers on plans), groups, a lead, and an admin."""
    session = book(live["account_a"], live["hq"])
    make_community(live["store_a"], name="西湖店福利1群", members=120, invite_link="https://work.weixin.qq.com/gm/a1")
    lead = make_lead(live["store_a"], name="周女士")
    return {**live, "session": session, "lead": lead, "admin": make_user(Role.ADMIN, locale="zh")}


def judge(tab, paths: list[str]) -> list[str]:
    """Open each path once; axe at desktop, then at phone width. Returns every serious or critical finding."""
    found = []
    for path in paths:
        tab.page.set_viewport_size(WIDE)
        tab.visit(path)
        found += axe_violations(tab)
        tab.page.set_viewport_size(PHONE)
        no_sideways_scroll(tab)
        found += axe_violations(tab)
    return found


def test_no_serious_violation_on_any_page_of_hq_a_manager_and_a_visitor(browse, chain):
    store = chain["store_a"]
    week = f"/plans/{store.id}/{week_string(current_week())}"
    hq = browse(chain["admin"])
    hq_pages = nav_pages(hq) + ["/coverage", f"/stores/{store.id}", f"/live/{chain['session'].id}"]
    manager = browse(chain["manager"], locale="en-US")
    manager_pages = nav_pages(manager) + [week, f"{week}/print", f"/leads/{chain['lead'].id}", "/users/me"]
    assert len(hq_pages) >= 18 and "/today/" in manager_pages
    found = judge(hq, hq_pages) + judge(manager, manager_pages)
    found += judge(browse(), [f"/s/{store.code}", "/login"])
    assert not found, f"{len(found)} serious or critical axe-core violations:\n" + "\n".join(found)


def test_axe_finds_what_it_should(browse, chain):
    """The check can fail: a grey-on-white paragraph and an unnamed button are reported."""
    tab = browse()
    tab.visit("/login")
    tab.page.evaluate("""() => {
        const p = document.createElement('p'); p.textContent = 'faint'; p.style.color = '#bbb';
        const b = document.createElement('button');
        document.querySelector('main').append(p, b);
    }""")
    found = " ".join(axe_violations(tab))
    assert "color-contrast" in found and "button-name" in found
