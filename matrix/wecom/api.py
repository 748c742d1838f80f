"""The one client of the WeCom app API (企业微信自建应用): access tokens, 「加入群聊」 join ways, customer groups.

Only https://qyapi.weixin.qq.com is ever called, on fixed paths, without following redirects (SSRF guard);
WECOM_API_BASE_URL sends the same calls to another base (a loopback stand-in in tests, a staging proxy).
Every failure is raised as a WecomError whose `kind` says what the caller should do, as WeCom's global
error codes class them: RETRY later (busy, rate limits, HTTP 5xx, time-outs), fix the CONFIG (bad corp id or
secret, no API permission, server IP not trusted) or GIVE_UP on this request (a bad parameter, a deleted group).

Access tokens live 7200 s, the same token comes back while valid, and WeCom throttles gettoken: the token is
cached in a TokenStore (the database, shared by every process), refreshed ahead of its expiry, and fetched
again once when WeCom says it is invalid or expired (40014, 42001, 40082).
"""
import enum
import http.client
import json
import logging
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Protocol
from urllib.parse import urlencode, urlsplit

log = logging.getLogger(__name__)

API_HOST = "qyapi.weixin.qq.com"
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # groupchat/get of a 500-member group is about 150 KB
REFRESH_MARGIN = timedelta(minutes=5)  # a token this close to expiry is fetched again before use
MAX_CHAT_IDS = 5  # a join way lists at most five groups
MAX_STATE_CHARS = 30  # WeCom: state "不超过30个UTF-8字符"
EXPIRED_TOKEN = {40014, 42001, 40082}
RATE_LIMITED = {45009, 45011, 45033}
RETRY_CODES = {-1, 6000} | RATE_LIMITED
CONFIG_CODES = {40001, 40013, 40056, 40089, 40091, 41001, 41002, 41004, 48001, 48002, 60011, 60020,
                301002, 2000002}


class ErrorKind(enum.StrEnum):
    RETRY = "retry"        # try again later; nothing is wrong on our side
    CONFIG = "config"      # HQ must fix the connection in WeCom or here; retrying cannot help
    GIVE_UP = "give_up"    # this request cannot succeed as it is


def classify(errcode: int) -> ErrorKind:
    """The class of a WeCom errcode (global error codes, document 90313)."""
    if errcode in RETRY_CODES or errcode in EXPIRED_TOKEN:
        return ErrorKind.RETRY
    if errcode in CONFIG_CODES:
        return ErrorKind.CONFIG
    return ErrorKind.GIVE_UP


class WecomError(Exception):
    """A call that did not succeed; `errcode` is WeCom's, or 0 for a network or HTTP failure."""

    def __init__(self, kind: ErrorKind, message: str, *, errcode: int = 0):
        super().__init__(message)
        self.kind = kind
        self.errcode = errcode
        self.message = message[:250]

    @property
    def rate_limited(self) -> bool:
        return self.errcode in RATE_LIMITED

    @classmethod
    def from_answer(cls, answer: dict) -> "WecomError":
        """The error of an answer with a non-zero errcode (WeCom's hint URL cut off)."""
        code = int(answer.get("errcode", -1))
        text = str(answer.get("errmsg", "")).split(", hint:")[0][:160]
        return cls(classify(code), f"errcode {code}: {text}", errcode=code)


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: datetime


class TokenStore(Protocol):
    """Where the access token is cached (shared by every process of the app)."""

    def load(self) -> Token | None: ...

    def save(self, token: Token) -> None: ...

    def discard(self, value: str) -> None: ...


@dataclass(frozen=True)
class JoinWay:
    config_id: str
    chat_ids: list[str]
    state: str
    qr_code: str
    auto_create_room: bool


@dataclass(frozen=True)
class Member:
    userid: str
    type: int              # 1 a member of the company (staff), 2 an external contact (a customer)
    join_time: int         # unix seconds
    join_scene: int        # 1 invited directly, 2 invite link, 3 scanned the group's QR code
    state: str = ""        # the join way's state, when the member came through one


@dataclass(frozen=True)
class GroupChat:
    chat_id: str
    name: str
    member_version: str
    members: list[Member] = field(default_factory=list)


