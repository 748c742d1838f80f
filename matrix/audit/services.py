"""Record who changed what. Entries join the caller's transaction."""
from typing import Any

from flask_babel import LazyString

from matrix.audit.models import AuditEntry
from matrix.auth.models import User
from matrix.chain import chain_language
from matrix.communities.models import mask_secret_url
from matrix.extensions import db

SECRET_FIELDS = {"robot_webhook_url", "password_hash", "password"}


def record(actor: User | None, action: str, entity: str, *, entity_id: int | None = None,
           store_id: int | None = None, summary: "str | LazyString" = "", changes: dict | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction; secrets are never written in full.

    A summary given as `_l("...", n=3)` is kept as its message id and parameters, so the log shows it in each
    reader's language; its text in the chain's language is stored too (searches, older readers).
    """
    message, params = message_of(summary)
    with chain_language():
        text = str(summary)
    entry = AuditEntry(actor_id=actor.id if actor else None, action=action, entity=entity,
                       entity_id=entity_id, store_id=store_id, summary=text[:2000], message=message,
                       params=params, changes=_redact(changes) if changes else None)
    db.session.add(entry)
    return entry


def message_of(summary) -> tuple[str | None, dict | None]:
    """The message id and JSON-safe parameters of a lazily translated summary; (None, None) for plain text."""
    if (not isinstance(summary, LazyString) or getattr(summary._func, "__name__", "") != "gettext"
            or len(summary._args) != 1 or len(summary._args[0]) > 300):
        return None, None
    return summary._args[0], {name: _param(value) for name, value in summary._kwargs.items()}


def _param(value):
    """A parameter as JSON: a nested translatable text keeps its own message id, anything else its plain value."""
    if isinstance(value, LazyString):
        message, params = message_of(value)
        return {"msgid": message, "params": params} if message else str(value)
    return _plain(value)


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    """Field -> [old, new] for each field that changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: lists and mappings stay lists and mappings (the log lists their items)."""
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
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
