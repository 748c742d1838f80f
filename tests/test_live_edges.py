"""Edges of the live core: import keys against stored ids, past midnight, trailers per status, racing bookings."""
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError

from matrix.accounts.models import Account
from matrix.auth.models import Role, User
from matrix.content.models import ContentItem, ItemStatus
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.live import conflicts, services
from matrix.live.batch import schedule_many
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.settings import default_rule, live_settings

ZONE = ZoneInfo("Asia/Shanghai")
DAY = (datetime.now(ZONE) + timedelta(days=10)).date()


@pytest.fixture
def hq(make_user):
    return make_user(Role.OPERATOR)


def values(account, actor, *, day=DAY, start="19:00", end="21:00", title="新品直播", anchor="李娜"):
    return services.clean_session({"account_id": account.id, "day": day.isoformat(), "start": start, "end": end,
                                   "title": title, "anchor": anchor}, actor=actor)


def book(account, actor, **kwargs):
    return services.schedule_session(values(account, actor, **kwargs), actor=actor, accept_nearby=True)[0]


def by_offset(session) -> dict[int, ContentItem]:
    db.session.expire_all()
    items = db.session.scalars(select(ContentItem).where(ContentItem.session_id == session.id,
                                                         ContentItem.account_id == session.account_id))
    return {int(i.generation_key.rsplit(":", 1)[1]): i for i in items}


def sessions_count() -> int:
    return db.session.scalar(select(func.count()).select_from(LiveSession))


def test_a_batch_row_numbered_like_a_stored_session_is_not_blamed_for_that_sessions_overlaps(
        hq, make_store, make_account):
    west = book(make_account(make_store()), hq, anchor="甲")
    book(make_account(make_store(district="上城区")), hq, anchor="乙")   # overlaps `west`, accepted
    row = values(make_account(make_store(city="宁波", district="海曙区")), hq, anchor="丙")
    row.key = west.id      # an import keys its rows by line number: line 2 may meet session 2
    report = schedule_many([row], actor=hq)
    assert report.ok and report.nearby == {}, (report.errors, report.nearby)
    assert report.sessions[0].accepted_overlaps == []


def test_a_session_past_midnight_blocks_the_next_mornings_early_hours(hq, make_store, make_account):
    account = make_account(make_store())
    book(account, hq, start="23:00", end="01:00", title="深夜场")
    next_day = DAY + timedelta(days=1)
    with pytest.raises(services.ScheduleConflict) as refused:
        book(account, hq, day=next_day, start="00:30", end="02:00", anchor="王芳")
    assert "深夜场" in refused.value.message
    book(account, hq, day=next_day, start="01:00", end="02:00", anchor="王芳")   # touching: fine
    assert sessions_count() == 2


def test_moving_leaves_a_skipped_trailer_where_it_was(hq, make_store, make_account):
    account = make_account(make_store())
    session = book(account, hq)
    items = by_offset(session)
    items[1440].status, items[1440].skip_reason = ItemStatus.SKIPPED, "盘点"
    before = (items[1440].day, items[1440].slot, items[1440].caption)
    db.session.commit()
    report = services.move_session(session, values(account, hq, start="20:00", end="22:00"), actor=hq)[1]
    skipped = by_offset(session)[1440]
    assert (skipped.day, skipped.slot, skipped.caption, skipped.flag) == (*before, None)
    assert skipped.status == ItemStatus.SKIPPED
    assert report.moved == 3 and report.flagged == 0


def test_cancelling_cancels_a_trailer_the_store_edited_and_counts_a_cancelled_one_once(hq, make_store, make_account):
    account = make_account(make_store())
    session = book(account, hq)
    soon = (datetime.now(ZONE) + timedelta(days=2)).date()
    services.move_session(session, values(account, hq, day=soon), actor=hq)   # the 3-day trailer is now past
    items = by_offset(session)
    assert items[4320].status == ItemStatus.CANCELLED
    items[180].edited_by_store, items[180].caption = True, "我们自己写的"
    db.session.commit()
    report = services.cancel_session(session, actor=hq)
    after = by_offset(session)
    assert {m: i.status for m, i in after.items()} == dict.fromkeys((4320, 1440, 180, 30), ItemStatus.CANCELLED)
    assert after[180].caption == "我们自己写的" and after[180].flag is None
    assert (report.cancelled, report.flagged) == (3, 0)


