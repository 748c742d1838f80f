"""What a customer scans or opens to join a store's group from a channel, and HQ's actions on the codes.

`join_code_for` is what other features call (the lead's invite card, the store page, posters): the WeCom
join code when WeCom is connected and the code exists, otherwise the product's fallback, the store's
current group's uploaded QR code or invite link. It reads only; nothing here calls WeCom.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from matrix.audit import services as audit
from matrix.communities.models import Community
from matrix.communities.services import current_groups
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.joins.connection import active_connection
from matrix.joins.models import GroupJoin, JoinWay, JoinWayStatus
from matrix.joins.states import CHANNELS, make_state
from matrix.models import utcnow

STATUS_LABELS = {JoinWayStatus.PENDING: _l("Being made"), JoinWayStatus.READY: _l("Ready"),
                 JoinWayStatus.NO_GROUPS: _l("No WeCom group"), JoinWayStatus.ERROR: _l("Refused by WeCom"),
                 JoinWayStatus.RETIRED: _l("Deleted")}
STATUS_BADGES = {JoinWayStatus.PENDING: "pending", JoinWayStatus.READY: "ok", JoinWayStatus.NO_GROUPS: "warning",
                 JoinWayStatus.ERROR: "error", JoinWayStatus.RETIRED: "retired"}


@dataclass(frozen=True)
class JoinCode:
    """`kind` "wecom": WeCom's QR image at `qr_url`; "group": a group's uploaded QR and/or invite link; "none"."""

    store_id: int
    channel: str
    kind: str
    qr_url: str | None = None
    state: str | None = None
    community_id: int | None = None
    community_name: str = ""
    has_qr_image: bool = False
    invite_link: str | None = None


def join_code_for(store_id: int, channel: str, *, lead_id: int | None = None) -> JoinCode:
    """The join code of a store's channel (a lead's own one first when `lead_id` is given), or the fallback."""
    if channel not in CHANNELS:
        raise DomainError(_("Unknown channel %(channel)s.", channel=channel))
    way = wecom_join_way(store_id, channel, lead_id=lead_id)
    if way is not None:
        return JoinCode(store_id, channel, "wecom", qr_url=way.qr_code, state=way.state)
    group = current_groups({store_id}).get(store_id)
    if group is None:
        return JoinCode(store_id, channel, "none")
    has_qr = db.session.scalar(select(Community.qr_mime).where(Community.id == group.id)) is not None
    return JoinCode(store_id, channel, "group", community_id=group.id, community_name=group.name,
                    has_qr_image=has_qr, invite_link=group.invite_link)


def wecom_join_way(store_id: int, channel: str, *, lead_id: int | None = None) -> JoinWay | None:
    """The scannable WeCom code for the channel (the lead's own first), or None."""
    if active_connection() is None:
        return None
    states = ([make_state(store_id, channel, lead_id)] if lead_id else []) + [make_state(store_id, channel)]
    ways = {w.state: w for w in db.session.scalars(select(JoinWay).where(JoinWay.state.in_(states)))}
    return next((ways[s] for s in states if s in ways and ways[s].scannable), None)


@dataclass(frozen=True)
class LeadInvite:
    """For a lead's invite card: the WeCom code to print (their own, else the store's), and their own code."""

    connected: bool
    way: JoinWay | None = None
    own: JoinWay | None = None


def lead_invite(lead) -> LeadInvite:
    """What the lead's invite card shows when WeCom is connected; `way` None means the group's own QR."""
    if lead.store_id is None or active_connection() is None:
        return LeadInvite(False)
    return LeadInvite(True, wecom_join_way(lead.store_id, "lead", lead_id=lead.id), lead_join_way(lead))


def lead_join_way(lead) -> JoinWay | None:
    """The lead's own join code, whatever its status."""
    if lead.store_id is None:
        return None
    return db.session.scalar(select(JoinWay).where(JoinWay.state == make_state(lead.store_id, "lead", lead.id)))


def request_lead_code(lead, *, actor) -> JoinWay:
    """Ask for a join code of the lead's own, so their join is attributed to them; the sync makes it."""
    if active_connection() is None:
        raise DomainError(_("Connect WeCom first: without it the store's group QR code is used."))
    if lead.store_id is None:
        raise DomainError(_("Route the lead to a store first."))
    way = lead_join_way(lead)
    if way is not None and way.status != JoinWayStatus.RETIRED:
        return way
    if way is None:
        way = JoinWay(store_id=lead.store_id, channel="lead", lead_id=lead.id,
                      state=make_state(lead.store_id, "lead", lead.id), chat_ids=[])
        db.session.add(way)
    way.status, way.stale, way.config_id, way.qr_code = JoinWayStatus.PENDING, True, None, None
    way.next_attempt_at, way.attempts, way.last_error, way.created_at = utcnow(), 0, None, utcnow()
    db.session.flush()
    audit.record(actor, "request", "join_way", entity_id=way.id, store_id=lead.store_id,
                 summary=f"Own join code for lead #{lead.id}")
    db.session.commit()
    return way


def retry_join_way(way: JoinWay, *, actor) -> None:
    """Try a refused or stuck code again at the next sync."""
    if way.status == JoinWayStatus.RETIRED:
        raise DomainError(_("This code was deleted at WeCom."))
    way.stale, way.next_attempt_at, way.attempts = True, utcnow(), 0
    audit.record(actor, "retry", "join_way", entity_id=way.id, store_id=way.store_id, summary=way.state)
    db.session.commit()


def store_join_ways(store_id: int) -> list[JoinWay]:
    """The store's channel codes (not its leads' own), in the order of CHANNELS."""
    ways = db.session.scalars(select(JoinWay).where(JoinWay.store_id == store_id, JoinWay.lead_id.is_(None),
                                                    JoinWay.state.in_([make_state(store_id, c) for c in CHANNELS])))
    order = list(CHANNELS)
    return sorted(ways, key=lambda w: order.index(w.channel) if w.channel in order else len(order))


def joins_by_channel(*, since: datetime | None = None, store_id: int | None = None) -> dict[str | None, int]:
    """Channel -> joins recorded since `since` (default the last 30 days); None counts joins of no known code."""
    since = since or utcnow() - timedelta(days=30)
    query = select(GroupJoin.channel, func.count()).where(GroupJoin.joined_at >= since).group_by(GroupJoin.channel)
    if store_id is not None:
        query = query.where(GroupJoin.store_id == store_id)
    return dict(db.session.execute(query).all())
