"""Who joined which store's group through which channel: read from groupchat/get, recorded once each.

groupchat/get lists every member with join_time, join_scene and the join way's `state`, so it is the
source of truth; callbacks only say that a group changed (WeCom itself calls them unreliable for
increments: late, out of order, retried). A join is kept once per group and member, the member only as a
keyed hash of their WeCom id. Members already in a group when WeCom was connected are not joins we brought.
"""
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from matrix.audit import services as audit
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.joins.models import GroupJoin, JoinWay, WecomChat
from matrix.joins.refresh import StopRound, backoff, claim
from matrix.joins.states import State, make_state, parse_state
from matrix.leads.models import Lead, LeadStatus
from matrix.leads.phones import keyed_digest
from matrix.stores.models import Store
from matrix.wecom.api import ErrorKind, GroupChat, WecomClient, WecomError

CUSTOMER = 2  # member type 2: an external contact; 1 is the company's own staff
MAX_LIST_PAGES = 200  # groupchat/list pages of 1,000 groups: far beyond any chain


def member_hash(userid: str) -> str:
    """The keyed hash a member is kept as (their WeCom id itself is never stored)."""
    return keyed_digest(userid.encode("utf-8"))


def sync_chats_due(client: WecomClient, *, now: datetime, limit: int) -> tuple[int, int, int]:
    """Read the members of up to `limit` groups that are due; (groups read, joins recorded, failed)."""
    ids = list(db.session.scalars(
        select(WecomChat.id).where(WecomChat.sync_due_at <= now, WecomChat.dismissed.is_(False),
                                   or_(WecomChat.locked_until.is_(None), WecomChat.locked_until < now))
        .order_by(WecomChat.sync_due_at, WecomChat.id).limit(limit)))
    read = joins = failed = 0
    for chat_row_id in ids:
        if not claim(WecomChat, chat_row_id, now):
            continue
        recorded = sync_chat(client, chat_row_id, now=now)
        if recorded is None:
            failed += 1
        else:
            read, joins = read + 1, joins + recorded
    return read, joins, failed


def sync_chat(client: WecomClient, chat_row_id: int, *, now: datetime) -> int | None:
    """Read one group from WeCom, record its new joins and its member count; None when WeCom refused."""
    chat = db.session.get(WecomChat, chat_row_id)
    chat_id = chat.chat_id
    db.session.commit()  # no transaction open while WeCom answers
    try:
        group = client.get_group_chat(chat_id)
    except WecomError as error:
        db.session.rollback()
        chat = db.session.get(WecomChat, chat_row_id)
        chat.last_error, chat.locked_until, chat.attempts = error.message, None, chat.attempts + 1
        chat.sync_due_at = now + (_period() if error.kind == ErrorKind.GIVE_UP else backoff(chat.attempts))
        db.session.commit()
        if error.kind == ErrorKind.CONFIG or error.rate_limited:
            raise StopRound(error) from None
        return None
    for attempt in (1, 2):
        try:
            recorded = _store_group(group, chat_row_id, now)
            db.session.commit()
            return recorded
        except IntegrityError:  # a callback recorded one of these members meanwhile: read what it wrote
            db.session.rollback()
            if attempt == 2:
                raise
    return None


def _store_group(group: GroupChat, chat_row_id: int, now: datetime) -> int:
    community = db.session.scalar(select(Community).where(Community.wecom_chat_id == group.chat_id))
    recorded = record_members(group, community, now=now)
    chat = db.session.get(WecomChat, chat_row_id)
    chat.name, chat.members, chat.member_version = group.name[:120], len(group.members), group.member_version[:64]
    chat.synced_at, chat.sync_due_at, chat.attempts = now, now + _period(), 0
    chat.last_error = chat.locked_until = None
    if community is not None and community.members != len(group.members):
        community.members = len(group.members)  # the rotation follows WeCom's real count
    return recorded


def record_members(group: GroupChat, community: Community | None, *, now: datetime) -> int:
    """Record the customers of `group` not recorded yet, attributed by their state; the caller commits."""
    from matrix.joins.connection import active_connection

    connection = active_connection()
    since = connection.connected_at if connection else now
    hashes = {m.userid: member_hash(m.userid) for m in group.members if m.userid}
    known = known_members(group.chat_id, hashes.values())
    staff = [hashes[m.userid] for m in group.members if m.type != CUSTOMER and hashes.get(m.userid) in known]
    if staff:  # a callback could not tell staff from customers
        db.session.execute(delete(GroupJoin).where(GroupJoin.chat_id == group.chat_id,
                                                   GroupJoin.member_hash.in_(staff), GroupJoin.source == "callback"))
    states = _valid_states({m.state for m in group.members if m.type == CUSTOMER})
    recorded = 0
    for member in (m for m in group.members if m.type == CUSTOMER and m.userid):
        state = states.get(member.state)
        store_id = community.store_id if community is not None else (state.store_id if state else None)
        if state is not None and state.store_id != store_id:
            state = None  # another store's code cannot lead into this store's group: not ours to attribute
        joined_at = datetime.fromtimestamp(member.join_time, timezone.utc) if member.join_time else now
        existing = known.get(hashes[member.userid])
        if existing is not None:
            _complete(existing, member.state, state, member.join_scene, joined_at, now=now)
        elif store_id is not None and (state is not None or joined_at >= since):
            recorded += add_join(chat_id=group.chat_id, community=community, store_id=store_id, state=state,
                                 raw_state=member.state, member=hashes[member.userid], join_scene=member.join_scene,
                                 joined_at=joined_at, source="sync", now=now)
    return recorded


