"""A week's completion from one scan equals the three grouped queries it replaces, under every filter."""
import random
from datetime import datetime, timedelta, timezone

import pytest
from fixtures_plans import MONDAY

from matrix.content.models import Approval, Campaign, ContentItem, ContentKind, ItemStatus
from matrix.extensions import db
from matrix.plans import stats, week_summary
from matrix.stores.chain_cache import forget_summaries

ZONE = "Asia/Shanghai"
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=timezone.utc)  # Wednesday 13:00 in Shanghai


def _as_tuples(counts: stats.Counts) -> tuple:
    return tuple(vars(counts).values())


@pytest.fixture
def busy_week(make_store, make_account, make_item):
    """Three stores in two cities, two campaigns and own items, a brand trailer of no store; random statuses."""
    stores = [make_store(), make_store(), make_store(city="上海", district="徐汇区")]
    campaigns = [Campaign(name=name, starts_on=MONDAY, ends_on=MONDAY) for name in ("B 秋", "A 春")]
    db.session.add_all(campaigns)
    db.session.commit()
    rng = random.Random(7)
    for n in range(120):
        store = rng.choice(stores)
        make_item(store, make_account(store=store) if n < 3 else None, day=MONDAY + timedelta(days=rng.randrange(8)),
                  slot=rng.choice(("09:00", "12:00", "13:00", "18:00")), status=rng.choice(list(ItemStatus)),
                  approval=rng.choice((Approval.NOT_NEEDED, Approval.NOT_NEEDED, Approval.REJECTED)),
                  campaign_id=rng.choice((campaigns[0].id, campaigns[1].id, None)))
    db.session.add(ContentItem(store_id=None, day=MONDAY, slot="20:00", kind=ContentKind.TRAILER,
                               campaign_id=campaigns[0].id, status=ItemStatus.PUBLISHED))
    db.session.commit()
    return stores, campaigns


@pytest.mark.parametrize("by_city, by_campaign", [(False, False), (True, False), (False, True), (True, True)])
def test_one_scan_gives_what_the_three_queries_gave(busy_week, by_city, by_campaign):
    stores, campaigns = busy_week
    city = stores[0].city_code if by_city else None
    campaign_id = campaigns[1].id if by_campaign else None
    summary = week_summary.week_summary(MONDAY, now=NOW, zone=ZONE, city=city, campaign_id=campaign_id)
    expected_total = stats.totals(MONDAY, now=NOW, zone=ZONE, city=city, campaign_id=campaign_id)
    assert _as_tuples(summary.total) == _as_tuples(expected_total) and summary.total.total > 0
    expected = stats.by_campaign(MONDAY, now=NOW, zone=ZONE, city=city)
    assert [(c, _as_tuples(n)) for c, n in summary.per_campaign] == [(c, _as_tuples(n)) for c, n in expected]
    expected = stats.by_city(MONDAY, now=NOW, zone=ZONE, campaign_id=campaign_id)
    assert [(c, _as_tuples(n)) for c, n in summary.per_city] == [(c, _as_tuples(n)) for c, n in expected]


def test_a_process_keeps_the_figures_for_report_cache_s(app, busy_week, make_item):
    stores, _campaigns = busy_week
    app.config["REPORT_CACHE_S"] = 3600
    forget_summaries()
    try:
        before = week_summary.week_summary(MONDAY, now=NOW, zone=ZONE).total.total
        make_item(stores[0], day=MONDAY)
        assert week_summary.week_summary(MONDAY, now=NOW, zone=ZONE).total.total == before
        forget_summaries()
        assert week_summary.week_summary(MONDAY, now=NOW, zone=ZONE).total.total == before + 1
    finally:
        app.config["REPORT_CACHE_S"] = 0
        forget_summaries()


@pytest.mark.parametrize("by_city, by_campaign", [(False, False), (True, True)])
def test_the_store_page_is_stats_store_page(busy_week, by_city, by_campaign):
    stores, campaigns = busy_week
    filters = {"city": stores[0].city_code if by_city else None, "campaign_id": campaigns[0].id if by_campaign else None}
    for number in (1, 2):
        page, counts = week_summary.stores_page(MONDAY, now=NOW, zone=ZONE, page=number, per_page=1, **filters)
        expected, expected_counts = stats.stores_page(MONDAY, now=NOW, zone=ZONE, page=number, per_page=1, **filters)
        assert (page.items, page.total, page.pages) == (expected.items, expected.total, expected.pages)
        assert {i: _as_tuples(c) for i, c in counts.items()} == {i: _as_tuples(c) for i, c in expected_counts.items()}
