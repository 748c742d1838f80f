"""A 10,000-store chain with a week of work in it, seeded once into its own PostgreSQL database and reused.

Run alone: .venv/bin/python bench/chain.py [--url URL] [--stores 10000] [--fresh]
The page and intake benchmarks call ensure_chain(url). What is in it, all made by the product's own
services where they exist: `flask seed`'s chain (3 store accounts per store) after the migrations; robots
on most groups; an HQ operator and a store manager of one busy open store; a campaign whose week is
generated for every store account; 0.6 live sessions per store booked in that week (trailers included,
the manager's store among them); 2 leads per store taken in by intake.stage_lead (routing, duplicate
notes, outbox rows) over the past 30 days, most notified; 5 audit entries per store; refused deliveries.
A marker audit entry (entity "bench") says the seed finished; a database without it is dropped and
seeded again.
"""
import argparse
import random
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve import bench_app as make_app  # noqa: E402  (bench/serve.py, beside this script)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_pages"
SEED_VERSION = "chain-v2"
HQ, MANAGER, PASSWORD = "bench-hq", "bench-manager", "bench-password-2026"
SOURCE_SLUG, SOURCE_SECRET = "bench-generic", "bench-webhook-secret-2026"
CAMPAIGN = "基准测试周计划"
# Per store: 0.6 sessions a week (6,000 at 10,000 stores: ~860 on a day), 2 leads, 5 audit entries.
SESSIONS, LEADS, AUDIT_EXTRA = 0.6, 2, 5
TEMPLATES = [
    ("short_video", "新品上架", "{{ store_name }}本周新品到店！{{ city }}{{ district }}的朋友快来看看～",
     "镜头1：门头和招牌\n镜头2：新品陈列\n镜头3：店员推荐（{{ store_code }}）"),
    ("short_video", "店员日常", "在{{ store_name }}的一天", "镜头1：开店准备\n镜头2：顾客到店"),
    ("short_video", "搭配灵感", "{{ brand }}搭配灵感｜{{ district }}店", "镜头1：客厅搭配\n镜头2：卧室搭配"),
    ("image_post", "本周好物", "{{ store_name }}本周好物清单", "图1：封面\n图2：价格\n图3：地址 {{ address }}"),
]
EVENING = [(19, 2), (19, 3), (20, 2), (20, 1), (21, 2), (21, 1), (22, 1), (14, 2), (15, 2)]


def ensure_database(url: str, fresh: bool = False) -> None:
    """Create the PostgreSQL database of `url` when missing (drop it first when `fresh`)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
        if exists and fresh:
            conn.execute(text(f'DROP DATABASE "{target.database}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def is_seeded(url: str, stores: int) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(text("SELECT 1 FROM audit_entries WHERE entity = 'bench' AND summary = :s"),
                                    {"s": f"{SEED_VERSION} stores={stores}"}))
    except Exception:  # no tables yet
        return False
    finally:
        engine.dispose()


def ensure_chain(url: str = DEFAULT_URL, stores: int = 10_000) -> None:
    """Seed the chain into `url` unless a finished seed of the same size is there (in a child process)."""
    ensure_database(url)
    if is_seeded(url, stores):
        print(f"# reusing the seeded chain in {url.rsplit('/', 1)[-1]}")
        migrate(url)
        return
    print(f"# seeding {stores} stores into {url.rsplit('/', 1)[-1]} (once; several minutes)", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--url", url, "--stores", str(stores), "--fresh"], check=True)
    print(f"# seeded in {time.perf_counter() - started:.0f} s", flush=True)


def migrate(url: str) -> None:
    """Bring a reused seed to the code's latest migration (the seed may be older than the code)."""
    from flask_migrate import upgrade

    app = make_app(url)
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        from matrix.extensions import db

        db.engine.dispose()


def bench_week(app) -> date:
    """The Monday of the seeded campaign week (the pages show that week)."""
    from sqlalchemy import select

    from matrix.extensions import db
    from matrix.content.models import Campaign

    with app.app_context():
        return db.session.scalar(select(Campaign.starts_on).where(Campaign.name == CAMPAIGN))


