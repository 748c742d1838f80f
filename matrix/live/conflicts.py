"""Double bookings and nearby overlaps among live sessions, for one session or a whole imported week.

Hard conflicts refuse: the same account, or the same anchor, live twice at overlapping times.
Nearby overlaps warn: two different stores of the same city (or, with a nearby distance set,
within that many kilometres) live at the same time compete for the same local viewers.
Sessions only touching (one ends at 20:00, the next starts at 20:00) do not overlap.
One sweep over the sessions sorted by start compares each with those still running.
"""
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import format_datetime, format_time
from flask_babel import gettext as _
from sqlalchemy import select

from matrix.accounts.models import Account
from matrix.extensions import db
from matrix.live.models import LiveSession, SessionStatus
from matrix.content.spacing import Site, km_between
from matrix.stores.models import Store


@dataclass(frozen=True)
class Booking:
    """A session as the checker sees it; `key` is the session id, or the caller's key for a new one."""

    key: object
    session_id: int | None
    title: str
    account_id: int
    account_label: str
    store_id: int | None
    store_label: str
    anchor: str
    anchor_key: str
    starts_at: datetime
    ends_at: datetime


@dataclass
class Overlap:
    """A nearby session live at the same time: a warning the scheduler may accept."""

    other_key: object
    other_session_id: int | None
    message: str


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    nearby: list[Overlap] = field(default_factory=list)


def fold_anchor(name: str) -> str:
    """The anchor's name as compared: spaces removed, case folded (“Li Na” = “li na” = “LiNa”)."""
    return "".join((name or "").split()).casefold()


def span_label(starts_at: datetime, ends_at: datetime) -> str:
    return _("%(start)s–%(end)s", start=format_datetime(starts_at, "yyyy-MM-dd HH:mm"),
             end=format_time(ends_at, "HH:mm"))


def existing_bookings(start: datetime, end: datetime, *, excluding: Iterable[int] = ()) -> list[Booking]:
    """Sessions not cancelled that overlap [start, end), except those being moved."""
    excluded = set(excluding)
    rows = db.session.execute(
        select(LiveSession.id, LiveSession.title, LiveSession.account_id, Account.handle, LiveSession.store_id,
               Store.code, Store.name, LiveSession.anchor, LiveSession.anchor_key, LiveSession.starts_at,
               LiveSession.ends_at)
        .join(Account, Account.id == LiveSession.account_id).outerjoin(Store, Store.id == LiveSession.store_id)
        .where(LiveSession.status != SessionStatus.CANCELLED, LiveSession.starts_at < end,
               LiveSession.ends_at > start)).all()
    return [Booking(r.id, r.id, r.title, r.account_id, "@" + r.handle, r.store_id,
                    f"{r.code} {r.name}" if r.code else _("brand main account"), r.anchor, r.anchor_key,
                    r.starts_at, r.ends_at) for r in rows if r.id not in excluded]


def store_sites(store_ids: Iterable[int | None]) -> dict[int, Site]:
    ids = sorted({s for s in store_ids if s is not None})
    sites = {}
    for start in range(0, len(ids), 5_000):
        for row in db.session.execute(select(Store.id, Store.city_code, Store.lon, Store.lat)
                                      .where(Store.id.in_(ids[start:start + 5_000]))):
            sites[row.id] = Site(row.id, row.city_code, row.lon, row.lat)
    return sites


def check(candidates: list[Booking], *, nearby_km: float) -> dict[object, Findings]:
    """Findings per candidate key against each other and every stored session they overlap."""
    findings = {c.key: Findings() for c in candidates}
    if not candidates:
        return findings
    stored = existing_bookings(min(c.starts_at for c in candidates), max(c.ends_at for c in candidates),
                               excluding=[c.session_id for c in candidates if c.session_id])
    everyone = sorted(stored + candidates, key=lambda b: b.starts_at)
    sites = store_sites(b.store_id for b in everyone)
    # Candidates by identity, not key: an import's line number may equal a stored session's id.
    new = {id(c) for c in candidates}
    running: list[Booking] = []
    for booking in everyone:
        running = [r for r in running if r.ends_at > booking.starts_at]
        for other in running:
            if id(booking) in new:
                _compare(booking, other, findings[booking.key], sites, nearby_km)
            if id(other) in new:
                _compare(other, booking, findings[other.key], sites, nearby_km)
        running.append(booking)
    return findings


def _compare(mine: Booking, other: Booking, found: Findings, sites: dict[int, Site], nearby_km: float) -> None:
    # Most pairs of a busy evening are neither: the time label is formatted only for a finding
    # (formatting it for every pair was 80% of checking a 2,000-session week).
    if mine.account_id == other.account_id:
        found.errors.append(_("The account %(account)s is already live in “%(title)s” (%(when)s).",
                              account=other.account_label, title=other.title,
                              when=span_label(other.starts_at, other.ends_at)))
    elif mine.anchor_key and mine.anchor_key == other.anchor_key:
        found.errors.append(_("The anchor %(anchor)s is already on “%(title)s” at %(store)s (%(when)s).",
                              anchor=other.anchor, title=other.title, store=other.store_label,
                              when=span_label(other.starts_at, other.ends_at)))
    elif mine.store_id and other.store_id and mine.store_id != other.store_id:
        reason = _nearby(sites.get(mine.store_id), sites.get(other.store_id), nearby_km)
        if reason:
            found.nearby.append(Overlap(other.key, other.session_id, _(
                "%(store)s is live at an overlapping time in “%(title)s” (%(when)s): %(reason)s.",
                store=other.store_label, title=other.title, when=span_label(other.starts_at, other.ends_at),
                reason=reason)))


def _nearby(mine: Site | None, other: Site | None, nearby_km: float) -> str | None:
    if mine is None or other is None:
        return None
    if mine.city_code == other.city_code:
        return _("same city")
    if nearby_km > 0 and None not in (mine.lon, mine.lat, other.lon, other.lat):
        km = km_between(mine, other)
        if km <= nearby_km:
            return _("%(km).1f km away", km=km)
    return None
