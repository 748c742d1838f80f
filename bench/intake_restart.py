"""bench/intake.py --restart: signed leads offered while a private PostgreSQL cluster restarts under the app.

A cluster of its own (pgcluster.py, the postgres user, a free port; the shared server is left alone) gets the
migrations, a 300-store chain, the bench's lead source and confirmed staff channels. gunicorn and the workers
run against it; halfway through the offer the cluster is restarted (pg_ctl -m fast: every connection ends,
open transactions roll back). Afterwards every delivery answered 200 must be in inbound_deliveries, and (once
the workers drained) have its lead. Prints intake_lost_on_restart (answered 200, not stored), the 503 answers
and how long the restart took.
"""
import os
import threading
import time
import uuid
from pathlib import Path

import load
from chain import SOURCE_SECRET, SOURCE_SLUG
from pgcluster import PrivateCluster
from robot import BenchRobot
from serve import Gunicorn, bench_app


def seed(url: str) -> None:
    """Migrations, China's regions, a 300-store chain and the bench's lead source."""
    from flask_migrate import upgrade

    from matrix.demo import build_seed
    from matrix.extensions import db
    from matrix.leads.sources import create_source
    from matrix.regions.services import load_regions

    app = bench_app(url)
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        load_regions()
        build_seed(stores=300, accounts_per_store=1, rng_seed=5)
        create_source(name="基准线索源", kind="generic", slug=SOURCE_SLUG, secret=SOURCE_SECRET, actor=None)
        db.session.commit()
        db.engine.dispose()


def stored_keys(url: str, prefix: str) -> tuple[set[str], int]:
    """The dedupe keys of this run's stored deliveries, and how many of them have their lead."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        keys = set(conn.scalars(text("SELECT dedupe_key FROM inbound_deliveries WHERE dedupe_key LIKE :p"),
                                {"p": f"{prefix}-%"}))
        leads = conn.scalar(text("SELECT count(*) FROM leads WHERE external_id LIKE :p"), {"p": f"{prefix}-%"})
    engine.dispose()
    return keys, leads


def run(args, helpers) -> dict:
    """helpers: bench/intake.py's module (signed_requests, start_workers, confirm_staff_channels, drain...)."""
    prefix = "r" + uuid.uuid4().hex[:8]
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_intake_restart_{prefix}.log"
    print(f"# app and worker output: {log}")
    with PrivateCluster() as cluster:
        url = cluster.database("bench_restart")
        seed(url)
        helpers.confirm_staff_channels(url)
        points = helpers.stores(url)
        robot = BenchRobot().start()
        restart = {}

        def restart_now():
            restart["at"] = time.perf_counter()
            cluster.restart()
            restart["took"] = time.perf_counter() - restart["at"]
            print(f"# cluster restarted in {restart['took']:.1f} s", flush=True)

        with Gunicorn("app", workers=args.web_workers, log=log,
                      env={"BENCH_DATABASE_URL": url, "RATELIMIT_STORAGE_URI": helpers.RATE_LIMIT_STORE}) as app:
            load.wait_until_up(helpers.HOST, app.port, "/login")
            workers = helpers.start_workers(args.workers, url, robot.base_url, log)
            try:
                requests = helpers.signed_requests(prefix, int(args.rate * args.seconds), points, app.port)
                print(f"# offering {len(requests)} signed leads at {args.rate:.0f}/s for {args.seconds:.0f} s; "
                      f"the cluster restarts at {args.seconds / 2:.0f} s", flush=True)
                threading.Timer(args.seconds / 2, restart_now).start()
                result = load.open_loop(helpers.HOST, app.port, lambda i: requests[i], rate=args.rate,
                                        seconds=args.seconds, timeout=args.timeout, keep=True)
                print(f"# answers {dict(result.statuses)}, failures {dict(result.failures)}", flush=True)
                counts, drained_s = helpers.drain(url, prefix, args.drain_seconds)
            finally:
                for worker in workers:
                    worker.terminate()
                for worker in workers:
                    worker.wait(30)
        robot.stop()
        keys, leads = stored_keys(url, prefix)
    acknowledged = {f"{prefix}-{i}" for i, status, body in result.answers
                    if status == 200 and b'"ok":true' in body.replace(b" ", b"")}
    return {"intake_restart_offered": (len(requests), "count"),
            "intake_restart_acknowledged": (len(acknowledged), "count"),
            "intake_restart_503": (result.statuses.get(503, 0), "count"),
            "intake_restart_other_failures": (len(requests) - len(acknowledged) - result.statuses.get(503, 0), "count"),
            "intake_restart_s": (restart.get("took", float("nan")), "s"),
            "intake_restart_stored": (len(keys), "count"), "intake_restart_leads": (leads, "count"),
            "intake_restart_unrouted_at_end": (counts["unrouted"], "count"),
            "intake_lost_on_restart": (len(acknowledged - keys), "count")}
