"""Joins coming back: WeCom's encrypted callbacks and the periodic groupchat/get, attributed once each."""
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from wecom_callbacks import callback_post, event_xml, url_check

from matrix.communities.models import Community
from matrix.extensions import db
from matrix.joins.models import GroupJoin, JoinWay, WecomChat
from matrix.joins.states import make_state
from matrix.joins.sync import sync_round
from matrix.leads.models import Lead, LeadStatus
from matrix.models import utcnow

URL = "/wecom/callback"


@pytest.fixture
def chain(make_store, make_community, wecom, connect_wecom):
    store = make_store(code="A-001", name="甲门店")
    wecom.add_chat("wrChatA0001", "甲店1群")
    group = make_community(store, name="甲店1群", wecom_chat_id="wrChatA0001", members=1)
    connect_wecom()
    sync_round(limit=50)  # codes made, the group read once
    return {"store": store, "group": group}


def post_event(client, event: dict, **kwargs):
    query, body = callback_post(event_xml(event), **kwargs)
    return client.post(f"{URL}?{query}", data=body, content_type="text/xml")


def joins() -> list[GroupJoin]:
    db.session.expire_all()
    return list(db.session.scalars(select(GroupJoin).order_by(GroupJoin.id)))


def read_groups_now():
    """The worker's next round, a few seconds after the callback asked for the group to be read."""
    return sync_round(limit=50, now=utcnow() + timedelta(seconds=5))


def test_the_url_check_is_answered_with_the_plain_echo(client, chain):
    response = client.get(f"{URL}?{url_check('echo-5573419873')}")
    assert response.status_code == 200 and response.get_data(as_text=True) == "echo-5573419873"


@pytest.mark.parametrize("tamper, status", [
    (lambda q: q.replace("msg_signature=", "msg_signature=0"), 403),           # not the signature
    (lambda q: q.replace("nonce=263014780", "nonce=263014781"), 403),          # the signature no longer matches
    (lambda q: q.split("&echostr")[0], 400),                                   # no echostr
])
def test_a_forged_url_check_is_refused(client, chain, tamper, status):
    response = client.get(f"{URL}?{tamper(url_check('echo'))}")
    assert response.status_code == status and "echo" not in response.get_data(as_text=True)


def test_a_callback_signed_with_another_token_is_refused_and_changes_nothing(client, chain, wecom):
    event = wecom.join("wrChatA0001", "wmCustomer1")
    response = post_event(client, event, token="SomeoneElsesToken")
    assert response.status_code == 403
    assert joins() == [] and db.session.get(Community, chain["group"].id).members == 1


def test_an_old_signed_callback_is_refused(client, chain, wecom):
    event = wecom.join("wrChatA0001", "wmCustomer1")
    response = post_event(client, event, timestamp=str(int(time.time()) - 3600))
    assert response.status_code == 403 and joins() == []


def test_a_callback_for_another_corp_is_refused(client, chain, wecom):
    event = wecom.join("wrChatA0001", "wmCustomer1")
    response = post_event(client, event, corp_id="wwsomeothercorp0001")
    assert response.status_code == 400 and joins() == []


def test_a_body_over_the_limit_is_refused_unread(client, chain, app):
    query, _body = callback_post("<xml/>")
    response = client.post(f"{URL}?{query}", data=b"x" * (app.config["WECOM_CALLBACK_MAX_BYTES"] + 1))
    assert response.status_code == 413


def test_without_wecom_connected_the_callback_does_not_exist(client, make_store):
    assert client.get(f"{URL}?{url_check('echo')}").status_code == 404


def test_join_attribution_from_an_encrypted_callback(client, chain, wecom):
    store = chain["store"]
    event = wecom.join("wrChatA0001", "wmCustomer1", state=make_state(store.id, "poster"))
    response = post_event(client, event)
    assert response.status_code == 200 and response.get_data() == b""
    [join] = joins()
    assert (join.store_id, join.community_id, join.source) == (store.id, chain["group"].id, "callback")
    assert join.channel is None and join.join_scene == 3  # the event names no channel
    assert "wmCustomer1" not in repr(join.__dict__) and len(join.member_hash) == 64
    read_groups_now()
    [join] = joins()
    assert (join.channel, join.state, join.lead_id) == ("poster", make_state(store.id, "poster"), None)


def test_a_join_through_a_leads_own_invite_is_the_leads(client, chain, wecom):
    store = chain["store"]
    lead = Lead(name="客户", store_id=store.id, status=LeadStatus.CONTACTED)
    db.session.add(lead)
    db.session.commit()
    event = wecom.join("wrChatA0001", "wmLeadUser", state=make_state(store.id, "lead", lead.id))
    post_event(client, event)
    read_groups_now()
    [join] = joins()
    assert (join.channel, join.lead_id) == ("lead", lead.id)
    assert db.session.get(Lead, lead.id).status == LeadStatus.JOINED


def test_a_retried_callback_counts_once(client, chain, wecom):
    event = wecom.join("wrChatA0001", "wmCustomer1", state=make_state(chain["store"].id, "bio"))
    for _ in range(3):  # WeCom retries when the answer is slow
        assert post_event(client, event).status_code == 200
    read_groups_now()
    read_groups_now()
    assert len(joins()) == 1
    assert db.session.get(Community, chain["group"].id).members == 2


