"""Benchmark: community posts and staff messages on a 10,000-store chain, against the loopback robot stand-in.

Run: .venv/bin/python bench/broadcasts.py [--stores 10000] [--sessions 2000] [--moves 200] [--send 2000]
Uses a fresh SQLite file in a temporary folder, or, when DATABASE_URL points at PostgreSQL, a fresh schema in
that database (dropped afterwards). A child process seeds the chain with matrix.demo's build_seed and gives
every active group a confirmed customer robot of its own and every store a confirmed staff channel. Then:
2,000 sessions are booked next week with `batch.schedule_many` (conflicts, trailers and the customer groups'
posts, one transaction); the posts of those sessions are synced again with nothing to change; 200 sessions
are moved one by one; the worker sends the posts due by Monday 21:59 to the stand-in (tests/robot_server.py);
the periodic step writes Monday's digests for every store and the reminders of 2,000 overdue leads.
Ends with one line per figure: `name value unit`.
"""
import argparse
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from common import fresh_database, make_app  # noqa: E402  (bench/common.py, beside this script)
from sessions import OPERATOR, build_batch, move_each  # noqa: E402  (the same week of sessions)

ROBOT = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=bench-{kind}-{id:06d}"


def seed(url: str, stores: int) -> None:
    """Child process: the seeded chain, a robot per active group and a staff channel per store, confirmed."""
    from sqlalchemy import insert, select, update

    from matrix.auth.models import Role, User
    from matrix.communities.models import Community, StaffChannel
    from matrix.demo import build_seed
    from matrix.extensions import db
    from matrix.models import utcnow
    from matrix.regions.services import load_regions
    from matrix.stores.models import Store

    app = make_app(url)
    with app.app_context():
        db.create_all()
        load_regions()
        summary = build_seed(stores=stores, accounts_per_store=2, rng_seed=1)
        now = utcnow()
        groups = db.session.scalars(select(Community.id).where(Community.active.is_(True))).all()
        db.session.execute(update(Community), [{"id": g, "robot_webhook_url": ROBOT.format(kind="group", id=g),
                                                "robot_confirmed_at": now} for g in groups])
        db.session.execute(insert(StaffChannel), [
            {"store_id": s, "robot_webhook_url": ROBOT.format(kind="staff", id=s), "confirmed_at": now,
             "created_at": now, "updated_at": now} for s in db.session.scalars(select(Store.id))])
        user = User(username=OPERATOR, display_name="运营", role=Role.OPERATOR)
        user.set_password("bench-password-2026")
        db.session.add(user)
        db.session.commit()
        print(f"{summary.stores} {summary.accounts} {len(groups)}")


def _timed(figures: dict, name: str, action):
    started = time.perf_counter()
    result = action()
    figures[name] = (time.perf_counter() - started, "s")
    return result


def _overdue_leads(n: int, now: datetime) -> None:
    from sqlalchemy import insert, select

    from matrix.extensions import db
    from matrix.leads.models import Lead, LeadStatus, RoutingRule
    from matrix.stores.models import Store

    stores = db.session.scalars(select(Store.id).order_by(Store.id).limit(n)).all()
    db.session.execute(insert(Lead), [
        {"name": "客户", "store_id": s, "status": LeadStatus.NEW, "routing_rule": RoutingRule.CITY,
         "phone_masked": "138****5678", "received_at": now - timedelta(hours=5), "province_text": "", "city_text": "",
         "address_text": ""} for s in stores])
    db.session.commit()


