"""The demo chain's live sessions: booked through the services, trailers made, history filled in by time."""
import random
from itertools import combinations
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from matrix import demo
from matrix.auth.models import Role, User
from matrix.content.models import ContentItem, ItemStatus
from matrix.extensions import db
from matrix.live.demo import POP_UP_RULE, add_demo_sessions
from matrix.live.models import LiveSession, SessionStatus, TrailerRule
from matrix.live.scoping import visible_sessions
from matrix.models import utcnow
from matrix.plans.services import starts_at as item_moment

ZONE = "Asia/Shanghai"


@pytest.fixture
def chain(app):
    """A small demo chain with its sessions (whether or not build_demo already adds them)."""
    started = utcnow()
    demo.build_demo(rng_seed=7, stores=36)
    add_demo_sessions(random.Random(3))
    return started


def sessions() -> list[LiveSession]:
    return list(db.session.scalars(select(LiveSession).order_by(LiveSession.starts_at)))


def trailers_of(session: LiveSession) -> list[ContentItem]:
    return list(db.session.scalars(select(ContentItem).where(ContentItem.session_id == session.id)))


def test_demo_sessions_are_booked_without_double_bookings_and_have_trailers(chain):
    booked = sessions()
    assert 25 <= len(booked) <= 45
    on = [s for s in booked if s.status != SessionStatus.CANCELLED]
    for a, b in combinations(on, 2):
        if a.starts_at < b.ends_at and b.starts_at < a.ends_at:
            assert a.account_id != b.account_id, (a.title, b.title)
            assert a.anchor_key != b.anchor_key, (a.anchor, b.anchor)
    # Saturdays bring two stores of one city on air at once: a nearby overlap the scheduler accepted.
    assert any(a.store_id and b.store_id and a.store_id != b.store_id and a.store.city_code == b.store.city_code
               and a.starts_at < b.ends_at and b.starts_at < a.ends_at for a, b in combinations(on, 2))
    assert any(s.store_id is None for s in booked)  # the brand main account goes live too
    assert db.session.scalar(select(TrailerRule).where(TrailerRule.is_default.is_(True))) is not None
    # Every session has trailers, posted by the host account, the brand's and neighbour stores' accounts.
    kinds = set()
    for session in sessions():
        items = trailers_of(session)
        assert items, session.title
        for item in items:
            if item.account_id == session.account_id:
                kinds.add("host")
            elif item.store_id is None:
                kinds.add("brand")
            elif item.store_id != session.store_id:
                kinds.add("sibling")  # a neighbour store posts it on its own plan
            if session.status == SessionStatus.SCHEDULED and item_moment(item.day, item.slot, ZONE) > utcnow():
                assert item.status == ItemStatus.PLANNED
    assert kinds == {"host", "brand", "sibling"}
    # The pop-up rule names the day from each trailer's own date: "tomorrow" the day before, "today" on the day.
    pop_up = db.session.scalar(select(TrailerRule.id).where(TrailerRule.name == POP_UP_RULE))
    words = {0: "today", 1: "tomorrow"}
    checked = 0
    for session in (s for s in sessions() if s.rule_id == pop_up and s.status == SessionStatus.SCHEDULED):
        start_day = session.starts_at.astimezone(ZoneInfo(ZONE)).date()
        for item in trailers_of(session):
            assert item.topic.startswith(words[(start_day - item.day).days]), (item.day, start_day, item.topic)
            checked += 1
    assert checked


def test_demo_history_follows_the_clock(chain):
    started = chain
    booked = sessions()
    done = [s for s in booked if s.status == SessionStatus.DONE]
    assert all(s.status == SessionStatus.DONE for s in booked if s.ends_at <= started)
    assert all(s.ends_at <= utcnow() for s in done)
    assert all(s.peak_viewers is not None and s.replay_url.startswith("https://") for s in done)
    assert all(s.status == SessionStatus.SCHEDULED for s in booked
               if s.starts_at > utcnow() and s.status != SessionStatus.CANCELLED)
    assert not [s for s in booked if s.status == SessionStatus.LIVE]
    cancelled = [s for s in booked if s.status == SessionStatus.CANCELLED]
    assert len(cancelled) == 1 and cancelled[0].cancel_reason
    assert all(i.status in (ItemStatus.CANCELLED, ItemStatus.PUBLISHED, ItemStatus.SKIPPED)
               for i in trailers_of(cancelled[0]))
    # Trailers whose time had passed went out; none is left planned in the past.
    items = db.session.scalars(select(ContentItem).where(ContentItem.session_id.is_not(None))).all()
    assert not [i for i in items if i.status == ItemStatus.PLANNED and item_moment(i.day, i.slot, ZONE) < started]
    published = [i for i in items if i.status == ItemStatus.PUBLISHED]
    assert published and all(i.post_url for i in published)
    # The moved session's and the cancelled session's published trailers now announce a wrong time.
    flagged = [i for i in published if i.flag]
    assert {i.session_id for i in flagged} >= {cancelled[0].id}
    assert any("moved" in i.flag for i in flagged)


def test_demo_managers_see_their_stores_sessions_and_a_second_run_adds_nothing(chain):
    managers = db.session.scalars(select(User).where(User.role == Role.STORE_MANAGER)).all()
    seen = {m.username: db.session.scalars(visible_sessions(m)).all() for m in managers}
    assert any(seen.values())
    for manager in managers:
        mine = {s.id for s in manager.stores}
        assert all(s.store_id in mine for s in seen[manager.username])
    # A second run adds nothing.
    before = (db.session.scalar(select(func.count()).select_from(LiveSession)),
              db.session.scalar(select(func.count()).select_from(ContentItem)))
    assert add_demo_sessions(random.Random(3)) is None
    assert (db.session.scalar(select(func.count()).select_from(LiveSession)),
            db.session.scalar(select(func.count()).select_from(ContentItem))) == before
