"""Record who changed what. Entries join the caller's transaction."""
from typing import Any

from matrix.audit.models import AuditEntry
from matrix.auth.models import User
from matrix.communities.models import mask_secret_url
from matrix.extensions import db

SECRET_FIELDS = {"robot_webhook_url", "password_hash", "password"}


def record(actor: User | None, action: str, entity: str, *, entity_id: int | None = None,
           store_id: int | None = None, summary: str = "", changes: dict | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction; secrets are never written in full."""
    entry = AuditEntry(actor_id=actor.id if actor else None, action=action, entity=entity,
                       entity_id=entity_id, store_id=store_id, summary=summary[:2000],
                       changes=_redact(changes) if changes else None)
    db.session.add(entry)
    return entry


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    """Field -> [old, new] for each field that changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value.value if hasattr(value, "value") else value)


def _redact(changes: dict) -> dict:
    out = {}
    for key, value in changes.items():
        if key in SECRET_FIELDS:
            if isinstance(value, list):
                value = [mask_secret_url(v) if isinstance(v, str) else v for v in value]
            else:
                value = mask_secret_url(value) if isinstance(value, str) else "****"
        out[key] = value
    return out
