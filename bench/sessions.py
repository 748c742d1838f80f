"""Benchmark: 2,000 live sessions scheduled in one week across a 10,000-store chain, with their trailers.

Run: .venv/bin/python bench/sessions.py [--stores 10000] [--sessions 2000] [--moves 200] [--profile]
Uses a fresh SQLite file in a temporary folder, or, when DATABASE_URL points at PostgreSQL, a fresh
schema in that database (dropped afterwards). A child process seeds the chain with matrix.demo's
build_seed (2 store accounts per store, brand main accounts, communities, coordinates, about one city
per hundred stores, the seed's mix of store and account statuses) and an operator; this process then
books 2,000 sessions in next week's ISO week (so their trailers lie ahead): mostly evenings between
19:00 and 23:00, some afternoons, each on its own host account with its own anchor, so the only findings
are same-city overlaps, which are accepted. `batch.schedule_many` is timed end to end (conflict
check, trailer generation, writes, commit), then 200 sessions are moved one by one with move_session.
Ends with one line per figure: `name value unit`; `sessions_week_s` is the figure the issue asks for.
"""
import argparse
import cProfile
import os
import pstats
import random
import resource
import subprocess
import sys
import time
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import fresh_database, make_app  # noqa: E402  (bench/common.py, beside this script)

OPERATOR = "bench-operator"
TITLES = ["冬季新品直播", "床品四件套专场", "周末焕新季", "到店福利直播", "羽绒被限时秒杀", "样板间探店"]
THEMES = ["羽绒被、床品四件套", "沙发、茶几", "收纳好物", "儿童房布置", "", "餐桌椅套装"]
# Start hour (local) and length in hours; evenings are the usual slot, afternoons the exception.
EVENING = [(19, 2), (19, 3), (20, 2), (20, 1), (21, 2), (21, 1), (22, 1)]
AFTERNOON = [(14, 2), (15, 2), (16, 1)]


def seed(url: str, stores: int) -> None:
    """Child process: schema, regions, the chain as the seed draws it, and the operator who books."""
    from matrix.auth.models import Role, User
    from matrix.demo import build_seed
    from matrix.extensions import db
    from matrix.regions.services import load_regions

    app = make_app(url)
    with app.app_context():
        db.create_all()
        load_regions()
        summary = build_seed(stores=stores, accounts_per_store=2, rng_seed=1)
        user = User(username=OPERATOR, display_name="运营", role=Role.OPERATOR)
        user.set_password("bench-password-2026")
        db.session.add(user)
        db.session.commit()
        print(f"{summary.stores} {summary.accounts} {summary.communities}")


def next_week_monday(zone: str) -> date:
    today = datetime.now(ZoneInfo(zone)).date()
    return today + timedelta(days=7 - today.weekday())


