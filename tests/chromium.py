"""Headless Chromium for tests: print a page to PDF or take a screenshot, against an app served on 127.0.0.1."""
import os
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
USER_AGENT = "StoreMatrix print test"  # Flask-Login's strong session protection checks the agent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", f"--user-agent={USER_AGENT}"]


def browser() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("MATRIX_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{CHROMIUM} is missing but MATRIX_REQUIRE_BROWSER=1: install chromium and fonts-wqy-microhei")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-wqy-microhei)")


@contextmanager
def serve(app, cookie: str = ""):
    """The app on a free port of 127.0.0.1, every request carrying `cookie` (Chromium has no flag to set one)."""
    def wsgi(environ, start_response):
        environ["HTTP_COOKIE"] = cookie
        return app(environ, start_response)
    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def run(url: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [browser(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *extra, url]
    return subprocess.run(command, capture_output=True, timeout=90, env=os.environ | {"HOME": str(tmp_path)})


def print_to_pdf(url: str, tmp_path: Path, name: str = "out.pdf") -> Path:
    out = tmp_path / name
    result = run(url, tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={out}")
    assert out.exists(), result.stderr.decode(errors="replace")[-2000:]
    return out


def screenshot(url: str, tmp_path: Path, *, width: int = 390, height: int = 1600, name: str = "shot.png") -> Path:
    out = tmp_path / name
    result = run(url, tmp_path, f"--window-size={width},{height}", "--hide-scrollbars", f"--screenshot={out}")
    assert out.exists(), result.stderr.decode(errors="replace")[-2000:]
    return out
