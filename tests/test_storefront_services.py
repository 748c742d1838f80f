"""Store page services without a client: counts that add up across processes, consent versions, tokens, the report."""
import threading
import time
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from matrix.errors import DomainError
from matrix.extensions import db
from matrix.permissions import visible_stores
from matrix.storefront import tokens
from matrix.storefront.cache import MISSING, PageCache
from matrix.storefront.channels import channel_of, join_channel
from matrix.storefront.counting import PageCounter, flush_counts, local_day
from matrix.storefront.models import ConsentVersion, PageCount
from matrix.storefront.reports import page_report
from matrix.storefront.settings import storefront_settings, update_settings

DAY = date(2026, 11, 28)
BASE = {"lead_form": True, "privacy_text": "声明", "consent_text": "同意", "poster_size": "A5", "poster_accent": "blue",
        "poster_headline": "{{ store_name }}", "poster_body": "", "poster_footer": ""}


def test_counts_of_several_processes_add_up(storefront):
    """Each process flushes its own counter; the UPSERT adds, so no count is lost or doubled."""
    a, b = storefront["store_a"].id, storefront["store_b"].id
    processes = [PageCounter() for _ in range(4)]
    for n, counter in enumerate(processes):
        for _ in range(25):
            counter.add((a, "poster", DAY), views=1)
        counter.add((b, "bio", DAY), views=n, joins=1)
    for counter in processes:
        flush_counts(counter)
    rows = {(r.store_id, r.channel): (r.views, r.join_clicks) for r in db.session.scalars(select(PageCount))}
    assert rows == {(a, "poster"): (100, 0), (b, "bio"): (6, 4)}


def test_counting_from_many_threads_loses_nothing(storefront):
    counter, key = PageCounter(), (storefront["store_a"].id, "share", DAY)

    def work():
        for _ in range(2000):
            counter.add(key, views=1)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.pending()[key] == [8000, 0]


def test_a_failed_flush_keeps_the_counts_and_a_deleted_store_loses_only_its_own(storefront, monkeypatch):
    counter = PageCounter()
    counter.add((storefront["store_a"].id, "page", DAY), views=3)
    counter.add((999999, "page", DAY), views=5)  # a store deleted since
    monkeypatch.setattr("matrix.storefront.counting.upsert_counts", lambda rows: (_ for _ in ()).throw(RuntimeError))
    with pytest.raises(RuntimeError):
        flush_counts(counter)
    assert len(counter.pending()) == 2
    monkeypatch.undo()
    assert flush_counts(counter) == 1
    assert db.session.scalar(select(PageCount.views)) == 3


def test_the_day_is_the_chains(app):
    late = datetime(2026, 11, 28, 17, 30, tzinfo=timezone.utc)  # 01:30 on the 29th in Shanghai
    assert local_day("Asia/Shanghai", late) == date(2026, 11, 29)


def test_channels_are_a_fixed_vocabulary():
    assert [channel_of(v) for v in ("poster", " BIO ", "", None, "x" * 100, "lead")] == \
        ["poster", "bio", "page", "page", "other", "lead"]
    assert join_channel("other") == "page" and join_channel("trailer") == "trailer"


def test_tokens_are_bound_to_store_and_signed(app):
    token = tokens.issue(7, "abc123abc123", now=1_000_000)
    assert tokens.read(token, 7) == tokens.FormToken(7, 1_000_000, "abc123abc123")
    assert tokens.read(token, 8) is None
    issued, digest, signature = token.split(".")
    assert tokens.read(f"{issued}.ffffffffffff.{signature}", 7) is None
    assert tokens.read(f"{int(issued, 16) + 1:x}.{digest}.{signature}", 7) is None


def test_consent_versions_follow_the_texts(storefront):
    hq = storefront["hq"]
    first = db.session.get(ConsentVersion, storefront_settings().consent_version_id)
    update_settings({**BASE, "consent_text": "我同意门店致电联系我。", "privacy_text": storefront_settings().privacy_text},
                    actor=hq)
    assert storefront_settings().consent_version_id == first.id  # the poster changed, not the consent
    update_settings({**BASE, "consent_text": "新的同意"}, actor=hq)
    second = db.session.get(ConsentVersion, storefront_settings().consent_version_id)
    assert (second.version, second.consent_text) == (first.version + 1, "新的同意")


@pytest.mark.parametrize("change, field", [
    ({"poster_headline": "{{ secret_key }}"}, "poster_headline"),
    ({"poster_body": "{{ ''.__class__ }}"}, "poster_body"),
    ({"privacy_url": "javascript:alert(1)"}, "privacy_url"),
    ({"poster_size": "A3"}, "poster_size"),
    ({"consent_text": ""}, "consent_text"),
    ({"privacy_text": "", "privacy_url": ""}, "privacy_url"),
])
def test_settings_refuse_what_cannot_be_right(storefront, change, field):
    with pytest.raises(DomainError) as error:
        update_settings({**BASE, **change}, actor=storefront["hq"])
    assert field in (getattr(error.value, "errors", None) or {error.value.field: 1})


def test_the_report_is_per_store_and_channel_within_the_users_scope(storefront):
    a, b = storefront["store_a"], storefront["store_b"]
    counter = PageCounter()
    counter.add((a.id, "poster", DAY), views=10, joins=3)
    counter.add((a.id, "bio", DAY), views=4)
    counter.add((b.id, "poster", DAY), views=7, joins=1)
    counter.add((b.id, "poster", date(2026, 10, 1)), views=100)  # outside the span
    flush_counts(counter)
    report = page_report(visible_stores(storefront["hq"]), since=date(2026, 11, 22), until=DAY)
    assert (report.total.views, report.total.joins) == (21, 4)
    assert report.channels["poster"].views == 17 and report.channels["bio"].views == 4
    assert [(r.code, r.total.views) for r in report.stores] == [("HZ-001", 14), ("HZ-002", 7)]
    own = page_report(visible_stores(storefront["manager"]), since=date(2026, 11, 22), until=DAY)
    assert [r.code for r in own.stores] == ["HZ-001"] and own.total.views == 14


def test_the_page_cache_expires_and_stays_bounded():
    cache = PageCache(max_entries=3)
    cache.put("a", 1, 10, now=0)
    assert cache.get("a", now=5) == 1 and cache.get("a", now=10) is MISSING
    for key in "bcde":
        cache.put(key, key, 10, now=time.monotonic())
    assert cache.get("b") is MISSING and cache.get("e") == "e"
