"""Benchmark: the pages HQ and store managers open daily, on a 10,000-store chain, served by gunicorn beside a bare page.

Run: .venv/bin/python bench/pages.py [--url URL] [--seconds 8] [--clients 16] [--only overview,live_day]
PostgreSQL only: the chain is seeded once into its own database (bench/chain.py; default bench_pages,
created when missing, reused afterwards). Two gunicorn servers with 2 sync workers each run on
127.0.0.1: StoreMatrix and a bare Flask page (a 50-row Jinja table, no database). The bare page is
driven first and last; then each page by 16 closed-loop clients (bench/load.py, gzip accepted) for a
fixed time, as the HQ operator or the store manager. Afterwards, in this process and with nothing
else running, each page is requested again through the test client to measure the server's time and
queries per request, and its template is rendered again from the request's own context (data already
loaded) to measure the render alone.
Ends with, per page: <page>_rps, <page>_p99_ms, <page>_ratio (the bare page's req/s over the page's:
how many bare pages one page costs), <page>_kb (HTML, uncompressed), <page>_wire_kb, <page>_server_ms,
<page>_render_ms (median in-process), <page>_queries; then bare_rps, bare_p99_ms, pages_worst_p99_ms.
"""
import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402
from chain import DEFAULT_URL, HQ, MANAGER, PASSWORD, bench_week, ensure_chain  # noqa: E402
from serve import Gunicorn, bench_app  # noqa: E402

HOST = "127.0.0.1"
# name -> (who, path); the path's {fields} come from context().
PAGES = {
    "overview": ("hq", "/"),
    "stores": ("hq", "/stores/"),
    "accounts": ("hq", "/accounts/"),
    "communities": ("hq", "/communities/"),
    "leads_hq": ("hq", "/leads/"),
    "leads_unrouted": ("hq", "/leads/unrouted"),
    "live_list": ("hq", "/live/?week={week}"),
    "live_day": ("hq", "/live/day?date={day}"),
    "live_city": ("hq", "/live/city/{city}?week={week}"),
    "plans_hq": ("hq", "/plans/"),
    "plans_completion": ("hq", "/plans/completion?week={week}"),
    "print_city": ("hq", "/plans/print?city={city}&week={week}"),
    "campaigns": ("hq", "/campaigns/"),
    "campaign": ("hq", "/campaigns/{campaign}"),
    "sources": ("hq", "/sources/"),
    "deliveries": ("hq", "/notifications/"),
    "audit": ("hq", "/audit/"),
    "coverage": ("hq", "/coverage"),
    "onboarding": ("hq", "/onboarding/"),
    "onboarding_stores": ("hq", "/onboarding/stores"),
    "channels": ("hq", "/channels/"),
    "joins": ("hq", "/joins/"),
    "storefront": ("hq", "/storefront/"),
    "approvals": ("hq", "/plans/approvals"),
    "funnel": ("hq", "/leads/funnel"),
    "mgr_today": ("manager", "/today/"),
    "mgr_week": ("manager", "/plans/{store}/{week}"),
    "mgr_print": ("manager", "/plans/{store}/{week}/print"),
    "mgr_leads": ("manager", "/leads/"),
    "mgr_live_store": ("manager", "/live/store/{store}?week={week}"),
}


def context(url: str) -> dict:
    """The ids and dates the paths name: the seeded week, its busiest day, the manager's store and city."""
    from sqlalchemy import func, select

    from matrix.auth.models import User
    from matrix.extensions import db
    from matrix.live.models import LiveSession
    from matrix.content.models import Campaign
    from matrix.weeks import week_string
    from matrix.stores.models import Store, store_managers

    app = bench_app(url)
    monday = bench_week(app)
    with app.app_context():
        store = db.session.scalar(select(store_managers.c.store_id).join(User, User.id == store_managers.c.user_id)
                                  .where(User.username == MANAGER))
        city = db.session.scalar(select(Store.city_code).where(Store.id == store))
        day = func.date(func.timezone(app.config["MATRIX_TIMEZONE"], LiveSession.starts_at))
        busiest = db.session.execute(select(day, func.count()).group_by(day).order_by(func.count().desc())
                                     .limit(1)).one()
        campaign = db.session.scalar(select(func.max(Campaign.id)))
        db.engine.dispose()
    print(f"# week {week_string(monday)}, busiest day {busiest[0]} ({busiest[1]} sessions), manager's store {store}, "
          f"city {city}")
    return {"week": week_string(monday), "day": busiest[0].isoformat(), "store": store, "city": city,
            "campaign": campaign}


