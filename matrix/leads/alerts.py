"""Telling a store's staff about a new lead: the outbox rows written in the lead's own transaction.

A lead routed to a store gets its messages in the same transaction as the lead itself
(enqueue_for_lead adds, the caller commits), so a lead is never saved without them.
"""
import logging
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from matrix.auth.models import User
from matrix.chain import chain_language
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.leads.alert_messages import lead_link, lead_markdown, lead_mention
from matrix.leads.models import Lead
from matrix.models import utcnow
from matrix.notifications.models import DeliveryStatus, Notification
from matrix.notifications.services import GROUPS_FULL, NO_GROUP, NO_ROBOT
from matrix.stores.models import Store, store_managers

log = logging.getLogger(__name__)


def on_duty_mobiles(store_id: int) -> list[str]:
    """Mobile numbers of the store's active managers, for @-mentions."""
    rows = db.session.scalars(select(User.mobile).join(store_managers, store_managers.c.user_id == User.id)
                              .where(store_managers.c.store_id == store_id, User.active.is_(True),
                                     User.mobile.is_not(None)))
    return sorted({m.replace(" ", "").replace("-", "") for m in rows if m and m.strip()})


def _unnotified_reason(store_id: int, community: Community | None) -> str | None:
    if community is None:
        has_group = db.session.scalar(select(func.count()).select_from(Community)
                                      .where(Community.store_id == store_id, Community.active.is_(True)))
        return GROUPS_FULL if has_group else NO_GROUP
    return None if community.robot_webhook_url else NO_ROBOT


def _full_group_with_robot(store_id: int) -> Community | None:
    """The last active group in the store's rotation that has a robot (all of them are full)."""
    return db.session.scalar(select(Community).where(Community.store_id == store_id, Community.active.is_(True),
                                                     Community.robot_webhook_url.is_not(None))
                             .order_by(Community.rotation_order.desc(), Community.id.desc()).limit(1))


def _full_warning(markdown: dict) -> dict:
    with chain_language():
        warning = _("All groups of this store are full: add a group or raise a capacity so new leads can join.")
    content = "> **" + warning + "**\n" + markdown["markdown"]["content"]
    return {"msgtype": "markdown", "markdown": {"content": content}}


def enqueue_for_lead(lead: Lead, *, now: datetime | None = None) -> list[Notification]:
    """Add the robot messages for a routed lead to the outbox; the caller commits with the lead."""
    db.session.flush()  # ids (of the lead, and routing's store and group) go into the rows and the link
    store = db.session.get(Store, lead.store_id) if lead.store_id else None
    if store is None:
        return []  # unrouted: HQ works it from the unrouted queue
    community = db.session.get(Community, lead.community_id) if lead.community_id else None
    now = now or utcnow()
    markdown = lead_markdown(lead, store_name=store.name, link=lead_link(lead))
    common = {"lead_id": lead.id, "store_id": store.id, "community_id": community.id if community else None,
              "next_attempt_at": now, "created_at": now}
    reason = _unnotified_reason(store.id, community)
    if reason:
        log.warning("lead %s of store %s not notified: %s", lead.id, store.id, reason)
        rows = [Notification(message=markdown, status=DeliveryStatus.FAILED, last_error=reason, **common)]
        full_group = _full_group_with_robot(store.id) if reason == GROUPS_FULL else None
        if full_group:  # the lead still belongs to the store: warn its staff through a full group's robot
            rows.append(Notification(message=_full_warning(markdown), **{**common, "community_id": full_group.id}))
        db.session.add_all(rows)
        return rows
    rows = [Notification(message=markdown, **common)]
    if mobiles := on_duty_mobiles(store.id):
        rows.append(Notification(message=lead_mention(lead, store_name=store.name, mobiles=mobiles), **common))
    db.session.add_all(rows)
    return rows
