"""WeCom callback crypto: WeCom's own published sample, the stand-in's encryption, refusals, event parsing."""
import pytest

from matrix.wecom.callback import CallbackCrypto, CallbackError, check_aes_key, parse_event
from wecom_app_server import AES_KEY, CALLBACK_TOKEN, CORP_ID
from wecom_callbacks import callback_post, event_xml, wecom_encrypt

# The sample of WeCom's WXBizMsgCrypt documentation (token, EncodingAESKey, corp id and two signed requests).
SAMPLE = CallbackCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
SAMPLE_ECHO = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
SAMPLE_BODY = (b"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA["
               b"RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/"
               b"sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZf"
               b"JYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAV"
               b"GUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H"
               b"3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt>"
               b"<AgentID><![CDATA[218]]></AgentID></xml>")


def test_wecoms_own_url_check_sample():
    echo = SAMPLE.verify_url("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780", SAMPLE_ECHO)
    assert echo == "1616140317555161061"


def test_wecoms_own_message_sample():
    message = SAMPLE.open_message(SAMPLE_BODY, "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149")
    assert b"<Content><![CDATA[hello]]></Content>" in message
    assert parse_event(message) is None  # a text message, not a customer-group event


def test_a_changed_signature_timestamp_or_body_is_refused():
    with pytest.raises(CallbackError, match="bad_signature"):
        SAMPLE.verify_url("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd4", "1409659589", "263014780", SAMPLE_ECHO)
    with pytest.raises(CallbackError, match="bad_signature"):
        SAMPLE.open_message(SAMPLE_BODY, "477715d11cdb4164915debcba66cb864d751f3e6", "1409659814", "1372623149")
    tampered = SAMPLE_BODY.replace(b"RypEvHKD8QQ", b"RypEvHKD8QR")
    with pytest.raises(CallbackError, match="bad_signature"):
        SAMPLE.open_message(tampered, "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149")


def test_the_stand_ins_encryption_is_read_and_the_corp_id_checked():
    crypto = CallbackCrypto(CALLBACK_TOKEN, AES_KEY, CORP_ID)
    assert crypto.decrypt(wecom_encrypt("你好, WeCom")) == "你好, WeCom".encode()
    with pytest.raises(CallbackError, match="wrong_receiver"):
        crypto.decrypt(wecom_encrypt("hello", corp_id="wwsomeothercorp0001"))
    with pytest.raises(CallbackError, match="bad_padding|wrong_receiver"):
        CallbackCrypto(CALLBACK_TOKEN, "Z" * 43, CORP_ID).decrypt(wecom_encrypt("hello"))


def test_our_encryption_is_what_wecom_would_send():
    crypto = CallbackCrypto(CALLBACK_TOKEN, AES_KEY, CORP_ID)
    assert SAMPLE.decrypt(SAMPLE.encrypt(b"<xml/>")) == b"<xml/>"
    assert crypto.decrypt(crypto.encrypt("企业微信".encode())) == "企业微信".encode()


def test_bad_keys_and_unreadable_bodies():
    with pytest.raises(ValueError):
        check_aes_key("short")
    crypto = CallbackCrypto(CALLBACK_TOKEN, AES_KEY, CORP_ID)
    for body in (b"not xml", b"<xml></xml>",
                 b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>'):
        with pytest.raises(CallbackError):
            crypto.open_message(body, "0" * 40, "1", "2")
    with pytest.raises(CallbackError, match="bad_base64"):
        crypto.decrypt("%%%not base64%%%")


def test_a_member_change_event_is_parsed():
    event = {"chat_id": "wrChat0001", "change_type": "update", "update_detail": "add_member", "join_scene": 3,
             "members": ["wmA", "wmB"], "last": "v1", "current": "v2"}
    query, body = callback_post(event_xml(event, created=1700000000))
    params = dict(part.split("=", 1) for part in query.split("&"))
    message = CallbackCrypto(CALLBACK_TOKEN, AES_KEY, CORP_ID).open_message(body, params["msg_signature"],
                                                                            params["timestamp"], params["nonce"])
    event = parse_event(message)
    assert event.joined and not event.left
    assert (event.chat_id, event.join_scene, event.member_change_count) == ("wrChat0001", 3, 2)
    assert event.member_ids == ["wmA", "wmB"]
    assert (event.last_member_version, event.member_version, event.created_at) == ("v1", "v2", 1700000000)


def test_the_older_comma_separated_member_list_is_read_too():
    xml = (b"<xml><Event>change_external_chat</Event><ChatId>wrChat0001</ChatId><ChangeType>update</ChangeType>"
           b"<UpdateDetail>del_member</UpdateDetail><MemChangeCnt>2</MemChangeCnt>"
           b"<MemChangeList><![CDATA[wmA,wmB]]></MemChangeList></xml>")
    event = parse_event(xml)
    assert event.left and event.member_ids == ["wmA", "wmB"]
