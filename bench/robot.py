"""A WeCom group-robot stand-in for the benchmarks: tests/robot_server.py's, with the robot's clock and faults.

Every call is logged with the stand-in's own clock (its arrival, as the real robot counts them). Like
WeCom it answers errcode 45009 to a robot's 21st call within 60 s. Faults are windows of seconds
from start() per key: "hang" holds the call for `hang_s` and then answers 502 without delivering
(the client has long timed out), "500" answers HTTP 500. Calls take `latency_s` (a real robot's
round trip is tens of milliseconds).
"""
import json
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from robot_server import RobotStandIn  # noqa: E402  (tests/robot_server.py)

PER_MINUTE = 20  # WeCom: 20 messages per robot per minute
LEAD_ID = re.compile(r"/leads/(\d+)")
MESSAGE_ID = re.compile(r"bench-msg-(\d+)")


@dataclass
class BenchRobot(RobotStandIn):
    faults: dict[str, list[tuple[float, float, str]]] = field(default_factory=dict)
    hang_s: float = 30.0
    latency_s: float = 0.02
    calls: list[tuple[float, str]] = field(default_factory=list)          # (robot clock, key) of every call
    landed: list[tuple[float, str, str]] = field(default_factory=list)    # (clock, key, message identity)
    answers: Counter = field(default_factory=Counter)
    recent: dict[str, list[float]] = field(default_factory=dict)          # key -> calls in the last 60 s
    started_at: float = 0.0

    def start(self) -> "BenchRobot":
        self.started_at = time.time()
        super().start()
        # A client that gave up on a hanging call leaves a broken pipe: expected here, not worth a traceback.
        self._server.handle_error = lambda request, address: None
        return self

    def handle(self, key: str, body: bytes) -> tuple[int, dict | None, float]:
        now = time.time()
        with self._lock:
            self.calls.append((now, key))
            recent = self.recent.setdefault(key, [])
            recent[:] = [t for t in recent if t > now - 60] + [now]
        elapsed = now - self.started_at
        for start, end, kind in self.faults.get(key, ()):
            if start <= elapsed < end:
                self._count(kind)
                return (502, None, self.hang_s) if kind == "hang" else (500, None, 0.0)
        if len(recent) > PER_MINUTE:
            self._count("45009")
            return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}, 0.0
        time.sleep(self.latency_s)
        status, answer, delay = super().handle(key, body)
        if answer and answer.get("errcode") == 0:
            self._count("ok")
            with self._lock:
                self.landed.append((time.time(), key, identity(body)))
        return status, answer, delay

    def _count(self, kind: str) -> None:
        with self._lock:
            self.answers[kind] += 1

    def max_per_minute(self, landed_only: bool = False) -> tuple[int, str]:
        """The most calls (or messages that landed) any robot got within 60 s by its own clock, and which robot."""
        by_key = defaultdict(list)
        for at, key, *_ident in (self.landed if landed_only else self.calls):
            by_key[key].append(at)
        best, who = 0, ""
        for key, times in by_key.items():
            times.sort()
            first = 0
            for last, at in enumerate(times):
                while at - times[first] >= 60:
                    first += 1
                if last - first + 1 > best:
                    best, who = last - first + 1, key
        return best, who

    def duplicates(self) -> int:
        """Messages that landed more than once (same identity)."""
        counts = Counter(ident for _at, _key, ident in self.landed)
        return sum(n - 1 for n in counts.values() if n > 1)


def identity(body: bytes) -> str:
    """What makes a message itself: the bench message id, else the lead and the message type."""
    try:
        payload = json.loads(body.decode("utf-8"))
        kind = payload["msgtype"]
        content = str(payload[kind].get("content", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"unreadable:{hash(body)}"
    if found := MESSAGE_ID.search(content):
        return f"msg:{found.group(1)}"
    if found := LEAD_ID.search(content):
        return f"lead:{found.group(1)}:{kind}"
    return f"{kind}:{hash(content)}"
