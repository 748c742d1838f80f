"""The lead form's own token: signed, time-limited, no session and no cookie.

The public page sets no cookie, so Flask-WTF's session-bound CSRF token cannot be used. A visitor has
no login for a forged request to ride on; what matters is that a POST comes from a form we served, not
too fast (a script posts at once) and not too late. The token carries the store, the time the form was
served and a digest of the consent text shown, signed with the app's secret.
"""
import hashlib
import hmac
import time
from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class FormToken:
    store_id: int
    issued_at: int
    consent: str     # digest of the consent line and privacy notice the visitor saw


def issue(store_id: int, consent: str, *, now: float | None = None) -> str:
    """`<issued, hex>.<consent digest>.<signature>`: about 30 characters."""
    issued = int(time.time() if now is None else now)
    body = f"{issued:x}.{consent}"
    return f"{body}.{_sign(store_id, body)}"


def read(token: str, store_id: int) -> FormToken | None:
    """The token's contents if we signed it for this store; None for anything else."""
    parts = str(token or "")[:80].split(".")
    if len(parts) != 3:
        return None
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_sign(store_id, body), parts[2]):
        return None
    try:
        return FormToken(store_id, int(parts[0], 16), parts[1])
    except ValueError:
        return None


def consent_digest(*texts: str | None) -> str:
    """A short fingerprint of what the consent line and notice said."""
    return hashlib.sha256("\x1f".join(t or "" for t in texts).encode()).hexdigest()[:12]


def _sign(store_id: int, body: str) -> str:
    key = _key(current_app.config["SECRET_KEY"])
    return hmac.new(key, f"{store_id}|{body}".encode(), hashlib.sha256).hexdigest()[:32]


_keys: dict[str, bytes] = {}


def _key(secret: str) -> bytes:
    # A key of its own, derived from SECRET_KEY, so a form token can never pass for a session signature.
    if secret not in _keys:
        _keys[secret] = hashlib.sha256(b"storefront-form|" + str(secret).encode()).digest()
    return _keys[secret]
