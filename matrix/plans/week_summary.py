"""A week's completion summed up in one scan: its totals, per campaign and per city, kept a while per process.

plans.stats.totals, by_campaign and by_city each read the whole week (240,000 items at 10,000 stores):
three scans, 200 ms a page. Grouped once by campaign and city, all three come from a few thousand rows;
and as it is a report, a process reuses those rows for REPORT_CACHE_S seconds (0: never, the tests).
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from matrix.content.models import Campaign, ContentItem
from matrix.extensions import db
from matrix.plans.stats import Counts, _sums, _week_filter
from matrix.plans.stats import _grouped as _grouped_by_key
from matrix.stores.chain_cache import report_figures
from matrix.stores.models import Store


@dataclass
class WeekSummary:
    total: Counts
    per_campaign: list[tuple[Campaign | None, Counts]]   # by campaign name; None: items of no campaign
    per_city: list[tuple[str, Counts]]                   # by city code


def _grouped(monday: date, now: datetime, zone: str) -> list[tuple]:
    """(campaign id, city code, counts) of every campaign and city with items that week; one scan."""
    query = (select(ContentItem.campaign_id, Store.city_code, *_sums(now, zone)).select_from(ContentItem)
             .outerjoin(Store, Store.id == ContentItem.store_id).where(*_week_filter(monday))
             .group_by(ContentItem.campaign_id, Store.city_code))
    return [(row[0], row[1], tuple(int(n) for n in row[2:])) for row in db.session.execute(query)]


def _sum(counts: list[tuple]) -> Counts:
    return Counts(*(sum(column) for column in zip(*counts))) if counts else Counts()


def week_summary(monday: date, *, now: datetime, zone: str, city: str | None = None,
                 campaign_id: int | None = None) -> WeekSummary:
    """What stats.totals (both filters), by_campaign (the city filter) and by_city (the campaign filter) give."""
    rows = report_figures(("completion", monday, zone), lambda: _grouped(monday, now, zone))
    in_city = [r for r in rows if not city or r[1] == city]
    total = _sum([r[2] for r in in_city if not campaign_id or r[0] == campaign_id])
    by_campaign: dict[int | None, list[tuple]] = {}
    for campaign, _code, counts in in_city:
        by_campaign.setdefault(campaign, []).append(counts)
    ids = [i for i in by_campaign if i is not None]
    campaigns = {c.id: c for c in db.session.scalars(select(Campaign).where(Campaign.id.in_(ids)))} if ids else {}
    per_campaign = sorted(((campaigns.get(i), _sum(c)) for i, c in by_campaign.items()),
                          key=lambda row: (row[0] is None, row[0].name if row[0] else ""))
    by_city: dict[str, list[tuple]] = {}
    for campaign, code, counts in rows:
        if code is not None and (not campaign_id or campaign == campaign_id):
            by_city.setdefault(code, []).append(counts)
    return WeekSummary(total, per_campaign, sorted((code, _sum(c)) for code, c in by_city.items()))


def stores_page(monday: date, *, now: datetime, zone: str, page: int, per_page: int, city: str | None = None,
                campaign_id: int | None = None):
    """stats.stores_page, with the count of stores that have items (a scan of the whole week) kept likewise."""
    with_items = select(ContentItem.store_id).where(*_week_filter(monday, city=city, campaign_id=campaign_id))
    stores = select(Store).where(Store.id.in_(with_items))
    pagination = db.paginate(stores.order_by(Store.code), page=page, per_page=per_page, error_out=False, count=False)
    pagination.total = report_figures(("completion stores", monday, city, campaign_id), lambda: db.session.scalar(
        select(func.count()).select_from(stores.subquery())))
    ids = [store.id for store in pagination.items]
    counts = _grouped_by_key(ContentItem.store_id, monday, now=now, zone=zone, city=city, campaign_id=campaign_id,
                             extra=[ContentItem.store_id.in_(ids)]) if ids else {}
    return pagination, {i: counts.get(i, Counts()) for i in ids}

