"""A store's groups and their rotation. Each public call is one transaction."""
from collections.abc import Collection
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import func, select

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.communities.models import Community, StaffChannel
from matrix.communities.values import CommunityValues, check_qr_image
from matrix.errors import DomainError, FieldErrors
from matrix.extensions import db
from matrix.models import utcnow

AUDITED_FIELDS = ["store_id", "name", "kind", "invite_link", "capacity", "members", "robot_webhook_url",
                  "wecom_chat_id", "active", "rotation_order", "qr_image"]


class InvalidCommunity(FieldErrors):
    """A record's cleaned values with errors: every field's message, so a form shows them all at once."""

    def __init__(self, cleaned: CommunityValues):
        super().__init__(cleaned.errors)
        self.cleaned = cleaned


def _check_name(values: dict, community_id: int | None = None) -> None:
    query = select(Community.id).where(Community.store_id == values["store_id"], Community.name == values["name"])
    if community_id:
        query = query.where(Community.id != community_id)
    if db.session.scalar(query):
        raise DomainError(_("This store already has a group named %(name)s.", name=values["name"]), field="name")
    if chat_id := values.get("wecom_chat_id"):
        taken = select(Community.id).where(Community.wecom_chat_id == chat_id)
        if db.session.scalar(taken.where(Community.id != community_id) if community_id else taken):
            raise DomainError(_("Another group already has this WeCom chat id."), field="wecom_chat_id")


def _check_robot(url: str | None) -> None:
    """A confirmed staff channel's robot sits among staff: it never becomes a customer group's robot."""
    if url and db.session.scalar(select(StaffChannel.id).where(StaffChannel.robot_webhook_url == url,
                                                               StaffChannel.confirmed_at.is_not(None))):
        raise DomainError(_("This robot is a store's staff channel (lead alerts): a customer group needs a robot of "
                            "its own."), field="robot_webhook_url")


def _confirm_robot(community: Community, actor: User) -> None:
    """A robot entered on the group's own form sits in that customer group: say so, and who said it.

    An unconfirmed staff-channel candidate with the same robot (the upgrade's guess) is answered by this.
    """
    if community.robot_webhook_url:
        community.robot_confirmed_at, community.robot_confirmed_by_id = utcnow(), actor.id if actor else None
        for guess in db.session.scalars(select(StaffChannel).where(
                StaffChannel.robot_webhook_url == community.robot_webhook_url, StaffChannel.confirmed_at.is_(None))):
            db.session.delete(guess)
    else:
        community.robot_confirmed_at = community.robot_confirmed_by_id = None


def create_community(cleaned: CommunityValues, *, actor: User, qr_image: bytes | None = None) -> Community:
    """Add a group to a store's rotation; a robot entered here is the group's customer robot."""
    if cleaned.errors:
        raise InvalidCommunity(cleaned)
    values = dict(cleaned.values)
    _check_name(values)
    _check_robot(values.get("robot_webhook_url"))
    community = Community(**values)
    _confirm_robot(community, actor)
    if qr_image:
        community.qr_mime = check_qr_image(qr_image)
        community.qr_image = qr_image
    db.session.add(community)
    db.session.flush()
    audit.record(actor, "create", "community", entity_id=community.id, store_id=community.store_id,
                 summary=community.name, changes=audit.snapshot(community, AUDITED_FIELDS))
    db.session.commit()
    return community


