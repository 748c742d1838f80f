"""Benchmark: WeCom channel join codes on a 10,000-store chain, against the loopback WeCom stand-in.

Run: .venv/bin/python bench/joins.py [--stores 10000] [--pushed-stores 100] [--callbacks 500] [--chats 300]
Uses a fresh SQLite file (or, with DATABASE_URL on PostgreSQL, a fresh schema). The chain is matrix.demo's
build_seed; every active group gets a WeCom chat id known to the stand-in (tests/wecom_app_server.py).
Timed: the database-only steps of a sync round over the whole chain (making the missing code rows, the
5-minute full check that compares every code with its store's rotation); pushing the codes of some
stores to WeCom (add + read back each); encrypted member-join callbacks through the web app; reading
groups of 50 members with groupchat/get. WeCom is a loopback server here: the network times are ours
and Python's, not WeCom's (whose rate limits would bound a real first run of 60,000 codes).
Ends with one line per figure: `name value unit`.
"""
import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from common import fresh_database, make_app  # noqa: E402  (bench/common.py, beside this script)


def chain(stores: int, wecom) -> tuple[int, int]:
    """Schema, regions, the seeded chain, WeCom chat ids on every active group; (stores, groups with chat ids)."""
    from sqlalchemy import func, select, update

    from matrix.communities.models import Community
    from matrix.demo import build_seed
    from matrix.extensions import db
    from matrix.regions.services import load_regions

    db.create_all()
    load_regions()
    build_seed(stores=stores, accounts_per_store=1, rng_seed=1)
    db.session.execute(update(Community).where(Community.active.is_(True))
                       .values(wecom_chat_id=func.printf("wrBench%08d", Community.id) if _sqlite()
                               else func.concat("wrBench", func.lpad(func.cast(Community.id, db.String), 8, "0"))))
    db.session.commit()
    chat_ids = list(db.session.scalars(select(Community.wecom_chat_id).where(Community.wecom_chat_id.is_not(None))))
    for chat_id in chat_ids:
        wecom.add_chat(chat_id)
    return db.session.scalar(select(func.count(func.distinct(Community.store_id)))
                             .where(Community.wecom_chat_id.is_not(None))), len(chat_ids)


def _sqlite() -> bool:
    from matrix.extensions import db

    return db.engine.dialect.name == "sqlite"


def timed(action):
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--pushed-stores", type=int, default=100)
    parser.add_argument("--callbacks", type=int, default=500)
    parser.add_argument("--chats", type=int, default=300)
    args = parser.parse_args()
    from wecom_app_server import WecomStandIn

    url, cleanup = fresh_database("joins")
    wecom = WecomStandIn().start()
    app = make_app(url)
    app.config.update(WECOM_API_BASE_URL=wecom.base_url, LEAD_PHONE_KEY="dGVzdC1sZWFkLXBob25lLWtleS0zMi1ieXRlcy1vayE=",
                      SERVER_NAME="localhost")
    try:
        with app.app_context():
            figures = run(app, wecom, args)
    finally:
        wecom.stop()
        cleanup()
    for name, value, unit in figures:
        print(f"{name} {value} {unit}")


