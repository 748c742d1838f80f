"""Lead webhooks: one URL per source (POST /hooks/<slug>), checked by the source's signature scheme.

Public and CSRF-exempt: the signature is the authentication. A verified delivery is stored once
(deliveries.accept: one INSERT, one commit) before we answer 200; the worker routes it right after
(or this request does, with LEAD_ROUTING = "inline"), so a burst is answered in milliseconds.
A refused delivery answers 4xx JSON {"error": ..., "code": ...} and leaves only a RejectedDelivery;
a database that cannot be reached answers JSON 503 with Retry-After (matrix.ops.faults), never 200.
"""
from flask import Blueprint, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from matrix.errors import DomainError
from matrix.extensions import csrf
from matrix.leads import deliveries, intake, mapping, signatures
from matrix.leads.models import SourceKind
from matrix.leads.source_cache import WebhookSource, webhook_source
from matrix.ops.ratelimit import rate_limited

bp = Blueprint("hooks", __name__, url_prefix="/hooks")
MAX_JSON_DEPTH = 32  # lead payloads nest three or four levels; deeper only costs stack
csrf.exempt(bp)

# Machine-read answers stay in English; the rejected-deliveries page translates the codes.
MESSAGES = {
    "unknown_source": "unknown or inactive lead source",
    "too_large": "the body is larger than the limit of %(limit)d bytes",
    "missing_signature": "the signature header is missing",
    "bad_signature": "the signature does not match the body",
    "bad_timestamp": "the timestamp header must be unix seconds",
    "stale_timestamp": "the timestamp is older than 5 minutes (replay refused)",
    "future_timestamp": "the timestamp is more than 5 minutes ahead",
    "no_secret": "the source has no secret",
    "no_scheme": "the source takes no webhooks",
    "bad_json": "the body is not valid UTF-8 JSON (NaN and Infinity are not JSON)",
    "too_deep": "the JSON nests deeper than %(depth)d levels",
    "not_object": "the body must be a JSON object",
    "missing_field": "missing required field: %(field)s",
    "invalid_field": "invalid field: %(field)s",
}
STATUS = {"unknown_source": 404, "too_large": 413, "bad_json": 400, "not_object": 400, "too_deep": 400,
          "missing_field": 422, "invalid_field": 422}  # signature problems: 403


class Refused(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _slow_down(seconds: int):
    # Answered before any database work: a flood costs a counter in Redis, not rows in PostgreSQL.
    return {"error": "too many calls from this address", "code": "rate_limited"}, 429, {"Retry-After": str(seconds)}


@bp.post("/<slug>")
@rate_limited("webhook", answer=_slow_down)
def receive(slug: str):
    """Take one lead delivery from a platform: check it, store it once, answer (the worker routes it)."""
    source, size = None, request.content_length or 0
    try:
        source = _source(slug)
        body = _body()
        size = len(body)
        _verify(source, body)
        payload = _payload(body)
        if source.kind == SourceKind.DOUYIN and payload.get("event") == "verify_webhook":
            # Douyin checks a new callback URL by asking for its challenge back.
            return {"challenge": mapping.lookup(payload, "content.challenge")}
        data = deliveries.lead_input(source, payload, body, request.headers.get("Msg-Id"))
        deliveries.check_lead(data)
        accepted = deliveries.accept(source, data, body, inline=current_app.config["LEAD_ROUTING"] == "inline")
    except Refused as refused:
        return _refuse(refused.code, slug, source, size)
    except intake.LeadRejected as e:
        return _refuse(e.code, slug, source, size)
    except DomainError as e:  # a value that cannot be stored, such as a phone number that is not one
        return _refuse(f"invalid_field:{e.field or 'payload'}", slug, source, size)
    answer = {"ok": True, "duplicate": accepted.duplicate, "delivery_id": accepted.delivery_id}
    if accepted.lead_id is not None:
        answer["lead_id"] = accepted.lead_id
    elif not accepted.duplicate:
        answer["queued"] = True  # stored; the worker makes the lead right after
    return answer


def _source(slug: str) -> WebhookSource:
    source = webhook_source(slug[:40])
    if source is None:
        raise Refused("unknown_source")
    return source


def _body() -> bytes:
    limit = current_app.config["WEBHOOK_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise Refused("too_large")  # refused before reading a byte of it
    request.max_content_length = limit  # a chunked body without a length is cut off here
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise Refused("too_large") from None


def _verify(source: WebhookSource, body: bytes) -> None:
    try:
        signatures.verify(source, source.secret, body, request.headers,
                          max_skew=current_app.config["WEBHOOK_MAX_SKEW_S"])
    except signatures.SignatureError as e:
        raise Refused(e.code) from None


def _payload(body: bytes) -> dict:
    try:
        payload = deliveries.parse_body(body)
    except RecursionError:
        raise Refused("too_deep") from None
    except (UnicodeDecodeError, ValueError):
        raise Refused("bad_json") from None
    if not isinstance(payload, dict):
        raise Refused("not_object")
    if _depth(payload) > MAX_JSON_DEPTH:
        raise Refused("too_deep")
    return payload


def _depth(payload) -> int:
    deepest, stack = 0, [(payload, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_JSON_DEPTH:
            children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _refuse(code: str, slug: str, source: WebhookSource | None, size: int):
    """Answer 4xx naming the problem, and keep a record without personal data."""
    base, _sep, field = code.partition(":")
    status = STATUS.get(base, 403)
    message = MESSAGES.get(base, base) % {"limit": current_app.config["WEBHOOK_MAX_BYTES"], "field": field,
                                          "depth": MAX_JSON_DEPTH}
    intake.record_rejection(reason=code, status_code=status, source=source, slug=slug, body_bytes=size,
                            remote_addr=request.remote_addr or "")
    return {"error": message, "code": base}, status
