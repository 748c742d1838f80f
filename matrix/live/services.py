"""Scheduling, moving, cancelling and closing live sessions. Each public call is one audited transaction.

Every create, move and import runs the same checks (conflicts.py): a double-booked account or
anchor refuses with the other session named; a nearby store live at the same time refuses with
ScheduleConflict.nearby until the scheduler accepts it. Trailers follow in the same transaction.
"""
from collections.abc import Collection
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import text

from matrix.accounts.values import check_platform_url
from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.errors import Collector, DomainError, NotFound
from matrix.extensions import db
from matrix.live import conflicts
from matrix.live.conflicts import Booking, Findings, fold_anchor
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.session_values import SessionValues, clean_session  # noqa: F401 - callers clean through services
from matrix.live.settings import live_settings
from matrix.live.trailer_report import TrailerReport
from matrix.live.trailers import sync_trailers
from matrix.models import utcnow
from matrix.permissions import can_manage_store

AUDITED = ["account_id", "starts_at", "ends_at", "title", "theme", "anchor", "status", "rule_id", "live_url",
           "peak_viewers", "new_followers", "orders", "leads", "replay_url", "cancel_reason", "accepted_overlaps"]
EARLIEST_LIVE = timedelta(hours=1)  # going live earlier leaves its last trailers announcing a future start
RESULTS = ("peak_viewers", "new_followers", "orders", "leads")
BOOKING_LOCK = 0x6C697665  # "live": the PostgreSQL advisory lock every booking check takes
NEXT = {SessionStatus.SCHEDULED: (SessionStatus.LIVE, SessionStatus.DONE, SessionStatus.CANCELLED),
        SessionStatus.LIVE: (SessionStatus.DONE,)}


class ScheduleConflict(DomainError):
    """Refused: `errors` are double bookings; `nearby` (when there are no errors) may be accepted."""

    def __init__(self, findings: Findings):
        message = findings.errors[0] if findings.errors else _(
            "A nearby store is live at the same time. Check the overlaps and accept them to schedule anyway.")
        super().__init__(message)
        self.errors = findings.errors
        self.nearby = findings.nearby


def booking(values: SessionValues, *, key, session_id: int | None = None) -> Booking:
    account = values.account
    store = account.store
    return Booking(key, session_id, values.title, account.id, "@" + account.handle, account.store_id,
                   f"{store.code} {store.name}" if store else _("brand main account"), values.anchor,
                   fold_anchor(values.anchor), values.starts_at, values.ends_at)


def lock_bookings() -> None:
    """Hold the chain's one booking lock until commit or rollback: two requests (processes, a form and an
    import) could otherwise both find an account or anchor free and both book it. SQLite serves development."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BOOKING_LOCK})


def _check(values: SessionValues, *, session_id: int | None, accept_nearby: bool,
           accepted: Collection[int] = ()) -> list[int]:
    """Refuse double bookings; refuse nearby overlaps unless accepted now or before (`accepted`: session ids)."""
    lock_bookings()
    found = conflicts.check([booking(values, key=0, session_id=session_id)],
                            nearby_km=live_settings().nearby_km)[0]
    new = [o for o in found.nearby if o.other_session_id not in accepted]
    if found.errors or (new and not accept_nearby):
        raise ScheduleConflict(Findings(found.errors, new))
    return sorted({o.other_session_id for o in found.nearby if o.other_session_id})


def apply_values(session: LiveSession, values: SessionValues) -> None:
    """Copy cleaned values onto a session, with the host's store and brand for scoping and conflicts."""
    account = values.account
    session.account_id, session.store_id = account.id, account.store_id
    session.brand_id = account.store.brand_id if account.store else account.brand_id
    session.starts_at, session.ends_at = values.starts_at, values.ends_at
    session.title, session.theme, session.anchor = values.title, values.theme, values.anchor
    session.anchor_key = fold_anchor(values.anchor)
    session.rule_id = values.rule_id
    if values.live_url is not None:
        session.live_url = values.live_url or None


def _audit(actor: User, action: str, session: LiveSession, before: dict | None, report: TrailerReport | None,
           summary: str = "") -> None:
    changes = {"before": before, "after": audit.snapshot(session, AUDITED)}
    if report is not None:
        changes["trailers"] = report.as_dict()
    text = (_l("%(title)s · %(trailers)s", title=session.title, trailers=report.summary_message())
            if report is not None else session.title)
    audit.record(actor, action, "live_session", entity_id=session.id, store_id=session.store_id,
                 summary=summary or text, changes=changes)


def schedule_session(values: SessionValues, *, actor: User, accept_nearby: bool = False) -> tuple[LiveSession, TrailerReport]:
    """Book a session and create its trailers; raises ScheduleConflict."""
    accepted = _check(values, session_id=None, accept_nearby=accept_nearby)
    session = LiveSession(status=SessionStatus.SCHEDULED, accepted_overlaps=accepted, created_by_id=actor.id)
    apply_values(session, values)
    db.session.add(session)
    db.session.flush()
    report = sync_trailers([session])
    _audit(actor, "create", session, None, report)
    db.session.commit()
    return session, report


