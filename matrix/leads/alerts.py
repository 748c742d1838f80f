"""Telling a store's staff about a new lead: the outbox rows written in the lead's own transaction.

A lead routed to a store gets its messages in the same transaction as the lead itself
(enqueue_for_lead adds, the caller commits), so a lead is never saved without them. They go to the
store's staff channel only, never to a customer group: while the store has no confirmed staff channel
they are HELD, and confirming the channel releases them.
"""
import logging
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from matrix.auth.models import User
from matrix.chain import chain_language
from matrix.communities.models import Community, StaffChannel
from matrix.communities.services import current_groups
from matrix.extensions import db
from matrix.leads.alert_messages import lead_link, lead_markdown, lead_mention
from matrix.leads.models import Lead
from matrix.models import utcnow
from matrix.notifications.models import DeliveryStatus, Notification, NotificationKind
from matrix.notifications.targets import HELD_REASON
from matrix.stores.models import Store, store_managers

log = logging.getLogger(__name__)


def on_duty_mobiles(store_id: int) -> list[str]:
    """Mobile numbers of the store's active managers, for @-mentions."""
    rows = db.session.scalars(select(User.mobile).join(store_managers, store_managers.c.user_id == User.id)
                              .where(store_managers.c.store_id == store_id, User.active.is_(True),
                                     User.mobile.is_not(None)))
    return sorted({m.replace(" ", "").replace("-", "") for m in rows if m and m.strip()})


def _group_warning(store_id: int) -> str:
    """A line for staff when the lead cannot be invited: the store has no group, or every group is full."""
    if current_groups({store_id}):
        return ""
    has_group = db.session.scalar(select(func.count()).select_from(Community)
                                  .where(Community.store_id == store_id, Community.active.is_(True)))
    with chain_language():
        if has_group:
            return _("All groups of this store are full: add a group or raise a capacity so new leads can join.")
        return _("This store has no group yet: add one so new leads can join.")


def _with_warning(markdown: dict, warning: str) -> dict:
    content = "> **" + warning + "**\n" + markdown["markdown"]["content"]
    return {"msgtype": "markdown", "markdown": {"content": content}}


def staff_target(store_id: int) -> dict:
    """The columns that address a staff message: the confirmed staff channel, or held for one."""
    channel = db.session.scalar(select(StaffChannel).where(StaffChannel.store_id == store_id))
    if channel is not None and channel.is_confirmed:
        return {"staff_channel_id": channel.id, "status": DeliveryStatus.PENDING, "last_error": None}
    return {"staff_channel_id": channel.id if channel else None, "status": DeliveryStatus.HELD,
            "last_error": HELD_REASON}


def enqueue_for_lead(lead: Lead, *, now: datetime | None = None) -> list[Notification]:
    """Add the staff messages for a routed lead to the outbox; the caller commits with the lead."""
    db.session.flush()  # ids (of the lead, and routing's store and group) go into the rows and the link
    store = db.session.get(Store, lead.store_id) if lead.store_id else None
    if store is None:
        return []  # unrouted: HQ works it from the unrouted queue
    now = now or utcnow()
    markdown = lead_markdown(lead, store_name=store.name, link=lead_link(lead))
    if warning := _group_warning(store.id):
        markdown = _with_warning(markdown, warning)
    common = {"kind": NotificationKind.LEAD_ALERT, "lead_id": lead.id, "store_id": store.id,
              "next_attempt_at": now, "created_at": now, **staff_target(store.id)}
    if common["status"] == DeliveryStatus.HELD:
        log.info("lead %s of store %s: alert held until the staff channel is confirmed", lead.id, store.id)
    rows = [Notification(message=markdown, **common)]
    if mobiles := on_duty_mobiles(store.id):
        rows.append(Notification(message=lead_mention(lead, store_name=store.name, mobiles=mobiles), **common))
    db.session.add_all(rows)
    return rows