def _users() -> tuple:
    """The HQ operator and a manager of the open store with the most accounts and groups in the biggest city."""
    from sqlalchemy import func, insert, select

    from matrix.auth.models import Role, User
    from matrix.communities.models import Community
    from matrix.extensions import db
    from matrix.stores.models import Store, StoreStatus, store_managers

    city = db.session.scalar(select(Store.city_code).group_by(Store.city_code).order_by(func.count().desc()).limit(1))
    store_id = db.session.scalar(select(Store.id).join(Community, Community.store_id == Store.id)
                                 .where(Store.city_code == city, Store.status == StoreStatus.OPEN)
                                 .group_by(Store.id).order_by(func.count().desc(), Store.id).limit(1))
    hq = User(username=HQ, display_name="总部运营", role=Role.OPERATOR)
    manager = User(username=MANAGER, display_name="店长", role=Role.STORE_MANAGER, mobile="13800138000")
    for user in (hq, manager):
        user.set_password(PASSWORD)
        db.session.add(user)
    db.session.flush()
    db.session.execute(insert(store_managers), [{"user_id": manager.id, "store_id": store_id}])
    db.session.commit()
    return hq, store_id


def _robots() -> None:
    """Most groups get a robot (a stand-in's key per store), as chains that use the lead alerts have."""
    from sqlalchemy import text

    from matrix.extensions import db

    db.session.execute(text("UPDATE communities SET robot_webhook_url = "
                            "'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=BENCH' || store_id "
                            "WHERE store_id % 10 <> 0"))
    db.session.commit()


def _campaign_week(hq) -> date:
    from matrix.campaigns import services
    from matrix.content.generation import generate_week
    from matrix.weeks import current_week

    monday = current_week() + timedelta(days=7)  # next week: sessions and their trailers lie ahead
    campaign = services.create_campaign(actor=hq, name=CAMPAIGN, starts_on=monday, ends_on=monday + timedelta(days=6),
                                        store_scope="all", cadence={"short_video": 5, "image_post": 2},
                                        slots="12:00, 18:00, 20:30")
    for kind, topic, caption, script in TEMPLATES:
        services.add_template(campaign, actor=hq, kind=kind, topic=topic, caption=caption, script=script,
                              hashtags="#栖木家居 #{{ city }}好物", location_tag="{{ store_name }}")
    report = generate_week(campaign, monday, actor=hq)
    print(f"# campaign week: {report.summary()}", flush=True)
    return monday