def test_a_revived_trailer_carries_the_rules_text_and_is_rewritten_on_the_next_move(hq, make_store, make_account):
    account = make_account(make_store())
    session = book(account, hq)
    items = by_offset(session)
    items[4320].edited_by_store, items[4320].caption = True, "我们自己写的"
    db.session.commit()
    soon = (datetime.now(ZONE) + timedelta(days=2)).date()
    services.move_session(session, values(account, hq, day=soon), actor=hq)       # too close: cancelled
    _session, report = services.move_session(session, values(account, hq), actor=hq)  # back: revived
    assert report.revived == 1 and "1 brought back" in report.summary()
    revived = by_offset(session)[4320]
    assert revived.status == ItemStatus.PLANNED and "19:00" in revived.caption
    assert not revived.edited_by_store
    services.move_session(session, values(account, hq, start="19:30", end="21:00"), actor=hq)
    moved = by_offset(session)[4320]
    assert "19:30" in moved.caption and moved.flag is None   # re-written, not "check the time in your text"


def test_a_move_based_on_a_session_someone_else_just_changed_is_refused(hq, make_store, make_account):
    account = make_account(make_store())
    session = book(account, hq)
    slots = {m: (i.day, i.slot) for m, i in by_offset(session).items()}
    assert session.status == SessionStatus.SCHEDULED  # loaded here, as another request would have it
    moved = values(account, hq, start="20:00", end="22:00")
    with db.engine.begin() as other_request:
        other_request.execute(update(LiveSession.__table__).where(LiveSession.id == session.id)
                              .values(version=LiveSession.version + 1, title="别人改过"))
    with pytest.raises(StaleDataError):  # the app answers 409 and rolls back
        services.move_session(session, moved, actor=hq)
    db.session.rollback()
    assert {m: (i.day, i.slot) for m, i in by_offset(session).items()} == slots
    assert session.title == "别人改过"


def test_two_requests_booking_one_account_at_once_book_it_once(app, hq, make_store, make_account, monkeypatch):
    """Real threads on PostgreSQL: without the booking lock both check before either writes."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    account_id, actor_id = make_account(make_store()).id, hq.id
    live_settings(), default_rule()
    db.session.commit()
    real_check, both_checked = conflicts.check, threading.Barrier(2, timeout=1)

    def check_then_wait(*args, **kwargs):
        found = real_check(*args, **kwargs)
        try:
            both_checked.wait()  # unlocked, both threads meet here; locked, the other waits and this times out
        except threading.BrokenBarrierError:
            pass
        return found

    monkeypatch.setattr(conflicts, "check", check_then_wait)
    outcomes = []

    def book_in_another_request(anchor: str):
        with app.app_context():
            actor = db.session.get(User, actor_id)
            try:
                services.schedule_session(values(db.session.get(Account, account_id), actor, anchor=anchor),
                                          actor=actor)
                outcomes.append("booked")
            except services.ScheduleConflict:
                outcomes.append("refused")
            except Exception as e:  # noqa: BLE001 - reported by the assertion
                outcomes.append(repr(e))

    threads = [threading.Thread(target=book_in_another_request, args=(anchor,)) for anchor in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["booked", "refused"]
    assert sessions_count() == 1


def test_a_session_that_has_not_started_cannot_be_marked_done(hq, make_store, make_account, make_user):
    store = make_store()
    account = make_account(store)
    future = book(account, hq)
    with pytest.raises(DomainError):
        services.set_status(future, "done", actor=make_user(Role.STORE_MANAGER, stores=[store]))
    db.session.expire_all()
    assert future.status == SessionStatus.SCHEDULED
    assert {i.status for i in by_offset(future).values()} == {ItemStatus.PLANNED}
    yesterday = (datetime.now(ZONE) - timedelta(days=1)).date()
    over = book(account, hq, day=yesterday, anchor="王芳")
    services.set_status(over, "done", actor=hq)
    assert over.status == SessionStatus.DONE