def test_member_counts_follow_the_events_and_then_wecoms_real_count(client, chain, wecom):
    group_id = chain["group"].id
    first = wecom.join("wrChatA0001", "wmCustomer1")
    second = wecom.join("wrChatA0001", "wmCustomer2")
    post_event(client, first)
    assert db.session.get(Community, group_id).members == 2  # 1 member + 1 along the version chain
    post_event(client, second)
    assert db.session.get(Community, group_id).members == 3
    post_event(client, first)  # late and retried: its version is behind, nothing moves twice
    assert db.session.get(Community, group_id).members == 3
    left = wecom.leave("wrChatA0001", "wmCustomer1")
    post_event(client, left)
    db.session.expire_all()
    assert db.session.get(Community, group_id).members == 2
    wecom.join("wrChatA0001", "wmCustomer3")  # an event lost on the way
    read_groups_now()
    assert db.session.get(Community, group_id).members == 3  # groupchat/get is the truth


def test_a_full_group_leaves_the_codes_when_the_real_count_says_so(client, chain, wecom):
    group = db.session.get(Community, chain["group"].id)
    group.capacity = 3
    db.session.commit()
    wecom.add_chat("wrChatA0002")
    second = Community(store_id=chain["store"].id, name="甲店2群", wecom_chat_id="wrChatA0002", rotation_order=2)
    db.session.add(second)
    db.session.commit()
    sync_round(limit=50, now=utcnow() + timedelta(seconds=1))
    for user in ("wmC1", "wmC2"):
        post_event(client, wecom.join("wrChatA0001", user))
    assert db.session.get(Community, chain["group"].id).is_full
    sync_round(limit=50, now=utcnow() + timedelta(seconds=10))
    poster = db.session.scalar(select(JoinWay).where(JoinWay.state == make_state(chain["store"].id, "poster")))
    assert wecom.join_ways[poster.config_id]["chat_id_list"] == ["wrChatA0002"]


def test_staff_and_members_from_before_the_connection_are_not_joins(client, chain, wecom):
    wecom.join("wrChatA0001", "wmOldCustomer", join_time=int(time.time()) - 30 * 86400)
    event = wecom.join("wrChatA0001", "shop.assistant", type=1, join_scene=1)
    post_event(client, event)
    assert len(joins()) == 1  # a callback cannot tell staff from customers ...
    read_groups_now()
    assert joins() == []  # ... groupchat/get can; and the old customer was already there


def test_a_customer_with_an_old_join_time_but_our_state_is_counted(client, chain, wecom):
    wecom.join("wrChatA0001", "wmEarly", state=make_state(chain["store"].id, "share"),
               join_time=int(time.time()) - 3600 * 24 * 30)
    read_groups_now()
    sync_round(limit=50, now=utcnow() + timedelta(hours=7))
    assert [j.channel for j in joins()] == ["share"]


def test_a_dissolved_group_leaves_the_rotation(client, chain, wecom):
    post_event(client, {"chat_id": "wrChatA0001", "change_type": "dismiss"})
    db.session.expire_all()
    assert db.session.get(Community, chain["group"].id).active is False
    assert db.session.scalar(select(WecomChat).where(WecomChat.chat_id == "wrChatA0001")).dismissed


def test_events_of_unknown_groups_are_followed_and_other_events_ignored(client, chain, wecom):
    wecom.add_chat("wrChatNew001")
    event = wecom.join("wrChatNew001", "wmSomeone", state="klsdup3kj3s1")  # another tool's code
    assert post_event(client, event).status_code == 200
    read_groups_now()
    assert joins() == []  # no store to give it to
    assert db.session.scalar(select(func.count()).select_from(WecomChat).where(WecomChat.chat_id == "wrChatNew001")) == 1
    query, body = callback_post("<xml><ToUserName>x</ToUserName><MsgType>event</MsgType>"
                                "<Event>change_external_contact</Event></xml>")
    assert client.post(f"{URL}?{query}", data=body).status_code == 200


def test_a_join_into_an_unlinked_group_through_our_code_counts_for_the_store(client, chain, wecom):
    store = chain["store"]
    wecom.add_chat("wrChatNew002")
    wecom.join("wrChatNew002", "wmX", state=make_state(store.id, "trailer"))
    sync_round(limit=50, now=utcnow() + timedelta(hours=7))  # the periodic list finds the group
    sync_round(limit=50, now=utcnow() + timedelta(hours=7, seconds=1))
    [join] = joins()
    assert (join.store_id, join.channel, join.community_id) == (store.id, "trailer", None)


def test_a_callback_racing_the_sync_for_one_member_still_counts_once(client, chain, wecom, monkeypatch):
    import matrix.joins.members as members

    store = chain["store"]
    event = wecom.join("wrChatA0001", "wmRacer", state=make_state(store.id, "poster"))
    post_event(client, event)  # the callback wrote the member ...
    real, calls = members.known_members, []

    def stale_read(chat_id, hashes):  # ... after the sync had looked for it
        calls.append(chat_id)
        return {} if len(calls) == 1 else real(chat_id, hashes)

    monkeypatch.setattr(members, "known_members", stale_read)
    read_groups_now()
    [join] = joins()
    assert join.channel == "poster" and len(calls) == 2
