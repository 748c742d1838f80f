"""Benchmark: `flask worker` processes under faults: a robot that hangs, one that fails and recovers, a hot robot,
a worker killed mid-run, the database's connections cut.

Run: .venv/bin/python bench/worker.py [--workers 2] [--max-seconds 420] [--url URL]
PostgreSQL only, in its own database (default bench_worker, made afresh each run: a 60-store chain, a
confirmed staff channel with its own robot for 33 stores). Outbox rows are written straight into `notifications`, each message naming its own
id; a robot stand-in (bench/robot.py) answers on 127.0.0.1 with the robot's clock and WeCom's 20 a
minute. Timeline (s from start): 160 messages at 0 (HOT robot 60, HANG 20, FAIL 20, 2 each for 30
others), then 2 a second to random robots until 120; HANG holds every call 30 s from 0 to 90; FAIL
answers HTTP 500 from 0 to 60; a worker is killed (SIGKILL) at 25 and a new one started at 30 (as a
supervisor would); at 45 every connection to the bench database is terminated (what a PostgreSQL
restart does to the workers), and refused for 5 s (the database's ALLOW_CONNECTIONS; the shared server
itself is left alone); the worker killed is one with a call open to the robot, so it holds claimed rows. A monitor reads the table twice
a second: a row's stranded time is how long it stays claimed (locked and pending) in one claim.
The run ends when every row is sent or failed, or at --max-seconds.
Ends with worker_max_per_robot_per_min (calls within any 60 s by the robot's clock, answered or not;
worker_max_landed_per_robot_per_min counts only those it took), worker_stranded_max_s,
worker_duplicates (landed twice), worker_lost (neither landed nor still queued), and details.
"""
import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from chain import DEFAULT_URL, ensure_database  # noqa: E402
from robot import BenchRobot  # noqa: E402
from serve import bench_app  # noqa: E402

WORKER_URL = DEFAULT_URL.rsplit("/", 1)[0] + "/bench_worker"
HOT, HANG, FAIL = "HOT0", "HANG0", "FAIL0"


def prepare(url: str) -> dict[str, tuple[int, int]]:
    """A fresh database with a small chain; robot key -> (store id, staff channel id) for 33 stores."""
    from sqlalchemy import select, update

    from matrix.communities.models import Community, StaffChannel
    from matrix.demo import build_seed
    from matrix.extensions import db
    from matrix.regions.services import load_regions
    from matrix.stores.models import Store

    ensure_database(url, fresh=True)
    app = bench_app(url)
    with app.app_context():
        db.create_all()
        load_regions()
        build_seed(stores=60, accounts_per_store=1, rng_seed=2)
        # Lead alerts go to a store's confirmed staff channel: one robot per store, used by no group.
        db.session.execute(update(Community).values(robot_webhook_url=None))
        store_ids = db.session.scalars(select(Store.id).order_by(Store.id).limit(33)).all()
        keys = [HOT, HANG, FAIL] + [f"OK{n:03d}" for n in range(len(store_ids) - 3)]
        robots = {}
        now = datetime.now(timezone.utc)
        for key, store_id in zip(keys, store_ids):
            channel = StaffChannel(store_id=store_id, confirmed_at=now,
                                   robot_webhook_url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}")
            db.session.add(channel)
            db.session.flush()
            robots[key] = (store_id, channel.id)
        db.session.commit()
        db.engine.dispose()
    return robots


class Feeder:
    """Writes outbox rows as a lead would have, each message carrying its own id."""

    def __init__(self, url: str, robots: dict):
        from sqlalchemy import create_engine

        self.engine = create_engine(url, pool_pre_ping=True)
        self.robots, self.made = robots, {}   # message id -> (key, wall clock when written)
        self.next_id = 1

    def add(self, keys: list[str]) -> None:
        from sqlalchemy import text

        rows = []
        for key in keys:
            store_id, channel_id = self.robots[key]
            n, self.next_id = self.next_id, self.next_id + 1
            rows.append({"store": store_id, "channel": channel_id,
                         "message": f'{{"msgtype": "markdown", "markdown": {{"content": "bench-msg-{n} 新线索"}}}}'})
            self.made[n] = (key, time.time())
        for attempt in range(40):  # the database may be down for a few seconds right now
            try:
                with self.engine.begin() as conn:
                    conn.execute(text("INSERT INTO notifications (kind, store_id, staff_channel_id, message, status, "
                                      "attempts, next_attempt_at, created_at) VALUES ('lead_alert', :store, :channel, "
                                      "CAST(:message AS JSON), 'pending', 0, now(), now())"), rows)
                return
            except Exception:  # noqa: BLE001
                time.sleep(0.5)
        raise RuntimeError("could not write outbox rows")