def update_community(community: Community, cleaned: CommunityValues, *, actor: User,
                     qr_image: bytes | None = None, keep_webhook: bool = False) -> dict:
    """Change a group; an empty webhook field with `keep_webhook` leaves the secret as it was."""
    if cleaned.errors:
        raise InvalidCommunity(cleaned)
    values = dict(cleaned.values)
    if keep_webhook and not values.get("robot_webhook_url"):
        values.pop("robot_webhook_url", None)
    _check_name(values, community.id)
    if "robot_webhook_url" in values and values["robot_webhook_url"] != community.robot_webhook_url:
        _check_robot(values["robot_webhook_url"])
    before = audit.snapshot(community, AUDITED_FIELDS)
    was_confirmed = community.robot_confirmed
    for name, value in values.items():
        setattr(community, name, value)
    if qr_image:
        community.qr_mime = check_qr_image(qr_image)
        community.qr_image = qr_image
    changes = audit.diff(before, audit.snapshot(community, AUDITED_FIELDS))
    if "robot_webhook_url" in changes:
        _confirm_robot(community, actor)
        changes["robot_confirmed"] = [was_confirmed, community.robot_confirmed]
    if "robot_webhook_url" in changes and community.robot_error:
        # A new robot address is the fix for a flagged robot: deliveries may use it again.
        changes["robot_error"] = [community.robot_error, None]
        community.robot_error = None
    if changes:
        audit.record(actor, "update", "community", entity_id=community.id, store_id=community.store_id,
                     summary=community.name, changes=changes)
    db.session.commit()
    return changes


def delete_community(community: Community, *, actor: User) -> None:
    """Take a group out of the store's rotation and delete it."""
    audit.record(actor, "delete", "community", entity_id=community.id, store_id=community.store_id,
                 summary=community.name, changes=audit.snapshot(community, AUDITED_FIELDS))
    db.session.delete(community)
    db.session.commit()


def rotation(store_id: int) -> list[Community]:
    """The store's groups in the order a live code hands them out."""
    return list(db.session.scalars(select(Community).where(Community.store_id == store_id)
                                   .order_by(Community.rotation_order, Community.id)))


class CurrentGroup(NamedTuple):
    id: int
    store_id: int
    name: str
    invite_link: str | None


def current_groups(store_ids: Collection[int]) -> dict[int, CurrentGroup]:
    """Store id -> the group new members join now: the first active group with room, in rotation order.

    The one place this rule lives; plain rows, so a whole chain's week costs one light query.
    """
    query = (select(Community.id, Community.store_id, Community.name, Community.invite_link, Community.members,
                    Community.capacity).where(Community.active.is_(True))
             .order_by(Community.store_id, Community.rotation_order, Community.id))
    if len(store_ids) <= 500:  # a whole chain is read in one scan and filtered here instead
        query = query.where(Community.store_id.in_(list(store_ids)))
    chosen: dict[int, CurrentGroup] = {}
    for row in db.session.execute(query):
        if row.store_id in store_ids and row.store_id not in chosen and row.members < row.capacity:
            chosen[row.store_id] = CurrentGroup(row.id, row.store_id, row.name, row.invite_link)
    return chosen


def current_community(store_id: int) -> Community | None:
    """The first active group with room: where the live code points now."""
    found = current_groups({store_id}).get(store_id)
    return db.session.get(Community, found.id) if found else None


def next_rotation_order(store_id: int) -> int:
    """The rotation place after the store's last group (a new group joins at the end)."""
    last = db.session.scalar(select(func.max(Community.rotation_order)).where(Community.store_id == store_id))
    return (last or 0) + 1


def move_community(community: Community, *, direction: str, actor: User) -> bool:
    """Swap a group with its neighbour in the store's rotation ("up" or "down"); False at either end."""
    if direction not in ("up", "down"):
        raise DomainError(_("A group moves up or down."))
    groups = rotation(community.store_id)
    i = groups.index(community)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(groups):
        return False
    before = {g.id: g.rotation_order for g in groups}
    neighbour = groups[j]
    if community.rotation_order != neighbour.rotation_order:
        community.rotation_order, neighbour.rotation_order = neighbour.rotation_order, community.rotation_order
    else:
        # Equal places (e.g. imported without an order) would swap to nothing: number them all.
        groups[i], groups[j] = neighbour, community
        for place, group in enumerate(groups, start=1):
            group.rotation_order = place
    for group in groups:
        if group.rotation_order != before[group.id]:
            audit.record(actor, "move", "community", entity_id=group.id, store_id=group.store_id, summary=group.name,
                         changes={"rotation_order": [before[group.id], group.rotation_order]})
    db.session.commit()
    return True
