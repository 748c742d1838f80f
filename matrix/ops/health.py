"""Probes for the process manager and the load balancer: /healthz (the process answers) and
/readyz (the database answers, its schema is at the latest migration, the rate-limit store answers).

Public, read nothing private and say little: an address that only nginx and the orchestrator use.
"""
from flask import Blueprint, current_app

from matrix.ops.check import readiness

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up (no database call: a restart of PostgreSQL must not restart the web)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Ready to serve: database reachable, migrations at head, rate limits storage reachable."""
    checks = readiness(current_app)
    body = {c.name: ("ok" if c.ok else "failing") for c in checks}
    ready = all(c.ok for c in checks)
    return {"status": "ready" if ready else "not ready", **body}, 200 if ready else 503
