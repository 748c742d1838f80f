"""WeCom's callback URL for customer-group changes (GET /wecom/callback checks it, POST brings events).

Public and CSRF-exempt: msg_signature is the authentication. A refused call answers 4xx with a short
reason and changes nothing; an accepted one is applied without calling WeCom and answered with an empty
200 well within WeCom's 5 seconds (anything else makes WeCom retry, up to three times).
"""
import logging
import time

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from matrix.extensions import csrf
from matrix.joins.callbacks import apply_chat_event
from matrix.joins.connection import active_connection, crypto_for
from matrix.models import utcnow
from matrix.wecom.callback import CallbackCrypto, CallbackError, parse_event

log = logging.getLogger(__name__)

bp = Blueprint("wecom_callback", __name__, url_prefix="/wecom")
csrf.exempt(bp)

STATUS = {"not_connected": 404, "too_large": 413, "bad_signature": 403, "stale_timestamp": 403,
          "bad_timestamp": 403, "missing_parameter": 400}  # anything else: 400, an unreadable message


@bp.get("/callback")
def verify():
    """Answer WeCom's check of the callback URL with the decrypted echostr."""
    try:
        crypto = _crypto()
        signature, timestamp, nonce = _signed_parameters()
        echo = crypto.verify_url(signature, timestamp, nonce, _parameter("echostr", 1024))
    except CallbackError as error:
        return _refuse(error.code)
    return Response(echo, mimetype="text/plain")


@bp.post("/callback")
def receive():
    """Take one callback: check the signature, decrypt, apply a customer-group event, answer an empty 200."""
    try:
        crypto = _crypto()
        signature, timestamp, nonce = _signed_parameters()
        message = crypto.open_message(_body(), signature, timestamp, nonce)
        event = parse_event(message)
    except CallbackError as error:
        return _refuse(error.code)
    if event is not None:
        apply_chat_event(event, now=utcnow())
    return Response("", mimetype="text/plain")


def _crypto() -> CallbackCrypto:
    connection = active_connection()
    crypto = crypto_for(connection) if connection is not None else None
    if crypto is None:
        raise CallbackError("not_connected")
    return crypto


def _parameter(name: str, limit: int = 128) -> str:
    value = request.args.get(name, "")
    if not value or len(value) > limit:
        raise CallbackError("missing_parameter")
    return value


def _signed_parameters() -> tuple[str, str, str]:
    signature, timestamp, nonce = _parameter("msg_signature"), _parameter("timestamp"), _parameter("nonce")
    if not timestamp.isdigit():
        raise CallbackError("bad_timestamp")
    if abs(time.time() - int(timestamp)) > current_app.config["WECOM_CALLBACK_MAX_SKEW_S"]:
        raise CallbackError("stale_timestamp")  # an old signed call replayed
    return signature, timestamp, nonce


def _body() -> bytes:
    limit = current_app.config["WECOM_CALLBACK_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise CallbackError("too_large")  # refused before reading a byte of it
    request.max_content_length = limit
    try:
        return request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise CallbackError("too_large") from None


def _refuse(code: str) -> Response:
    log.warning("WeCom callback refused (%s) from %s", code, request.remote_addr)
    return Response(code, status=STATUS.get(code, 400), mimetype="text/plain")
