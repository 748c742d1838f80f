"""A page's cost inside one process: server time, queries, database time, and its template rendered again from memory.

Used by bench/pages.py; alone it profiles pages one request each:
    .venv/bin/python bench/inprocess.py --profile live_day,overview [--url URL] [--top 30]
    .venv/bin/python bench/inprocess.py --webhook 200 --url <the intake database>   (it writes leads)
prints, per page, the request's cProfile (cumulative and own time), its queries (count, time, the
slowest statements), the render of its template from the request's own context, and the HTML size.
"""
import argparse
import cProfile
import gc
import io
import os
import pstats
import re
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve import bench_app  # noqa: E402

RENDERS = 3  # renders from memory per request


class Meter:
    """Counts queries and their time on the app's engine, and re-renders each template it sees."""

    def __init__(self, app, engine):
        from flask import template_rendered
        from sqlalchemy import event

        self.queries, self.db_s, self.statements = 0, 0.0, defaultdict(lambda: [0, 0.0])
        self.render_s: list[float] = []
        self.render_queries = 0
        self.rendering = False
        self.gc_s, self._gc_started = 0.0, 0.0
        gc.callbacks.append(self._gc)
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        template_rendered.connect(self._rendered, app)

    def reset(self) -> None:
        self.queries, self.db_s, self.render_s, self.render_queries, self.gc_s = 0, 0.0, [], 0, 0.0
        self.statements.clear()

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()
        if self.rendering:
            self.render_queries += 1
        else:
            self.queries += 1

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        self.db_s += elapsed
        entry = self.statements[re.sub(r"\s+", " ", statement)[:160]]
        entry[0] += 1
        entry[1] += elapsed

    def _gc(self, phase: str, info: dict) -> None:
        """Time in the cyclic garbage collector: many ORM objects and template strings make its passes long."""
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started and not self.rendering:  # the request's own passes, not the re-renders
            self.gc_s += time.perf_counter() - self._gc_started

    def _rendered(self, sender, template, context, **extra):
        """Render the same template from the same context again: the data is all in memory now."""
        if self.rendering:
            return
        self.rendering = True
        try:
            for _ in range(RENDERS):
                started = time.perf_counter()
                template.render(context)
                self.render_s.append(time.perf_counter() - started)
        finally:
            self.rendering = False


def signed_in_client(app, username: str, password: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token.group(1) if token else ""})
    assert response.status_code == 302, f"sign-in of {username}: {response.status_code}"
    return client


@contextmanager
def bench_context(url: str, who: dict[str, str], password: str):
    """An app with a Meter, and a signed-in test client per role."""
    from matrix.extensions import db

    app = bench_app(url)
    gc.freeze()  # as gunicorn.conf.py does in every worker once the app is loaded
    with app.app_context():
        meter = Meter(app, db.engine)
    clients = {role: signed_in_client(app, user, password) for role, user in who.items()}
    try:
        yield app, meter, clients
    finally:
        with app.app_context():
            db.engine.dispose()


def measure_pages(url: str, pages: dict[str, tuple[str, str]], who: dict[str, str], password: str,
                  runs: int = 10, budget_s: float = 6.0) -> dict[str, dict]:
    """Median server time, render time and query count of each page, one request at a time."""
    out = {}
    with bench_context(url, who, password) as (app, meter, clients):
        for name, (role, path) in pages.items():
            client = clients[role]
            client.get(path, headers={"Accept-Encoding": "identity"})  # warm caches
            server, render, queries, db_s, gc_s = [], [], [], [], []
            deadline = time.perf_counter() + budget_s
            while len(server) < runs and (len(server) < 3 or time.perf_counter() < deadline):
                meter.reset()
                started = time.perf_counter()
                response = client.get(path, headers={"Accept-Encoding": "gzip"})  # compressing is server time too
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, f"{name}: {response.status_code}"
                render_s = statistics.median(meter.render_s) if meter.render_s else 0.0
                # The re-renders ran inside the request: take them out of its time.
                server.append(elapsed - sum(meter.render_s))
                render.append(render_s)
                queries.append(meter.queries)
                db_s.append(meter.db_s)
                gc_s.append(meter.gc_s)
            out[name] = {"server_ms": statistics.median(server) * 1000, "render_ms": statistics.median(render) * 1000,
                         "queries": int(statistics.median(queries)), "db_ms": statistics.median(db_s) * 1000,
                         "gc_ms": statistics.median(gc_s) * 1000}
            print(f"# {name}: server {out[name]['server_ms']:.1f} ms (database {out[name]['db_ms']:.1f} ms, "
                  f"{out[name]['queries']} queries; garbage collector {out[name]['gc_ms']:.1f} ms), "
                  f"render from memory {out[name]['render_ms']:.1f} ms", flush=True)
    return out


