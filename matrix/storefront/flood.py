"""Per-address limits of the public pages' GETs: Flask-Limiter's own storage, without its per-request bookkeeping.

A crowd scanning a poster must cost little per page: counting a hit in the limiter's storage (memory, or Redis
shared by every process) is cheap; Flask-Limiter's resolution of decorators and defaults on every request is
not (it took half of a cached page's time). The lead form's POST keeps the ordinary decorator.
"""
from functools import lru_cache

from flask import request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

from matrix.extensions import limiter

PUBLIC_GETS = frozenset({"storefront.page", "storefront.join", "storefront.thanks", "storefront.group_qr",
                         "storefront.privacy"})


@lru_cache(maxsize=8)
def _items(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


def within_limit(limit: str, scope: str = "storefront") -> bool:
    """Count this request against `limit` ("300 per minute") for its address; False once it is over."""
    if not limiter.enabled:
        return True
    strategy, address = limiter.limiter, get_remote_address()
    return all(strategy.hit(item, scope, address) for item in _items(limit))


@limiter.request_filter
def _checked_here() -> bool:
    """Flask-Limiter skips the public GETs: within_limit counts them."""
    return request.method == "GET" and request.endpoint in PUBLIC_GETS
