"""Connecting the chain's WeCom app: corp id, secret and callback keys (encrypted), the test call, the client."""
import re
import secrets
import string
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from matrix.audit import services as audit
from matrix.errors import DomainError, FieldErrors
from matrix.extensions import db
from matrix.leads.phones import decrypt_text, encrypt_text
from matrix.models import utcnow
from matrix.wecom.api import ErrorKind, WecomClient, WecomError
from matrix.wecom.callback import CallbackCrypto, check_aes_key
from matrix.wecom.models import WecomConnection
from matrix.wecom.tokens import DatabaseTokens

_CORP_ID = re.compile(r"^[A-Za-z0-9]{8,32}$")
_SECRET = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")  # WeCom: "英文或数字，长度为3-32字符"


@dataclass(frozen=True)
class CallbackKeys:
    """Callback token and EncodingAESKey generated here, shown once to be pasted into WeCom."""

    token: str
    aes_key: str


def connection_row() -> WecomConnection | None:
    """The chain's WeCom connection, active or not (one row)."""
    return db.session.scalar(select(WecomConnection).order_by(WecomConnection.id).limit(1))


def active_connection() -> WecomConnection | None:
    """The connection when WeCom is set up and switched on; None means join codes fall back to uploaded QRs."""
    row = connection_row()
    return row if row is not None and row.active else None


def save_connection(*, corp_id: str, secret: str = "", callback_token: str = "", aes_key: str = "",
                    generate_callback_keys: bool = False, auto_create_room: bool = True,
                    actor) -> tuple[WecomConnection, CallbackKeys | None]:
    """Connect or change the WeCom app; an empty secret or key keeps the stored one. Returns generated keys."""
    row = connection_row()
    corp_id, secret = corp_id.strip(), secret.strip()
    callback_token, aes_key = callback_token.strip(), aes_key.strip()
    _check(corp_id, secret, callback_token, aes_key, needs_secret=row is None)
    generated = None
    if generate_callback_keys:
        generated = CallbackKeys(token=_random_text(32), aes_key=_random_text(43))
        callback_token, aes_key = generated.token, generated.aes_key
    changes: dict = {}
    created = row is None
    if row is None:
        row = WecomConnection(corp_id=corp_id, secret_encrypted=b"", active=True, connected_at=utcnow())
        db.session.add(row)
        changes["corp_id"] = [None, corp_id]
    elif row.corp_id != corp_id:
        changes["corp_id"] = [row.corp_id, corp_id]
        row.corp_id, row.connected_at = corp_id, utcnow()  # another corp: its joins count from now
    if secret:
        row.secret_encrypted, row.secret_last4 = encrypt_text(secret), secret[-4:]
        changes["secret"] = "changed"
    if callback_token:
        row.callback_token_encrypted = encrypt_text(callback_token)
        changes["callback_token"] = "changed"
    if aes_key:
        row.aes_key_encrypted = encrypt_text(aes_key)
        changes["aes_key"] = "changed"
    if row.auto_create_room is not bool(auto_create_room):
        changes["auto_create_room"] = [row.auto_create_room, bool(auto_create_room)]
        row.auto_create_room = bool(auto_create_room)
    if not row.active:
        row.active, changes["active"] = True, [False, True]
    if "corp_id" in changes or "secret" in changes:
        row.access_token_encrypted, row.token_expires_at, row.config_error = None, None, None
    db.session.flush()
    if changes:
        audit.record(actor, "create" if created else "update", "wecom_connection", entity_id=row.id,
                     summary=f"WeCom {row.corp_id}", changes=changes)
    db.session.commit()
    return row, generated


def disconnect(*, actor) -> None:
    """Stop using WeCom: join codes fall back to the uploaded QR codes; the settings are kept."""
    row = connection_row()
    if row is None or not row.active:
        raise DomainError(_("WeCom is not connected."))
    row.active, row.access_token_encrypted, row.token_expires_at = False, None, None
    audit.record(actor, "disconnect", "wecom_connection", entity_id=row.id, summary=f"WeCom {row.corp_id}")
    db.session.commit()


def test_connection(*, actor) -> None:
    """Ask WeCom for an access token with the stored corp id and secret; raises a DomainError saying why not."""
    row = active_connection()
    if row is None:
        raise DomainError(_("Connect WeCom first."))
    db.session.commit()  # no transaction stays open while WeCom answers
    try:
        client_for(row).fetch_token()
    except WecomError as error:
        db.session.rollback()
        row = active_connection()
        if error.kind == ErrorKind.CONFIG:
            row.config_error, row.config_error_at = error.message, utcnow()
        audit.record(actor, "test", "wecom_connection", entity_id=row.id, summary=f"failed: {error.message}")
        db.session.commit()
        raise DomainError(explain(error)) from None
    row = active_connection()
    row.last_ok_at, row.config_error, row.config_error_at = utcnow(), None, None
    audit.record(actor, "test", "wecom_connection", entity_id=row.id, summary="ok")
    db.session.commit()


def explain(error: WecomError) -> str:
    """What HQ should do about a WeCom error, by its class."""
    if error.kind == ErrorKind.CONFIG:
        return _("WeCom refused the app (%(error)s): check the corp id, the app secret, that the app is listed "
                 "under 客户联系 → 可调用接口的应用, and the trusted IP addresses.", error=error.message)
    if error.kind == ErrorKind.RETRY:
        return _("WeCom was busy or could not be reached (%(error)s): it will be tried again.", error=error.message)
    return _("WeCom refused the request (%(error)s).", error=error.message)


def client_for(row: WecomConnection) -> WecomClient:
    """The API client of the connection, sharing the token cached on its row."""
    config = current_app.config
    return WecomClient(row.corp_id, decrypt_text(row.secret_encrypted),
                       DatabaseTokens(row.id, seal=encrypt_text, unseal=decrypt_text),
                       base_url=config.get("WECOM_API_BASE_URL"), timeout=config.get("WECOM_API_TIMEOUT_S", 8.0))


def crypto_for(row: WecomConnection) -> CallbackCrypto | None:
    """The callback crypto of the connection; None until both callback keys are set."""
    if not row.callback_token_encrypted or not row.aes_key_encrypted:
        return None
    return CallbackCrypto(decrypt_text(row.callback_token_encrypted), decrypt_text(row.aes_key_encrypted), row.corp_id)


def masked(secret_last4: str) -> str:
    """****abcd: enough to tell secrets apart, not to use one."""
    return f"****{secret_last4}" if secret_last4 else ""


def _check(corp_id: str, secret: str, callback_token: str, aes_key: str, *, needs_secret: bool) -> None:
    errors = {}
    if not _CORP_ID.match(corp_id):
        errors["corp_id"] = _("The corp id is 8 to 32 letters and digits (WeCom admin → 我的企业 → 企业ID).")
    if (secret or needs_secret) and not _SECRET.match(secret):
        errors["secret"] = _("The app secret is 16 to 64 letters, digits, “-” or “_” (the app's page → Secret).")
    if callback_token and not _TOKEN.match(callback_token):
        errors["callback_token"] = _("The callback token is 3 to 32 letters and digits.")
    if aes_key:
        try:
            check_aes_key(aes_key)
        except ValueError:
            errors["aes_key"] = _("The EncodingAESKey is exactly 43 letters and digits.")
    if errors:
        raise FieldErrors(errors)


def _random_text(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))
