"""The callbacks WeCom POSTs (and its URL check), encrypted as WeCom does it.

An implementation of WXBizMsgCrypt separate from matrix.wecom.callback, so a test proves the app reads
what WeCom really sends, not merely what the app itself would write.
"""
import base64
import hashlib
import os
import struct
import time
from urllib.parse import urlencode

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wecom_app_server import AES_KEY, CALLBACK_TOKEN, CORP_ID


def _aes(key: str):
    raw = base64.b64decode(key + "=")
    return Cipher(algorithms.AES(raw), modes.CBC(raw[:16]))


def wecom_encrypt(message: str, *, aes_key: str = AES_KEY, corp_id: str = CORP_ID) -> str:
    text = message.encode("utf-8")
    plain = os.urandom(16) + struct.pack("!I", len(text)) + text + corp_id.encode()
    pad = 32 - len(plain) % 32
    encryptor = _aes(aes_key).encryptor()
    return base64.b64encode(encryptor.update(plain + bytes([pad] * pad)) + encryptor.finalize()).decode()


def wecom_signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def event_xml(event: dict, *, corp_id: str = CORP_ID, created: int | None = None) -> str:
    """The change_external_chat event WeCom sends for `event` (as returned by join/leave)."""
    items = "".join(f"<Item><![CDATA[{m}]]></Item>" for m in event.get("members", []))
    scene = f"<JoinScene>{event['join_scene']}</JoinScene>" if "join_scene" in event else ""
    return (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{created or int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[{event['chat_id']}]]></ChatId>"
            f"<ChangeType><![CDATA[{event['change_type']}]]></ChangeType>"
            f"<UpdateDetail><![CDATA[{event.get('update_detail', '')}]]></UpdateDetail>{scene}<QuitScene>0</QuitScene>"
            f"<MemChangeCnt>{len(event.get('members', []))}</MemChangeCnt><MemChangeList>{items}</MemChangeList>"
            f"<LastMemVer><![CDATA[{event.get('last', '')}]]></LastMemVer>"
            f"<CurMemVer><![CDATA[{event.get('current', '')}]]></CurMemVer></xml>")


def callback_post(message: str, *, token: str = CALLBACK_TOKEN, aes_key: str = AES_KEY, corp_id: str = CORP_ID,
                  timestamp: str | None = None, nonce: str = "1372623149") -> tuple[str, bytes]:
    """(query string, body) of the POST WeCom makes to a callback URL for `message`."""
    timestamp = timestamp or str(int(time.time()))
    encrypted = wecom_encrypt(message, aes_key=aes_key, corp_id=corp_id)
    body = (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>").encode()
    query = urlencode({"msg_signature": wecom_signature(token, timestamp, nonce, encrypted), "timestamp": timestamp,
                       "nonce": nonce})
    return query, body


def url_check(echo: str, *, token: str = CALLBACK_TOKEN, aes_key: str = AES_KEY, corp_id: str = CORP_ID,
              timestamp: str | None = None, nonce: str = "263014780") -> str:
    """The query string of WeCom's GET that checks a callback URL."""
    timestamp = timestamp or str(int(time.time()))
    encrypted = wecom_encrypt(echo, aes_key=aes_key, corp_id=corp_id)
    return urlencode({"msg_signature": wecom_signature(token, timestamp, nonce, encrypted), "timestamp": timestamp,
                      "nonce": nonce, "echostr": encrypted})
