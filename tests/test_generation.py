"""generate_week: counts, idempotent regeneration, items stores worked on, spacing, scope."""
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from matrix.accounts.models import AccountStatus
from matrix.auth.models import Role
from matrix.campaigns import services
from matrix.content.generation import generate_week
from matrix.content.models import ContentItem, ContentTemplate, ItemStatus
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.models import utcnow
from matrix.stores.models import StoreStatus
from matrix.weeks import week_string

MONDAY = date(2026, 11, 23)
BEFORE = datetime(2026, 11, 1, tzinfo=timezone.utc)  # the clock of these tests: every slot of MONDAY's week ahead


@pytest.fixture
def hq(make_user):
    return make_user(Role.OPERATOR)


@pytest.fixture
def campaign(app, hq, platforms):
    """A builder: a campaign with `variants` short-video templates."""
    def build(variants=1, cadence=None, kind="short_video", **values):
        raw = {"name": "双十二", "starts_on": date(2026, 11, 1), "ends_on": date(2026, 12, 31),
               "store_scope": "all", "cadence": cadence or {kind: 7}, "slots": "12:00, 18:00, 20:30"}
        raw.update(values)
        c = services.create_campaign(actor=hq, **raw)
        for i in range(variants):
            services.add_template(c, actor=hq, kind=kind, topic=f"变体{i}",
                                  caption=f"{{{{ store_name }}}}本周上新 {i}", script="镜头1：门头\n镜头2：{{ city }}",
                                  hashtags="#栖木家居 #{{ city }}")
        return c
    return build


def items(**where):
    return db.session.scalars(select(ContentItem).filter_by(**where).order_by(ContentItem.id)).all()


def test_two_stores_two_accounts_cadence_seven(hq, campaign, make_store, make_account):
    for _ in range(2):
        store = make_store()
        make_account(store, "douyin")
        make_account(store, "kuaishou")
    report = generate_week(campaign(), MONDAY, actor=hq, now=BEFORE)
    assert (report.added, report.changed, report.left, report.stores, report.accounts) == (28, 0, 0, 2, 4)
    rows = items()
    assert len(rows) == 28
    assert {r.day for r in rows} == {date(2026, 11, 23 + i) for i in range(7)}
    assert all(r.slot in ("12:00", "18:00", "20:30") for r in rows)
    assert rows[0].caption.endswith("本周上新 0") and "杭州" in rows[0].script and rows[0].status == ItemStatus.PLANNED
    assert len({r.generation_key for r in rows}) == 28
    assert all(r.campaign_id == rows[0].campaign_id and r.approval.value == "not_needed" for r in rows)
    assert abs((rows[0].created_at - utcnow()).total_seconds()) < 60 and rows[0].updated_at == rows[0].created_at


def test_regenerating_is_idempotent(hq, campaign, make_store, make_account):
    store = make_store()
    make_account(store, "douyin")
    make_account(store, "kuaishou")
    c = campaign(variants=2)
    generate_week(c, MONDAY, actor=hq, now=BEFORE)
    again = generate_week(c, MONDAY, actor=hq, now=BEFORE)
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 14)
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 14


def test_template_change_updates_untouched_items_only(hq, campaign, make_store, make_account):
    store = make_store()
    make_account(store, "douyin")
    c = campaign()
    generate_week(c, MONDAY, actor=hq, now=BEFORE)
    edited, published = items()[:2]
    edited.caption, edited.edited_by_store = "店长改过的文案", True
    published.status, published.post_url = ItemStatus.PUBLISHED, "https://www.douyin.com/video/1"
    db.session.commit()
    template = db.session.scalar(select(ContentTemplate))
    services.update_template(template, actor=hq, kind="short_video", topic="新主题", caption="{{ store_code }} 新文案")
    report = generate_week(c, MONDAY, actor=hq, now=BEFORE)
    assert (report.added, report.changed, report.left) == (0, 5, 2)
    db.session.expire_all()
    assert db.session.get(ContentItem, edited.id).caption == "店长改过的文案"
    assert db.session.get(ContentItem, published.id).status == ItemStatus.PUBLISHED
    assert db.session.get(ContentItem, published.id).topic == "变体0"
    assert {r.topic for r in items()} == {"新主题", "变体0"}