class Monitor(threading.Thread):
    """Polls the outbox: how long each claim held a row, and how the rows end."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine

        super().__init__(daemon=True)
        self.engine = create_engine(url, pool_pre_ping=True)
        self.claims: dict[int, tuple[object, float]] = {}  # message -> (its row's lease, first seen)
        self.stranded: list[float] = []
        self.states: dict[int, str] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        from sqlalchemy import text

        while not self.stop.is_set():
            try:
                with self.engine.connect() as conn:
                    rows = conn.execute(text("SELECT CAST(substring(CAST(message AS TEXT) FROM 'bench-msg-([0-9]+)') "
                                             "AS INTEGER), status, locked_until FROM notifications")).all()
            except Exception:  # noqa: BLE001 - the connection cut at 45 s hits us too
                time.sleep(0.5)
                continue
            now = time.time()
            for row_id, status, lease in rows:
                self.states[row_id] = status
                held = self.claims.get(row_id)
                claimed = status == "pending" and lease is not None
                if held and (not claimed or lease != held[0]):
                    self.stranded.append(now - held[1])
                    del self.claims[row_id]
                    held = None
                if claimed and held is None:
                    self.claims[row_id] = (lease, now)
            self.stop.wait(0.5)

    def finish(self) -> float:
        self.stop.set()
        self.join()
        now = time.time()
        return max(self.stranded + [now - since for _lease, since in self.claims.values()] + [0.0])


def start_worker(url: str, robot_url: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "BENCH_DATABASE_URL": url, "BENCH_ROBOT_URL": robot_url, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "serve:app", "worker", "--interval", "0.5"],
                            cwd=Path(__file__).resolve().parent, env=env, stdout=log.open("a"),
                            stderr=subprocess.STDOUT)


def database_down(url: str, down: bool) -> int:
    """Refuse (or allow again) connections to the bench database and end the open ones: a restart, for it alone."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if down else "true"}'))
        n = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :db"),
                         {"db": name}).scalar() if down else 0
    engine.dispose()
    return n


def sending_worker(procs: list[subprocess.Popen], robot_port: int) -> subprocess.Popen:
    """A live worker with a call open to the robot (so it holds claimed rows), else the first live one."""
    listing = subprocess.run(["ss", "-Htnp", "dst", f"127.0.0.1:{robot_port}"], capture_output=True, text=True).stdout
    busy = {int(pid) for pid in re.findall(r"pid=(\d+)", listing)}
    alive = [p for p in procs if p.poll() is None]
    return next((p for p in alive if p.pid in busy), alive[0])


def play_faults(t: float, events: set, procs: list, url: str, robot: BenchRobot, restart_log: Path) -> None:
    """The timeline's worker kill (25 s), its replacement (30 s) and the database going away (45-50 s)."""
    if t >= 25 and "kill" not in events:
        events.add("kill")
        victim = sending_worker(procs, robot.port)
        victim.send_signal(signal.SIGKILL)
        print(f"# {t:.0f} s: worker {procs.index(victim) + 1} killed in the middle of a send", flush=True)
    if t >= 30 and "restart" not in events:
        events.add("restart")
        procs.append(start_worker(url, robot.base_url, restart_log))
    if t >= 45 and "down" not in events:
        events.add("down")
        print(f"# {t:.0f} s: database down for 5 s, {database_down(url, True)} connections ended", flush=True)
        threading.Timer(5.0, database_down, (url, False)).start()  # the feeder waits for it


def tally(feeder: Feeder, monitor: Monitor, robot: BenchRobot, logs: list[Path], seconds: float) -> dict:
    """The figures, from the robot's log, the monitor's claims and the workers' logs."""
    stranded = monitor.finish()
    landed = {int(ident[4:]): at for at, _key, ident in robot.landed if ident.startswith("msg:")}
    healthy = [landed[n] - made for n, (key, made) in feeder.made.items() if key.startswith("OK") and n in landed]
    sent = [sum(int(n) for n in re.findall(r"sent (\d+)", log.read_text())) for log in logs if log.exists()]
    per_minute, busiest = robot.max_per_minute()
    landed_per_minute, _key = robot.max_per_minute(landed_only=True)
    queued = sum(1 for n in feeder.made if n not in landed and monitor.states.get(n) in ("pending", "failed"))
    print(f"# {len(feeder.made)} messages, {len(landed)} landed in {seconds:.0f} s; robot answers {dict(robot.answers)}; "
          f"sends per worker log {sent}; busiest robot {busiest}")
    return {"worker_max_per_robot_per_min": (per_minute, "count"),
            "worker_max_landed_per_robot_per_min": (landed_per_minute, "count"), "worker_stranded_max_s": (stranded, "s"),
            "worker_duplicates": (robot.duplicates(), "count"),
            "worker_lost": (len(feeder.made) - len(landed) - queued, "count"),
            "worker_undelivered_at_end": (len(feeder.made) - len(landed), "count"),
            "worker_healthy_max_delay_s": (max(healthy or [0.0]), "s"), "worker_run_s": (seconds, "s")}


def run(url: str, workers: int, max_seconds: float, folder: Path) -> dict:
    """Feed, fault and watch until every message is sent or failed (or the time is up)."""
    robots = prepare(url)
    robot = BenchRobot(faults={HANG: [(0, 90, "hang")], FAIL: [(0, 60, "500")]}).start()
    feeder, monitor = Feeder(url, robots), Monitor(url)
    others = [k for k in robots if k.startswith("OK")]
    feeder.add([HOT] * 60 + [HANG] * 20 + [FAIL] * 20 + others * 2)
    logs = [folder / f"worker{n}.log" for n in range(workers + 1)]
    procs = [start_worker(url, robot.base_url, logs[n]) for n in range(workers)]
    monitor.start()
    rng, start, events = random.Random(4), time.time(), set()
    try:
        while (t := time.time() - start) <= max_seconds:
            if t < 120:
                feeder.add([rng.choice(list(robots)) for _ in range(2)])
            play_faults(t, events, procs, url, robot, logs[workers])
            if t > 120 and len(monitor.states) >= len(feeder.made) \
                    and all(s != "pending" for s in monitor.states.values()):
                break
            time.sleep(1)
    finally:
        database_down(url, False)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
    seconds = time.time() - start
    robot.stop()
    return tally(feeder, monitor, robot, logs, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_WORKER_URL", WORKER_URL))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=420.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_worker_") as folder:
        figures = run(args.url, args.workers, args.max_seconds, Path(folder))
    for name, (value, unit) in figures.items():
        print(f"{name} {value:.1f} {unit}" if unit == "s" else f"{name} {value} {unit}")


if __name__ == "__main__":
    main()
