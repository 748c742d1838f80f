"""Benchmark: signed lead webhooks offered at a fixed rate (open loop) to gunicorn, then what was stored, routed, notified.

Run: .venv/bin/python bench/intake.py [--rate 300 --seconds 60 | --burst | --restart] [--closed-seconds 10] [--workers 2]
--burst is --rate 1000 --seconds 10. --restart runs on a private PostgreSQL cluster that restarts halfway
(bench/intake_restart.py) and prints intake_lost_on_restart. PostgreSQL only: the 10,000-store chain of bench/chain.py is copied
once into its own database (default bench_intake, from bench_pages as a template) and reused; each run's
leads carry their own prefix. gunicorn (2 sync workers) serves the app on 127.0.0.1 with `flask worker`
processes beside it (or only after the load, --workers-after) sending to a robot stand-in (bench/robot.py). First a short closed loop (16 clients
back to back) gives the webhook's own req/s and p99. Then the open loop: request i is due at
i / rate, signed with the generic scheme (HMAC-SHA256 over timestamp and body), each a new lead near a
random store, and has Douyin's 5 s (--timeout) to be answered (latency counts from when it was due). Afterwards the
worker drains, and the database and the robot are counted. A send fails when it times out, is reset or
refused, or is answered other than 200. Lost: answered 200 but not stored, or routed to a store with a
robot and ended without a send (still queued when the drain stops counts as late, not lost). Duplicates: a lead stored twice, or a message delivered twice.
Ends with intake_accepted_per_s, intake_p99_ms, intake_failed_sends, intake_lost, intake_duplicates
(and the counts behind them).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402
from chain import DEFAULT_URL, SOURCE_SECRET, SOURCE_SLUG, ensure_chain, migrate  # noqa: E402
from robot import BenchRobot  # noqa: E402
from serve import Gunicorn, bench_app  # noqa: E402

HOST = "127.0.0.1"
INTAKE_URL = DEFAULT_URL.rsplit("/", 1)[0] + "/bench_intake"
WORKER_NICE = 19
RATE_LIMIT_STORE = "redis://127.0.0.1:6379/5"  # as production counts (memory:// starts a timer thread per window)


def ensure_copy(template_url: str, url: str) -> None:
    """The intake database: a copy of the seeded chain (PostgreSQL copies a template database file by file)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target, source = make_url(url).database, make_url(template_url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target}):
            print(f"# copying {source} into {target}", flush=True)
            conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))
    admin.dispose()
    migrate(url)


def stores(url: str) -> list[tuple[float, float]]:
    from sqlalchemy import select

    from matrix.extensions import db
    from matrix.stores.models import Store

    app = bench_app(url)
    with app.app_context():
        points = [tuple(p) for p in db.session.execute(select(Store.lon, Store.lat).where(Store.lon.is_not(None)))]
        db.engine.dispose()
    return points


