"""Robots side by side: per-robot queues, sends in a small thread pool, the database in one thread.

A worker holds the rows it claimed in one queue per robot and sends the head of each queue in a pool
of WORKER_THREADS threads, one message per robot at a time and in order. The threads only call the
robot (no session, no app context); reading a row, checking its target and saving the answer happen
in the thread that owns the session. So a robot that hangs costs one thread for WECOM_TIMEOUT_S, never
the other robots' messages. After a transient failure (busy, 5xx, time-out) the robot's other rows are
given back to wait as long as the failed one, so a sick robot is not hammered.

Leases are short (WORKER_LEASE_S, 20 s): the dispatcher renews them while it holds the rows and starts
no send that could outlive its lease, so a dead worker's rows are free again within 20 s.
"""
import concurrent.futures as cf
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from matrix.extensions import db
from matrix.models import utcnow
from matrix.notifications import claims
from matrix.notifications.attempts import call, is_transient, prepare, retry_wait, save
from matrix.notifications.claims import DeliveryCounts
from matrix.notifications.targets import Outcome

ROBOT_QUEUE = 5  # rows one worker holds per robot: enough to keep it busy, the rest free for other workers
CLAIM_EVERY_S = 0.5  # while rows are queued, look for new ones this often (a claim is a few queries)


@dataclass
class _Job:
    id: int
    lease: datetime
    url: str  # "" for a row without a robot: its check holds or withdraws it


class Dispatcher:
    """One worker's rows in flight. `clock` gives "now" (tests fix it); answers are stamped with it."""

    def __init__(self, client, *, clock: Callable[[], datetime] = utcnow, threads: int | None = None):
        config = current_app.config
        self.client, self.clock = client, clock
        self.lease_s = float(config.get("WORKER_LEASE_S", 20))
        self.timeout_s = float(config.get("WECOM_TIMEOUT_S", 5))
        self.threads = threads or int(config.get("WORKER_THREADS", 8))
        self.pool = cf.ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="robot")
        self.queues: dict[str, deque[_Job]] = {}
        self.running: dict[cf.Future, tuple[_Job, object]] = {}
        self.counts = DeliveryCounts()
        self._claimed = float("-inf")

    def held(self) -> list[_Job]:
        return [job for queue in self.queues.values() for job in queue] + [job for job, _a in self.running.values()]

    def idle(self) -> bool:
        return not self.running and not any(self.queues.values())

    def claim(self, limit: int, per_robot: int | None = ROBOT_QUEUE) -> int:
        """Claim due rows up to `limit` held in all; the number claimed (commits)."""
        held = self.held()
        if len(held) >= limit:
            return 0
        per_url: dict[str, int] = {}
        for job in held:
            per_url[job.url] = per_url.get(job.url, 0) + 1
        rows = claims.claim_rows(self.clock(), limit - len(held), self.counts, mine=frozenset(j.id for j in held),
                                 held=per_url, per_robot=per_robot)
        for row_id, lease, url in rows:
            self.queues.setdefault(url or "", deque()).append(_Job(row_id, lease, url or ""))
        return len(rows)

    def claim_now_and_then(self, limit: int) -> int:
        """Claim when nothing is queued, else at most every CLAIM_EVERY_S (new rows for other robots)."""
        if self.queues and time.monotonic() - self._claimed < CLAIM_EVERY_S:
            return 0
        self._claimed = time.monotonic()
        return self.claim(limit)

    def start(self) -> None:
        """Send the next row of every robot with none in flight, as threads allow."""
        if self.queues and self._lease_left() < self.timeout_s + 2:
            self.renew()  # a send must end inside its lease, or another worker could send it too
        busy = {job.url for job, _attempt in self.running.values()}
        for url, queue in self.queues.items():
            while queue and url not in busy and len(self.running) < self.threads:
                job = queue.popleft()
                attempt = prepare(job.id)
                if attempt.outcome != Outcome.SEND:
                    save(job.id, job.lease, attempt, self.clock(), self.counts)
                    continue
                self.running[self.pool.submit(self._call, attempt.url, attempt.message)] = (job, attempt)
                busy.add(url)
        self.queues = {url: queue for url, queue in self.queues.items() if queue}

    def _call(self, url: str, message: dict):
        result = call(self.client, url, message)
        return result, self.clock()  # when the robot answered: the minute counts from here

    def collect(self, timeout: float = 0.0) -> int:
        """Save the robots' answers, waiting up to `timeout` for the first; how many were saved."""
        if not self.running:
            return 0
        done, _pending = cf.wait(list(self.running), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        counts, resting = DeliveryCounts(), []
        for future in done:
            job, attempt = self.running[future]
            attempt.result, answered_at = future.result()
            save(job.id, job.lease, attempt, answered_at, counts, commit=False)
            if is_transient(attempt):
                resting.append((job.url, answered_at + timedelta(seconds=retry_wait(attempt, job.id))))
        db.session.commit()  # one commit for the answers that came in together
        # Only once saved: after a database error the answers stay here for the next try.
        for future in done:
            del self.running[future]
        for name, value in vars(counts).items():
            setattr(self.counts, name, getattr(self.counts, name) + value)
        for url, until in resting:
            self._rest(url, until)
        return len(done)

    def _rest(self, url: str, until: datetime) -> None:
        """The robot failed for now: its queued rows, and its other due rows, wait as long as the failed one."""
        queue = self.queues.pop(url, deque())
        for lease, ids in _by_lease(queue).items():
            self.counts.throttled += claims.release(ids, lease, not_before=until)
        if url:
            claims.rest_robot(url, until, self.clock())
            db.session.commit()

    def _lease_left(self) -> float:
        held = self.held()
        return min((job.lease - self.clock()).total_seconds() for job in held) if held else self.lease_s

    def renew_if_due(self) -> None:
        """Renew the leases once a third of their time has gone."""
        if self.held() and self._lease_left() < self.lease_s * 2 / 3:
            self.renew()

    def renew(self) -> None:
        new = self.clock() + timedelta(seconds=self.lease_s)
        held = self.held()
        kept = set()
        for lease, ids in _by_lease(held).items():
            kept |= claims.renew(ids, lease, new)
        for job in held:
            job.lease = new if job.id in kept else job.lease
        # A row whose lease was lost (the database was away too long) is another worker's now.
        for url, queue in self.queues.items():
            self.queues[url] = deque(job for job in queue if job.id in kept)

    def drain(self) -> None:
        """Send everything held, waiting for the answers."""
        while not self.idle():
            self.start()
            self.collect(timeout=self.timeout_s + 1)

    def stop(self) -> None:
        """Wait for the sends in flight (bounded by the time-out) and give back the rows not started."""
        deadline = self.timeout_s + 2
        while self.running and deadline > 0:
            self.collect(timeout=1.0)
            deadline -= 1
        for lease, ids in _by_lease([job for queue in self.queues.values() for job in queue]).items():
            claims.release(ids, lease)
        self.queues = {}

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _by_lease(jobs) -> dict[datetime, list[int]]:
    grouped: dict[datetime, list[int]] = {}
    for job in jobs:
        grouped.setdefault(job.lease, []).append(job.id)
    return grouped