def profile_pages(url: str, pages: dict[str, tuple[str, str]], who: dict[str, str], password: str, top: int) -> None:
    """cProfile, queries and render of one request per page."""
    with bench_context(url, who, password) as (app, meter, clients):
        for name, (role, path) in pages.items():
            client = clients[role]
            client.get(path)
            meter.reset()
            profiler = cProfile.Profile()
            started = time.perf_counter()
            with profiler:
                response = client.get(path)
            elapsed = time.perf_counter() - started
            html = response.get_data()
            print(f"\n=== {name} {path}: {response.status_code}, {len(html) / 1024:.0f} KB, {elapsed * 1000:.0f} ms "
                  f"under the profiler (incl. {RENDERS} re-renders {sum(meter.render_s) * 1000:.0f} ms); "
                  f"{meter.queries} queries, {meter.db_s * 1000:.1f} ms in the database; "
                  f"re-render {statistics.median(meter.render_s or [0]) * 1000:.1f} ms "
                  f"({meter.render_queries // max(1, RENDERS)} queries per re-render); "
                  f"{meter.gc_s * 1000:.0f} ms in the garbage collector")
            for statement, (count, seconds) in sorted(meter.statements.items(), key=lambda s: -s[1][1])[:8]:
                print(f"  sql {count:4d}x {seconds * 1000:7.1f} ms  {statement}")
            for sort in ("cumulative", "tottime"):
                buffer = io.StringIO()
                pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(sort).print_stats(top)
                print(f"--- by {sort}\n" + "\n".join(buffer.getvalue().splitlines()[6:]))
            print("--- html: " + ", ".join(f"{tag} {len(re.findall(f'<{tag}[ >]', html.decode()))}"
                                          for tag in ("tr", "td", "a", "form", "svg", "input", "option")))


