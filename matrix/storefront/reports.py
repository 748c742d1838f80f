"""HQ's numbers of the store pages: views and join clicks per store and channel over a span of days."""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, select

from matrix.extensions import db
from matrix.storefront.channels import PAGE_CHANNELS
from matrix.storefront.models import PageCount
from matrix.stores.models import Store

TOP_STORES = 100


@dataclass
class Counts:
    views: int = 0
    joins: int = 0

    def add(self, views: int, joins: int) -> None:
        self.views += views
        self.joins += joins

    @property
    def join_rate(self) -> float | None:
        return self.joins / self.views if self.views else None


@dataclass
class StoreRow:
    store_id: int
    code: str
    name: str
    total: Counts = field(default_factory=Counts)
    channels: dict[str, Counts] = field(default_factory=dict)


@dataclass
class PageReport:
    since: date
    until: date
    total: Counts
    channels: dict[str, Counts]       # every channel, in the vocabulary's order
    stores: list[StoreRow]            # the busiest first, at most TOP_STORES
    store_count: int                  # stores with any count in the span

    @property
    def peak(self) -> int:
        """The largest channel figure, for scaling the bars."""
        return max([c.views for c in self.channels.values()] + [1])


def page_report(stores: Select, *, since: date, until: date) -> PageReport:
    """Counts of the stores `stores` selects (the user's scope), from `since` to `until` inclusive."""
    scope = stores.with_only_columns(Store.id).order_by(None).scalar_subquery()
    rows = db.session.execute(
        select(PageCount.store_id, PageCount.channel, func.sum(PageCount.views), func.sum(PageCount.join_clicks))
        .where(PageCount.day >= since, PageCount.day <= until, PageCount.store_id.in_(scope))
        .group_by(PageCount.store_id, PageCount.channel))
    total, channels, by_store = Counts(), {c: Counts() for c in PAGE_CHANNELS}, {}
    for store_id, channel, views, joins in rows:
        views, joins = int(views or 0), int(joins or 0)
        total.add(views, joins)
        channels.setdefault(channel, Counts()).add(views, joins)
        row = by_store.setdefault(store_id, StoreRow(store_id, "", ""))
        row.total.add(views, joins)
        row.channels.setdefault(channel, Counts()).add(views, joins)
    busiest = sorted(by_store.values(), key=lambda r: (-r.total.views, -r.total.joins, r.store_id))[:TOP_STORES]
    names = dict((i, (c, n)) for i, c, n in db.session.execute(
        select(Store.id, Store.code, Store.name).where(Store.id.in_([r.store_id for r in busiest]))))
    for row in busiest:
        row.code, row.name = names.get(row.store_id, ("", ""))
    return PageReport(since, until, total, channels, busiest, len(by_store))
