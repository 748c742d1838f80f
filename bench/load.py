"""A small HTTP load generator in pure Python (asyncio, raw HTTP/1.1): closed loop for pages, open loop for webhooks.

Closed loop: N clients each send the next request when the last one is answered (keep-alive when the
server keeps the connection; gunicorn's sync workers close it after every answer, so it reconnects).
Open loop: request i is due at start + i / rate whatever the answers; its latency counts from when it
was due, so a sender that falls behind shows as latency, not as a lower rate (no coordinated omission).
"""
import asyncio
import gzip
import http.client
import re
import resource
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

USER_AGENT = "storematrix-bench"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes            # as sent (compressed when the server compressed it)

    @property
    def html(self) -> bytes:
        return gzip.decompress(self.body) if self.headers.get("content-encoding") == "gzip" else self.body


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)   # of answered requests
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)        # time-outs, resets, refused
    seconds: float = 0.0
    cpu_s: float = 0.0                                         # the sender's own CPU time
    sample: Answer | None = None                              # the first 200 answer
    error_sample: Answer | None = None                        # the first other answer
    answers: list = field(default_factory=list)               # (index, status, body) when kept

    @property
    def answered(self) -> int:
        return len(self.latencies_ms)

    @property
    def rps(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def raise_open_files() -> None:
    """Thousands of connections in flight need more descriptors than the default soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def request_bytes(method: str, path: str, *, host: str, cookie: str = "", body: bytes = b"",
                  headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept-Encoding: gzip", f"User-Agent: {USER_AGENT}"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    """One response; True when the server keeps the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
    else:
        body = await reader.read()
    keep = headers.get("connection", "").lower() != "close"
    return Answer(int(status_line.split()[1]), headers, body), keep


class Connection:
    """A client's connection, reopened when the server closed it."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def send(self, data: bytes) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(data)
        try:
            answer, keep = await _read_answer(self.reader)
        except BaseException:
            self.close()
            raise
        if not keep:
            self.close()
        return answer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _failure_name(error: BaseException) -> str:
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError)):
        return "reset"
    return type(error).__name__


async def _closed(host: str, port: int, make: Callable[[int], bytes], clients: int, seconds: float,
                  timeout: float) -> Result:
    result, counter = Result(), iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def client():
        connection = Connection(host, port)
        while time.perf_counter() < deadline:
            data = make(next(counter))
            started = time.perf_counter()
            try:
                answer = await asyncio.wait_for(connection.send(data), timeout)
            except Exception as e:  # noqa: BLE001 - every failure is counted, none stops the run
                connection.close()
                result.failures[_failure_name(e)] += 1
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.statuses[answer.status] += 1
            if answer.status == 200 and result.sample is None:
                result.sample = answer
            elif answer.status != 200 and result.error_sample is None:
                result.error_sample = answer
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


def closed_loop(host: str, port: int, make: Callable[[int], bytes], *, clients: int = 16, seconds: float = 8.0,
                timeout: float = 30.0) -> Result:
    """`clients` clients sending `make(i)` back to back for `seconds`."""
    return asyncio.run(_closed(host, port, make, clients, seconds, timeout))


async def _open(host: str, port: int, make: Callable[[int], bytes], rate: float, seconds: float,
                timeout: float, keep: bool) -> Result:
    result = Result()
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2

    async def one(i: int):
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        connection = Connection(host, port)
        try:
            answer = await asyncio.wait_for(connection.send(make(i)), max(0.001, due + timeout - time.perf_counter()))
        except Exception as e:  # noqa: BLE001
            result.failures[_failure_name(e)] += 1
            if keep:
                result.answers.append((i, None, b""))
            return
        finally:
            connection.close()
        result.latencies_ms.append((time.perf_counter() - due) * 1000)
        result.statuses[answer.status] += 1
        result.seconds = max(result.seconds, time.perf_counter() - start)  # until the last answer
        if keep:
            result.answers.append((i, answer.status, answer.body))

    # Tasks are created in slices just ahead of their time, so a 60 s run does not hold 18,000 sleepers.
    tasks = []
    for i in range(total):
        ahead = start + i / rate - time.perf_counter()
        if ahead > 0.5:
            await asyncio.sleep(ahead - 0.4)
        tasks.append(asyncio.ensure_future(one(i)))
    await asyncio.gather(*tasks)
    result.seconds = max(result.seconds, seconds)
    return result


def open_loop(host: str, port: int, make: Callable[[int], bytes], *, rate: float, seconds: float,
              timeout: float = 5.0, keep: bool = False) -> Result:
    """Send `make(i)` at `rate` a second for `seconds`, each given `timeout` from when it was due."""
    raise_open_files()
    cpu = time.process_time()
    result = asyncio.run(_open(host, port, make, rate, seconds, timeout, keep))
    result.cpu_s = time.process_time() - cpu
    return result


def sign_in(host: str, port: int, username: str, password: str) -> str:
    """The session cookie of a user signed in through the real form (CSRF token and all)."""
    # Flask-Login's strong session protection ties the session to the address and the User-Agent.
    agent = {"User-Agent": USER_AGENT}
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request("GET", "/login", headers=agent)
    response = connection.getresponse()
    page = response.read().decode()
    cookie = _session_cookie(response) or ""
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    form = urllib.parse.urlencode({"username": username, "password": password,
                                   "csrf_token": token.group(1) if token else ""})
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request("POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, **agent})
    response = connection.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"sign-in of {username} answered {response.status}")
    cookie = _session_cookie(response) or cookie
    # Follow the redirect as a browser does: the first page stores its CSRF secret in the (fresh) session and
    # sets the cookie again; a client that kept the older cookie would get a Set-Cookie (so no gzip) every time.
    connection = http.client.HTTPConnection(host, port, timeout=30)
    target = urllib.parse.urlsplit(response.getheader("Location") or "/")
    connection.request("GET", target.path or "/", headers={"Cookie": cookie, **agent})
    landing = connection.getresponse()
    landing.read()
    return _session_cookie(landing) or cookie


def _session_cookie(response) -> str | None:
    for name, value in response.getheaders():
        if name.lower() == "set-cookie" and value.startswith("session="):
            return value.split(";", 1)[0]
    return None


def wait_until_up(host: str, port: int, path: str = "/", seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            connection = http.client.HTTPConnection(host, port, timeout=5)
            connection.request("GET", path)
            connection.getresponse().read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