def _in_scope(actor: User, session: LiveSession) -> None:
    if not can_manage_store(actor, session.store_id):  # a brand account's session: HQ only
        raise NotFound(_("Not found."))


def move_session(session: LiveSession, values: SessionValues, *, actor: User, accept_nearby: bool = False,
                 expected_version: int | None = None) -> tuple[LiveSession, TrailerReport]:
    """Change a scheduled session (time, account, texts); its trailers follow. Raises ScheduleConflict.

    `expected_version` is the version the user's form was opened on: a change made since is not overwritten.
    """
    _in_scope(actor, session)
    if session.status != SessionStatus.SCHEDULED:
        raise DomainError(_("Only a scheduled session can be changed."))
    if expected_version is not None and expected_version != session.version:
        raise DomainError(_("Someone else changed this session while you were editing it. Reload the page and "
                            "make your change again."))
    before = audit.snapshot(session, AUDITED)
    accepted = _check(values, session_id=session.id, accept_nearby=accept_nearby,
                      accepted=session.accepted_overlaps or ())
    timing, old_store = (session.starts_at, session.ends_at, session.account_id), session.store_id
    apply_values(session, values)
    session.accepted_overlaps = accepted
    moved = {session.id} if timing != (session.starts_at, session.ends_at, session.account_id) else set()
    report = sync_trailers([session], moved=moved, old_windows=[(old_store, *timing[:2])] if moved else [])
    _audit(actor, "update", session, before, report)
    db.session.commit()
    return session, report


def cancel_session(session: LiveSession, *, actor: User, reason: str = "") -> TrailerReport:
    """Cancel a scheduled session: open trailers are cancelled, published ones flagged."""
    _in_scope(actor, session)
    if session.status != SessionStatus.SCHEDULED:
        raise DomainError(_("Only a scheduled session can be cancelled."))
    reason = " ".join((reason or "").split())
    if len(reason) > 300:
        raise DomainError(_("This text is too long: at most %(n)d characters.", n=300), field="reason")
    before = audit.snapshot(session, AUDITED)
    session.status, session.cancel_reason = SessionStatus.CANCELLED, reason or None
    report = sync_trailers([session])
    _audit(actor, "cancel", session, before, report)
    db.session.commit()
    return report


def set_status(session: LiveSession, status: str, *, actor: User) -> None:
    """Go live or close a session; a cancelled or finished one stays as it is."""
    _in_scope(actor, session)
    try:
        status = SessionStatus(status)
    except ValueError:
        raise DomainError(_("Unknown status.")) from None
    if status == SessionStatus.CANCELLED:
        cancel_session(session, actor=actor)
        return
    if status not in NEXT.get(session.status, ()):
        raise DomainError(_("This session cannot change to that status any more."))
    if status == SessionStatus.LIVE and session.starts_at - utcnow() > EARLIEST_LIVE:
        raise DomainError(_("A session goes live at most an hour before its start: move it to start earlier."))
    if status == SessionStatus.DONE and session.status == SessionStatus.SCHEDULED and session.starts_at > utcnow():
        # Done is never synced: its planned trailers would keep announcing a session that did not happen.
        raise DomainError(_("A session that has not started cannot be done: move it or cancel it."))
    before = audit.snapshot(session, AUDITED)
    session.status = status
    _audit(actor, "status", session, before, None)
    db.session.commit()


def _count(raw, name: str) -> int | None:
    """A result as a whole number (1,200 is read), or None when left empty."""
    if raw in (None, ""):
        return None
    try:
        number = int(str(raw).replace(",", "").strip())
    except ValueError:
        raise DomainError(_("Write a whole number."), field=name) from None
    if not 0 <= number <= 100_000_000:
        raise DomainError(_("Between 0 and 100,000,000."), field=name)
    return number


def record_results(session: LiveSession, values: dict, *, actor: User) -> None:
    """Peak viewers, new followers, orders, leads and the replay URL; a session with results is done."""
    _in_scope(actor, session)
    if session.status == SessionStatus.CANCELLED:
        raise DomainError(_("A cancelled session has no results."))
    if session.status == SessionStatus.SCHEDULED and session.starts_at > utcnow():
        raise DomainError(_("Results can be entered once the session has started."))
    collect = Collector()
    numbers = {}
    for name in RESULTS:
        with collect.field(name):
            numbers[name] = _count(values.get(name), name)
    replay = (values.get("replay_url") or "").strip() or None
    if replay:
        with collect.field("replay_url"):
            try:
                replay = check_platform_url(replay, session.account.platform)
            except DomainError as error:
                raise DomainError(error.message, field="replay_url") from None
    collect.check()
    before = audit.snapshot(session, AUDITED)
    for name, number in numbers.items():
        setattr(session, name, number)
    session.replay_url = replay
    session.status = SessionStatus.DONE
    _audit(actor, "results", session, before, None)
    db.session.commit()