def add_join(*, chat_id: str, community: Community | None, store_id: int, state: State | None, raw_state: str,
             member: str, join_scene: int | None, joined_at: datetime, source: str, now: datetime) -> int:
    """Add a join the caller found unknown; the unique (chat, member) makes a racing second writer fail.

    No savepoint per row: SQLite commits at each outermost RELEASE. Callers retry the whole change once.
    """
    join = GroupJoin(chat_id=chat_id, community_id=community.id if community is not None else None, store_id=store_id,
                     channel=state.channel if state else None, state=raw_state[:30] or None,
                     lead_id=state.lead_id if state else None, member_hash=member, join_scene=join_scene,
                     joined_at=joined_at, source=source, recorded_at=now)
    db.session.add(join)
    if join.lead_id:
        _lead_joined(join.lead_id, store_id, now)
    return 1


def known_members(chat_id: str, hashes) -> dict[str, GroupJoin]:
    """The joins already recorded for these members of the group, by member hash."""
    return {j.member_hash: j for j in db.session.scalars(
        select(GroupJoin).where(GroupJoin.chat_id == chat_id, GroupJoin.member_hash.in_(list(hashes))))}


def _complete(join: GroupJoin, raw_state: str, state: State | None, join_scene: int, joined_at: datetime, *,
              now: datetime) -> None:
    """A join first told by a callback gets its channel, lead and exact time from groupchat/get."""
    if join.channel is None and state is not None:
        join.channel, join.state, join.lead_id = state.channel, raw_state[:30], state.lead_id
        if state.lead_id:
            _lead_joined(state.lead_id, join.store_id, now)
    if join.source == "callback":
        join.join_scene, join.joined_at = join_scene, joined_at


def _valid_states(raw: set[str]) -> dict[str, State]:
    """Our states among `raw` whose store (and lead) exist: a deleted lead is no longer attributed."""
    parsed = {text: state for text in raw if (state := parse_state(text))}
    stores = set(db.session.scalars(select(Store.id).where(Store.id.in_({s.store_id for s in parsed.values()}))))
    leads = set(db.session.scalars(select(Lead.id).where(Lead.id.in_({s.lead_id for s in parsed.values()
                                                                      if s.lead_id}))))
    return {text: s if s.lead_id is None or s.lead_id in leads else State(s.store_id, s.channel)
            for text, s in parsed.items() if s.store_id in stores}


def _lead_joined(lead_id: int, store_id: int, now: datetime) -> None:
    """A lead who joined through their own invite moves to "joined"; their code is deleted at the next sync."""
    lead = db.session.get(Lead, lead_id)
    if lead is not None and lead.status in (LeadStatus.NEW, LeadStatus.CONTACTED):
        before = lead.status.value
        lead.status = LeadStatus.JOINED
        audit.record(None, "update", "lead", entity_id=lead.id, store_id=lead.store_id,
                     summary=_l("Lead #%(id)d joined the store's WeCom group", id=lead.id), changes={"status": [before, "joined"]})
    table = JoinWay.__table__
    db.session.execute(table.update().where(table.c.state == make_state(store_id, "lead", lead_id))
                       .values(stale=True, next_attempt_at=now))


def ensure_chats(now: datetime) -> int:
    """Follow every group linked to a community (read soon); the caller commits."""
    known = select(WecomChat.chat_id)
    new = list(db.session.scalars(select(Community.wecom_chat_id).where(Community.wecom_chat_id.is_not(None),
                                                                        Community.wecom_chat_id.not_in(known))))
    db.session.add_all(WecomChat(chat_id=chat_id, sync_due_at=now) for chat_id in new)
    return len(new)


def discover_chats(client: WecomClient, *, now: datetime) -> int:
    """List the app's groups at WeCom (groupchat/list) and follow the ones we did not know; commits."""
    found, cursor = [], ""
    for _page in range(MAX_LIST_PAGES):
        chats, cursor = client.list_group_chats(cursor=cursor)
        found.extend(chats)
        if not cursor:
            break
    known = set(db.session.scalars(select(WecomChat.chat_id)))
    new = sorted(set(found) - known)
    db.session.add_all(WecomChat(chat_id=chat_id[:64], sync_due_at=now) for chat_id in new)
    db.session.commit()
    return len(new)


def _period() -> timedelta:
    return timedelta(hours=current_app.config.get("WECOM_CHAT_SYNC_HOURS", 6))
