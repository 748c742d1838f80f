"""Every list page sends the same number of queries whatever the number of rows it shows."""
from datetime import timedelta

import pytest
from query_count import page_queries

from matrix.audit import services as audit
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.leads import intake
from matrix.live.models import LiveSession
from matrix.models import utcnow
from matrix.weeks import current_week, week_string

HQ_PAGES = ["/", "/stores/", "/accounts/", "/communities/", "/leads/", "/leads/unrouted", "/live/",
            "/live/day", "/plans/", "/plans/completion", "/notifications/", "/audit/", "/sources/",
            "/sources/rejected", "/campaigns/", "/coverage", "/stores/?city=330100", "/live/city/330100",
            "/plans/print?city=330100", "/leads/funnel", "/onboarding/", "/onboarding/stores", "/channels/",
            "/storefront/", "/joins/", "/plans/approvals"]
MANAGER_PAGES = ["/today/", "/stores/", "/leads/", "/live/", "/live/day", "/coverage"]


@pytest.fixture
def grow(app, make_store, make_account, make_community):
    """Add `n` stores, each with two accounts, a group, a lead (routed or not), a live session and an audit entry."""
    def add(n: int, manager=None) -> list:
        stores = []
        for _ in range(n):
            store = make_store()
            account = make_account(store, "douyin")
            make_account(store, "kuaishou")
            make_community(store)
            if manager is not None:
                manager.stores.append(store)
            intake.accept_lead(intake.LeadInput(name="客户", phone=f"139{len(stores) + 10 * n:08d}",
                                                lon=store.lon, lat=store.lat, coord_system="wgs84"), source=None)
            intake.accept_lead(intake.LeadInput(name="远方客户", phone=f"138{len(stores) + 10 * n:08d}"), source=None)
            starts = utcnow().replace(minute=0, second=0, microsecond=0)  # today, this week: on the day and week lists
            db.session.add(LiveSession(account_id=account.id, store_id=store.id, starts_at=starts,
                                       ends_at=starts + timedelta(hours=2), title="直播", anchor="主播",
                                       anchor_key=f"a{store.id}"))
            audit.record(None, "update", "store", entity_id=store.id, store_id=store.id, summary=store.name)
            db.session.commit()
            stores.append(store)
        return stores
    return add


@pytest.mark.parametrize("url", HQ_PAGES)
def test_hq_list_pages_send_a_fixed_number_of_queries(client, login, make_user, platforms, grow, url):
    login(make_user(Role.OPERATOR))
    grow(2)
    few = page_queries(client, url)
    grow(5)
    many = page_queries(client, url)
    assert len(many) == len(few), "\n".join(many)


@pytest.mark.parametrize("url", MANAGER_PAGES)
def test_manager_list_pages_send_a_fixed_number_of_queries(client, login, make_user, platforms, grow, url):
    manager = make_user(Role.STORE_MANAGER)
    grow(2, manager)
    db.session.commit()
    login(manager)
    few = page_queries(client, url)
    grow(5, manager)
    db.session.commit()
    many = page_queries(client, url)
    assert len(many) == len(few), "\n".join(many)


def test_a_week_plan_and_its_print_send_a_fixed_number_of_queries(client, login, make_user, platforms, grow):
    manager = make_user(Role.STORE_MANAGER)
    store = grow(1, manager)[0]
    db.session.commit()
    login(manager)
    week = week_string(current_week())
    for url in (f"/plans/{store.id}/{week}", f"/plans/{store.id}/{week}/print"):
        few = page_queries(client, url)
        grow(3)  # other stores' plans and sessions do not change this store's page
        assert len(page_queries(client, url)) == len(few), url
