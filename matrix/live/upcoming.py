"""The next live session of each store in a week: what a content template reads as `next_live_session`."""
from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from matrix.chain import chain_zone
from matrix.extensions import db
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.trailer_texts import chain_text, starts_label


def next_sessions(store_ids: Collection[int], monday: date) -> dict[int, str]:
    """Store id -> "11月28日 19:00 冬季新品直播" for the first scheduled session of the week, if any."""
    zone = ZoneInfo(chain_zone())
    start = datetime.combine(monday, time.min, tzinfo=zone)
    query = (select(LiveSession.store_id, LiveSession.starts_at, LiveSession.title)
             .where(LiveSession.status == SessionStatus.SCHEDULED, LiveSession.store_id.is_not(None),
                    LiveSession.starts_at >= start, LiveSession.starts_at < start + timedelta(days=7))
             .order_by(LiveSession.starts_at))
    if len(store_ids) <= 500:  # a whole chain's week is one scan, filtered here
        query = query.where(LiveSession.store_id.in_(list(store_ids)))
    found: dict[int, str] = {}
    for store_id, starts_at, title in db.session.execute(query):
        if store_id in store_ids and store_id not in found:
            found[store_id] = chain_text(lambda: starts_label(starts_at.astimezone(zone))) + " " + title
    return found
