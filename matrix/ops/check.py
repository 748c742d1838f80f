"""`flask check`: is this configuration fit to serve? Settings, database, migrations, rate-limit store.

Run before starting the web (gunicorn.conf.py runs it too); /readyz runs the last three. Production
refuses what works only on one machine or leaks: no BASE_URL, per-process rate limits, SQLite, a
robot test host, a short secret key.
"""
from dataclasses import dataclass
from functools import lru_cache

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from matrix.extensions import db


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


def configuration(app: Flask) -> list[Check]:
    """What production needs from its settings (development passes what it can do without)."""
    config = app.config
    production = config.get("MATRIX_ENV") == "production"
    storage = str(config.get("RATELIMIT_STORAGE_URI", ""))
    found = [
        Check("base_url", bool(config.get("BASE_URL")) or not production,
              config.get("BASE_URL") or "not set: robot messages link to the request's host (development only)"),
        Check("rate_limit_storage", not (production and storage.startswith("memory")),
              "memory:// counts per process: set RATELIMIT_STORAGE_URI=redis://..." if storage.startswith("memory")
              else storage.split("@")[-1]),
        Check("database_url", not (production and config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")),
              "SQLite serves one process: use PostgreSQL" if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
              else "PostgreSQL"),
        Check("secret_key", len(str(config.get("SECRET_KEY") or "")) >= 32, "at least 32 random characters"),
        Check("wecom_robot_base_url", not (production and config.get("WECOM_ROBOT_BASE_URL")),
              "set: robot calls go to a test host" if config.get("WECOM_ROBOT_BASE_URL") else "unset"),
        Check("secure_cookies", bool(config.get("SESSION_COOKIE_SECURE")) or not production,
              "session cookies are sent over HTTPS only" if config.get("SESSION_COOKIE_SECURE") else "HTTP allowed"),
    ]
    return found


def readiness(app: Flask) -> list[Check]:
    """Can this process serve now: database, schema at the latest migration, rate-limit store."""
    from matrix.ops.ratelimit import limits_of

    checks = []
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = _current_revisions(connection)
        checks.append(Check("database", True, "reachable"))
        head = _head_revisions(app.extensions["migrate"].directory)
        checks.append(Check("migrations", current == head,
                            f"at {', '.join(sorted(current)) or 'none'}; latest {', '.join(sorted(head))}"
                            + ("" if current == head else ": run `flask db upgrade`")))
    except Exception as error:  # noqa: BLE001 - any failure to connect is the answer
        checks.append(Check("database", False, f"unreachable ({type(error).__name__})"))
        checks.append(Check("migrations", False, "unknown: no database"))
    limits = limits_of(app)
    checks.append(Check("rate_limit_store", limits.healthy(), limits.storage_uri.split("@")[-1]))
    return checks


def _current_revisions(connection) -> set[str]:
    from alembic.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


@lru_cache(maxsize=4)
def _head_revisions(directory: str) -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    return set(ScriptDirectory.from_config(config).get_heads())


def run_checks(app: Flask) -> list[Check]:
    return configuration(app) + readiness(app)


@click.command("check")
@with_appcontext
def check_command():
    """Check the settings, the database, its migrations and the rate-limit store; exit 1 on any failure."""
    checks = run_checks(current_app)
    for item in checks:
        click.echo(f"{'ok  ' if item.ok else 'FAIL'} {item.name:<22} {item.detail}")
    failed = [c.name for c in checks if not c.ok]
    if failed:
        raise click.ClickException(f"{len(failed)} check(s) failed: {', '.join(failed)}")
    click.echo(f"All {len(checks)} checks passed ({current_app.config.get('MATRIX_ENV')}).")
