"""Benchmark: one PDF of a 1,000-store region's fullest week, made the way the product makes it.

Run: .venv/bin/python bench/print_chain.py [--stores 1000]
Uses a fresh SQLite file in a temporary folder, or, when DATABASE_URL points at PostgreSQL, a fresh
schema in that database (dropped afterwards). The chain is matrix.demo's build_seed, every store open
with an account on each of the four platforms, and the fullest week the generator can make
(tests/samples.py fullest_week: 12 slots all used, 84 items per account per week, 336 per store;
captions of 400 characters, more than a printed box shows). Then, timed: HQ asks for one PDF of the
whole region (plans.print_jobs.request_week_pdf) and one round of the print worker builds it (batches
rendered here while headless Chromium prints, PRINT_JOB_PROCESSES at once, merged with pypdf).
The pages are counted from the finished PDF. Ends with `print_chain_s <v> s` and
`print_pages_per_store <v> pages` (PDF pages less the cover, per store: must be 1.0).
"""
import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # samples.py: the fullest week, shared with the Chromium print test

from common import fresh_database, make_app  # noqa: E402  (bench/common.py, beside this script)

MONDAY = date(2026, 11, 23)


def seed(stores: int) -> None:
    """The chain, all open and active, and the fullest week of every store (not timed)."""
    from samples import fullest_week
    from sqlalchemy import update

    from matrix.accounts.models import Account, AccountStatus
    from matrix.auth.models import Role, User
    from matrix.demo import build_seed
    from matrix.extensions import db
    from matrix.regions.services import load_regions
    from matrix.stores.models import Store, StoreStatus

    db.create_all()
    load_regions()
    build_seed(stores=stores, accounts_per_store=4, rng_seed=1)
    db.session.execute(update(Store).values(status=StoreStatus.OPEN))
    db.session.execute(update(Account).values(status=AccountStatus.ACTIVE))
    hq = User(username="bench-hq", display_name="总部", role=Role.OPERATOR)
    hq.set_password("bench-password-2026")
    db.session.add(hq)
    db.session.commit()
    items = fullest_week(db.session.scalars(db.select(Store)).all(), MONDAY, caption_chars=400, tag_chars=40)
    print(f"seeded {stores} stores, {items} items")


def measure() -> tuple[float, int, int, int]:
    """Seconds from the request to the finished PDF, its pages counted from the file, stores, file size."""
    from flask import current_app
    from pypdf import PdfReader

    from matrix.auth.models import User
    from matrix.extensions import db
    from matrix.plans.print_jobs import request_week_pdf
    from matrix.printjobs import services
    from matrix.printjobs.models import JobStatus
    from matrix.printjobs.worker import run_round

    hq = db.session.scalar(db.select(User).where(User.username == "bench-hq"))
    started, cpu = time.perf_counter(), time.process_time()
    job = request_week_pdf(actor=hq, monday=MONDAY, city=None, locale="zh")
    run_round("bench", echo=print)
    seconds = time.perf_counter() - started
    db.session.refresh(job)
    if job.status != JobStatus.DONE:
        raise SystemExit(f"the print job {job.status.value}: {job.error}")
    path = services.job_file(job)
    pages = len(PdfReader(path).pages)
    # Chromium's own CPU is not shown: its renderers are not this process's children to count.
    print(f"{job.pages_total} stores in {seconds:.1f} s: this process's CPU {time.process_time() - cpu:.1f} s "
          f"(rendering, checking, merging), Chromium {current_app.config['PRINT_JOB_PROCESSES']} at once in batches "
          f"of {current_app.config['PRINT_JOB_BATCH']}; {path.stat().st_size / 1e6:.1f} MB; "
          f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return seconds, pages, job.pages_total, path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=1_000)
    args = parser.parse_args()
    url, cleanup = fresh_database("print_chain")
    jobs = tempfile.mkdtemp(prefix="print_chain_jobs_")
    try:
        app = make_app(url)
        app.config["PRINT_JOB_DIR"] = jobs
        with app.app_context():
            started = time.perf_counter()
            seed(args.stores)
            print(f"seeding took {time.perf_counter() - started:.1f} s")
            seconds, pages, stores, _size = measure()
            from matrix.extensions import db
            db.session.remove()
            db.engine.dispose()
    finally:
        cleanup()
        for leftover in Path(jobs).glob("*"):
            leftover.unlink()
        os.rmdir(jobs)
    print(f"print_chain_s {seconds:.1f} s")
    print(f"print_pages_per_store {(pages - 1) / stores:.3f} pages")


if __name__ == "__main__":
    main()
