"""Mark a store's join codes stale in the same transaction that changes its groups.

A session hook, so the groups' own code (forms, imports, moves, the member sync) needs no call into this
feature: any flush that adds, deletes or changes a group in a way that changes which groups a code should
list (chat id, active, order, store, room left) marks the store's codes; `flask joins sync` updates
WeCom later. Bulk inserts bypass the hook; the sync's reconcile step catches those.
"""
from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session

from matrix.communities.models import Community
from matrix.joins.models import JoinWay, JoinWayStatus
from matrix.models import utcnow

WATCHED = ("wecom_chat_id", "active", "rotation_order", "store_id")


def watch_groups() -> None:
    """Install the hook once per process."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)


def changed_stores(session: Session) -> set[int]:
    """Stores whose join codes must list other groups after this flush."""
    stores: set[int] = set()
    for obj in list(session.new) + list(session.deleted):
        if isinstance(obj, Community) and obj.store_id and (obj.wecom_chat_id or _history(obj, "wecom_chat_id")):
            stores.add(obj.store_id)
    for obj in session.dirty:
        if isinstance(obj, Community) and session.is_modified(obj):
            stores |= _dirty_stores(obj)
    return stores


def _dirty_stores(community: Community) -> set[int]:
    state = inspect(community)
    changed = any(state.attrs[name].history.has_changes() for name in WATCHED)
    if not changed and not _fullness_changed(community):
        return set()
    stores = {community.store_id}
    old_store = state.attrs.store_id.history.deleted
    return stores | {s for s in old_store or () if s}


def _fullness_changed(community: Community) -> bool:
    state = inspect(community)
    members, capacity = state.attrs.members.history, state.attrs.capacity.history
    if not members.has_changes() and not capacity.has_changes():
        return False
    if (members.has_changes() and not members.deleted) or (capacity.has_changes() and not capacity.deleted):
        return True  # set on an expired object: the old value is unknown, so assume the fullness changed
    before_members = (members.deleted or [community.members])[0]
    before_capacity = (capacity.deleted or [community.capacity])[0]
    if before_members is None or before_capacity is None:
        return True
    return (before_members >= before_capacity) != community.is_full


def _history(obj, name: str) -> bool:
    return bool(inspect(obj).attrs[name].history.deleted)


def _before_flush(session: Session, flush_context, instances) -> None:
    stores = changed_stores(session)
    if not stores:
        return
    # Core UPDATE on the session's connection: no ORM flush inside this flush.
    session.connection().execute(
        update(JoinWay.__table__).where(JoinWay.__table__.c.store_id.in_(sorted(stores)),
                                        JoinWay.__table__.c.status != JoinWayStatus.RETIRED.value)
        .values(stale=True, next_attempt_at=utcnow()))