def run(app, wecom, args) -> list[tuple[str, object, str]]:
    from sqlalchemy import func, select, update
    from wecom_app_server import AES_KEY, CALLBACK_TOKEN, CORP_ID, SECRET

    from matrix.extensions import db
    from matrix.joins import refresh
    from matrix.joins.models import JoinWay, JoinWayStatus
    from matrix.models import utcnow

    stores, groups = chain(args.stores, wecom)
    print(f"chain: {stores} stores with {groups} WeCom groups")
    from matrix.joins.connection import client_for, save_connection

    connection, _keys = save_connection(corp_id=CORP_ID, secret=SECRET, callback_token=CALLBACK_TOKEN, aes_key=AES_KEY,
                                        actor=None)
    now = utcnow()
    ensure_s, made = timed(lambda: (refresh.ensure_join_ways(now), db.session.commit())[0])
    # The full check compares every code with its store's rotation: time it with every code made and in step.
    desired = refresh.desired_chats()
    for store_id, want in desired.items():
        db.session.execute(update(JoinWay).where(JoinWay.store_id == store_id)
                           .values(status=JoinWayStatus.READY, stale=False, chat_ids=list(want.chat_ids))
                           .execution_options(synchronize_session=False))
    db.session.commit()
    reconcile_s, marked = timed(lambda: (refresh.reconcile(now), db.session.commit())[0])

    pushed_ids = list(db.session.scalars(select(JoinWay.store_id).distinct().order_by(JoinWay.store_id)
                                         .limit(args.pushed_stores)))
    db.session.execute(update(JoinWay).where(JoinWay.store_id.in_(pushed_ids))
                       .values(status=JoinWayStatus.PENDING, stale=True).execution_options(synchronize_session=False))
    db.session.execute(update(JoinWay).where(JoinWay.store_id.not_in(pushed_ids))
                       .values(next_attempt_at=now + timedelta(days=1)).execution_options(synchronize_session=False))
    db.session.commit()
    client = client_for(connection)
    codes = db.session.scalar(select(func.count()).select_from(JoinWay).where(JoinWay.store_id.in_(pushed_ids)))
    push_s, (done, failed) = timed(lambda: refresh.refresh_due(client, now=utcnow(), limit=codes,
                                                               auto_create_room=True))
    callback_ms = callbacks(app, wecom, args.callbacks)
    chats_s, chats_read = read_chats(client, wecom, args.chats)
    return [("join_way_rows_made", made, "rows"), ("ensure_join_ways_s", round(ensure_s, 2), "s"),
            ("reconcile_codes", db.session.scalar(select(func.count()).select_from(JoinWay)), "codes"),
            ("reconcile_s", round(reconcile_s, 2), "s"), ("reconcile_marked", marked, "codes"),
            ("codes_pushed", done, "codes"), ("codes_push_failed", failed, "codes"),
            ("codes_pushed_per_s", round(done / push_s, 1), "codes/s"),
            ("callback_median_ms", round(statistics.median(callback_ms), 2), "ms"),
            ("callback_p95_ms", round(sorted(callback_ms)[int(len(callback_ms) * 0.95)], 2), "ms"),
            ("chats_read_per_s", round(chats_read / chats_s, 1), "groups/s")]


def callbacks(app, wecom, count: int) -> list[float]:
    """Milliseconds per encrypted member-join callback through the web app (checked, decrypted, recorded)."""
    from sqlalchemy import func, select
    from wecom_callbacks import callback_post, event_xml

    from matrix.extensions import db
    from matrix.joins.models import GroupJoin

    chat_ids = sorted(wecom.chats)[:count]
    client = app.test_client()
    times = []
    for i, chat_id in enumerate(chat_ids):
        query, body = callback_post(event_xml(wecom.join(chat_id, f"wmBench{i:06d}")))
        start = time.perf_counter()
        response = client.post(f"/wecom/callback?{query}", data=body, content_type="text/xml")
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(GroupJoin)) == len(chat_ids)
    return times


def read_chats(client, wecom, count: int) -> tuple[float, int]:
    """Seconds to read `count` groups of 50 members each (groupchat/get, joins and counts recorded)."""
    from sqlalchemy import select

    from matrix.extensions import db
    from matrix.joins import members
    from matrix.joins.models import WecomChat
    from matrix.joins.states import make_state
    from matrix.models import utcnow

    members.ensure_chats(utcnow())
    db.session.commit()
    rows = db.session.scalars(select(WecomChat).order_by(WecomChat.id).limit(count)).all()
    for row in rows:
        for n in range(49):
            wecom.join(row.chat_id, f"wm{row.id:06d}x{n:02d}", state=make_state(1, "poster"))
    ids = [row.id for row in rows]
    start = time.perf_counter()
    for row_id in ids:
        assert members.sync_chat(client, row_id, now=utcnow()) is not None
    return time.perf_counter() - start, len(ids)


if __name__ == "__main__":
    main()
