"""Benchmark: generate one campaign week for the whole chain (10,000 stores × 2 accounts × 7 items).

Run: .venv/bin/python bench/plan_week.py [--stores 10000]
Uses a fresh SQLite file in a temporary folder, or, when DATABASE_URL points at PostgreSQL, a fresh
schema in that database (dropped afterwards). A child process seeds the chain with matrix.demo's
build_seed (2 store accounts per store, every store open and every account active, so the full
140,000 items are made) and a campaign of 5 short videos + 2 image posts a week from 5 templates;
this process then times generate_week, so its peak RSS is the app plus the generation. A second,
idempotent run is timed too. Ends with `plan_week_s <v> s` and `plan_week_peak_mb <v> MB`.
"""
import argparse
import os
import resource
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import fresh_database, make_app  # noqa: E402  (bench/common.py, beside this script)

WEEK = "2026-W48"
# The clock the week is generated at: before it, so every slot is planned whatever day the bench runs.
CLOCK = datetime(2026, 11, 1, tzinfo=timezone.utc)
TEMPLATES = [
    ("short_video", "新品上架", "{{ store_name }}本周新品到店！{{ city }}{{ district }}的朋友快来看看～",
     "镜头1：门头和招牌\n镜头2：新品陈列\n镜头3：店员推荐（{{ store_code }}）"),
    ("short_video", "店员日常", "在{{ store_name }}的一天 #{{ week_start|date('%m月%d日') }}",
     "镜头1：开店准备\n镜头2：顾客到店\n{% if community_name %}结尾：加入{{ community_name }}{% endif %}"),
    ("short_video", "搭配灵感", "{{ brand }}搭配灵感｜{{ district }}店", "镜头1：客厅搭配\n镜头2：卧室搭配"),
    ("image_post", "本周好物", "{{ store_name }}本周好物清单", "图1：封面\n图2：价格\n图3：地址 {{ address }}"),
    ("image_post", "到店指南", "怎么来{{ store_name }}？地址：{{ address }}", "图1：地图\n图2：门头"),
]


def seed(url: str, stores: int) -> None:
    """Child process: schema, regions, the chain (all open, all accounts active) and the campaign."""
    from sqlalchemy import update

    from matrix.accounts.models import Account, AccountStatus
    from matrix.campaigns import services
    from matrix.demo import build_seed
    from matrix.extensions import db
    from matrix.regions.services import load_regions
    from matrix.stores.models import Store, StoreStatus

    app = make_app(url)
    with app.app_context():
        db.create_all()
        load_regions()
        build_seed(stores=stores, accounts_per_store=2, rng_seed=1)
        db.session.execute(update(Store).values(status=StoreStatus.OPEN))
        db.session.execute(update(Account).values(status=AccountStatus.ACTIVE))
        db.session.commit()
        campaign = services.create_campaign(actor=None, name="双十二焕新季", starts_on=date(2026, 11, 1),
                                            ends_on=date(2026, 12, 31), store_scope="all",
                                            cadence={"short_video": 5, "image_post": 2}, slots="12:00, 18:00, 20:30")
        for kind, topic, caption, script in TEMPLATES:
            services.add_template(campaign, actor=None, kind=kind, topic=topic, caption=caption, script=script,
                                  hashtags="#栖木家居 #{{ city }}好物", location_tag="{{ store_name }}")
        print(campaign.id)


def measure(url: str, campaign_id: int) -> tuple[float, float]:
    from flask_babel import force_locale
    from sqlalchemy import func, select

    from matrix.content.generation import generate_week
    from matrix.content.models import Campaign, ContentItem
    from matrix.extensions import db
    from matrix.weeks import iso_week

    app = make_app(url)
    with app.app_context(), force_locale("en"):
        campaign = db.session.get(Campaign, campaign_id)
        started, cpu = time.perf_counter(), time.process_time()
        report = generate_week(campaign, iso_week(WEEK), actor=None, now=CLOCK)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
        items = db.session.scalar(select(func.count()).select_from(ContentItem))
        print(f"first run: {report.summary()} ({report.stores} stores, {report.accounts} accounts, "
              f"{items} items in the table, {len(report.warnings)} spacing warnings); "
              f"this process's CPU {cpu:.2f} s (the database server's is not counted), load {os.getloadavg()[0]:.1f}")
        started, cpu = time.perf_counter(), time.process_time()
        again = generate_week(db.session.get(Campaign, campaign_id), iso_week(WEEK), actor=None, now=CLOCK)
        print(f"regenerate: {again.summary()} in {time.perf_counter() - started:.2f} s "
              f"(CPU {time.process_time() - cpu:.2f} s)")
        db.session.remove()
        db.engine.dispose()
    return seconds, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--seed-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.seed_only, args.stores)
        return
    url, cleanup = fresh_database("plan_week")
    try:
        started = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--stores", str(args.stores), "--seed-only", url],
                             check=True, capture_output=True, text=True)
        campaign_id = int(out.stdout.strip().splitlines()[-1])
        print(f"seeded {args.stores} stores × 2 accounts in {time.perf_counter() - started:.1f} s")
        seconds, peak_mb = measure(url, campaign_id)
    finally:
        cleanup()
    print(f"plan_week_s {seconds:.2f} s")
    print(f"plan_week_peak_mb {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
