"""Benchmark: the matrix overview with 10,000 stores and 30,000 accounts, and a 10,000-row import preview.

Run: .venv/bin/python bench/matrix_overview.py [--stores 10000] [--runs 30]
Uses a fresh SQLite file in a temporary folder, or DATABASE_URL (PostgreSQL) in a fresh schema
that is dropped afterwards. Ends with one line per figure: `name value unit`.
"""
import argparse
import csv
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from config import TestConfig  # noqa: E402
from matrix import create_app  # noqa: E402

OPERATOR, PASSWORD = "bench-operator", "bench-password-2026"


def make_app(folder: str):
    """An app on a fresh database; returns (app, cleanup)."""
    url = os.environ.get("DATABASE_URL")
    options, cleanup = {}, (lambda: None)
    if url and not url.startswith("sqlite"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        options = {"connect_args": {"options": f"-csearch_path={schema}"}}

        def cleanup():
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    else:
        url = "sqlite:///" + os.path.join(folder, "bench.db")

    class Settings(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = options
        WTF_CSRF_ENABLED = False  # the bench signs in through the form without scraping tokens

    return create_app(Settings), cleanup


def seed(stores: int) -> None:
    from matrix.auth.models import Role
    from matrix.auth.services import create_user
    from matrix.demo import build_seed
    from matrix.extensions import db
    from matrix.regions.services import load_regions

    db.create_all()
    load_regions()
    started = time.perf_counter()
    summary = build_seed(stores=stores, accounts_per_store=3)
    print(f"# seeded {summary.stores} stores, {summary.accounts} accounts, {summary.communities} communities "
          f"in {time.perf_counter() - started:.1f} s")
    create_user(username=OPERATOR, password=PASSWORD, role=Role.OPERATOR, actor=None)


def timed_gets(client, url: str, runs: int) -> list[float]:
    for _ in range(2):  # warm the template and region caches
        assert client.get(url).status_code == 200
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def bench_overview(app, runs: int) -> dict[str, float]:
    from matrix.extensions import db
    from matrix.stores.models import Store

    client = app.test_client()
    response = client.post("/login", data={"username": OPERATOR, "password": PASSWORD})
    assert response.status_code == 302, "sign-in failed"
    city = db.session.scalar(select(Store.city_code).group_by(Store.city_code).order_by(func.count().desc()))
    figures, everything = {}, []
    for name, url in (("first_page", "/"), ("city", f"/?city={city}"), ("gaps", "/?platform=xiaohongshu&gaps=1")):
        times = timed_gets(client, url, runs)
        everything += times
        figures[f"overview_{name}_median_ms"] = statistics.median(times)
        figures[f"overview_{name}_p95_ms"] = p95(times)
    figures["overview_median_ms"] = statistics.median(everything)
    figures["overview_p95_ms"] = p95(everything)
    return figures


def stores_csv(rows: int) -> bytes:
    """A GBK CSV as Excel writes it: half updates of seeded stores, half new ones."""
    from matrix.extensions import db
    from matrix.regions.services import region_name
    from matrix.stores.models import Store

    existing = db.session.execute(select(Store.code, Store.name, Store.city_code, Store.district_code, Store.address,
                                         Store.lon, Store.lat).order_by(Store.code).limit(rows // 2)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["门店编码", "门店名称", "城市", "区县", "详细地址", "经度", "纬度", "坐标系", "状态", "服务半径", "电话"])
    for i in range(rows):
        code, name, city, district, address, lon, lat = existing[i % len(existing)]
        if i >= len(existing):
            code, name = f"N{i:05d}", f"{name}新店"
        phone = f"0571-8{i:07d}" if i % 3 == 0 else ""
        writer.writerow([code, name, region_name(city), region_name(district), address, lon or "", lat or "",
                         "wgs84", "营业", "3", phone])
    return out.getvalue().encode("gbk")


def bench_import_preview(rows: int) -> float | None:
    """Seconds to read and preview a `rows`-row stores CSV, or None without the imports feature."""
    try:
        from matrix.imports.preview import preview_import
        from matrix.imports.readers import read_table
    except ImportError as e:
        print(f"# import preview skipped: {e}")
        return None
    data = stores_csv(rows)
    started = time.perf_counter()
    preview = preview_import("stores", read_table(data, "stores.csv"))
    elapsed = time.perf_counter() - started
    print(f"# import preview: {preview.counts}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--import-rows", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app, cleanup = make_app(folder)
        try:
            with app.app_context():
                seed(args.stores)
                figures = bench_overview(app, args.runs)
                preview_s = bench_import_preview(args.import_rows)
        finally:
            cleanup()
    for name, value in figures.items():
        print(f"{name} {value:.1f} ms")
    print(f"import_preview_10k_s {preview_s:.2f} s" if preview_s is not None else "import_preview_10k_s n/a s")


if __name__ == "__main__":
    main()