def profile_webhook(url: str, count: int, top: int) -> None:
    """cProfile and queries of `count` signed lead deliveries through the test client (written to `url`)."""
    import json
    import random

    from chain import SOURCE_SECRET, SOURCE_SLUG
    from sqlalchemy import select

    from matrix.extensions import db
    from matrix.leads.signatures import SCHEMES
    from matrix.stores.models import Store

    app = bench_app(url)
    with app.app_context():
        meter = Meter(app, db.engine)
        points = db.session.execute(select(Store.lon, Store.lat).where(Store.lon.is_not(None))).all()
    rng, client = random.Random(), app.test_client()
    run = f"p{rng.randrange(10**8)}"

    def post(i: int):
        lon, lat = rng.choice(points)
        body = json.dumps({"id": f"{run}-{i}", "name": "客户", "phone": f"139{rng.randrange(10**8):08d}",
                           "lon": lon + 0.001, "lat": lat, "coord_system": "wgs84"}).encode()
        headers = SCHEMES["hmac_sha256_ts"].sign(SOURCE_SECRET, body, time.time())
        response = client.post(f"/hooks/{SOURCE_SLUG}", data=body, headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 200, response.get_data(as_text=True)

    for i in range(5):  # warm: the routing index, the source, the templates of the messages
        post(i)
    meter.reset()
    profiler, started = cProfile.Profile(), time.perf_counter()
    with profiler:
        for i in range(5, 5 + count):
            post(i)
    elapsed = time.perf_counter() - started
    plain, cpu = time.perf_counter(), time.process_time()
    for i in range(5 + count, 5 + 2 * count):
        post(i)
    plain, cpu = time.perf_counter() - plain, time.process_time() - cpu
    print(f"=== webhook: {plain / count * 1000:.1f} ms a delivery without the profiler, {cpu / count * 1000:.1f} ms "
          f"of it this process's CPU ({elapsed / count * 1000:.1f} ms with the profiler); "
          f"{meter.queries / (2 * count):.1f} queries and "
          f"{meter.db_s / (2 * count) * 1000:.1f} ms in the database a delivery; "
          f"{meter.gc_s / (2 * count) * 1000:.1f} ms in the garbage collector")
    for statement, (n, seconds) in sorted(meter.statements.items(), key=lambda s: -s[1][1])[:12]:
        print(f"  sql {n / (2 * count):5.1f}x {seconds / (2 * count) * 1000:6.2f} ms  {statement}")
    if os.environ.get("INPROCESS_CALLERS"):  # who calls a hot function: INPROCESS_CALLERS=__getitem__
        pstats.Stats(profiler).strip_dirs().print_callers(os.environ["INPROCESS_CALLERS"])
    for sort in ("cumulative", "tottime"):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(sort).print_stats(top)
        print(f"--- by {sort}\n" + "\n".join(buffer.getvalue().splitlines()[6:]))
    with app.app_context():
        durable_accept(count)
        db.engine.dispose()


def durable_accept(count: int) -> None:
    """What the lightest durable answer costs: check the signature, parse, one INSERT ... ON CONFLICT, commit.

    A sketch for the design decision, in a throw-away table (a logged one: a temporary table skips the WAL and
    would flatter the commit); the product has no such code.
    """
    import json

    from chain import SOURCE_SECRET
    from sqlalchemy import text

    from matrix.extensions import db
    from matrix.leads.signatures import SCHEMES

    scheme = SCHEMES["hmac_sha256_ts"]
    with db.engine.connect() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_inbox"))
        conn.execute(text("CREATE TABLE bench_inbox (id bigserial PRIMARY KEY, source_id int, "
                          "dedupe_key varchar(120), body jsonb, received_at timestamptz DEFAULT now(), "
                          "UNIQUE (source_id, dedupe_key))"))
        conn.commit()
        bodies = []
        for i in range(count):
            body = json.dumps({"id": f"d-{i}", "phone": "13900000000", "lon": 120.1, "lat": 30.2}).encode()
            bodies.append((body, scheme.sign(SOURCE_SECRET, body, time.time())))
        wall, cpu = time.perf_counter(), time.process_time()
        for body, headers in bodies:
            scheme.verify(SOURCE_SECRET, body, headers, time.time(), 300)
            payload = json.loads(body)
            conn.execute(text("INSERT INTO bench_inbox (source_id, dedupe_key, body) VALUES (1, :k, CAST(:b AS jsonb)) "
                              "ON CONFLICT DO NOTHING RETURNING id"), {"k": payload["id"], "b": body.decode()})
            conn.commit()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        conn.execute(text("DROP TABLE bench_inbox"))
        conn.commit()
    print(f"=== durable accept alone (verify, parse, INSERT ... ON CONFLICT, commit; no Flask): "
          f"{wall / count * 1000:.2f} ms a delivery, {cpu / count * 1000:.2f} ms of it this process's CPU")


def main() -> None:
    from chain import DEFAULT_URL, HQ, MANAGER, PASSWORD, ensure_chain
    from pages import PAGES, context

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--profile", default="", help="comma-separated page names (see bench/pages.py)")
    parser.add_argument("--webhook", type=int, default=0, help="profile this many lead deliveries (writes leads)")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    ensure_chain(args.url)
    if args.webhook:
        profile_webhook(args.url, args.webhook, args.top)
    if not args.profile:
        return
    ctx = context(args.url)
    pages = {n: (PAGES[n][0], PAGES[n][1].format(**ctx)) for n in args.profile.split(",")}
    profile_pages(args.url, pages, {"hq": HQ, "manager": MANAGER}, PASSWORD, args.top)


if __name__ == "__main__":
    main()