def build_batch(n: int, zone: str) -> list:
    """n sessions on n different bookable accounts, each with its own anchor (a few on brand accounts)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from matrix.accounts.models import Account, AccountScope
    from matrix.extensions import db
    from matrix.live.session_values import BOOKABLE, SessionValues
    from matrix.live.timing import session_span

    rng = random.Random(5)
    monday = next_week_monday(zone)
    accounts = db.session.scalars(select(Account).options(selectinload(Account.store), selectinload(Account.brand))
                                  .where(Account.status.in_(BOOKABLE)).order_by(Account.id)).all()
    brand = [a for a in accounts if a.scope == AccountScope.BRAND]
    stores = rng.sample([a for a in accounts if a.scope == AccountScope.STORE], n - len(brand))
    batch = []
    # The brand main accounts go live once each, on different evenings: they are one brand's voice.
    for i, account in enumerate(brand + stores):
        day = monday + timedelta(days=i % 7 if account.scope == AccountScope.BRAND else rng.randrange(7))
        hour, hours = rng.choice(AFTERNOON if rng.random() < 0.15 else EVENING)
        starts_at, ends_at = session_span(day, f"{hour:02d}:{rng.choice((0, 0, 30)):02d}",
                                          f"{(hour + hours) % 24:02d}:00", zone)
        pick = rng.randrange(len(TITLES))
        anchor = f"主播{account.store.code if account.store else '总部'}-{i}"
        batch.append(SessionValues(account=account, starts_at=starts_at, ends_at=ends_at, title=TITLES[pick],
                                   theme=THEMES[pick], anchor=anchor, rule_id=None, key=i + 1))
    return batch


def move_each(ids: list[int], actor) -> int:
    """Move each session a day later at the same hours, one transaction each; returns the trailers moved."""
    from matrix.extensions import db
    from matrix.live import services
    from matrix.live.models import LiveSession
    from matrix.live.session_values import SessionValues

    moved = 0
    for session_id in ids:
        session = db.session.get(LiveSession, session_id)
        values = SessionValues(account=session.account, starts_at=session.starts_at + timedelta(days=1),
                               ends_at=session.ends_at + timedelta(days=1), title=session.title,
                               theme=session.theme, anchor=session.anchor, rule_id=session.rule_id)
        moved += services.move_session(session, values, actor=actor, accept_nearby=True)[1].moved
    return moved


def measure(url: str, sessions: int, moves: int, profile: bool) -> dict:
    from flask_babel import force_locale
    from sqlalchemy import func, select

    from matrix.auth.models import User
    from matrix.extensions import db
    from matrix.live import conflicts
    from matrix.live.batch import schedule_many
    from matrix.live.models import LiveSession
    from matrix.live.services import booking
    from matrix.live.settings import default_rule, live_settings
    from matrix.content.models import ContentItem

    figures = {}
    app = make_app(url)
    with app.app_context(), force_locale("en"):
        actor = db.session.scalar(select(User).where(User.username == OPERATOR))
        live_settings()  # the settings row and the default rule exist before the timed part
        default_rule()
        db.session.commit()
        started = time.perf_counter()
        batch = build_batch(sessions, app.config["MATRIX_TIMEZONE"])
        print(f"built {len(batch)} session values in {time.perf_counter() - started:.2f} s "
              f"(week of {batch[0].starts_at.astimezone(ZoneInfo(app.config['MATRIX_TIMEZONE'])).date():%G-W%V})")

        # The conflict check alone (schedule_many runs it again inside the timed run).
        started = time.perf_counter()
        found = conflicts.check([booking(v, key=v.key) for v in batch], nearby_km=live_settings().nearby_km)
        figures["sessions_conflict_check_s"] = (time.perf_counter() - started, "s")
        print(f"conflict check: {sum(len(f.errors) for f in found.values())} double bookings, "
              f"{sum(1 for f in found.values() if f.nearby)} sessions with a nearby overlap "
              f"({sum(len(f.nearby) for f in found.values())} overlaps)")

        profiler = cProfile.Profile() if profile else None
        started, cpu = time.perf_counter(), time.process_time()
        with profiler or nullcontext():
            report = schedule_many(batch, actor=actor, accept_nearby=True)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert report.ok, list(report.errors.items())[:3]
        figures["sessions_week_s"] = (seconds, "s")
        figures["trailers_created"] = (report.trailers.added, "count")
        figures["sessions_peak_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MB")
        print(f"scheduled {len(report.sessions)} sessions: {report.trailers.summary()} "
              f"({report.trailers.too_late} too late, {len(report.trailers.failures)} template failures); "
              f"this process's CPU {cpu:.2f} s (the database server's is not counted), load {os.getloadavg()[0]:.1f}")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
            profiler = cProfile.Profile()

        # Move 200 sessions one by one, each a day later at the same hours (one transaction each), in a
        # fresh session as a request would have: 4,000 objects left in the identity map slow every commit.
        ids = sorted(s.id for s in report.sessions)[:: max(1, len(report.sessions) // moves)][:moves]
        batch = found = report = None
        db.session.remove()
        actor = db.session.scalar(select(User).where(User.username == OPERATOR))
        started = time.perf_counter()
        with profiler or nullcontext():
            moved_trailers = move_each(ids, actor)
        figures["sessions_move_200_s"] = (time.perf_counter() - started, "s")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        print(f"moved {len(ids)} sessions one by one: {moved_trailers} trailers moved")
        items = db.session.scalar(select(func.count()).select_from(ContentItem))
        print(f"{db.session.scalar(select(func.count()).select_from(LiveSession))} sessions, "
              f"{items} trailers in the table")
        db.session.remove()
        db.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=2_000)
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of schedule_many")
    parser.add_argument("--seed-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.seed_only, args.stores)
        return
    url, cleanup = fresh_database("sessions")
    try:
        started = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--stores", str(args.stores), "--seed-only", url],
                             check=True, capture_output=True, text=True)
        stores, accounts, communities = out.stdout.strip().splitlines()[-1].split()
        print(f"seeded {stores} stores, {accounts} store accounts, {communities} communities "
              f"in {time.perf_counter() - started:.1f} s")
        figures = measure(url, args.sessions, args.moves, args.profile)
    finally:
        cleanup()
    for name in ("sessions_week_s", "sessions_conflict_check_s", "trailers_created", "sessions_move_200_s",
                 "sessions_peak_mb"):
        value, unit = figures[name]
        print(f"{name} {value:.2f} {unit}" if unit == "s" else f"{name} {value:.0f} {unit}")


if __name__ == "__main__":
    main()
