"""Benchmark: a store's public page and its lead form under load, side by side with a bare Flask page.

Run: .venv/bin/python bench/public_page.py [--stores 1000] [--hot 20] [--seconds 4] [--rounds 3] [--clients 4] [--leads 300]
Needs gunicorn (`.venv/bin/pip install gunicorn`, as in production). Uses a fresh SQLite file (or, with
DATABASE_URL on PostgreSQL, a fresh schema) seeded with matrix.demo's build_seed and the store-page settings.
Two gunicorn servers of 2 sync workers each run on 127.0.0.1: the whole app, and a bare Flask app whose one
route renders a page of the same size from a template. Client processes fetch the pages of a crowd's stores
(`--hot` open stores, every `?c=` channel: a poster campaign, a live session's trailer) in alternating rounds
against each server; the ratio is the app's requests per second over the bare page's, medians of the rounds.
A cold round then spreads the same load over every open store (most pages rendered afresh: a page is kept
30 s per process), for the latency of an uncached page. Then lead forms are posted one at a time (new numbers, valid tokens): each
is stored, routed, alerted and committed. The rate limits are raised for the run (one client address).
At the end the app's workers are stopped and the counted views are compared with the pages served: every
process's counts must add up. Ends with one line per figure: `name value unit`.
"""
import argparse
import http.client
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import fresh_database, make_app  # noqa: E402  (bench/common.py, beside this script)

PHONE_KEY = "dGVzdC1sZWFkLXBob25lLWtleS0zMi1ieXRlcy1vayE="  # bench only
CHANNELS = ("poster", "bio", "trailer", "share", "page", "")


def page_app():
    """The whole StoreMatrix app, as gunicorn serves it (settings from the environment)."""
    return make_app(os.environ["BENCH_DATABASE_URL"])


def bare_app():
    """A bare Flask app: one route rendering a template of the store page's size, nothing else."""
    from flask import Flask

    app = Flask("bare")
    template = app.jinja_env.from_string("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                                         "<title>{{ code }}</title></head><body><h1>{{ code }}</h1>{{ filler }}</body></html>")
    filler = "x" * int(os.environ.get("BENCH_PAGE_BYTES", "6000"))

    @app.get("/s/<code>")
    def page(code):
        return template.render(code=code, filler=filler)
    return app


def serve(factory: str, port: int, env: dict) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir",
               str(ROOT / "bench"), "--log-level", "warning", "--graceful-timeout", "10", f"public_page:{factory}()"]
    server = subprocess.Popen(command, env=os.environ | env)
    for _ in range(200):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            return server
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"gunicorn did not start on port {port}")


def client_loop(args) -> tuple[int, list[float], int]:
    """One client process: GET random pages until the deadline; (requests, latencies, errors)."""
    port, codes, deadline, seed = args
    rng, latencies, errors = random.Random(seed), [], 0
    while time.time() < deadline:
        code, channel = rng.choice(codes), rng.choice(CHANNELS)
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", f"/s/{code}" + (f"?c={channel}" if channel else ""), headers={"Accept-Language": "zh-CN"})
        response = conn.getresponse()
        response.read()
        conn.close()
        latencies.append(time.perf_counter() - start)
        errors += response.status != 200
    return len(latencies), latencies, errors


def load(pool, port: int, codes: list[str], seconds: float, clients: int, seed: int) -> tuple[float, list[float], int, int]:
    deadline = time.time() + seconds
    results = pool.map(client_loop, [(port, codes, deadline, seed + n) for n in range(clients)])
    served = sum(r[0] for r in results)
    return served / seconds, [lat for r in results for lat in r[1]], sum(r[2] for r in results), served


def p99_ms(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2)


def seed_chain(url: str, stores: int):
    """The seeded chain with store-page settings; (open store codes, a form-token digest, an app on it)."""
    from sqlalchemy import select

    from matrix.demo import build_seed
    from matrix.extensions import db
    from matrix.regions.services import load_regions
    from matrix.storefront.settings import settings_digest, update_settings
    from matrix.stores.models import Store, StoreStatus

    app = make_app(url)
    app.config.update(LEAD_PHONE_KEY=PHONE_KEY, LEAD_HASH_KEY="bench-hash")
    with app.app_context():
        db.create_all()
        load_regions()
        build_seed(stores=stores, accounts_per_store=2, rng_seed=1)
        settings = update_settings({"lead_form": True, "privacy_text": "声明", "consent_text": "我同意门店致电联系我。",
                                    "poster_size": "A4", "poster_accent": "red"}, actor=None)
        codes = list(db.session.scalars(select(Store.code).where(Store.status == StoreStatus.OPEN)))
        return codes, settings_digest(settings), app


