"""Booking many sessions at once (an import, a week): all or nothing, conflicts checked among them too."""
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.extensions import db
from matrix.live import conflicts
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.services import apply_values, booking, lock_bookings
from matrix.live.session_values import SessionValues
from matrix.live.settings import live_settings
from matrix.live.trailer_report import TrailerReport
from matrix.live.trailers import sync_trailers


@dataclass
class BatchReport:
    """Per-key errors and nearby overlaps of a batch; nothing is written unless it is clean."""

    errors: dict[object, list[str]] = field(default_factory=dict)
    nearby: dict[object, list[str]] = field(default_factory=dict)
    sessions: list[LiveSession] = field(default_factory=list)
    trailers: TrailerReport | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def schedule_many(batch: list[SessionValues], *, actor: User, accept_nearby: bool = False,
                  commit: bool = True) -> BatchReport:
    """Book many sessions at once (an import, a week): all or nothing, conflicts checked among them too."""
    report = BatchReport()
    lock_bookings()
    found = conflicts.check([booking(v, key=v.key) for v in batch], nearby_km=live_settings().nearby_km)
    for values in batch:
        f = found[values.key]
        if f.errors:
            report.errors[values.key] = f.errors
        if f.nearby:
            report.nearby[values.key] = [o.message for o in f.nearby]
            if not accept_nearby:
                report.errors.setdefault(values.key, []).append(_(
                    "A nearby store is live at the same time; accept the overlaps to schedule anyway."))
    if not report.ok:
        return report
    for values in batch:
        session = LiveSession(status=SessionStatus.SCHEDULED, created_by_id=actor.id)
        apply_values(session, values)
        report.sessions.append(session)
    db.session.add_all(report.sessions)
    db.session.flush()
    # Accepted overlaps name stored sessions and, now that they have ids, the batch's own.
    new_ids = {values.key: session.id for values, session in zip(batch, report.sessions)}
    for values, session in zip(batch, report.sessions):
        overlaps = found[values.key].nearby
        if overlaps:
            session.accepted_overlaps = sorted({o.other_session_id or new_ids[o.other_key] for o in overlaps})
    report.trailers = sync_trailers(report.sessions)
    audit.record(actor, "import", "live_session", summary=_l("%(n)d live sessions scheduled. %(trailers)s",
                                                             n=len(report.sessions),
                                                             trailers=report.trailers.summary_message()),
                 changes={"sessions": [s.id for s in report.sessions][:500], "trailers": report.trailers.as_dict()})
    if commit:
        db.session.commit()
    return report