def drive(port: int, path: str, cookie: str, clients: int, seconds: float) -> load.Result:
    data = load.request_bytes("GET", path, host=f"{HOST}:{port}", cookie=cookie)
    load.closed_loop(HOST, port, lambda i: data, clients=2, seconds=1.0)  # warm both workers' caches
    return load.closed_loop(HOST, port, lambda i: data, clients=clients, seconds=seconds)


def over_http(url: str, pages: dict[str, str], who: dict[str, str], clients: int, seconds: float) -> dict:
    """req/s, p99 and size of each page under load, with the bare page before and after."""
    figures = {}
    with Gunicorn("app", env={"BENCH_DATABASE_URL": url}) as app, Gunicorn("bare") as bare:
        load.wait_until_up(HOST, app.port, "/login")
        load.wait_until_up(HOST, bare.port)
        cookies = {role: load.sign_in(HOST, app.port, user, PASSWORD) for role, user in who.items()}
        bare_runs = [drive(bare.port, "/", "", clients, seconds)]
        print(f"# bare: {bare_runs[0].rps:.0f} req/s, p99 {bare_runs[0].percentile(99):.1f} ms", flush=True)
        for name, path in pages.items():
            result = drive(app.port, path, cookies[PAGES[name][0]], clients, seconds)
            bad = {s: n for s, n in result.statuses.items() if s != 200}
            if bad or result.failures or result.sample is None:
                print(f"# {name}: {path} answered {bad or ''} {dict(result.failures) or ''}", flush=True)
            sample = result.sample or result.error_sample
            figures[name] = {"rps": result.rps, "p99_ms": result.percentile(99), "p50_ms": result.percentile(50),
                             "kb": len(sample.html) / 1024 if sample else float("nan"),
                             "wire_kb": len(sample.body) / 1024 if sample else float("nan"),
                             "errors": sum(bad.values()) + sum(result.failures.values())}
            print(f"# {name}: {result.rps:.1f} req/s, p50 {result.percentile(50):.0f} ms, "
                  f"p99 {result.percentile(99):.0f} ms, {figures[name]['kb']:.0f} KB "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
        bare_runs.append(drive(bare.port, "/", "", clients, seconds))
        print(f"# bare again: {bare_runs[1].rps:.0f} req/s, p99 {bare_runs[1].percentile(99):.1f} ms", flush=True)
    figures["bare"] = {"rps": statistics.mean(r.rps for r in bare_runs),
                       "p99_ms": statistics.mean(r.percentile(99) for r in bare_runs)}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_PAGES_URL", DEFAULT_URL))
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=8.0, help="load per page")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--runs", type=int, default=10, help="in-process requests per page (server and render time)")
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--no-http", action="store_true", help="only the in-process figures")
    args = parser.parse_args()
    ensure_chain(args.url, args.stores)
    ctx = context(args.url)
    names = [n for n in args.only.split(",") if n] or list(PAGES)
    pages = {name: PAGES[name][1].format(**ctx) for name in names}
    who = {"hq": HQ, "manager": MANAGER}
    figures = {} if args.no_http else over_http(args.url, pages, who, args.clients, args.seconds)
    from inprocess import measure_pages  # after the servers stopped: nothing else competes for the CPU

    inside = measure_pages(args.url, {n: (PAGES[n][0], p) for n, p in pages.items()}, who, PASSWORD, args.runs)
    bare = figures.get("bare", {})
    for name in names:
        page = {**figures.get(name, {}), **inside[name]}
        if "rps" in page:
            print(f"{name}_rps {page['rps']:.1f} req/s")
            print(f"{name}_p99_ms {page['p99_ms']:.0f} ms")
            print(f"{name}_ratio {bare['rps'] / page['rps'] if page['rps'] else float('inf'):.1f} x")
            print(f"{name}_kb {page['kb']:.0f} KB")
            print(f"{name}_wire_kb {page['wire_kb']:.0f} KB")
        print(f"{name}_server_ms {page['server_ms']:.1f} ms")
        print(f"{name}_render_ms {page['render_ms']:.1f} ms")
        print(f"{name}_queries {page['queries']} count")
    if bare:
        print(f"bare_rps {bare['rps']:.0f} req/s")
        print(f"bare_p99_ms {bare['p99_ms']:.1f} ms")
        print(f"pages_worst_p99_ms {max(figures[n]['p99_ms'] for n in names):.0f} ms")


if __name__ == "__main__":
    main()
