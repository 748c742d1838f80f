"""Channel join codes kept in step with the stores' groups by `flask joins sync`, against the WeCom stand-in."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from wecom_app_server import Error, HttpError

from matrix.audit.models import AuditEntry
from matrix.communities import services as communities
from matrix.communities.models import Community
from matrix.communities.values import clean_community
from matrix.extensions import db
from matrix.joins.codes import join_code_for, request_lead_code
from matrix.joins.models import JoinWay, JoinWayStatus
from matrix.joins.states import CHANNELS, make_state, parse_state
from matrix.joins.sync import sync_round
from matrix.leads.models import Lead
from matrix.models import utcnow
from matrix.wecom.models import WecomConnection


@pytest.fixture
def chain(make_store, make_community, wecom, connect_wecom):
    """Store A with two WeCom groups (chat ids known to WeCom), connected."""
    store = make_store(code="A-001", name="甲门店")
    groups = []
    for i in (1, 2):
        wecom.add_chat(f"wrChatA000{i}", f"甲店{i}群")
        groups.append(make_community(store, name=f"甲店{i}群", wecom_chat_id=f"wrChatA000{i}", rotation_order=i))
    connect_wecom()
    return {"store": store, "groups": groups}


def way(store, channel="poster") -> JoinWay:
    db.session.expire_all()
    return db.session.scalar(select(JoinWay).where(JoinWay.state == make_state(store.id, channel)))


def test_states_are_short_parseable_and_ours():
    assert make_state(1, "poster") == "sm.1.poster"
    biggest = 36 ** 7 - 1
    longest = make_state(biggest, "lead", biggest)
    assert len(longest) <= 30 and parse_state(longest) == (biggest, "lead", biggest)
    assert len(make_state(biggest, "trailer")) <= 30
    state = make_state(78_000, "lead", 123_456)
    assert parse_state(state) == (78_000, "lead", 123_456)
    for foreign in ("", "klsdup3kj3s1", "sm.0.poster", "sm.1.POSTER", "sm.1.poster.7", "xx.1.poster"):
        assert parse_state(foreign) is None
    with pytest.raises(ValueError):
        make_state(1, "poster", 5)


def test_a_store_with_wecom_groups_gets_a_code_per_channel(chain, wecom):
    report = sync_round(limit=50)
    assert report.codes_done == len(CHANNELS) and report.codes_failed == 0
    poster = way(chain["store"])
    assert poster.status == JoinWayStatus.READY and not poster.stale
    assert poster.chat_ids == ["wrChatA0001", "wrChatA0002"] and poster.qr_code.startswith("https://wework.qpic.cn/")
    at_wecom = wecom.join_ways[poster.config_id]
    assert at_wecom["scene"] == 2 and at_wecom["state"] == poster.state
    assert at_wecom["auto_create_room"] == 1 and at_wecom["room_base_name"] == "甲门店"
    assert wecom.count("get_join_way") == len(CHANNELS)  # every code read back
    assert wecom.count("gettoken") == 1
    second = sync_round(limit=50)
    assert second.codes_done == 0 and wecom.count("add_join_way") == len(CHANNELS)


def test_the_code_is_what_customers_get_once_ready(chain):
    store = chain["store"]
    assert join_code_for(store.id, "poster").kind == "group"  # not made yet: the current group
    sync_round(limit=50)
    code = join_code_for(store.id, "poster")
    assert code.kind == "wecom" and code.qr_url == way(store).qr_code and code.state == make_state(store.id, "poster")


def test_groups_changing_marks_codes_stale_and_the_sync_updates_the_same_qr(chain, wecom, make_user):
    store, (first, second) = chain["store"], chain["groups"]
    sync_round(limit=50)
    config_id, qr = way(store).config_id, way(store).qr_code
    wecom.add_chat("wrChatA0003")
    operator = make_user()
    cleaned = clean_community({"store_id": store.id, "name": "甲店3群", "kind": "wecom", "capacity": 200,
                               "members": 0, "wecom_chat_id": "wrChatA0003", "rotation_order": 3, "active": True})
    communities.create_community(cleaned, actor=operator)
    assert way(store).stale  # in the same transaction as the new group
    sync_round(limit=50)
    poster = way(store)
    assert not poster.stale and poster.config_id == config_id and poster.qr_code == qr
    assert wecom.join_ways[config_id]["chat_id_list"] == ["wrChatA0001", "wrChatA0002", "wrChatA0003"]
    assert wecom.count("add_join_way") == len(CHANNELS)  # updated, never made again


@pytest.mark.parametrize("change, listed", [
    ({"members": 200}, ["wrChatA0002"]),                   # the first group is full
    ({"active": False}, ["wrChatA0002"]),                  # deactivated
    ({"wecom_chat_id": None}, ["wrChatA0002"]),            # no longer linked
    ({"rotation_order": 9}, ["wrChatA0002", "wrChatA0001"]),  # moved behind
])
def test_full_inactive_unlinked_or_moved_groups_change_the_list(chain, wecom, change, listed):
    store, first = chain["store"], chain["groups"][0]
    sync_round(limit=50)
    for name, value in change.items():
        setattr(first, name, value)
    db.session.commit()
    assert way(store).stale
    sync_round(limit=50)
    assert wecom.join_ways[way(store).config_id]["chat_id_list"] == listed


def test_members_changing_without_filling_a_group_changes_nothing(chain, wecom):
    sync_round(limit=50)
    first = db.session.get(Community, chain["groups"][0].id)  # loaded, as a form or the member sync has it
    first.members = 50
    db.session.commit()
    assert not way(chain["store"]).stale


def test_when_every_group_is_full_they_stay_listed_for_wecom_to_open_a_new_one(chain, wecom):
    sync_round(limit=50)
    for group in chain["groups"]:
        group.members = group.capacity
    db.session.commit()
    sync_round(limit=50)
    assert wecom.join_ways[way(chain["store"]).config_id]["chat_id_list"] == ["wrChatA0001", "wrChatA0002"]


def test_a_group_wecom_opened_by_itself_joins_the_rotation(chain, wecom):
    store = chain["store"]
    sync_round(limit=50)
    wecom.open_room(way(store).config_id, "wrChatAuto01")
    way(store).stale = True
    db.session.commit()
    sync_round(limit=50)
    adopted = db.session.scalar(select(Community).where(Community.wecom_chat_id == "wrChatAuto01"))
    assert adopted is not None and adopted.store_id == store.id and adopted.rotation_order == 3
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "adopt")) is not None
    sync_round(limit=50)  # every code of the store now lists the new group too
    for channel in CHANNELS:
        assert "wrChatAuto01" in wecom.join_ways[way(store, channel).config_id]["chat_id_list"]


def test_a_store_without_wecom_groups_keeps_its_uploaded_qr(make_store, make_community, wecom, connect_wecom):
    store = make_store()
    make_community(store, name="微信群", invite_link="https://example.com/join", kind="wechat")
    connect_wecom()
    assert sync_round(limit=50).codes_done == 0
    code = join_code_for(store.id, "poster")
    assert code.kind == "group" and code.invite_link == "https://example.com/join"


def test_a_store_that_loses_its_last_wecom_group_falls_back(chain, wecom):
    store = chain["store"]
    sync_round(limit=50)
    for group in chain["groups"]:
        group.active = False
    db.session.commit()
    sync_round(limit=50)
    assert way(store).status == JoinWayStatus.NO_GROUPS
    assert join_code_for(store.id, "poster").kind == "none"  # no active group at all


def test_without_wecom_the_fallback_is_the_current_group(make_store, make_community):
    store = make_store()
    make_community(store, name="满群", members=200, capacity=200, invite_link="https://example.com/full")
    current = make_community(store, name="新群", invite_link="https://example.com/new", rotation_order=2)
    code = join_code_for(store.id, "bio")
    assert (code.kind, code.community_id, code.invite_link) == ("group", current.id, "https://example.com/new")
    assert sync_round(limit=50) is None  # nothing to sync without a connection


def test_a_refused_code_records_the_error_and_waits_for_a_change(chain, wecom):
    wecom.answer("add_join_way", Error(40058, "invalid chat_id_list"))
    report = sync_round(limit=50)
    assert report.codes_failed == len(CHANNELS)
    poster = way(chain["store"])
    assert poster.status == JoinWayStatus.ERROR and "40058" in poster.last_error and not poster.stale
    wecom.answer("add_join_way")  # WeCom accepts again; nothing is retried until asked
    assert sync_round(limit=50).codes_done == 0
    chain["groups"][1].rotation_order = 0
    db.session.commit()
    assert sync_round(limit=50).codes_done == len(CHANNELS)
    assert way(chain["store"]).status == JoinWayStatus.READY


def test_busy_wecom_is_retried_with_back_off(chain, wecom):
    wecom.answer("add_join_way", HttpError(502), Error(-1, "system busy"))
    report = sync_round(limit=50)
    assert report.codes_failed == len(CHANNELS) and not report.stopped
    poster = way(chain["store"])
    assert poster.status == JoinWayStatus.PENDING and poster.attempts == 1
    assert poster.next_attempt_at > utcnow() + timedelta(seconds=20)
    assert sync_round(limit=50).codes_done == 0  # not due yet
    later = utcnow() + timedelta(hours=2)
    wecom.answer("add_join_way")
    assert sync_round(limit=50, now=later).codes_done == len(CHANNELS)


def test_a_rate_limit_ends_the_round(chain, wecom):
    wecom.answer("add_join_way", Error(45009, "api freq out of limit"))
    report = sync_round(limit=50)
    assert report.stopped and wecom.count("add_join_way") == 1


def test_a_configuration_error_pauses_the_sync_and_says_so(chain, wecom):
    wecom.answer("add_join_way", Error(48002, "api forbidden"))
    report = sync_round(limit=50)
    assert "48002" in report.stopped and wecom.count("add_join_way") == 1
    connection = db.session.scalar(select(WecomConnection))
    assert "48002" in connection.config_error
    wecom.answer("add_join_way")
    assert sync_round(limit=50) is None  # paused
    report = sync_round(limit=50, now=utcnow() + timedelta(minutes=11))
    assert report.codes_done == len(CHANNELS)
    db.session.expire_all()
    assert db.session.scalar(select(WecomConnection)).config_error is None


def test_a_wrong_secret_is_a_configuration_error(chain, wecom):
    wecom.secret = "the-secret-was-rotated-in-wecom"
    report = sync_round(limit=50)
    assert "40001" in report.stopped
    assert "40001" in db.session.scalar(select(WecomConnection)).config_error


def test_a_leads_own_code_is_made_and_deleted_once_the_lead_joined(chain, wecom, make_user):
    store = chain["store"]
    lead = Lead(name="客户", store_id=store.id)
    db.session.add(lead)
    db.session.commit()
    request_lead_code(lead, actor=make_user())
    sync_round(limit=50)
    own = db.session.scalar(select(JoinWay).where(JoinWay.lead_id == lead.id))
    assert own.status == JoinWayStatus.READY and own.state == make_state(store.id, "lead", lead.id)
    assert join_code_for(store.id, "lead", lead_id=lead.id).qr_url == own.qr_code
    assert join_code_for(store.id, "lead").qr_url == way(store, "lead").qr_code  # the store's general invite
    wecom.join("wrChatA0001", "wmLead0001", state=own.state)
    sync_round(limit=50, now=utcnow() + timedelta(hours=7))  # the periodic read of the groups
    sync_round(limit=50, now=utcnow() + timedelta(hours=7, seconds=1))
    db.session.expire_all()
    own = db.session.get(JoinWay, own.id)
    assert own.status == JoinWayStatus.RETIRED and own.config_id not in wecom.join_ways


def test_an_archived_stores_codes_are_deleted(chain, wecom):
    store = chain["store"]
    sync_round(limit=50)
    store.archived_at = utcnow()
    db.session.commit()
    sync_round(limit=50)
    assert way(store).status == JoinWayStatus.RETIRED
    assert wecom.count("del_join_way") == len(CHANNELS) and not wecom.join_ways


def test_a_restored_store_gets_new_codes(chain, wecom):
    store = chain["store"]
    sync_round(limit=50)
    store.archived_at = utcnow()
    db.session.commit()
    sync_round(limit=50)
    store = db.session.get(type(store), store.id)
    store.archived_at = None
    db.session.commit()
    sync_round(limit=50)
    assert way(store).status == JoinWayStatus.READY and way(store).config_id in wecom.join_ways
    assert wecom.count("add_join_way") == 2 * len(CHANNELS)


def test_a_leads_own_code_is_deleted_when_the_lead_moves_to_another_store(chain, wecom, make_store, make_user):
    lead = Lead(name="客户", store_id=chain["store"].id)
    db.session.add(lead)
    db.session.commit()
    request_lead_code(lead, actor=make_user())
    sync_round(limit=50)
    lead = db.session.get(Lead, lead.id)
    lead.store_id = make_store(code="B-002").id
    db.session.commit()
    sync_round(limit=50)
    own = db.session.scalar(select(JoinWay).where(JoinWay.lead_id == lead.id))
    assert own.status == JoinWayStatus.RETIRED and own.config_id not in wecom.join_ways


def test_the_sync_command_runs_one_round(app, chain, wecom):
    result = app.test_cli_runner().invoke(args=["joins", "sync", "--once"])
    assert result.exit_code == 0, result.output
    assert f"codes updated {len(CHANNELS)}, refused 0" in result.output
    assert way(chain["store"]).status == JoinWayStatus.READY


def test_qr_addresses_other_than_https_are_never_kept(chain, wecom):
    sync_round(limit=0)
    original = wecom._get_join_way
    wecom._get_join_way = lambda payload: {**original(payload), "join_way": {**original(payload)["join_way"],
                                                                              "qr_code": "javascript:alert(1)"}}
    report = sync_round(limit=50)
    assert report.codes_failed == len(CHANNELS)
    assert way(chain["store"]).qr_code is None and "no usable QR code" in way(chain["store"]).last_error


def test_a_bulk_import_is_caught_by_the_reconcile_step(chain, wecom):
    from sqlalchemy import insert

    import matrix.joins.sync as sync

    sync_round(limit=50)
    wecom.add_chat("wrChatA0009")
    db.session.execute(insert(Community), [{"store_id": chain["store"].id, "name": "导入群", "wecom_chat_id": "wrChatA0009",
                                            "rotation_order": 0, "kind": "wecom"}])
    db.session.commit()
    assert not way(chain["store"]).stale  # bulk inserts bypass the session hook
    sync._last_reconcile.clear()
    sync_round(limit=50)
    assert wecom.join_ways[way(chain["store"]).config_id]["chat_id_list"][0] == "wrChatA0009"


def test_two_workers_never_push_the_same_code_twice(chain, wecom):
    from matrix.joins.refresh import claim

    sync_round(limit=0)  # creates the rows only
    poster = way(chain["store"])
    now = utcnow()
    assert claim(JoinWay, poster.id, now) is True
    assert claim(JoinWay, poster.id, now) is False
    assert sync_round(limit=50).codes_done == len(CHANNELS) - 1
    assert db.session.scalar(select(func.count()).select_from(JoinWay)) == len(CHANNELS)
