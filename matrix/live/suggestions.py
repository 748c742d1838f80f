"""Hints for the session pages: anchors the user has booked before, and the leads a session brought."""
from datetime import timedelta

from sqlalchemy import func, select

from matrix.accounts.models import Account
from matrix.auth.models import User
from matrix.extensions import db
from matrix.leads.models import Lead
from matrix.live.models import LiveSession
from matrix.permissions import visible_accounts
from matrix.live.scoping import visible_sessions

LEAD_WINDOW = timedelta(hours=2)  # leads that arrive soon after a session still came from it


def leads_during(session: LiveSession) -> int | None:
    """Leads routed to the host store from the start to two hours after the end: a suggestion for the results."""
    if session.store_id is None:
        return None
    return db.session.scalar(select(func.count()).select_from(Lead).where(
        Lead.store_id == session.store_id, Lead.received_at >= session.starts_at,
        Lead.received_at < session.ends_at + LEAD_WINDOW))


def known_anchors(user: User, *, limit: int = 200) -> list[str]:
    """Anchors of the sessions the user may see, most recent first, then the staff who run their accounts."""
    names = db.session.scalars(visible_sessions(user).with_only_columns(LiveSession.anchor)
                               .order_by(LiveSession.starts_at.desc()).limit(limit * 5))
    runners = db.session.scalars(visible_accounts(user).with_only_columns(Account.run_by)
                                 .where(Account.run_by.is_not(None)).limit(limit * 5))
    return list(dict.fromkeys(n for n in (*names, *runners) if n and n.strip()))[:limit]