def post_leads(app, port: int, codes: list[str], digest: str, count: int) -> tuple[list[float], int]:
    from sqlalchemy import select

    from matrix.extensions import db
    from matrix.storefront import tokens
    from matrix.stores.models import Store

    latencies, failures = [], 0
    with app.app_context():
        ids = dict(db.session.execute(select(Store.code, Store.id).where(Store.code.in_(codes[:50]))).all())
        for n in range(count):
            code = codes[n % 50]
            body = urlencode({"phone": f"1395710{n:04d}", "name": "压测", "wants": "想看沙发", "consent": "y",
                              "website": "", "token": tokens.issue(ids[code], digest, now=time.time() - 10)})
            start = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", f"/s/{code}?c=poster", body=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            conn.close()
            latencies.append(time.perf_counter() - start)
            failures += response.status != 303
    return latencies, failures


def counted_views(app) -> int:
    from sqlalchemy import func, select

    from matrix.extensions import db
    from matrix.storefront.models import PageCount
    with app.app_context():
        return int(db.session.scalar(select(func.coalesce(func.sum(PageCount.views), 0))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--hot", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--leads", type=int, default=300)
    args = parser.parse_args()
    url, cleanup = fresh_database("public_page")
    servers = []
    try:
        codes, digest, app = seed_chain(url, args.stores)
        env = {"BENCH_DATABASE_URL": url, "LEAD_PHONE_KEY": PHONE_KEY, "LEAD_HASH_KEY": "bench-hash",
               "STOREFRONT_PAGE_LIMIT": "1000000 per minute", "STOREFRONT_LEAD_LIMIT": "1000000 per minute",
               "STOREFRONT_FLUSH_S": "1"}
        size = len(_fetch(codes[0], env, url))
        page = serve("page_app", 18461, env)
        bare = serve("bare_app", 18462, {"BENCH_PAGE_BYTES": str(size)})
        servers = [page, bare]
        figures = measure(args, codes, digest, app, page)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        cleanup()
    for name, value, unit in figures:
        print(f"{name} {value} {unit}")


def measure(args, codes, digest, app, page_server) -> list[tuple[str, object, str]]:
    page_rates, bare_rates, page_latencies, errors = [], [], [], 0
    hot = codes[:args.hot]
    with multiprocessing.get_context("fork").Pool(args.clients) as pool:
        served = load(pool, 18461, hot, 3.0, args.clients, 0)[3]  # warm both: imports, templates, the hot pages
        load(pool, 18462, hot, 1.0, args.clients, 0)
        for n in range(args.rounds):
            rate, _lat, _err, _n = load(pool, 18462, hot, args.seconds, args.clients, 100 + n)
            bare_rates.append(rate)
            rate, latencies, err, count = load(pool, 18461, hot, args.seconds, args.clients, 200 + n)
            page_rates.append(rate)
            page_latencies += latencies
            errors += err
            served += count
        cold_rate, cold_latencies, err, count = load(pool, 18461, codes[args.hot:], args.seconds, args.clients, 300)
        errors += err
        served += count
    lead_latencies, lead_failures = post_leads(app, 18461, codes, digest, args.leads)
    page_server.terminate()  # its workers write their last counts on the way out
    page_server.wait(timeout=30)
    counted = counted_views(app)
    print(f"pages: bare {[round(r) for r in bare_rates]} req/s, app {[round(r) for r in page_rates]} req/s; "
          f"{errors} errors; {lead_failures} lead posts not accepted; {served} pages served, {counted} views counted")
    return [("public_page_rps", round(statistics.median(page_rates)), "req/s"),
            ("bare_flask_rps", round(statistics.median(bare_rates)), "req/s"),
            ("public_page_ratio", round(statistics.median(page_rates) / statistics.median(bare_rates), 2), "x"),
            ("public_page_p99_ms", p99_ms(page_latencies), "ms"),
            ("public_page_cold_rps", round(cold_rate), "req/s"),
            ("public_page_cold_p99_ms", p99_ms(cold_latencies), "ms"),
            ("lead_form_p99_ms", p99_ms(lead_latencies), "ms"),
            ("public_page_views_served", served, "views"),
            ("public_page_views_counted", counted, "views")]


def _fetch(code: str, env: dict, url: str) -> bytes:
    """The store page's body, from an in-process client: the bare page is made the same size."""
    os.environ.update(env)
    app = make_app(url)
    app.config["STOREFRONT_FLUSH_S"] = 0  # this view is not one the servers count
    return app.test_client().get(f"/s/{code}?c=poster", headers={"Accept-Language": "zh-CN"}).data


if __name__ == "__main__":
    main()