def measure(url: str, sessions: int, moves: int, send: int) -> dict:
    from flask_babel import force_locale
    from robot_server import RobotStandIn
    from sqlalchemy import func, select

    from matrix.auth.models import User
    from matrix.broadcasts.posts import sync_posts
    from matrix.broadcasts.schedule import run_periodic
    from matrix.extensions import db
    from matrix.live.batch import schedule_many
    from matrix.live.models import LiveSession
    from matrix.live.settings import default_rule, live_settings
    from matrix.live.timing import local_moment, parse_clock
    from matrix.models import utcnow
    from matrix.notifications.models import CUSTOMER_KINDS, Notification
    from matrix.notifications.services import deliver_due
    from matrix.notifications.wecom import RobotClient

    figures = {}
    app = make_app(url)
    zone = app.config["MATRIX_TIMEZONE"]
    with app.app_context(), force_locale("en"):
        actor = db.session.scalar(select(User).where(User.username == OPERATOR))
        live_settings()
        default_rule()
        db.session.commit()
        batch = build_batch(sessions, zone)
        monday: date = batch[0].starts_at.astimezone(ZoneInfo(zone)).date()
        monday -= timedelta(days=monday.weekday())
        report = _timed(figures, "broadcasts_week_s", lambda: schedule_many(batch, actor=actor, accept_nearby=True))
        assert report.ok, list(report.errors.items())[:3]
        posts = db.session.scalar(select(func.count()).select_from(Notification)
                                  .where(Notification.kind.in_(CUSTOMER_KINDS)))
        figures["posts_written"] = (posts, "count")
        print(f"scheduled {len(report.sessions)} sessions: {report.trailers.summary()} posts {report.trailers.posts}")
        ids = sorted(s.id for s in report.sessions)
        batch = report = None
        db.session.remove()
        again = _timed(figures, "posts_resync_s", lambda: sync_posts(
            list(db.session.scalars(select(LiveSession).where(LiveSession.id.in_(ids)))), now=utcnow()))
        db.session.commit()
        print(f"synced again: {again.as_dict()}")
        db.session.remove()
        actor = db.session.scalar(select(User).where(User.username == OPERATOR))
        _timed(figures, "posts_move_200_s", lambda: move_each(ids[:: max(1, len(ids) // moves)][:moves], actor))
        db.session.remove()

        robot = RobotStandIn().start()
        client = RobotClient(base_url_override=robot.base_url, timeout=2)
        evening = local_moment(monday, parse_clock("21:59"), zone)
        started, sent = time.perf_counter(), 0
        while sent < send:
            counts = deliver_due(client=client, now=evening, limit=50)
            sent += counts.sent
            if not counts.handled:
                break
        figures["posts_sent_per_s"] = (sent / (time.perf_counter() - started), "per s")
        robot.stop()
        print(f"sent {sent} posts due by {monday} 21:59")

        digest_time = local_moment(monday, parse_clock("08:30"), zone)
        written = _timed(figures, "digests_write_s", lambda: run_periodic(digest_time))
        figures["digests_written"] = (written.digests, "count")
        _overdue_leads(2_000, digest_time)
        reminders = _timed(figures, "reminders_write_s", lambda: run_periodic(digest_time + timedelta(minutes=1)))
        print(f"digests {written.digests}, reminders {reminders.reminders} (1,000 a run)")
        db.session.remove()
        db.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=2_000)
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--send", type=int, default=2_000)
    parser.add_argument("--seed-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.seed_only, args.stores)
        return
    url, cleanup = fresh_database("broadcasts")
    try:
        started = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--stores", str(args.stores), "--seed-only", url],
                             check=True, capture_output=True, text=True)
        stores, accounts, groups = out.stdout.strip().splitlines()[-1].split()
        print(f"seeded {stores} stores, {accounts} store accounts, {groups} groups with confirmed robots "
              f"in {time.perf_counter() - started:.1f} s")
        figures = measure(url, args.sessions, args.moves, args.send)
    finally:
        cleanup()
    for name in ("broadcasts_week_s", "posts_written", "posts_resync_s", "posts_move_200_s", "posts_sent_per_s",
                 "digests_write_s", "digests_written", "reminders_write_s"):
        value, unit = figures[name]
        print(f"{name} {value:.2f} {unit}" if unit in ("s", "per s") else f"{name} {value:.0f} {unit}")


if __name__ == "__main__":
    main()
