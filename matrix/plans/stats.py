"""How far the stores got with a week: counts per campaign, city and store from grouped queries.

"Done" is the published share of the items that count: cancelled items and items HQ
rejected are left out. Each item counts once. Once its slot has passed in the chain's time
zone (compared to the minute, like the week view), a planned item is overdue, and a shot
item is "shot, not published": the video exists and only posting it is late, which is a
different job for the store (and a different talk for HQ) than a video never shot.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select

from matrix.content.models import Approval, Campaign, ContentItem, ItemStatus
from matrix.extensions import db
from matrix.stores.models import Store

BAR_ORDER = ("published", "skipped", "shot", "shot_late", "planned", "overdue")


@dataclass
class Counts:
    planned: int = 0   # planned and not yet due
    shot: int = 0      # shot and not yet due
    published: int = 0
    skipped: int = 0
    overdue: int = 0   # planned, slot passed: not even shot
    shot_late: int = 0  # shot, slot passed, not published yet

    @property
    def total(self) -> int:
        return self.planned + self.shot + self.published + self.skipped + self.overdue + self.shot_late

    @property
    def late(self) -> int:
        """Everything past its slot and not published (what the week view marks overdue)."""
        return self.overdue + self.shot_late

    @property
    def percent_done(self) -> int:
        return round(100 * self.published / self.total) if self.total else 0

    def bar(self, width: int = 160) -> list[tuple[str, float, float]]:
        """(part, x, width) rectangles of a stacked bar, for a server-drawn SVG."""
        parts, x = [], 0.0
        for name in BAR_ORDER:
            value = getattr(self, name)
            if value and self.total:
                w = width * value / self.total
                parts.append((name, round(x, 2), round(w, 2)))
                x += w
        return parts


def _now_local(now: datetime, zone: str) -> tuple[date, str]:
    local = now.astimezone(ZoneInfo(zone))
    return local.date(), local.strftime("%H:%M")


def _sums(now: datetime, zone: str) -> list:
    today, minute = _now_local(now, zone)
    status = ContentItem.status
    due = or_(ContentItem.day < today, and_(ContentItem.day == today, ContentItem.slot < minute))

    def total(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    planned, shot = status == ItemStatus.PLANNED, status == ItemStatus.SHOT
    return [total(and_(planned, ~due)), total(and_(shot, ~due)), total(status == ItemStatus.PUBLISHED),
            total(status == ItemStatus.SKIPPED), total(and_(planned, due)), total(and_(shot, due))]


def _week_filter(monday: date, *, city: str | None = None, campaign_id: int | None = None) -> list:
    conditions = [ContentItem.day >= monday, ContentItem.day <= monday + timedelta(days=6),
                  ContentItem.status != ItemStatus.CANCELLED, ContentItem.approval != Approval.REJECTED]
    if city:
        conditions.append(ContentItem.store_id.in_(select(Store.id).where(Store.city_code == city)))
    if campaign_id:
        conditions.append(ContentItem.campaign_id == campaign_id)
    return conditions


def _grouped(key, monday: date, *, now: datetime, zone: str, join=None, extra=(), **filters) -> dict:
    query = (select(key, *_sums(now, zone)).select_from(ContentItem)
             .where(*_week_filter(monday, **filters), *extra).group_by(key))
    if join is not None:
        query = query.join(join, join.id == ContentItem.store_id)
    return {row[0]: Counts(*(int(n) for n in row[1:])) for row in db.session.execute(query)}


def totals(monday: date, *, now: datetime, zone: str, city: str | None = None,
           campaign_id: int | None = None) -> Counts:
    """The whole week's counts under the filters."""
    row = db.session.execute(select(*_sums(now, zone))
                             .where(*_week_filter(monday, city=city, campaign_id=campaign_id))).one()
    return Counts(*(int(n) for n in row))


def by_campaign(monday: date, *, now: datetime, zone: str, city: str | None = None) -> list[tuple]:
    """(campaign or None for items of no campaign, counts), by campaign name."""
    counts = _grouped(ContentItem.campaign_id, monday, now=now, zone=zone, city=city)
    ids = [i for i in counts if i is not None]
    campaigns = {c.id: c for c in db.session.scalars(select(Campaign).where(Campaign.id.in_(ids)))}
    rows = sorted(((campaigns.get(i), c) for i, c in counts.items()),
                  key=lambda row: (row[0] is None, row[0].name if row[0] else ""))
    return rows


def by_city(monday: date, *, now: datetime, zone: str, campaign_id: int | None = None) -> list[tuple[str, Counts]]:
    """(city code, counts), by city code."""
    counts = _grouped(Store.city_code, monday, now=now, zone=zone, join=Store, campaign_id=campaign_id)
    return sorted(counts.items())


def stores_page(monday: date, *, now: datetime, zone: str, page: int, per_page: int,
                city: str | None = None, campaign_id: int | None = None):
    """A page of the stores with items that week (by code) and {store id: counts} for that page."""
    with_items = select(ContentItem.store_id).where(*_week_filter(monday, city=city, campaign_id=campaign_id))
    pagination = db.paginate(select(Store).where(Store.id.in_(with_items)).order_by(Store.code),
                             page=page, per_page=per_page, error_out=False)
    ids = [store.id for store in pagination.items]
    counts = _grouped(ContentItem.store_id, monday, now=now, zone=zone, city=city, campaign_id=campaign_id,
                      extra=[ContentItem.store_id.in_(ids)])
    return pagination, {i: counts.get(i, Counts()) for i in ids}
