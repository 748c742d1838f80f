"""Summaries of the chain kept per process: rebuilt only when the stores changed, within CHAIN_CACHE_CHECK_S."""
import re

import pytest
from flask_babel import force_locale

from matrix.auth.models import Role
from matrix.extensions import db
from matrix.stores.chain_cache import chain_summary, forget_summaries
from matrix.stores.picker import city_choices


@pytest.fixture(autouse=True)
def cached(app):
    """The cache on, checked on every use (the suite runs with it off)."""
    forget_summaries()
    app.config["CHAIN_CACHE_CHECK_S"] = 1e-9
    yield
    app.config["CHAIN_CACHE_CHECK_S"] = 0.0
    forget_summaries()


def test_with_the_cache_off_every_use_builds(app):
    app.config["CHAIN_CACHE_CHECK_S"] = 0.0
    builds = []
    chain_summary("test", lambda: builds.append(1))
    chain_summary("test", lambda: builds.append(1))
    assert len(builds) == 2


def test_a_summary_is_built_again_only_when_the_stores_changed(app, make_store):
    builds = []

    def build():
        builds.append(1)
        return len(builds)

    make_store()
    assert chain_summary("test", build) == 1 and chain_summary("test", build) == 1  # checked, unchanged
    store = make_store()
    assert chain_summary("test", build) == 2
    store.name = "改名"
    db.session.commit()
    assert chain_summary("test", build) == 3


def test_between_checks_a_process_keeps_its_summary(app, make_store, make_user):
    hq = make_user(Role.OPERATOR)
    make_store(city="杭州")
    app.config["CHAIN_CACHE_CHECK_S"] = 3600.0
    assert [name for _code, name in city_choices(hq)] == ["杭州市"]
    make_store(city="宁波", district="海曙区")
    assert [name for _code, name in city_choices(hq)] == ["杭州市"]  # within the check interval
    forget_summaries()
    assert sorted(name for _code, name in city_choices(hq)) == ["宁波市", "杭州市"]


def test_a_managers_cities_are_their_own_stores_not_the_chains(app, make_store, make_user):
    own = make_store(city="宁波", district="海曙区")
    make_store(city="杭州")
    hq, manager = make_user(Role.OPERATOR), make_user(Role.STORE_MANAGER, stores=[own])
    assert len(city_choices(hq)) == 2
    assert [name for _code, name in city_choices(manager)] == ["宁波市"]


def test_the_store_list_offers_the_districts_of_the_chosen_city_only(client, login, make_user, make_store):
    west, east = make_store(city="杭州", district="西湖区"), make_store(city="杭州", district="上城区")
    make_store(city="宁波", district="海曙区")
    login(make_user(Role.OPERATOR))
    with force_locale("en"):
        page = client.get("/stores/").text
        assert "Choose a city first" in page and "西湖区</option>" not in page
        page = client.get(f"/stores/?city={west.city_code}").text
        districts = re.findall(r'<option value="(\d+)" ?>([^<]+)</option>', page.split('name="district"')[1]
                               .split("</select>")[0])
        assert sorted(name for _code, name in districts) == ["上城区", "西湖区"]
        page = client.get(f"/stores/?district={east.district_code}").text  # a link naming only the district
        assert f'<option value="{east.district_code}" selected>上城区</option>' in page
        assert east.code in page and west.code not in page


def test_hqs_onboarding_gaps_are_kept_until_an_account_group_or_hand_over_changes(app, make_store, make_user,
                                                                                  make_account, make_community,
                                                                                  platforms):
    from matrix.onboarding.gaps import hq_chain_gaps
    from matrix.onboarding.handover import hand_over

    hq, store = make_user(Role.OPERATOR), make_store()
    first = hq_chain_gaps(hq)
    assert hq_chain_gaps(hq) is first                                    # unchanged: the same summary
    assert {p.code for p in first[0].missing} == set(platforms)
    make_account(store, platform="douyin")
    after_account = hq_chain_gaps(hq)
    assert "douyin" not in {p.code for p in after_account[0].missing}
    make_community(store, invite_link="https://work.weixin.qq.com/gm/x1")
    after_group = hq_chain_gaps(hq)
    assert after_group is not after_account and not after_group[0].group_gap
    hand_over([store.id], actor=hq)
    assert hq_chain_gaps(hq)[0].handed_at is not None
    manager = make_user(Role.STORE_MANAGER, stores=[store])
    assert hq_chain_gaps(manager) is not hq_chain_gaps(manager)         # a manager's own stores: never shared