def test_store_leaving_scope_loses_untouched_items_only(hq, campaign, make_store, make_account):
    keep, leave = make_store(), make_store()
    for store in (keep, leave):
        make_account(store, "douyin")
    c = campaign()
    generate_week(c, MONDAY, actor=hq, now=BEFORE)
    worked = items(store_id=leave.id)[0]
    worked.status = ItemStatus.SHOT
    db.session.commit()
    leave.status = StoreStatus.CLOSED
    db.session.commit()
    report = generate_week(c, MONDAY, actor=hq, now=BEFORE)
    assert (report.removed, report.left, report.unchanged) == (6, 1, 7)
    assert [r.id for r in items(store_id=leave.id)] == [worked.id]


def test_account_status_and_platforms_decide_who_gets_items(hq, campaign, make_store, make_account, platforms):
    store = make_store()
    make_account(store, "douyin")
    make_account(store, "kuaishou", status=AccountStatus.INCUBATING)
    make_account(store, "channels", status=AccountStatus.BANNED)
    make_account(store, "xiaohongshu")
    report = generate_week(campaign(platform_ids=[platforms["douyin"].id, platforms["kuaishou"].id,
                                                  platforms["channels"].id]), MONDAY, actor=hq, now=BEFORE)
    assert report.accounts == 2 and report.added == 14


def test_cadence_mixes_kinds_and_spreads_over_the_week(hq, make_store, make_account, campaign):
    store = make_store()
    make_account(store, "douyin")
    c = campaign(cadence={"short_video": 5, "image_post": 2})
    services.add_template(c, actor=hq, kind="image_post", topic="图文", caption="{{ district }}")
    generate_week(c, MONDAY, actor=hq, now=BEFORE)
    rows = items()
    assert Counter(r.kind.value for r in rows) == {"short_video": 5, "image_post": 2}
    assert len({r.day for r in rows}) == 7
    assert any(r.caption == "西湖区" for r in rows)


def test_week_outside_campaign_and_partial_week(hq, campaign, make_store, make_account):
    store = make_store()
    make_account(store, "douyin")
    c = campaign(starts_on=date(2026, 11, 26), ends_on=date(2026, 12, 31))
    with pytest.raises(DomainError):
        generate_week(c, date(2026, 1, 5), actor=hq, now=BEFORE)
    report = generate_week(c, MONDAY, actor=hq, now=BEFORE)  # Thu..Sun: 4 of 7 days, so 4 of 7 items
    assert report.added == 4 and min(r.day for r in items()) == date(2026, 11, 26)


def test_render_error_skips_that_store_and_says_why(hq, campaign, make_store, make_account):
    good, bad = make_store(code="GOOD-01"), make_store(code="BAD-1")
    for store in (good, bad):
        make_account(store, "douyin")
    c = campaign(variants=0)
    services.add_template(c, actor=hq, kind="short_video", topic="t",
                          caption="第一行\n{{ 100 // (store_code|length - 5) }}")
    with force_locale("en"):
        report = generate_week(c, MONDAY, actor=hq, now=BEFORE)
    assert report.added == 7 and report.skipped == 7
    assert report.skipped_reasons[0].startswith("BAD-1") and "line 2" in report.skipped_reasons[0]
    assert {r.store_id for r in items()} == {good.id}


def shared_positions(rows) -> set:
    """(template, day, slot) used by more than one store."""
    stores_at: dict[tuple, set] = {}
    for r in rows:
        stores_at.setdefault((r.template_id, r.day, r.slot), set()).add(r.store_id)
    return {pos for pos, stores in stores_at.items() if len(stores) > 1}


def test_same_city_stores_with_enough_variants_never_share_a_slot(hq, campaign, make_store, make_account):
    for _ in range(3):
        make_account(make_store(city="杭州"), "douyin")
    report = generate_week(campaign(variants=3), MONDAY, actor=hq, now=BEFORE)
    assert report.added == 21 and not report.warnings
    assert shared_positions(items()) == set()
    # Each store rotates its variants through the week too.
    assert all(len({r.template_id for r in items(store_id=s)}) == 3 for s in {r.store_id for r in items()})


def test_fewer_variants_than_neighbours_shift_slots(hq, campaign, make_store, make_account):
    for _ in range(5):
        make_account(make_store(city="杭州"), "douyin")
    report = generate_week(campaign(variants=2), MONDAY, actor=hq, now=BEFORE)
    assert not report.warnings and shared_positions(items()) == set()


