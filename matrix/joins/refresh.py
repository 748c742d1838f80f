"""Keep every store's join codes at WeCom in step with its groups: create, update, read back, retire.

Web requests only mark join ways stale (matrix.joins.staleness); this module, run by `flask joins sync`,
talks to WeCom. Each join way is claimed with a guarded UPDATE (a lease) and handled in its own short
transactions, committed before each call, so several workers never update one code twice at once and
no transaction stays open while WeCom answers. A code's QR stays the same for its whole life
(update_join_way), because posters with it are already printed.
"""
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, insert, or_, select, update

from matrix.audit import services as audit
from matrix.chain import chain_language
from matrix.communities.models import Community, CommunityKind
from matrix.extensions import db
from matrix.joins.models import GroupJoin, JoinWay, JoinWayStatus, WecomChat
from matrix.joins.states import CHANNELS, make_state
from matrix.leads.models import Lead
from matrix.models import utcnow
from matrix.stores.models import Store
from matrix.wecom.api import MAX_CHAT_IDS, ErrorKind, WecomClient, WecomError


class Desired(NamedTuple):
    chat_ids: tuple[str, ...]
    all_full: bool
    room_base_id: int


class StopRound(Exception):
    """WeCom said stop: a configuration error, or a rate limit that the next calls would hit too."""

    def __init__(self, error: WecomError):
        super().__init__(error.message)
        self.error = error


def desired_chats(store_ids: Collection[int] | None = None) -> dict[int, Desired]:
    """Store id -> the groups its codes should list: up to five active WeCom groups with room, in rotation order.

    When every group is full, the full ones are listed: WeCom then opens a new group (auto_create_room).
    """
    query = (select(Community.store_id, Community.wecom_chat_id, Community.members, Community.capacity)
             .join(Store, Store.id == Community.store_id)
             .where(Community.active.is_(True), Community.wecom_chat_id.is_not(None), Store.archived_at.is_(None))
             .order_by(Community.store_id, Community.rotation_order, Community.id))
    if store_ids is not None:
        query = query.where(Community.store_id.in_(list(store_ids)))
    groups: dict[int, list] = {}
    for row in db.session.execute(query):
        groups.setdefault(row.store_id, []).append(row)
    out = {}
    for store_id, rows in groups.items():
        with_room = [r.wecom_chat_id for r in rows if r.members < r.capacity]
        chosen = with_room or [r.wecom_chat_id for r in rows]
        out[store_id] = Desired(tuple(chosen[:MAX_CHAT_IDS]), not with_room, len(rows) + 1)
    return out


def ensure_join_ways(now: datetime) -> int:
    """Add the missing channel codes of every store that has WeCom groups; the caller commits."""
    with_groups = set(db.session.scalars(
        select(Community.store_id).join(Store, Store.id == Community.store_id)
        .where(Community.active.is_(True), Community.wecom_chat_id.is_not(None), Store.archived_at.is_(None))
        .distinct()))
    _revive(with_groups, now)
    counts = dict(db.session.execute(select(JoinWay.store_id, func.count()).where(JoinWay.lead_id.is_(None))
                                     .group_by(JoinWay.store_id)).all())
    short = [s for s in with_groups if counts.get(s, 0) < len(CHANNELS)]
    if not short:
        return 0
    have = set(db.session.scalars(select(JoinWay.state).where(JoinWay.store_id.in_(short))))
    rows = [{"store_id": s, "channel": c, "state": make_state(s, c), "status": JoinWayStatus.PENDING, "stale": True,
             "chat_ids": [], "attempts": 0, "next_attempt_at": now, "created_at": now, "updated_at": now}
            for s in sorted(short) for c in CHANNELS if make_state(s, c) not in have]
    if rows:  # a whole chain's first round: tens of thousands of rows, in one bulk insert
        db.session.execute(insert(JoinWay), rows)
    return len(rows)


def _revive(store_ids: set[int], now: datetime) -> None:
    """A restored store's channel codes were deleted at WeCom: make them anew (new QR codes)."""
    if store_ids:
        db.session.execute(update(JoinWay).where(JoinWay.status == JoinWayStatus.RETIRED, JoinWay.lead_id.is_(None),
                                                 JoinWay.store_id.in_(sorted(store_ids)),
                                                 JoinWay.state.not_like("%.%.lead.%"))
                           .values(status=JoinWayStatus.PENDING, stale=True, config_id=None, qr_code=None, chat_ids=[],
                                   next_attempt_at=now, attempts=0)
                           .execution_options(synchronize_session=False))