class WecomClient:
    """Calls the WeCom API as one self-built app (corp id and the app's secret)."""

    def __init__(self, corp_id: str, secret: str, tokens: TokenStore, *, base_url: str | None = None,
                 timeout: float = 8.0, clock=lambda: datetime.now(timezone.utc)):
        self.corp_id, self.secret, self.tokens = corp_id, secret, tokens
        self.timeout, self.clock = timeout, clock
        self.base = urlsplit(base_url) if base_url else None
        if self.base and (self.base.scheme not in ("http", "https") or not self.base.hostname):
            raise ValueError("WECOM_API_BASE_URL must look like http://127.0.0.1:8098")

    # -- tokens ---------------------------------------------------------------------------------------------
    def fetch_token(self) -> Token:
        """Ask WeCom for an access token (gettoken) and cache it."""
        answer = self._request("GET", "/cgi-bin/gettoken", {"corpid": self.corp_id, "corpsecret": self.secret})
        if int(answer.get("errcode", 0)) != 0:
            raise WecomError.from_answer(answer)
        try:
            value, lifetime = str(answer["access_token"]), int(answer["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise WecomError(ErrorKind.RETRY, "gettoken answered without a token") from None
        token = Token(value, self.clock() + timedelta(seconds=lifetime))
        self.tokens.save(token)
        return token

    def access_token(self) -> str:
        """The cached token, or a new one when there is none or it expires within five minutes."""
        token = self.tokens.load()
        if token is None or token.expires_at - REFRESH_MARGIN <= self.clock():
            token = self.fetch_token()
        return token.value

    def call(self, path: str, payload: dict) -> dict:
        """POST JSON to an API path with the access token; one new token if WeCom refused the old one."""
        token = self.access_token()
        answer = self._request("POST", path, {"access_token": token}, payload)
        if int(answer.get("errcode", 0)) in EXPIRED_TOKEN:
            log.info("wecom %s: token refused (errcode %s), fetching a new one", path, answer.get("errcode"))
            self.tokens.discard(token)
            answer = self._request("POST", path, {"access_token": self.fetch_token().value}, payload)
        if int(answer.get("errcode", 0)) != 0:
            raise WecomError.from_answer(answer)
        return answer

    # -- 「加入群聊」 join ways (document 92229) ----------------------------------------------------------------
    def add_join_way(self, *, chat_ids: list[str], state: str, remark: str = "", auto_create_room: bool = True,
                     room_base_name: str = "", room_base_id: int = 1) -> str:
        """Create a QR-code join way (scene 2) for up to five groups; returns its config_id."""
        payload = _join_way_payload(chat_ids, state, remark, auto_create_room, room_base_name, room_base_id)
        return str(self.call("/cgi-bin/externalcontact/groupchat/add_join_way", payload)["config_id"])

    def update_join_way(self, config_id: str, *, chat_ids: list[str], state: str, remark: str = "",
                        auto_create_room: bool = True, room_base_name: str = "", room_base_id: int = 1) -> None:
        """Change a join way's groups; its QR code stays the same (posters already printed keep working)."""
        payload = _join_way_payload(chat_ids, state, remark, auto_create_room, room_base_name, room_base_id)
        self.call("/cgi-bin/externalcontact/groupchat/update_join_way", {"config_id": config_id, **payload})

    def get_join_way(self, config_id: str) -> JoinWay:
        """Read a join way back: its QR code URL and its groups (WeCom adds the rooms it creates when full)."""
        way = self.call("/cgi-bin/externalcontact/groupchat/get_join_way", {"config_id": config_id}).get("join_way")
        if not isinstance(way, dict):
            raise WecomError(ErrorKind.RETRY, "get_join_way answered without a join way")
        return JoinWay(config_id=str(way.get("config_id") or config_id),
                       chat_ids=[str(c) for c in way.get("chat_id_list") or []], state=str(way.get("state") or ""),
                       qr_code=str(way.get("qr_code") or ""), auto_create_room=bool(way.get("auto_create_room")))

    def del_join_way(self, config_id: str) -> None:
        """Delete a join way (its QR code stops working; frees one of the corp's 500,000)."""
        self.call("/cgi-bin/externalcontact/groupchat/del_join_way", {"config_id": config_id})

    # -- customer groups (documents 92120, 92122) -------------------------------------------------------------
    def list_group_chats(self, *, cursor: str = "", limit: int = 1000) -> tuple[list[str], str]:
        """One page of the app's customer groups: (chat ids, next cursor or "")."""
        payload = {"status_filter": 0, "limit": max(1, min(limit, 1000))}
        if cursor:
            payload["cursor"] = cursor
        answer = self.call("/cgi-bin/externalcontact/groupchat/list", payload)
        chats = [str(c["chat_id"]) for c in answer.get("group_chat_list") or [] if c.get("chat_id")]
        return chats, str(answer.get("next_cursor") or "")

    def get_group_chat(self, chat_id: str, *, need_name: bool = False) -> GroupChat:
        """A customer group with every member's join time, join scene and join way state."""
        chat = self.call("/cgi-bin/externalcontact/groupchat/get",
                         {"chat_id": chat_id, "need_name": 1 if need_name else 0}).get("group_chat")
        if not isinstance(chat, dict):
            raise WecomError(ErrorKind.RETRY, "groupchat/get answered without a group")
        members = [Member(userid=str(m.get("userid") or ""), type=int(m.get("type") or 0),
                          join_time=int(m.get("join_time") or 0), join_scene=int(m.get("join_scene") or 0),
                          state=str(m.get("state") or "")) for m in chat.get("member_list") or []]
        return GroupChat(chat_id=str(chat.get("chat_id") or chat_id), name=str(chat.get("name") or ""),
                         member_version=str(chat.get("member_version") or ""), members=members)

    # -- transport ------------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, query: dict, payload: dict | None = None) -> dict:
        scheme, host, port = "https", API_HOST, None
        if self.base:
            scheme, host, port = self.base.scheme, self.base.hostname, self.base.port
        connection_class = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        connection = connection_class(host, port, timeout=self.timeout)
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8") if payload is not None else None
        try:
            connection.request(method, f"{path}?{urlencode(query)}", body=body,
                               headers={"Content-Type": "application/json; charset=utf-8"} if body else {})
            response = connection.getresponse()
            status, data = response.status, response.read(MAX_ANSWER_BYTES)
        except (TimeoutError, socket.timeout):
            raise WecomError(ErrorKind.RETRY, f"timed out after {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as e:
            raise WecomError(ErrorKind.RETRY, f"network error ({type(e).__name__})") from None
        finally:
            connection.close()
        return _answer(path, status, data)


def _answer(path: str, status: int, data: bytes) -> dict:
    if status >= 500 or status in (408, 429):
        raise WecomError(ErrorKind.RETRY, f"HTTP {status}")
    if status != 200:
        raise WecomError(ErrorKind.GIVE_UP, f"HTTP {status}")
    try:
        answer = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WecomError(ErrorKind.RETRY, "unreadable answer") from None
    if not isinstance(answer, dict):
        raise WecomError(ErrorKind.RETRY, "unreadable answer")
    log.debug("wecom %s: errcode %s", path, answer.get("errcode", 0))
    return answer


def _join_way_payload(chat_ids: list[str], state: str, remark: str, auto_create_room: bool,
                      room_base_name: str, room_base_id: int) -> dict:
    """The body of add/update_join_way; refused here, before a call, when WeCom would refuse it."""
    if not 1 <= len(chat_ids) <= MAX_CHAT_IDS:
        raise WecomError(ErrorKind.GIVE_UP, f"a join way lists 1 to {MAX_CHAT_IDS} groups, not {len(chat_ids)}")
    if len(state) > MAX_STATE_CHARS:
        raise WecomError(ErrorKind.GIVE_UP, f"state longer than {MAX_STATE_CHARS} characters")
    payload = {"scene": 2, "remark": remark[:30], "auto_create_room": 1 if auto_create_room else 0,
               "chat_id_list": list(chat_ids), "state": state}
    if auto_create_room:
        payload |= {"room_base_name": room_base_name[:40], "room_base_id": max(1, int(room_base_id))}
    return payload
