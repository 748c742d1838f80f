"""The webhook's view of a lead source, kept per process for WEBHOOK_SOURCE_CACHE_S (2 s).

A burst of a thousand deliveries a second would otherwise read the same source row and decrypt the
same secret a thousand times. A source deactivated, re-keyed or re-mapped is seen by every process
within that time; 0 (the suite) reads the row every time.
"""
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from matrix.extensions import db
from matrix.leads.models import LeadSource, SourceKind
from matrix.leads.sources import WEBHOOK_KINDS, source_secret

EXTENSION = "matrix.webhook_sources"


@dataclass(frozen=True)
class WebhookSource:
    """What checking and storing a delivery needs of its source (the names LeadSource uses)."""

    id: int
    slug: str
    kind: SourceKind
    signature_scheme: str
    field_map: dict
    secret: str


def webhook_source(slug: str) -> WebhookSource | None:
    """The active webhook source of this URL name, or None."""
    max_age = float(current_app.config.get("WEBHOOK_SOURCE_CACHE_S", 0))
    cache = current_app.extensions.setdefault(EXTENSION, {})
    hit = cache.get(slug)
    if max_age and hit is not None and time.monotonic() - hit[0] < max_age:
        return hit[1]
    source = db.session.scalar(select(LeadSource).where(LeadSource.slug == slug))
    found = None
    if source is not None and source.active and source.kind in WEBHOOK_KINDS:
        found = WebhookSource(source.id, source.slug, source.kind, source.signature_scheme or "",
                              dict(source.field_map or {}), source_secret(source))
    if max_age:
        if len(cache) > 1000:  # unknown names from a scanner must not grow it without end
            cache.clear()
        cache[slug] = (time.monotonic(), found)
    return found
