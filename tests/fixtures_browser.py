"""Headless Chromium for the suite: the app served on 127.0.0.1 (live_server), a signed-in cookie, print to PDF."""
import os
import subprocess
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
USER_AGENT = "StoreMatrix print test"  # Flask-Login's strong session protection checks the agent

def browser() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("MATRIX_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{CHROMIUM} is missing but MATRIX_REQUIRE_BROWSER=1: install chromium and fonts-wqy-microhei")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-wqy-microhei); "
                "set MATRIX_REQUIRE_BROWSER=1 to make this a failure")


@pytest.fixture
def live_server(app):
    """The app on a free port of 127.0.0.1; `cookie` is sent with every request."""
    holder = {"cookie": ""}

    def wsgi(environ, start_response):
        environ["HTTP_COOKIE"] = holder["cookie"]
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    holder["base"] = f"http://127.0.0.1:{server.server_port}"
    yield holder
    server.shutdown()
    thread.join(timeout=10)


def signed_in_cookie(app, login, user) -> str:
    """Sign in through the real form with Chromium's user agent and return the session cookie."""
    return f"session={signed_in_client(app, login, user).get_cookie('session', domain='localhost').value}"


def signed_in_client(app, login, user):
    """A test client signed in as `user` with Chromium's user agent (it shares the cookie with Chromium)."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    login(user, client)
    return client


def print_to_pdf(url: str, tmp_path: Path) -> PdfReader:
    out = tmp_path / "plan.pdf"
    command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               f"--user-data-dir={tmp_path / 'profile'}", f"--user-agent={USER_AGENT}",
               # Untagged, as the print worker makes them: pypdf reads the text of tagged ones out of order.
               "--no-pdf-header-footer", "--disable-pdf-tagging", f"--print-to-pdf={out}", url]
    result = subprocess.run(command, capture_output=True, timeout=60, env=os.environ | {"HOME": str(tmp_path)})
    assert out.exists(), result.stderr.decode(errors="replace")[-2000:]
    return PdfReader(out)
