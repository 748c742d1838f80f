"""The robot outbox: rows written in the transaction that caused them, delivered by `flask worker`.

Each row's kind fixes its audience: lead alerts, reminders and digests go to the store's confirmed staff
channel, trailer and "we are live" posts to a customer group's confirmed robot (targets.py checks both again
just before sending). A staff row of a store without a confirmed staff channel is HELD: never sent, never
lost, released when the channel is confirmed. Customer posts wait for their time (`next_attempt_at`), never
go out in the quiet hours (they wait for the end) and are withdrawn when too late (`expires_at`).

Delivery is split along what each part holds: claims.py takes rows for one worker (leases, the robots'
minute, one worker per robot), attempts.py reads, sends and saves one row, dispatch.py runs the sends of
many robots side by side (`flask worker`'s loop, and deliver_due below for one round).
"""
import logging
from datetime import datetime

from matrix.models import utcnow
from matrix.notifications.attempts import (  # noqa: F401  (pages and tests read them)
    REFUSED_URL,
    _record,  # noqa: F401
    backoff_seconds,
)
from matrix.notifications.claims import ROBOT_PER_MINUTE, DeliveryCounts, _claim  # noqa: F401
from matrix.notifications.dispatch import Dispatcher

log = logging.getLogger(__name__)

# Reasons rows written before staff channels existed carry (a lead the store's groups could not be told of);
# the deliveries page still translates them.
NO_GROUP = "no group"
GROUPS_FULL = "all groups full"
NO_ROBOT = "no robot"
UNNOTIFIED_REASONS = (NO_GROUP, GROUPS_FULL, NO_ROBOT)


def deliver_due(*, client, now: datetime | None = None, limit: int = 50) -> DeliveryCounts:
    """Claim the due outbox rows once and send them, robots side by side; safe with several workers. Commits."""
    now = now or utcnow()
    dispatcher = Dispatcher(client, clock=lambda: now)
    try:
        dispatcher.claim(limit, per_robot=None)
        dispatcher.drain()
    finally:
        dispatcher.close()
    return dispatcher.counts
