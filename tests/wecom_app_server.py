"""A loopback stand-in for the WeCom app API and its callbacks, scriptable per test.

It speaks the real protocol: GET /cgi-bin/gettoken (corpid, corpsecret -> access_token, expires_in; the same
token while it is valid), POST JSON with ?access_token= to externalcontact/groupchat/{add,get,update,del}_join_way
(scene 1 or 2, 1 to 5 known chat ids, state at most 30 characters; answers config_id / join_way with qr_code),
groupchat/list (cursor, limit) and groupchat/get (member_list with join_time, join_scene, state). A missing,
unknown or expired token answers 41001, 40014 or 42001 as WeCom does. Script other answers per API, in order,
the last repeating: `wecom.answer("add_join_way", Error(45009))`; `wecom.calls` records every call.

`wecom.join(chat_id, userid, state=...)` adds a member the way a scan would and returns the change event
WeCom would send; tests/wecom_callbacks.py encrypts it into the callback WeCom would POST.
"""
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

CORP_ID = "ww0123456789abcdef"
SECRET = "app-secret-0123456789-abcdefghij"
CALLBACK_TOKEN = "CallbackToken42"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeCom generates them
PREFIX = "/cgi-bin/externalcontact/groupchat/"


@dataclass
class Error:
    errcode: int
    errmsg: str = "error"


@dataclass
class HttpError:
    status: int = 502


@dataclass
class Slow:
    """Answer normally after `delay` seconds: beyond the client's timeout it times out."""
    delay: float = 0.5


@dataclass
class Chat:
    chat_id: str
    name: str
    members: list[dict] = field(default_factory=list)
    version: int = 1

    @property
    def member_version(self) -> str:
        return hashlib.md5(f"{self.chat_id}:{self.version}".encode()).hexdigest()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up (Slow) is expected, not worth a traceback


