"""Running in production: `flask check`, /healthz and /readyz, request ids, masked logs, BASE_URL required."""
import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from config import ProductionConfig
from matrix import create_app
from matrix.extensions import db
from matrix.ops import check
from matrix.ops.logs import RequestLogFilter, mask_phones

ROOT = Path(__file__).resolve().parent.parent
FERNET = "dGVzdC1sZWFkLXBob25lLWtleS0zMi1ieXRlcy1vayE="


def production(tmp_path, **settings):
    attributes = {"SECRET_KEY": "s" * 40, "LEAD_PHONE_KEY": FERNET, "LEAD_HASH_KEY": "h" * 32,
                  "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "p.db"),
                  "BASE_URL": "https://matrix.example.com", **settings}
    return create_app(type("Settings", (ProductionConfig,), attributes))


def test_production_refuses_to_start_without_base_url(tmp_path):
    with pytest.raises(RuntimeError, match="BASE_URL is not set"):
        production(tmp_path, BASE_URL=None)
    with pytest.raises(RuntimeError, match="BASE_URL"):
        production(tmp_path, BASE_URL="matrix.example.com")  # no scheme: not an address


def test_flask_check_refuses_production_without_base_url():
    env = {k: v for k, v in os.environ.items() if k not in ("BASE_URL", "TEST_DATABASE_URL")}
    env.update(MATRIX_ENV="production", SECRET_KEY="s" * 40, LEAD_PHONE_KEY=FERNET, LEAD_HASH_KEY="h" * 32,
               DATABASE_URL="sqlite://")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "BASE_URL is not set" in result.stderr


def test_check_refuses_what_works_on_one_machine_only(tmp_path):
    app = production(tmp_path, RATELIMIT_STORAGE_URI="memory://", WECOM_ROBOT_BASE_URL="http://127.0.0.1:9")
    failed = {c.name for c in check.configuration(app) if not c.ok}
    assert failed == {"rate_limit_storage", "database_url", "wecom_robot_base_url"}
    app = production(tmp_path, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
                     SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:5432/none")
    assert all(c.ok for c in check.configuration(app))


def test_flask_check_command_reports_each_check(app):
    result = app.test_cli_runner().invoke(args=["check"])
    lines = result.output.splitlines()
    assert any(line.startswith("ok") and "database" in line for line in lines)
    # The suite's database is built by create_all, never migrated: the check says so and fails.
    assert any(line.startswith("FAIL") and "migrations" in line and "flask db upgrade" in line for line in lines)
    assert result.exit_code == 1


@pytest.fixture
def stamped(app):
    """The suite's database stamped at the latest migration, as `flask db upgrade` leaves it."""
    head = sorted(check._head_revisions(app.extensions["migrate"].directory))[0]
    db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    db.session.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    db.session.commit()
    yield head
    db.session.execute(text("DROP TABLE alembic_version"))
    db.session.commit()


def test_healthz_and_readyz(client, stamped, monkeypatch):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "database": "ok", "migrations": "ok", "rate_limit_store": "ok"}

    def refuse(*_args, **_kwargs):
        raise ConnectionRefusedError("database restarting")
    monkeypatch.setattr(Engine, "connect", refuse)
    down = client.get("/readyz")
    assert down.status_code == 503 and down.get_json()["database"] == "failing"
    assert client.get("/healthz").status_code == 200  # the process itself is fine


def test_readyz_is_not_ready_before_migrating(client):
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["migrations"] == "failing"


def test_request_ids_are_made_honoured_and_echoed(client):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/healthz").headers["X-Request-ID"]
    assert client.get("/healthz", headers={"X-Request-ID": "nginx-4f2a9c01"}).headers["X-Request-ID"] == "nginx-4f2a9c01"
    for forged in ("<script>alert(1)</script>", "short", "a" * 200):
        answered = client.get("/healthz", headers={"X-Request-ID": forged}).headers["X-Request-ID"]
        assert len(answered) == 32 and answered != forged


@pytest.mark.parametrize("written, masked", [
    ("lead 13800138000 routed", "lead 138****8000 routed"), ("+86 138-0013-8000", "138****8000"),
    ("tel:8613800138000;", "tel:138****8000;"), ("order 201380013800012", "order 201380013800012"),
    ("GET /leads/?q=13912345678 HTTP/1.1", "GET /leads/?q=139****5678 HTTP/1.1"),
])
def test_phone_numbers_are_masked_in_logs(written, masked):
    assert mask_phones(written) == masked


def test_log_lines_carry_the_request_id_and_no_phone(app):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("[%(request_id)s] %(message)s"))
    handler.addFilter(RequestLogFilter())
    logger = logging.getLogger("matrix.test_ops")
    logger.addHandler(handler)
    try:
        with app.test_request_context(headers={"X-Request-ID": "req-12345678"}):
            logger.warning("lead from %s failed", "13800138000")
            try:
                raise ValueError("phone 13900139000 refused")
            except ValueError:
                logger.exception("while storing")
    finally:
        logger.removeHandler(handler)
    written = out.getvalue()
    assert "[req-12345678] lead from 138****8000 failed" in written
    assert "139****9000" in written and "13800138000" not in written and "13900139000" not in written
