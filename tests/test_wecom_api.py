"""The WeCom app API client against the stand-in: tokens cached and refreshed, errcodes classed, requests checked."""
from datetime import datetime, timedelta, timezone

import pytest
from wecom_app_server import CORP_ID, SECRET, Error, HttpError, Slow

from matrix.extensions import db
from matrix.joins.connection import client_for
from matrix.wecom.api import ErrorKind, Token, WecomClient, WecomError, classify


class MemoryTokens:
    def __init__(self):
        self.token: Token | None = None
        self.saved = 0

    def load(self):
        return self.token

    def save(self, token):
        self.token, self.saved = token, self.saved + 1

    def discard(self, value):
        if self.token and self.token.value == value:
            self.token = None


@pytest.fixture
def client(wecom):
    wecom.add_chat("wrChatA0001", "甲店1群")
    return WecomClient(CORP_ID, SECRET, MemoryTokens(), base_url=wecom.base_url, timeout=0.3)


def test_token_is_fetched_once_and_shared_by_calls(wecom, client):
    for _ in range(3):
        client.get_group_chat("wrChatA0001")
    assert wecom.count("gettoken") == 1
    assert wecom.count("get") == 3


def test_token_is_refreshed_five_minutes_before_it_expires(wecom, client):
    client.get_group_chat("wrChatA0001")
    expires = client.tokens.token.expires_at
    client.clock = lambda: expires - timedelta(minutes=4)  # inside the margin: fetched again
    client.get_group_chat("wrChatA0001")
    assert wecom.count("gettoken") == 2
    client.clock = lambda: expires - timedelta(minutes=30)
    client.get_group_chat("wrChatA0001")
    assert wecom.count("gettoken") == 2


def test_an_expired_token_is_fetched_again_once_and_the_call_repeated(wecom, client):
    client.get_group_chat("wrChatA0001")
    old = client.tokens.token.value
    wecom.expire_tokens()  # WeCom now answers 42001 to it although our clock says it is valid
    chat = client.get_group_chat("wrChatA0001")
    assert chat.chat_id == "wrChatA0001"
    assert client.tokens.token.value != old
    assert wecom.count("gettoken") == 2 and wecom.count("get") == 3


def test_a_token_refused_twice_is_a_retry_not_a_loop(wecom, client):
    wecom.answer("get", Error(40014, "invalid access_token"))
    with pytest.raises(WecomError) as caught:
        client.get_group_chat("wrChatA0001")
    assert caught.value.kind == ErrorKind.RETRY and caught.value.errcode == 40014
    assert wecom.count("get") == 2 and wecom.count("gettoken") == 2


@pytest.mark.parametrize("answer, kind, code", [
    (Error(-1, "system busy"), ErrorKind.RETRY, -1),
    (Error(45009, "api freq out of limit"), ErrorKind.RETRY, 45009),
    (Error(45033, "api concurrent out of limit"), ErrorKind.RETRY, 45033),
    (HttpError(502), ErrorKind.RETRY, 0),
    (Error(48002, "api forbidden"), ErrorKind.CONFIG, 48002),
    (Error(60020, "not allow to access from your ip"), ErrorKind.CONFIG, 60020),
    (Error(40050, "chatid not exist"), ErrorKind.GIVE_UP, 40050),
    (HttpError(404), ErrorKind.GIVE_UP, 0),
])
def test_each_errcode_comes_back_in_its_class(wecom, client, answer, kind, code):
    wecom.answer("get", answer)
    with pytest.raises(WecomError) as caught:
        client.get_group_chat("wrChatA0001")
    assert (caught.value.kind, caught.value.errcode) == (kind, code)
    assert caught.value.rate_limited is (code in (45009, 45033))


def test_a_time_out_is_a_retry(wecom, client):
    wecom.answer("get", Slow(1.0))
    with pytest.raises(WecomError) as caught:
        client.get_group_chat("wrChatA0001")
    assert caught.value.kind == ErrorKind.RETRY and "timed out" in caught.value.message


@pytest.mark.parametrize("corp_id, secret, code", [(CORP_ID, "wrong-secret-0123456789", 40001),
                                                   ("wwnotthecorp00000", SECRET, 40013)])