@dataclass
class WecomStandIn:
    host: str = "127.0.0.1"
    port: int = 0
    corp_id: str = CORP_ID
    secret: str = SECRET
    token_lifetime: int = 7200
    chats: dict[str, Chat] = field(default_factory=dict)
    join_ways: dict[str, dict] = field(default_factory=dict)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    tokens_issued: int = 0
    _tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (time.time())
    _script: dict = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- scripting ------------------------------------------------------------------------------------------
    def answer(self, api: str, *answers) -> None:
        """Answer calls of `api` ("gettoken", "add_join_way", "get", ...) with these in turn, the last repeating."""
        with self._lock:
            self._script[api] = list(answers)

    def expire_tokens(self) -> None:
        """Every token issued so far is expired (WeCom answers 42001 to it)."""
        with self._lock:
            self._tokens = {t: 0.0 for t in self._tokens}

    def count(self, api: str) -> int:
        return sum(1 for name, _payload in self.calls if name == api)

    def add_chat(self, chat_id: str, name: str = "门店客户群", *, staff: str = "owner1") -> Chat:
        with self._lock:
            chat = Chat(chat_id, name, [{"userid": staff, "type": 1, "join_time": int(time.time()) - 86400,
                                         "join_scene": 1, "invitor": {"userid": staff}, "group_nickname": ""}])
            self.chats[chat_id] = chat
            return chat

    def join(self, chat_id: str, userid: str, *, state: str = "", join_scene: int = 3, type: int = 2,
             join_time: int | None = None) -> dict:
        """A member joins (by scanning a join way's QR when `state` is set); returns WeCom's change event."""
        with self._lock:
            chat = self.chats[chat_id]
            last = chat.member_version
            member = {"userid": userid, "type": type, "join_time": join_time or int(time.time()),
                      "join_scene": join_scene, "group_nickname": ""}
            if state:
                member["state"] = state
            chat.members.append(member)
            chat.version += 1
            return {"chat_id": chat_id, "change_type": "update", "update_detail": "add_member",
                    "join_scene": 3 if join_scene == 3 else 0, "members": [userid], "last": last,
                    "current": chat.member_version}

    def leave(self, chat_id: str, userid: str) -> dict:
        with self._lock:
            chat = self.chats[chat_id]
            last = chat.member_version
            chat.members = [m for m in chat.members if m["userid"] != userid]
            chat.version += 1
            return {"chat_id": chat_id, "change_type": "update", "update_detail": "del_member", "members": [userid],
                    "last": last, "current": chat.member_version}

    def open_room(self, config_id: str, chat_id: str) -> Chat:
        """WeCom opens a new group for a join way whose groups are full (auto_create_room) and lists it."""
        with self._lock:
            way = self.join_ways[config_id]
            chat = self.add_chat(chat_id, f"{way.get('room_base_name', '')}{len(way['chat_id_list']) + 1}")
            way["chat_id_list"].append(chat_id)
            return chat

    def way_by_state(self, state: str) -> dict | None:
        return next((w for w in self.join_ways.values() if w["state"] == state), None)

    # -- the API --------------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict, body: bytes) -> tuple[int, dict | None, float]:
        api = "gettoken" if path == "/cgi-bin/gettoken" else path.removeprefix(PREFIX)
        payload = json.loads(body.decode("utf-8")) if body else {}
        with self._lock:
            self.calls.append((api, payload))
            script = self._script.get(api)
            scripted = (script.pop(0) if len(script) > 1 else script[0]) if script else None
        if isinstance(scripted, HttpError):
            return scripted.status, None, 0
        if isinstance(scripted, Error):
            return 200, {"errcode": scripted.errcode, "errmsg": scripted.errmsg}, 0
        delay = scripted.delay if isinstance(scripted, Slow) else 0
        if api == "gettoken":
            return 200, self._gettoken(query), delay
        if method != "POST" or not path.startswith(PREFIX):
            return 404, None, 0
        refused = self._check_token(query.get("access_token", ""))
        if refused:
            return 200, refused, delay
        handler = getattr(self, "_" + api, None)
        return (200, handler(payload), delay) if handler else (404, None, 0)

    def _gettoken(self, query: dict) -> dict:
        if query.get("corpid") != self.corp_id:
            return {"errcode": 40013, "errmsg": "invalid corpid"}
        if query.get("corpsecret") != self.secret:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        with self._lock:
            now = time.time()
            valid = [t for t, expiry in self._tokens.items() if expiry > now]
            if not valid:  # WeCom hands out the same token while it is valid
                self.tokens_issued += 1
                valid = [f"token-{self.tokens_issued}-{os.urandom(4).hex()}"]
                self._tokens[valid[0]] = now + self.token_lifetime
            return {"errcode": 0, "errmsg": "ok", "access_token": valid[0],
                    "expires_in": int(self._tokens[valid[0]] - now)}

    def _check_token(self, token: str) -> dict | None:
        if not token:
            return {"errcode": 41001, "errmsg": "access_token missing"}
        expiry = self._tokens.get(token)
        if expiry is None:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        if expiry <= time.time():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    def _check_way(self, payload: dict) -> dict | None:
        chat_ids = payload.get("chat_id_list")
        if payload.get("scene") not in (1, 2):
            return {"errcode": 40058, "errmsg": "invalid scene"}
        if not isinstance(chat_ids, list) or not 1 <= len(chat_ids) <= 5 or any(c not in self.chats for c in chat_ids):
            return {"errcode": 40058, "errmsg": "invalid chat_id_list"}
        if len(str(payload.get("state", ""))) > 30:
            return {"errcode": 40058, "errmsg": "state exceed max length"}
        return None

    def _add_join_way(self, payload: dict) -> dict:
        refused = self._check_way(payload)
        if refused:
            return refused
        config_id = os.urandom(16).hex()
        with self._lock:
            self.join_ways[config_id] = {**payload, "config_id": config_id, "chat_id_list": list(payload["chat_id_list"]),
                                         "qr_code": f"https://wework.qpic.cn/wwpic/{config_id}/0",
                                         "remark": str(payload.get("remark", ""))[:30]}
        return {"errcode": 0, "errmsg": "ok", "config_id": config_id}

    def _get_join_way(self, payload: dict) -> dict:
        way = self.join_ways.get(payload.get("config_id"))
        if way is None:
            return {"errcode": 40058, "errmsg": "invalid config_id"}
        return {"errcode": 0, "errmsg": "ok", "join_way": dict(way, chat_id_list=list(way["chat_id_list"]))}

    def _update_join_way(self, payload: dict) -> dict:
        way = self.join_ways.get(payload.get("config_id"))
        if way is None:
            return {"errcode": 40058, "errmsg": "invalid config_id"}
        refused = self._check_way(payload)
        if refused:
            return refused
        with self._lock:
            way.update({k: v for k, v in payload.items() if k != "config_id"}, chat_id_list=list(payload["chat_id_list"]))
        return {"errcode": 0, "errmsg": "ok"}

    def _del_join_way(self, payload: dict) -> dict:
        with self._lock:
            if self.join_ways.pop(payload.get("config_id"), None) is None:
                return {"errcode": 40058, "errmsg": "invalid config_id"}
        return {"errcode": 0, "errmsg": "ok"}

    def _list(self, payload: dict) -> dict:
        ids = sorted(self.chats)
        start = int(payload.get("cursor") or 0)
        limit = int(payload.get("limit") or 1000)
        if not 1 <= limit <= 1000:
            return {"errcode": 40058, "errmsg": "invalid limit"}
        page = ids[start:start + limit]
        more = start + limit < len(ids)
        return {"errcode": 0, "errmsg": "ok", "group_chat_list": [{"chat_id": c, "status": 0} for c in page],
                "next_cursor": str(start + limit) if more else ""}

    def _get(self, payload: dict) -> dict:
        chat = self.chats.get(payload.get("chat_id"))
        if chat is None:
            return {"errcode": 40050, "errmsg": "chatid not exist"}
        members = [dict(m, name="客户") if payload.get("need_name") else dict(m) for m in chat.members]
        return {"errcode": 0, "errmsg": "ok",
                "group_chat": {"chat_id": chat.chat_id, "name": chat.name, "owner": "owner1",
                               "create_time": int(time.time()) - 86400, "member_list": members,
                               "admin_list": [], "member_version": chat.member_version}}

    # -- the server -----------------------------------------------------------------------------------------
    def start(self) -> "WecomStandIn":
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer, delay = stand_in.handle(method, parts.path, query, body)
                if delay:
                    time.sleep(delay)
                data = json.dumps(answer, ensure_ascii=False).encode() if answer is not None else b"<html>bad gateway</html>"
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if answer is not None else "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - http.server's name
                self._serve("GET")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def log_message(self, *args):
                pass

        self._server = _Server((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def wecom(app):
    """A running stand-in; the app sends WeCom API calls to it (WECOM_API_BASE_URL)."""
    stand_in = WecomStandIn().start()
    previous = app.config.get("WECOM_API_BASE_URL")
    app.config["WECOM_API_BASE_URL"] = stand_in.base_url
    yield stand_in
    app.config["WECOM_API_BASE_URL"] = previous
    stand_in.stop()


@pytest.fixture
def connect_wecom(app):
    """Connect the app to the stand-in's corp (with callback keys); returns the connection row."""
    def connect(**changes):
        from matrix.joins.connection import save_connection

        values = {"corp_id": CORP_ID, "secret": SECRET, "callback_token": CALLBACK_TOKEN, "aes_key": AES_KEY,
                  "auto_create_room": True} | changes
        row, _keys = save_connection(actor=None, **values)
        return row
    return connect
