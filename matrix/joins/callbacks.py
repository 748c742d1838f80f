"""What a WeCom customer-group callback changes here, at once and without calling WeCom back.

A member-change event moves the group's count by MemChangeCnt when its LastMemVer is the version we hold
(so a retried or late event changes nothing twice), records the joined members for the group's store
(channel not known yet: events carry no state), and asks for the group to be read again in a few
seconds (WeCom fills groupchat/get asynchronously), which attributes each join to its channel and lead.
"""
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matrix.audit import services as audit
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.joins.members import add_join, known_members, member_hash
from matrix.joins.models import WecomChat
from matrix.wecom.callback import ChatEvent

READ_AGAIN_AFTER = timedelta(seconds=3)  # WeCom: details may lag the event by a moment
CALLBACK_SCENES = {0: 1, 3: 3}  # event JoinScene (0 invited, 3 QR) -> groupchat/get join_scene (1 invited, 3 QR)


def apply_chat_event(event: ChatEvent, *, now: datetime) -> int:
    """Apply one change_external_chat event; returns the joins recorded. Commits."""
    for attempt in (1, 2):
        try:
            recorded = _apply(event, now)
            db.session.commit()
            return recorded
        except IntegrityError:  # the same event retried in parallel, or the sync wrote the member first
            db.session.rollback()
            if attempt == 2:
                raise
    return 0


def _apply(event: ChatEvent, now: datetime) -> int:
    chat = _chat(event.chat_id)
    community = db.session.scalar(select(Community).where(Community.wecom_chat_id == event.chat_id))
    recorded = 0
    if event.change_type == "dismiss":
        _dismissed(chat, community)
    else:
        if event.joined or event.left:
            _move_count(chat, community, event)
        if event.joined and community is not None:
            recorded = _record(event, community, now)
        due = now + READ_AGAIN_AFTER
        chat.sync_due_at = min(chat.sync_due_at, due) if chat.sync_due_at else due
    return recorded


def _chat(chat_id: str) -> WecomChat:
    chat = db.session.scalar(select(WecomChat).where(WecomChat.chat_id == chat_id))
    if chat is None:
        chat = WecomChat(chat_id=chat_id)
        db.session.add(chat)
    return chat


def _move_count(chat: WecomChat, community: Community | None, event: ChatEvent) -> None:
    """Follow the count only along WeCom's member versions; anything else waits for groupchat/get."""
    if not event.last_member_version or chat.member_version != event.last_member_version:
        return
    delta = event.member_change_count if event.joined else -event.member_change_count
    chat.members = max(0, chat.members + delta)
    chat.member_version = event.member_version or chat.member_version
    if community is not None:
        community.members = max(0, community.members + delta)


def _record(event: ChatEvent, community: Community, now: datetime) -> int:
    joined_at = datetime.fromtimestamp(event.created_at, timezone.utc) if event.created_at else now
    scene = CALLBACK_SCENES.get(event.join_scene) if event.join_scene is not None else None
    hashes = {member_hash(userid) for userid in event.member_ids}
    new = sorted(hashes - set(known_members(event.chat_id, hashes)))
    return sum(add_join(chat_id=event.chat_id, community=community, store_id=community.store_id, state=None,
                        raw_state="", member=member, join_scene=scene, joined_at=joined_at, source="callback", now=now)
               for member in new)


def _dismissed(chat: WecomChat, community: Community | None) -> None:
    """A dissolved group leaves the rotation (its store's codes are updated by the next sync)."""
    chat.dismissed, chat.sync_due_at = True, None
    if community is not None and community.active:
        community.active = False
        audit.record(None, "update", "community", entity_id=community.id, store_id=community.store_id,
                     summary=_l("%(name)s: dissolved in WeCom", name=community.name), changes={"active": [True, False]})