def mark_retirable(now: datetime) -> int:
    """Mark stale the codes to delete at WeCom: leads' codes once joined or old, codes of archived stores."""
    cutoff = now - timedelta(days=current_app.config.get("WECOM_LEAD_CODE_DAYS", 30))
    joined = exists().where(GroupJoin.lead_id == JoinWay.lead_id)
    archived = exists().where(Store.id == JoinWay.store_id, Store.archived_at.is_not(None))
    moved = exists().where(Lead.id == JoinWay.lead_id, Lead.store_id.is_distinct_from(JoinWay.store_id))
    lead_done = and_(JoinWay.channel == "lead", JoinWay.state.like("%.%.lead.%"),
                     or_(JoinWay.lead_id.is_(None), JoinWay.created_at < cutoff, joined, moved))
    result = db.session.execute(update(JoinWay).where(JoinWay.status != JoinWayStatus.RETIRED,
                                                      JoinWay.stale.is_(False), or_(lead_done, archived))
                                .values(stale=True, next_attempt_at=now).execution_options(synchronize_session=False))
    return result.rowcount or 0


def reconcile(now: datetime) -> int:
    """Mark stale every code whose groups differ from what the store's rotation wants (catches bulk imports)."""
    desired = desired_chats()
    stale_ids = [way_id for way_id, store_id, chat_ids, status in db.session.execute(
        select(JoinWay.id, JoinWay.store_id, JoinWay.chat_ids, JoinWay.status)
        .where(JoinWay.stale.is_(False), JoinWay.status.in_([JoinWayStatus.READY, JoinWayStatus.NO_GROUPS])))
        if _differs(desired.get(store_id), chat_ids, status)]
    for start in range(0, len(stale_ids), 500):
        db.session.execute(update(JoinWay).where(JoinWay.id.in_(stale_ids[start:start + 500]))
                           .values(stale=True, next_attempt_at=now).execution_options(synchronize_session=False))
    return len(stale_ids)


def _differs(want: Desired | None, chat_ids: list | None, status: JoinWayStatus) -> bool:
    if want is None:
        return status != JoinWayStatus.NO_GROUPS
    return status == JoinWayStatus.NO_GROUPS or list(want.chat_ids) != list(chat_ids or [])[:MAX_CHAT_IDS]


def refresh_due(client: WecomClient, *, now: datetime, limit: int, auto_create_room: bool) -> tuple[int, int]:
    """Bring up to `limit` due codes in step with WeCom; (done, failed). Raises StopRound when WeCom says stop."""
    ids = list(db.session.scalars(
        select(JoinWay.id).where(or_(JoinWay.stale.is_(True), JoinWay.status == JoinWayStatus.PENDING),
                                 JoinWay.status != JoinWayStatus.RETIRED, JoinWay.next_attempt_at <= now,
                                 or_(JoinWay.locked_until.is_(None), JoinWay.locked_until < now))
        .order_by(JoinWay.next_attempt_at, JoinWay.id).limit(limit)))
    done = failed = 0
    for way_id in ids:
        if not claim(JoinWay, way_id, now):
            continue
        if refresh_one(client, way_id, now=now, auto_create_room=auto_create_room):
            done += 1
        else:
            failed += 1
    return done, failed


