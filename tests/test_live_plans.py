"""Trailers on the plans: a sibling store's week and print, the item page, the brand's trailers, the audit log."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from matrix.accounts.models import AccountScope
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.live import services
from matrix.content.models import ContentItem, ItemStatus
from matrix.weeks import week_string
from matrix.brands.models import Brand

ZONE = ZoneInfo("Asia/Shanghai")
DAY = (datetime.now(ZONE) + timedelta(days=8)).date()


@pytest.fixture
def chain(make_store, make_account, make_user):
    brand = Brand(name="栖木家居")
    db.session.add(brand)
    db.session.commit()
    host = make_store(code="HZ-001", name="西湖店", brand_id=brand.id)
    sibling = make_store(code="HZ-002", name="滨江店", brand_id=brand.id, lon=120.14, lat=30.25)
    hq = make_user(Role.OPERATOR)
    host_account, sibling_account = make_account(host, handle="hz_xihu"), make_account(sibling, handle="hz_binjiang")
    brand_account = make_account(scope=AccountScope.BRAND, brand_id=brand.id, handle="qimu_official")
    values = services.clean_session({"account_id": host_account.id, "day": DAY.isoformat(), "start": "19:00",
                                     "end": "21:00", "title": "冬季新品直播", "anchor": "李娜"}, actor=hq)
    session, _report = services.schedule_session(values, actor=hq)
    return {"session": session, "host": host, "sibling": sibling, "hq": hq, "sibling_account": sibling_account,
            "brand_account": brand_account,
            "sibling_manager": make_user(Role.STORE_MANAGER, stores=[sibling])}


def _trailers(session, account) -> list[ContentItem]:
    return list(db.session.scalars(select(ContentItem).where(ContentItem.session_id == session.id,
                                                             ContentItem.account_id == account.id)
                                   .order_by(ContentItem.day, ContentItem.slot)))


def test_a_sibling_sees_the_neighbours_trailer_on_its_week_and_print_but_not_the_session(client, login, chain):
    trailer = _trailers(chain["session"], chain["sibling_account"])[0]
    assert trailer.store_id == chain["sibling"].id
    login(chain["sibling_manager"])
    week = week_string(trailer.day)
    for url in (f"/plans/{chain['sibling'].id}/{week}", f"/plans/{chain['sibling'].id}/{week}/print"):
        page = client.get(url).get_data(as_text=True)
        assert "冬季新品直播" in page and "@hz_binjiang" in page and "西湖店" in page   # the location tag names the host
    item_page = client.get(f"/plans/items/{trailer.id}").get_data(as_text=True)
    assert "A neighbouring store" in item_page and f"/live/{chain['session'].id}" not in item_page
    assert client.get(f"/live/{chain['session'].id}").status_code == 404


def test_hq_finds_the_brand_accounts_trailer_through_its_session(client, login, chain):
    trailer = _trailers(chain["session"], chain["brand_account"])[0]
    assert trailer.store_id is None
    login(chain["hq"])
    page = client.get(f"/plans/items/{trailer.id}").get_data(as_text=True)
    assert "Brand main account: posted by headquarters" in page
    assert f'href="/live/{chain["session"].id}"' in page and "Back to the session" in page
    assert client.get(f"/live/{chain['session'].id}").status_code == 200


def test_the_brand_main_account_has_a_week_of_its_trailers_for_hq(client, login, post, chain):
    trailers = _trailers(chain["session"], chain["brand_account"])
    week = week_string(trailers[0].day)
    url = f"/plans/brand/{chain['brand_account'].id}/{week}"
    login(chain["hq"])
    index = client.get("/plans/").get_data(as_text=True)
    assert "Brand main accounts" in index and f"/plans/brand/{chain['brand_account'].id}/" in index
    page = client.get(url).get_data(as_text=True)
    assert "@qimu_official" in page and "冬季新品直播" in page and f'id="item-{trailers[0].id}"' in page
    response = post(f"/plans/items/{trailers[0].id}/status", {"status": "shot", "back": "week"})
    assert response.headers["Location"].endswith(f"{url}#item-{trailers[0].id}")   # back to the brand's week
    assert client.get(f"/plans/brand/{chain['sibling_account'].id}/{week}").status_code == 404  # a store account


def test_the_brand_week_is_hq_only(client, login, chain):
    login(chain["sibling_manager"])
    week = week_string(_trailers(chain["session"], chain["brand_account"])[0].day)
    assert client.get(f"/plans/brand/{chain['brand_account'].id}/{week}").status_code == 403


def test_the_sibling_manager_cannot_reach_the_brands_trailer(client, login, chain):
    trailer = _trailers(chain["session"], chain["brand_account"])[0]
    login(chain["sibling_manager"])
    assert client.get(f"/plans/items/{trailer.id}").status_code == 404


def test_the_week_shows_a_cancelled_trailer_and_a_flag_on_a_published_one(client, login, chain):
    first, *rest = _trailers(chain["session"], chain["sibling_account"])
    first.status = ItemStatus.PUBLISHED
    db.session.commit()
    services.cancel_session(chain["session"], actor=chain["hq"])
    login(chain["sibling_manager"])
    page = client.get(f"/plans/{chain['sibling'].id}/{week_string(first.day)}").get_data(as_text=True)
    assert "was cancelled: this trailer announces it" in page
    assert all(item.status == ItemStatus.CANCELLED for item in rest)


def test_the_audit_log_names_live_sessions(client, login, chain):
    login(chain["hq"])
    page = client.get("/audit/?entity=live_session").get_data(as_text=True)
    assert "Live session" in page and "冬季新品直播" in page


def test_a_trailer_cannot_move_past_its_session(client, login, post, chain):
    from matrix.errors import DomainError
    from matrix.plans import services as plans

    trailer = _trailers(chain["session"], chain["sibling_account"])[-1]          # the 3-hours-before one, 16:00
    with pytest.raises(DomainError) as refused:
        plans.move_item(trailer, actor=chain["hq"], day=DAY, slot="19:00", zone="Asia/Shanghai")      # the session's start
    assert refused.value.field == "day"
    plans.move_item(trailer, actor=chain["hq"], day=DAY, slot="18:30", zone="Asia/Shanghai")
    assert trailer.slot == "18:30" and trailer.edited_by_store


def test_the_hosts_week_and_print_show_its_own_session_and_the_siblings_name_the_host(client, login, chain):
    host, sibling, session = chain["host"], chain["sibling"], chain["session"]
    week = week_string(DAY)
    login(chain["hq"])
    page = client.get(f"/plans/{host.id}/{week}").get_data(as_text=True)
    assert "Our live sessions this week" in page and f'href="/live/{session.id}"' in page
    printed = client.get(f"/plans/{host.id}/{week}/print").get_data(as_text=True)
    assert "We go live" in printed and "19:00–21:00" in printed and "Anchor: 李娜" in printed
    neighbour = client.get(f"/plans/{sibling.id}/{week}/print").get_data(as_text=True)
    assert "We go live" not in neighbour and "for 西湖店, live" in neighbour
    services.cancel_session(session, actor=chain["hq"])
    assert "We go live" not in client.get(f"/plans/{host.id}/{week}/print").get_data(as_text=True)