def _sessions(hq, monday: date, manager_store: int, zone: str, count: int) -> None:
    """`count` sessions in the week, one per account and anchor; the manager's store goes live twice."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from matrix.accounts.models import Account, AccountScope
    from matrix.extensions import db
    from matrix.live.batch import schedule_many
    from matrix.live.session_values import BOOKABLE, SessionValues
    from matrix.live.settings import default_rule, live_settings
    from matrix.live.timing import session_span

    live_settings()
    default_rule()
    db.session.commit()
    rng = random.Random(5)
    accounts = db.session.scalars(select(Account).options(selectinload(Account.store))
                                  .where(Account.status.in_(BOOKABLE), Account.scope == AccountScope.STORE)
                                  .order_by(Account.id)).all()
    own = [a for a in accounts if a.store_id == manager_store][:2]
    picked = own + rng.sample([a for a in accounts if a.store_id != manager_store], count - len(own))
    batch = []
    for i, account in enumerate(picked):
        day = monday + timedelta(days=rng.randrange(7) if i >= len(own) else 2 + i)
        hour, hours = rng.choice(EVENING)
        starts, ends = session_span(day, f"{hour:02d}:{rng.choice((0, 0, 30)):02d}",
                                    f"{(hour + hours) % 24:02d}:00", zone)
        batch.append(SessionValues(account=account, starts_at=starts, ends_at=ends, title="冬季新品直播",
                                   theme="床品四件套", anchor=f"主播{account.store.code}-{i}", rule_id=None, key=i))
    report = schedule_many(batch, actor=hq, accept_nearby=True)
    assert report.ok, list(report.errors.items())[:3]
    print(f"# sessions: {len(report.sessions)}, trailers {report.trailers.summary()}", flush=True)


def _leads(manager_store: int, count: int) -> None:
    """`count` leads through the intake (routing, notes, outbox), received over the past 30 days."""
    from sqlalchemy import select, update

    from matrix.extensions import db
    from matrix.leads import intake, sources
    from matrix.leads.models import Lead, LeadStatus
    from matrix.notifications.models import DeliveryStatus, Notification
    from matrix.stores.models import Store

    source, _secret = sources.create_source(name="基准线索源", kind="generic", slug=SOURCE_SLUG,
                                            secret=SOURCE_SECRET, actor=None)
    db.session.commit()
    rng = random.Random(9)
    places = db.session.execute(select(Store.id, Store.lon, Store.lat).where(Store.lon.is_not(None))).all()
    own = [p for p in places if p.id == manager_store]
    now = datetime.now(timezone.utc)
    for n in range(count):
        store_id, lon, lat = own[0] if own and n % 100 == 0 else rng.choice(places)
        far = rng.random() < 0.05
        data = intake.LeadInput(external_id=f"seed-{n}", name=f"客户{n}", phone=f"1{rng.choice('3589')}{n:09d}",
                                lon=lon + rng.uniform(-0.01, 0.01) + (3 if far else 0), lat=lat + rng.uniform(-0.01, 0.01),
                                coord_system="wgs84", raw={"id": f"seed-{n}"})
        intake.stage_lead(data, source=source, now=now - timedelta(minutes=rng.uniform(0, 43_200)))
        if n % 500 == 499:
            db.session.commit()
            db.session.expunge_all()
            source = db.session.merge(source)
    db.session.commit()
    # The alerts went out long ago but for the newest hundred (a worker keeps up); some leads were worked.
    newest = db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).offset(100).limit(1)) or 0
    db.session.execute(update(Notification).where(Notification.status == DeliveryStatus.PENDING,
                                                  Notification.id <= newest)
                       .values(status=DeliveryStatus.SENT, sent_at=Notification.created_at, attempts=1))
    for status, share in ((LeadStatus.CONTACTED, 3), (LeadStatus.JOINED, 7), (LeadStatus.LOST, 11)):
        db.session.execute(update(Lead).where(Lead.id % share == 0, Lead.store_id.is_not(None)).values(status=status))
    db.session.commit()


def _audit_and_refusals(hq, count: int) -> None:
    """Enough history for the audit log and the refused-deliveries page to paginate."""
    from sqlalchemy import insert

    from matrix.audit.models import AuditEntry
    from matrix.extensions import db
    from matrix.leads.models import RejectedDelivery

    now = datetime.now(timezone.utc)
    rng = random.Random(3)
    rows = [{"at": now - timedelta(minutes=n), "actor_id": hq.id, "action": rng.choice(("create", "update", "delete")),
             "entity": rng.choice(("store", "account", "community", "lead")), "entity_id": n,
             "store_id": rng.randint(1, max(1, count // AUDIT_EXTRA)), "summary": f"基准记录 {n}",
             "changes": {"status": ["open", "closed"]} if n % 3 else None} for n in range(count)]
    for start in range(0, len(rows), 5_000):
        db.session.execute(insert(AuditEntry), rows[start:start + 5_000])
    db.session.execute(insert(RejectedDelivery), [
        {"source_slug": SOURCE_SLUG, "reason": "bad_signature", "status_code": 403, "body_bytes": 300,
         "remote_addr": f"10.0.0.{n % 250}", "at": now - timedelta(minutes=n)} for n in range(300)])
    db.session.commit()


def seed(url: str, stores: int) -> None:
    """Child process: migrations, regions, chain, users, plans, sessions, leads, history, marker."""
    from flask_babel import force_locale
    from flask_migrate import upgrade
    from sqlalchemy import text

    from matrix.audit import services as audit
    from matrix.demo import build_seed
    from matrix.extensions import db
    from matrix.regions.services import load_regions

    app = make_app(url)
    with app.app_context(), force_locale("zh"):
        started = time.perf_counter()
        upgrade(directory=str(Path(app.root_path).parent / "migrations"))
        load_regions()
        summary = build_seed(stores=stores, accounts_per_store=3, rng_seed=1)
        print(f"# chain: {summary.stores} stores, {summary.accounts} accounts, {summary.communities} groups "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
        _robots()
        hq, manager_store = _users()
        monday = _campaign_week(hq)
        print(f"# week {monday} generated ({time.perf_counter() - started:.0f} s)", flush=True)
        _sessions(hq, monday, manager_store, app.config["MATRIX_TIMEZONE"], int(stores * SESSIONS))
        print(f"# sessions booked ({time.perf_counter() - started:.0f} s)", flush=True)
        _leads(manager_store, int(stores * LEADS))
        print(f"# leads taken in ({time.perf_counter() - started:.0f} s)", flush=True)
        _audit_and_refusals(db.session.merge(hq), int(stores * AUDIT_EXTRA))
        audit.record(None, "seed", "bench", summary=f"{SEED_VERSION} stores={stores}")
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print(f"# seed finished in {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--fresh", action="store_true", help="drop the database and seed it again")
    args = parser.parse_args()
    ensure_database(args.url, fresh=args.fresh)
    seed(args.url, args.stores)


if __name__ == "__main__":
    main()