def signed_requests(prefix: str, count: int, points, port: int) -> list[bytes]:
    """`count` signed deliveries, each a new lead near a store (5% far from every store), ready to send."""
    from matrix.leads.signatures import SCHEMES

    sign = SCHEMES["hmac_sha256_ts"].sign
    rng = random.Random(prefix)
    out = []
    for i in range(count):
        lon, lat = rng.choice(points)
        far = 3.0 if rng.random() < 0.05 else 0.0
        body = json.dumps({"id": f"{prefix}-{i}", "name": f"客户{i}", "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
                           "lon": round(lon + rng.uniform(-0.01, 0.01) + far, 6), "lat": round(lat + rng.uniform(-0.01, 0.01), 6),
                           "coord_system": "wgs84", "city": "", "ad_id": "bench"}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", **sign(SOURCE_SECRET, body, time.time())}
        out.append(load.request_bytes("POST", f"/hooks/{SOURCE_SLUG}", host=f"{HOST}:{port}", body=body,
                                      headers=headers))
    return out


def start_workers(n: int, url: str, robot_url: str, log: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "BENCH_DATABASE_URL": url, "BENCH_ROBOT_URL": robot_url}
    # Niced to 19, as the README runs them: routing takes the CPU the webhook leaves; it may lag a burst, an answer may not.
    return [subprocess.Popen([sys.executable, "-m", "flask", "--app", "serve:app", "worker", "--interval", "0.5"],
                             cwd=Path(__file__).resolve().parent, env=env, stdout=log.open("a"),
                             stderr=subprocess.STDOUT, preexec_fn=lambda: os.nice(WORKER_NICE)) for _ in range(n)]


def outcome(url: str, prefix: str) -> dict:
    """Counts of this run's leads and their notifications in the database."""
    from sqlalchemy import text

    app = bench_app(url)
    with app.app_context():
        from matrix.extensions import db

        row = db.session.execute(text("""
            WITH mine AS (SELECT id, store_id, external_id FROM leads WHERE external_id LIKE :p),
                 notes AS (SELECT n.lead_id, n.status, n.attempts FROM notifications n JOIN mine ON mine.id = n.lead_id),
                 inbound AS (SELECT state FROM inbound_deliveries WHERE dedupe_key LIKE :p)
            SELECT (SELECT count(*) FROM mine),
                   (SELECT count(DISTINCT external_id) FROM mine),
                   (SELECT count(*) FROM mine WHERE store_id IS NOT NULL),
                   (SELECT count(DISTINCT lead_id) FROM notes WHERE status = 'sent'),
                   (SELECT count(DISTINCT lead_id) FROM notes WHERE status <> 'held'
                     AND NOT (status = 'failed' AND attempts = 0)),
                   (SELECT count(*) FROM notes WHERE status = 'pending'),
                   (SELECT count(DISTINCT lead_id) FROM notes WHERE status = 'pending'
                     AND lead_id NOT IN (SELECT lead_id FROM notes WHERE status = 'sent')),
                   (SELECT count(*) FROM inbound),
                   (SELECT count(*) FROM inbound WHERE state = 'pending'),
                   (SELECT count(*) FROM inbound WHERE state = 'failed'),
                   (SELECT count(DISTINCT lead_id) FROM notes WHERE status = 'held')"""),
                                 {"p": f"{prefix}-%"}).one()
        db.engine.dispose()
    return dict(zip(("stored", "distinct", "routed", "notified", "notifiable", "pending", "pending_leads",
                     "deliveries", "unrouted", "routing_failed", "held"), row))


def confirm_staff_channels(url: str) -> None:
    """Nine stores in ten get a confirmed staff channel with its own robot, so their lead alerts are sent.

    What an earlier run left waiting (alerts, deliveries) is set aside, so this run's workers start on this run."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE notifications SET status = 'cancelled', last_error = 'bench: an earlier run' "
                          "WHERE status = 'pending'"))
        conn.execute(text("UPDATE inbound_deliveries SET state = 'failed', error = 'bench: an earlier run' "
                          "WHERE state = 'pending'"))
        conn.execute(text("INSERT INTO staff_channels (store_id, robot_webhook_url, confirmed_at, created_at, updated_at) "
                          "SELECT id, 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=STAFF' || id, now(), now(), "
                          "now() FROM stores WHERE id % 10 <> 0 ON CONFLICT (store_id) DO NOTHING"))
    engine.dispose()


def drain(url: str, prefix: str, seconds: float) -> tuple[dict, float]:
    started = time.perf_counter()
    while True:
        counts = outcome(url, prefix)
        if counts["pending"] + counts["unrouted"] == 0 or time.perf_counter() - started > seconds:
            return counts, time.perf_counter() - started
        time.sleep(2)


def closed_phase(port: int, points, prefix: str, seconds: float) -> dict:
    """16 clients back to back: the webhook's own req/s and p99."""
    warm = signed_requests(prefix, int(seconds * 500), points, port)
    closed = load.closed_loop(HOST, port, lambda i: warm[i % len(warm)], clients=16, seconds=seconds)
    print(f"# closed loop, 16 clients: {closed.rps:.0f} req/s, p50 {closed.percentile(50):.0f} ms, "
          f"p99 {closed.percentile(99):.0f} ms, {dict(closed.statuses)}", flush=True)
    time.sleep(3)  # let the queue settle before the open loop
    return {"webhook_rps": (closed.rps, "req/s"), "webhook_p99_ms": (closed.percentile(99), "ms")}


def open_phase(port: int, points, prefix: str, args) -> tuple[load.Result, int, int]:
    """The open loop; returns the result, the deliveries answered {"ok": true} and the number offered."""
    requests = signed_requests(prefix, int(args.rate * args.seconds), points, port)
    print(f"# offering {len(requests)} signed leads at {args.rate:.0f}/s for {args.seconds:.0f} s", flush=True)
    result = load.open_loop(HOST, port, lambda i: requests[i], rate=args.rate, seconds=args.seconds,
                            timeout=args.timeout, keep=True)
    accepted = sum(1 for _i, status, body in result.answers if status == 200 and b'"ok":true' in body.replace(b" ", b""))
    print(f"# answers {dict(result.statuses)}, failures {dict(result.failures)}, p50 {result.percentile(50):.0f} ms, "
          f"sender CPU {result.cpu_s:.0f} s, load {os.getloadavg()[0]:.1f}", flush=True)
    return result, accepted, len(requests)


def run(args) -> dict:
    """Serve, offer, drain, count; the figures by name."""
    points = stores(args.url)
    robot = BenchRobot().start()
    prefix = uuid.uuid4().hex[:8]
    figures = {}
    log = Path(tempfile.gettempdir()) / f"bench_intake_{prefix}.log"
    print(f"# app and worker output: {log}")
    with Gunicorn("app", workers=args.web_workers,
                  env={"BENCH_DATABASE_URL": args.url, "RATELIMIT_STORAGE_URI": RATE_LIMIT_STORE}, log=log) as app:
        load.wait_until_up(HOST, app.port, "/login")
        workers = [] if args.workers_after else start_workers(args.workers, args.url, robot.base_url, log)
        try:
            if args.closed_seconds:
                figures.update(closed_phase(app.port, points, f"w{prefix}", args.closed_seconds))
            result, accepted, offered = open_phase(app.port, points, f"b{prefix}", args)
            if args.workers_after:
                workers = start_workers(args.workers, args.url, robot.base_url, log)
            counts, drained_s = drain(args.url, f"b{prefix}", args.drain_seconds)
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(30)
    robot.stop()
    print(f"# deliveries {counts['deliveries']}, leads {counts['stored']}, routed {counts['routed']}, notifiable {counts['notifiable']}, "
          f"notified {counts['notified']}, still pending {counts['pending']} after draining {drained_s:.0f} s; "
          f"robot answers {dict(robot.answers)}")
    # Acknowledged but not stored is the loss that matters; a stored delivery whose routing failed is lost too.
    lost_unstored = max(0, accepted - counts["deliveries"])
    # Not yet sent when the drain stopped is late, not lost: only rows that ended without a send are lost.
    lost_unnotified = counts["notifiable"] - counts["notified"] - counts["pending_leads"]
    return figures | {
        "intake_offered_per_s": (args.rate, "req/s"),
        "intake_accepted_per_s": (accepted / result.seconds, "req/s"),  # over the offer and its last answers
        "intake_p50_ms": (result.percentile(50), "ms"),
        "intake_p99_ms": (result.percentile(99), "ms"),
        "intake_max_ms": (max(result.latencies_ms or [0.0]), "ms"),
        "intake_failed_sends": (offered - result.statuses.get(200, 0), "count"),
        "intake_stored": (counts["deliveries"], "count"), "intake_leads": (counts["stored"], "count"),
        "intake_routed": (counts["routed"], "count"), "intake_routing_failed": (counts["routing_failed"], "count"),
        "intake_unrouted_at_end": (counts["unrouted"], "count"),
        "intake_notified": (counts["notified"], "count"), "intake_held_no_channel": (counts["held"], "count"),
        "intake_drain_s": (drained_s, "s"), "intake_unnotified_at_end": (counts["pending_leads"], "count"),
        "intake_lost": (lost_unstored + counts["routing_failed"] + lost_unnotified, "count"),
        "intake_duplicates": (counts["stored"] - counts["distinct"] + robot.duplicates(), "count")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_INTAKE_URL", INTAKE_URL))
    parser.add_argument("--template-url", default=DEFAULT_URL)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--burst", action="store_true", help="1,000 a second for 10 s")
    parser.add_argument("--restart", action="store_true",
                        help="on a private PostgreSQL cluster, restarted halfway (bench/intake_restart.py)")
    parser.add_argument("--closed-seconds", type=float, default=10.0, help="closed loop first (0: none)")
    parser.add_argument("--workers", type=int, default=2, help="`flask worker` processes")
    parser.add_argument("--web-workers", type=int, default=5,
                        help="gunicorn sync workers (gunicorn.conf.py's default on 2 cores: 2 x cores + 1 = 5)")
    parser.add_argument("--workers-after", action="store_true",
                        help="start the workers when the load ends (default: they run beside the web workers)")
    parser.add_argument("--timeout", type=float, default=5.0, help="the sender's patience (Douyin: 5 s)")
    parser.add_argument("--drain-seconds", type=float, default=300.0)
    args = parser.parse_args()
    if args.burst:
        args.rate, args.seconds = 1000.0, 10.0
    if args.restart:
        import intake_restart

        figures = intake_restart.run(args, sys.modules[__name__])
        for name, (value, unit) in figures.items():
            print(f"{name} {value:.1f} {unit}" if isinstance(value, float) else f"{name} {value} {unit}")
        return
    ensure_chain(args.template_url)
    ensure_copy(args.template_url, args.url)
    confirm_staff_channels(args.url)
    for name, (value, unit) in run(args).items():
        print(f"{name} {value:.1f} {unit}" if isinstance(value, float) else f"{name} {value} {unit}")


if __name__ == "__main__":
    main()