def test_impossible_spacing_is_reported(hq, campaign, make_store, make_account):
    for _ in range(4):
        make_account(make_store(city="杭州"), "douyin")
    with force_locale("en"):
        report = generate_week(campaign(variants=1, slots="12:00, 18:00"), MONDAY, actor=hq, now=BEFORE)
    assert report.added == 28 and report.warnings and "杭州" in report.warnings[0]


def test_other_cities_are_not_neighbours(hq, campaign, make_store, make_account):
    make_account(make_store(city="杭州", district="西湖区"), "douyin")
    make_account(make_store(city="上海", district="徐汇区", lon=121.44, lat=31.19), "douyin")
    generate_week(campaign(variants=1), MONDAY, actor=hq, now=BEFORE)
    assert len(shared_positions(items())) == 7


def test_spacing_by_distance(hq, campaign, make_store, make_account):
    # Two Hangzhou stores about 10 km apart, and a third 1 km from the first.
    west = make_store(city="杭州", lon=120.10, lat=30.26)
    east = make_store(city="杭州", lon=120.204, lat=30.26)
    near = make_store(city="杭州", lon=120.11, lat=30.26)
    for store in (west, east, near):
        make_account(store, "douyin")
    generate_week(campaign(variants=1, spacing_km=2), MONDAY, actor=hq, now=BEFORE)
    assert shared_positions(items(store_id=west.id) + items(store_id=east.id))  # far apart: may share
    assert not shared_positions(items(store_id=west.id) + items(store_id=near.id))


@pytest.mark.parametrize("scope", ["city", "list", "tag"])
def test_scope(scope, hq, campaign, make_store, make_account):
    hz, sh, other = (make_store(code="HZ-1", city="杭州"), make_store(code="SH-1", city="上海", district="徐汇区"),
                     make_store(code="SZ-1", city="深圳", district="南山区"))
    for store in (hz, sh, other):
        make_account(store, "douyin")
    services.set_store_tags(hz, "旗舰店, 新店", actor=hq)
    services.set_store_tags(sh, "新店", actor=hq)
    values = {"city": {"cities": ["杭州", "310100"]}, "list": {"store_codes": "HZ-1\nSH-1"},
              "tag": {"tags": "新店"}}[scope]
    generate_week(campaign(store_scope=scope, **values), MONDAY, actor=hq, now=BEFORE)
    assert {r.store_id for r in items()} == {hz.id, sh.id}


def test_plan_week_command(app, hq, campaign, make_store, make_account):
    make_account(make_store(), "douyin")
    today = date.today()
    c = campaign(starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=400))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["plan-week", "--campaign", str(c.id), "--week", week_string(today + timedelta(days=7))])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 7
    assert runner.invoke(args=["plan-week", "--campaign", str(c.id), "--week", "2026-W99"]).exit_code == 1
    assert runner.invoke(args=["plan-week", "--campaign", "999", "--week", "2026-W48"]).exit_code == 1


def test_weeks(app):
    from matrix.weeks import WeekError, iso_week, week_days, week_label, week_string

    assert iso_week("2026-W48") == MONDAY and iso_week("2026w48") == MONDAY and week_string(MONDAY) == "2026-W48"
    assert iso_week("2026-W53") == date(2026, 12, 28) and week_string(date(2027, 1, 3)) == "2026-W53"
    assert week_days(date(2026, 11, 26))[0] == MONDAY and len(week_days(MONDAY)) == 7
    for bad in ("2025-W53", "2026-48", "", "W48"):
        with pytest.raises(WeekError):
            iso_week(bad)
    with app.test_request_context(), force_locale("en"):
        assert week_label(MONDAY).startswith("2026-W48 (Nov 23")


