"""The apps the HTTP benchmarks serve with gunicorn: StoreMatrix on BENCH_DATABASE_URL, and the bare page.

    gunicorn -w 2 --chdir bench serve:app        # StoreMatrix (BENCH_DATABASE_URL, BENCH_ROBOT_URL)
    gunicorn -w 2 --chdir bench serve:bare       # a bare Flask page: a 50-row Jinja table

Settings are production's (connection pre-ping, no debug) with fixed bench keys, so the seeding
process, the web workers and the delivery workers read each other's encrypted phones and sessions.
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH_KEYS = {"SECRET_KEY": "bench-secret", "LEAD_PHONE_KEY": "YmVuY2gtbGVhZC1waG9uZS1rZXktMzItYnl0ZXMtb2s=",
              "LEAD_HASH_KEY": "bench-lead-hash-key"}


def bench_app(url: str, **settings):
    """The app on `url` with the bench keys (and any extra settings, such as WECOM_ROBOT_BASE_URL)."""
    from config import Config
    from matrix import create_app

    class Settings(Config):
        SQLALCHEMY_DATABASE_URI = url
        BASE_URL = "http://127.0.0.1"

    for name, value in {**BENCH_KEYS, **settings}.items():
        setattr(Settings, name, value)
    return create_app(Settings)


def bare_app():
    """A bare Flask page: a 50-row table from a Jinja template with a base layout, no database."""
    from flask import Flask, render_template
    from jinja2 import DictLoader

    page = Flask("bare")
    page.jinja_loader = DictLoader({
        "layout.html": ("<!doctype html><html lang=zh><head><meta charset=utf-8><title>{% block title %}"
                        "{% endblock %}</title></head><body><main>{% block main %}{% endblock %}</main></body></html>"),
        "table.html": ("{% extends 'layout.html' %}{% block title %}门店{% endblock %}{% block main %}<table><thead>"
                       "<tr><th>编码<th>名称<th>城市<th>状态<th>粉丝</tr></thead><tbody>{% for r in rows %}<tr>"
                       "<td>{{ r.code }}<td><a href=\"/stores/{{ r.id }}\">{{ r.name }}</a><td>{{ r.city }}"
                       "<td>{{ r.status }}<td>{{ '{:,}'.format(r.followers) }}</tr>{% endfor %}</tbody></table>"
                       "{% endblock %}")})
    rows = [{"id": i, "code": f"S{i:05d}", "name": f"栖木家居·杭州西湖{i}店", "city": "杭州市", "status": "营业中",
             "followers": 1234 * i} for i in range(1, 51)]

    @page.get("/")
    def index():
        return render_template("table.html", rows=rows)
    return page


if os.environ.get("BENCH_DATABASE_URL"):
    robot = os.environ.get("BENCH_ROBOT_URL")
    app = bench_app(os.environ["BENCH_DATABASE_URL"], **({"WECOM_ROBOT_BASE_URL": robot} if robot else {}))
bare = bare_app()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn -w N` serving serve:<name> on 127.0.0.1 (a context manager; stops with SIGTERM, then SIGKILL)."""

    def __init__(self, name: str, *, workers: int = 2, env: dict | None = None, timeout: int = 120,
                 log: Path | None = None):
        self.name, self.workers, self.env, self.timeout, self.log = name, workers, env or {}, timeout, log
        self.port = free_port()
        self.process = None

    def __enter__(self) -> "Gunicorn":
        import subprocess

        folder = Path(__file__).resolve().parent
        # Production's gunicorn.conf.py (logging, gc.freeze after fork), with the bench's workers and time-out,
        # no recycling of workers in the middle of a run, and no `flask check` (it would build the app from the
        # environment's settings, not from BENCH_DATABASE_URL).
        command = [str(Path(sys.executable).parent / "gunicorn"), "-c", str(folder.parent / "gunicorn.conf.py"),
                   "-w", str(self.workers), "-k", "sync", "-b", f"127.0.0.1:{self.port}", "--chdir", str(folder),
                   "--timeout", str(self.timeout), "--max-requests", "0", "--backlog", "2048",
                   "--log-level", "warning", f"serve:{self.name}"]
        # The app's warnings (a lead not notified ...) and the access log go to the log file, else nowhere.
        output = self.log.open("a") if self.log else subprocess.DEVNULL
        env = {**os.environ, "STOREMATRIX_SKIP_CHECK": "1", **self.env}
        self.process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
        return self

    def __exit__(self, *exc) -> None:
        import subprocess

        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