def test_a_wrong_corp_id_or_secret_is_a_configuration_error(wecom, corp_id, secret, code):
    client = WecomClient(corp_id, secret, MemoryTokens(), base_url=wecom.base_url)
    with pytest.raises(WecomError) as caught:
        client.fetch_token()
    assert (caught.value.kind, caught.value.errcode) == (ErrorKind.CONFIG, code)
    assert SECRET not in caught.value.message and "wrong-secret" not in caught.value.message


def test_join_way_requests_follow_wecoms_rules_before_any_call(wecom, client):
    chats = [f"wrChat{i:05d}" for i in range(6)]
    with pytest.raises(WecomError) as too_many:
        client.add_join_way(chat_ids=chats, state="sm.1.poster")
    with pytest.raises(WecomError) as long_state:
        client.add_join_way(chat_ids=["wrChatA0001"], state="x" * 31)
    assert too_many.value.kind == long_state.value.kind == ErrorKind.GIVE_UP
    assert wecom.count("add_join_way") == 0


def test_join_way_round_trip(wecom, client):
    config_id = client.add_join_way(chat_ids=["wrChatA0001"], state="sm.1.poster", remark="A-001 poster",
                                    room_base_name="甲门店", room_base_id=2)
    sent = wecom.calls[-1][1]
    assert sent["scene"] == 2 and sent["auto_create_room"] == 1 and sent["state"] == "sm.1.poster"
    way = client.get_join_way(config_id)
    assert way.qr_code.startswith("https://") and way.chat_ids == ["wrChatA0001"] and way.state == "sm.1.poster"
    wecom.add_chat("wrChatA0002")
    client.update_join_way(config_id, chat_ids=["wrChatA0002", "wrChatA0001"], state="sm.1.poster")
    assert client.get_join_way(config_id).chat_ids == ["wrChatA0002", "wrChatA0001"]
    client.del_join_way(config_id)
    with pytest.raises(WecomError):
        client.get_join_way(config_id)


def test_group_chat_members_and_list_pages(wecom, client):
    for i in range(3):
        wecom.add_chat(f"wrChatB{i:04d}")
    wecom.join("wrChatA0001", "wmCustomer1", state="sm.1.poster")
    chat = client.get_group_chat("wrChatA0001")
    customer = [m for m in chat.members if m.type == 2][0]
    assert (customer.userid, customer.state, customer.join_scene) == ("wmCustomer1", "sm.1.poster", 3)
    assert chat.member_version
    first, cursor = client.list_group_chats(limit=2)
    second, end = client.list_group_chats(cursor=cursor, limit=2)
    assert len(first) == 2 and cursor and end == "" and len(set(first + second)) == 4


def test_without_a_base_url_only_the_wecom_host_is_called(monkeypatch):
    opened = []

    class Recorder:
        def __init__(self, host, port=None, timeout=None):
            opened.append((type(self).__name__, host, port, timeout))

        def request(self, method, url, body=None, headers=None):
            raise OSError("no network in tests")

        def close(self):
            pass

    monkeypatch.setattr("http.client.HTTPSConnection", type("HTTPSConnection", (Recorder,), {}))
    client = WecomClient(CORP_ID, SECRET, MemoryTokens(), timeout=2.0)
    with pytest.raises(WecomError) as caught:
        client.fetch_token()
    assert caught.value.kind == ErrorKind.RETRY
    assert opened == [("HTTPSConnection", "qyapi.weixin.qq.com", None, 2.0)]


def test_the_database_token_is_shared_by_every_client(app, wecom, connect_wecom):
    row = connect_wecom()
    wecom.add_chat("wrChatA0001")
    client_for(row).get_group_chat("wrChatA0001")
    client_for(row).get_group_chat("wrChatA0001")  # another process: same row, same token
    assert wecom.count("gettoken") == 1
    db.session.refresh(row)
    assert row.access_token_encrypted and b"token-" not in row.access_token_encrypted  # encrypted at rest
    assert row.token_expires_at > datetime.now(timezone.utc) + timedelta(hours=1)


def test_classify_known_codes():
    assert classify(42001) == ErrorKind.RETRY
    assert classify(41001) == ErrorKind.CONFIG
    assert classify(90500) == ErrorKind.GIVE_UP