WEDNESDAY_1PM = datetime(2026, 11, 25, 13, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def local(item) -> datetime:
    hour, minute = map(int, item.slot.split(":"))
    return datetime(item.day.year, item.day.month, item.day.day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_generating_on_a_wednesday_plans_no_slot_already_past(hq, campaign, make_store, make_account):
    for _ in range(3):
        make_account(make_store(), "douyin")
    report = generate_week(campaign(variants=3), MONDAY, actor=hq, now=WEDNESDAY_1PM, zone="Asia/Shanghai")
    rows = items()
    assert rows and all(local(r) > WEDNESDAY_1PM for r in rows), [(r.day, r.slot) for r in rows if local(r) <= WEDNESDAY_1PM]
    assert report.past > 0 and report.added + report.past == 3 * 7
    assert "not planned" in report.summary()


def test_regenerating_later_in_the_week_leaves_past_items_alone(hq, campaign, make_store, make_account):
    make_account(make_store(), "douyin")
    c = campaign()
    generate_week(c, MONDAY, actor=hq, now=BEFORE)
    c.templates[0].caption = "新文案"
    db.session.commit()
    report = generate_week(c, MONDAY, actor=hq, now=WEDNESDAY_1PM, zone="Asia/Shanghai")
    rows = items()
    assert len(rows) == 7  # nothing past was removed
    assert all((r.caption == "新文案") == (local(r) > WEDNESDAY_1PM) for r in rows)
    assert report.changed == sum(local(r) > WEDNESDAY_1PM for r in rows) and report.removed == 0


def test_a_week_that_is_over_is_refused(hq, campaign, make_store, make_account):
    make_account(make_store(), "douyin")
    with pytest.raises(DomainError, match="over"):
        generate_week(campaign(), MONDAY, actor=hq, now=datetime(2026, 11, 30, tzinfo=timezone.utc))
    assert items() == []


def test_clashes_name_the_stores_and_slots_and_moving_fixes_them(hq, campaign, make_store, make_account):
    from matrix.audit.models import AuditEntry
    from matrix.content.clashes import fix_clashes, week_clashes

    for code in ("HZ-1", "HZ-2", "HZ-3", "HZ-4"):
        make_account(make_store(code=code, city="杭州"), "douyin")
    c = campaign(variants=1, slots="12:00, 18:00, 20:30", cadence={"short_video": 2})
    with force_locale("en"):
        report = generate_week(c, MONDAY, actor=hq, now=BEFORE)
    clashes = week_clashes(c, MONDAY)
    assert clashes and report.warnings
    assert "HZ-" in report.warnings[0] and "杭州市" in report.warnings[0] and ":" in report.warnings[0]
    assert any(clash.slot in report.warnings[0] for clash in clashes)
    fixed = fix_clashes(c, MONDAY, actor=hq, now=BEFORE, zone="Asia/Shanghai")
    assert fixed.moved and not fixed.unfixable
    assert week_clashes(c, MONDAY) == []
    assert shared_positions(items()) == set()
    moved = [r for r in items() if r.edited_by_store]
    assert moved and len(items()) == 4 * 2  # moved, not added or removed
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "move", AuditEntry.entity == "campaign"))
    assert entry.changes["fixed"] and "→" in entry.changes["fixed"][0]
    again = generate_week(c, MONDAY, actor=hq, now=BEFORE)  # regenerating leaves the moved items where they are
    assert again.left == len(moved) and week_clashes(c, MONDAY) == []


def test_clashes_that_cannot_move_are_said(hq, campaign, make_store, make_account):
    from matrix.content.clashes import fix_clashes, week_clashes

    for code in ("HZ-1", "HZ-2", "HZ-3"):
        make_account(make_store(code=code, city="杭州"), "douyin")
    c = campaign(variants=1, slots="12:00", cadence={"short_video": 7})  # every slot of the week is taken
    generate_week(c, MONDAY, actor=hq, now=BEFORE)
    assert week_clashes(c, MONDAY)
    fixed = fix_clashes(c, MONDAY, actor=hq, now=BEFORE, zone="Asia/Shanghai")
    assert not fixed.moved and fixed.unfixable and "no free slot" in fixed.unfixable[0]


def test_the_campaign_page_keeps_its_clashes_until_the_weeks_items_change(app, hq, campaign, make_store, make_account):
    from matrix.content.clashes import fix_clashes, shown_week_clashes
    from matrix.stores.chain_cache import forget_summaries

    for code in ("HZ-1", "HZ-2", "HZ-3", "HZ-4"):
        make_account(make_store(code=code, city="杭州"), "douyin")
    c = campaign(variants=1, slots="12:00, 18:00, 20:30", cadence={"short_video": 2})
    generate_week(c, MONDAY, actor=hq, now=BEFORE)
    forget_summaries()
    app.config["CHAIN_CACHE_CHECK_S"] = 1e-9      # on, and checked on every use (the suite runs with it off)
    try:
        shown = shown_week_clashes(c, MONDAY)
        assert shown and shown_week_clashes(c, MONDAY) is shown                 # nothing changed: not read again
        fix_clashes(c, MONDAY, actor=hq, now=BEFORE, zone="Asia/Shanghai")
        assert shown_week_clashes(c, MONDAY) == []                               # the moved items show at once
    finally:
        app.config["CHAIN_CACHE_CHECK_S"] = 0.0
        forget_summaries()
