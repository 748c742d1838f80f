"""How each platform signs the lead webhooks it sends us: pluggable per source.

A source's `signature_scheme` names one of SCHEMES; empty means its kind's default. Every
comparison is constant-time. The platforms' schemes differ and change, so a new one is a
new entry here, and a source switches to it by data, not by code elsewhere.

- hmac_sha256_ts (generic): X-Signature = hex HMAC-SHA256(secret, timestamp + "." + raw body),
  X-Timestamp = unix seconds within 5 minutes of our clock (older or newer: replay refused).
- douyin_sha1 (Douyin Open Platform webhooks): X-Douyin-Signature = hex SHA1(client_secret + raw body).
- kuaishou_md5 (Kuaishou): kwaisign = hex MD5(raw body + app secret).
- oceanengine_hmac (Ocean Engine / 巨量引擎 pushes): X-Open-Signature = hex HMAC-SHA256(app secret,
  raw body), the scheme ByteDance's marketing-API subscription pushes use. Ocean Engine's own
  documentation could not be checked from here: if a source's pushes fail the check, switch the
  source to another scheme (or add one) without touching the rest.
"""
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from matrix.leads.models import SourceKind


class SignatureError(Exception):
    """The delivery does not prove it came from the source; `code` names why (no personal data)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Scheme:
    name: str
    label: str           # what the admin page calls it
    headers: tuple[str, ...]
    verify: Callable[[str, bytes, Mapping, float, int], None]
    sign: Callable[[str, bytes, float], dict[str, str]]  # the headers a sender adds (tests, curl example)


def _same(expected: str, given: str | None) -> bool:
    return hmac.compare_digest(expected.lower().encode(), (given or "").strip().lower().encode())


def _required(headers: Mapping, name: str) -> str:
    value = headers.get(name)
    if not value:
        raise SignatureError("missing_signature", f"the {name} header is missing")
    return value


def _hmac_hex(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def _verify_hmac_ts(secret: str, body: bytes, headers: Mapping, now: float, max_skew: int) -> None:
    signature = _required(headers, "X-Signature").strip()
    stamp = _required(headers, "X-Timestamp").strip()
    if not stamp.isdigit():
        raise SignatureError("bad_timestamp", "X-Timestamp must be unix seconds")
    skew = int(stamp) - now
    if skew < -max_skew:
        raise SignatureError("stale_timestamp", "X-Timestamp is older than 5 minutes (replay refused)")
    if skew > max_skew:
        raise SignatureError("future_timestamp", "X-Timestamp is more than 5 minutes ahead of our clock")
    signature = signature.removeprefix("sha256=")
    if not _same(_hmac_hex(secret, stamp.encode() + b"." + body), signature):
        raise SignatureError("bad_signature", "X-Signature does not match the body")


def _sign_hmac_ts(secret: str, body: bytes, now: float) -> dict[str, str]:
    stamp = str(int(now))
    return {"X-Timestamp": stamp, "X-Signature": _hmac_hex(secret, stamp.encode() + b"." + body)}


def _digest_scheme(header: str, make: Callable[[str, bytes], str]):
    """A scheme with one header holding a digest of secret and body (no timestamp to check)."""
    def verify(secret: str, body: bytes, headers: Mapping, now: float, max_skew: int) -> None:
        if not _same(make(secret, body), _required(headers, header)):
            raise SignatureError("bad_signature", f"{header} does not match the body")

    def sign(secret: str, body: bytes, now: float) -> dict[str, str]:
        return {header: make(secret, body)}
    return verify, sign


_douyin = _digest_scheme("X-Douyin-Signature", lambda s, b: hashlib.sha1(s.encode() + b).hexdigest())
_kuaishou = _digest_scheme("kwaisign", lambda s, b: hashlib.md5(b + s.encode()).hexdigest())
_ocean = _digest_scheme("X-Open-Signature", _hmac_hex)

SCHEMES: dict[str, Scheme] = {
    "hmac_sha256_ts": Scheme("hmac_sha256_ts", "HMAC-SHA256(timestamp.body), X-Signature + X-Timestamp",
                             ("X-Signature", "X-Timestamp"), _verify_hmac_ts, _sign_hmac_ts),
    "douyin_sha1": Scheme("douyin_sha1", "SHA1(secret + body), X-Douyin-Signature",
                          ("X-Douyin-Signature",), *_douyin),
    "kuaishou_md5": Scheme("kuaishou_md5", "MD5(body + secret), kwaisign", ("kwaisign",), *_kuaishou),
    "oceanengine_hmac": Scheme("oceanengine_hmac", "HMAC-SHA256(body), X-Open-Signature",
                               ("X-Open-Signature",), *_ocean),
}

DEFAULT_SCHEME = {SourceKind.GENERIC: "hmac_sha256_ts", SourceKind.DOUYIN: "douyin_sha1",
                  SourceKind.KUAISHOU: "kuaishou_md5", SourceKind.OCEANENGINE: "oceanengine_hmac"}


def scheme_for(source) -> Scheme | None:
    """The source's own scheme, else its kind's default; None for sources that take no webhooks."""
    name = source.signature_scheme or DEFAULT_SCHEME.get(source.kind)
    return SCHEMES.get(name) if name else None


def verify(source, secret: str, body: bytes, headers: Mapping, *, now: float | None = None,
           max_skew: int = 300) -> None:
    """Raise SignatureError unless `body` and `headers` carry the source's valid signature."""
    scheme = scheme_for(source)
    if scheme is None:
        raise SignatureError("no_scheme", "this source does not accept webhooks")
    if not secret:
        raise SignatureError("no_secret", "this source has no secret yet")
    scheme.verify(secret, body, headers, time.time() if now is None else now, max_skew)


def sign(source, secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The headers that make `body` a valid delivery for `source` (tests and the curl example)."""
    scheme = scheme_for(source)
    return scheme.sign(secret, body, time.time() if now is None else now)