def claim(model, row_id: int, now: datetime) -> bool:
    """Take a row for this worker for a lease (WORKER_LEASE_S); True when no other worker holds it. Commits."""
    lease = now + timedelta(seconds=current_app.config.get("WORKER_LEASE_S", 300))
    result = db.session.execute(update(model).where(model.id == row_id, or_(model.locked_until.is_(None),
                                                                            model.locked_until < now))
                                .values(locked_until=lease).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def refresh_one(client: WecomClient, way_id: int, *, now: datetime, auto_create_room: bool) -> bool:
    """Create, update or retire one code at WeCom and read it back; False when WeCom refused (recorded)."""
    way = db.session.get(JoinWay, way_id)
    store = db.session.get(Store, way.store_id)
    want = desired_chats([store.id]).get(store.id)
    settled = True
    try:
        if store.archived_at is not None or _lead_code_done(way, now):
            _retire(client, way)
        elif want is None:
            way.status, way.last_error = JoinWayStatus.NO_GROUPS, None  # an existing QR keeps its old groups
        else:
            settled = not _push(client, way, store, want, auto_create_room)
    except WecomError as error:
        _failed(way, error, now)
        if error.kind == ErrorKind.CONFIG or error.rate_limited:
            raise StopRound(error) from None
        return False
    # A group adopted just now changes the store's rotation: the code stays stale for one more update.
    way.stale, way.attempts, way.locked_until, way.refreshed_at = not settled, 0, None, now
    db.session.commit()
    return True


def _push(client: WecomClient, way: JoinWay, store: Store, want: Desired, auto_create_room: bool) -> bool:
    """Create or update the code at WeCom and read it back; True when WeCom had groups we did not know."""
    db.session.commit()  # nothing of ours is pending while WeCom answers
    if way.config_id:
        # Groups WeCom opened by itself are in its list only: adopt them before our list replaces it.
        if adopt_chats(store, _added(client.get_join_way(way.config_id).chat_ids, way.chat_ids)):
            db.session.commit()
            want = desired_chats([store.id]).get(store.id) or want
        client.update_join_way(way.config_id, **_arguments(way, store, want, auto_create_room))
    else:
        way.config_id = client.add_join_way(**_arguments(way, store, want, auto_create_room))
        db.session.commit()  # kept at once: a failed read-back must not make a second code
    found = client.get_join_way(way.config_id)
    if not found.qr_code.startswith("https://") or len(found.qr_code) > 500:  # it is put in pages as a link
        raise WecomError(ErrorKind.RETRY, "get_join_way answered no usable QR code address")
    way.qr_code, way.chat_ids = found.qr_code, found.chat_ids
    way.status, way.last_error = JoinWayStatus.READY, None
    return bool(adopt_chats(store, _added(found.chat_ids, want.chat_ids)))


def _added(at_wecom: list[str], ours) -> list[str]:
    """Groups in WeCom's list that we did not put there: the ones it opened when the others were full."""
    return [c for c in at_wecom if c not in set(ours or ())]


def _arguments(way: JoinWay, store: Store, want: Desired, auto_create_room: bool) -> dict:
    return {"chat_ids": list(want.chat_ids), "state": way.state, "remark": f"{store.code} {way.channel}",
            "auto_create_room": auto_create_room, "room_base_name": store.name, "room_base_id": want.room_base_id}


def _lead_code_done(way: JoinWay, now: datetime) -> bool:
    if way.channel != "lead" or way.state.count(".") != 3:  # the store's own lead code stays
        return False
    lead = db.session.get(Lead, way.lead_id) if way.lead_id else None
    if lead is None or lead.store_id != way.store_id:
        return True  # the lead was deleted, or moved to another store
    days = current_app.config.get("WECOM_LEAD_CODE_DAYS", 30)
    joined = db.session.scalar(select(GroupJoin.id).where(GroupJoin.lead_id == way.lead_id).limit(1))
    return joined is not None or way.created_at < now - timedelta(days=days)


def _retire(client: WecomClient, way: JoinWay) -> None:
    if way.config_id:
        config_id = way.config_id
        db.session.commit()
        client.del_join_way(config_id)
    way.status, way.qr_code, way.last_error = JoinWayStatus.RETIRED, None, None


def adopt_chats(store: Store, chat_ids: list[str]) -> list[Community]:
    """Groups WeCom opened by itself for a full code (auto_create_room) join the store's rotation."""
    linked = set(db.session.scalars(select(Community.wecom_chat_id).where(Community.wecom_chat_id.in_(chat_ids))))
    new = [c for c in chat_ids if c not in linked]
    if not new:
        return []
    order = db.session.scalar(select(func.max(Community.rotation_order)).where(Community.store_id == store.id)) or 0
    adopted = []
    for place, chat_id in enumerate(new, start=order + 1):
        with chain_language():
            name = _("WeCom group %(id)s", id=chat_id[-6:])
        community = Community(store_id=store.id, name=name[:120], kind=CommunityKind.WECOM, wecom_chat_id=chat_id,
                              rotation_order=place, active=True, members=0)
        db.session.add(community)
        db.session.flush()
        audit.record(None, "adopt", "community", entity_id=community.id, store_id=store.id,
                     summary=f"{community.name}: opened by WeCom for a full join code",
                     changes={"wecom_chat_id": [None, chat_id]})
        adopted.append(community)
        if not db.session.scalar(select(WecomChat.id).where(WecomChat.chat_id == chat_id)):
            db.session.add(WecomChat(chat_id=chat_id, sync_due_at=utcnow()))
    return adopted


def _failed(way: JoinWay, error: WecomError, now: datetime) -> None:
    """Record why; retry later with back-off, or wait for the next change of the store's groups."""
    db.session.rollback()
    way = db.session.get(JoinWay, way.id)
    way.last_error, way.locked_until = error.message, None
    if error.kind == ErrorKind.GIVE_UP:
        way.status, way.stale = JoinWayStatus.ERROR, False
    else:
        way.attempts += 1
        way.next_attempt_at = now + backoff(way.attempts, minimum=60 if error.rate_limited else 0)
    db.session.commit()


def backoff(attempts: int, *, minimum: float = 0) -> timedelta:
    """About 30 s after the first failure, doubling up to an hour (WECOM_BACKOFF_*)."""
    config = current_app.config
    seconds = min(config.get("WECOM_BACKOFF_BASE_S", 30) * 2 ** max(attempts - 1, 0),
                  config.get("WECOM_BACKOFF_CAP_S", 3600))
    return timedelta(seconds=max(seconds, minimum))
