"""A session's trailers as content items on the plans of the accounts that post them.

`sync_trailers` makes the stored trailers of some sessions match what their rule wants now,
in bulk (a whole imported week at once). An item is found again by its generation key
"live:<session>:<account>:<minutes>". What happens to each stored trailer:

- planned: moved to its new time and re-written (when a store edited the text: moved and flagged);
- shot: moved and flagged, because the video may announce the old time;
- published: left alone and flagged when the session moved or was cancelled; after a move its key is
  retired ("…:old<id>") and the account gets a new trailer for the new time; moving back clears the flag;
- skipped: left alone; cancelled: brought back when the rule wants it again;
- no longer wanted (a cancelled session, a step now in the past, an account that left the audience):
  planned and shot ones are cancelled, published ones flagged.

New trailers whose time has already passed are not created.
"""
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from sqlalchemy import insert, select, update

from matrix.broadcasts.posts import sync_posts
from matrix.chain import chain_zone
from matrix.content.bulk import can_copy, copy_dicts
from matrix.content.models import Approval, ContentItem, ContentKind, ItemSource, ItemStatus
from matrix.extensions import db
from matrix.live.audience import Audience, overlapping_neighbours
from matrix.live.models import LiveSession, SessionStatus, TrailerRule
from matrix.live.settings import default_rule, live_settings
from matrix.live.timing import clock, offset_label, parse_clock, trailer_moment
from matrix.live.trailer_report import TrailerReport
from matrix.live.trailer_texts import TEXT_FIELDS, chain_text, compiled_texts, start_day, starts_label
from matrix.models import utcnow
from matrix.regions.services import region_name
from matrix.sandbox import limits
from matrix.sandbox.engine import render_fields

CHUNK = 5_000


@dataclass
class Wanted:
    store_id: int | None
    account_id: int
    day: date
    slot: str
    due: datetime
    texts: tuple[str, str, str]
    location_tag: str


def trailer_key(session_id: int, account_id: int, minutes: int) -> str:
    return f"live:{session_id}:{account_id}:{minutes}"


class _Sync:
    def __init__(self, sessions: list[LiveSession], moved: set[int], report: TrailerReport, now: datetime):
        self.sessions, self.moved, self.report, self.now = sessions, moved, report, now
        self.zone = chain_zone()
        self.start_days: dict[tuple[date, date], str] = {}
        settings = live_settings()
        self.quiet = (parse_clock(settings.quiet_start), parse_clock(settings.quiet_end),
                      parse_clock(settings.evening_slot))
        rules = {r.id: r for r in db.session.scalars(select(TrailerRule))}
        fallback = default_rule()
        rules.setdefault(fallback.id, fallback)
        self.rule_of = {s.id: rules.get(s.rule_id) or fallback for s in sessions}
        self.compiled = {rule.id: compiled_texts(tuple(getattr(rule, f) for f in TEXT_FIELDS), str(get_locale()))
                         for rule in {r.id: r for r in self.rule_of.values()}.values()}
        scheduled = [s for s in sessions if s.status == SessionStatus.SCHEDULED]
        self.audience = Audience(scheduled) if scheduled else None
        self.inserts: list[dict] = []
        self.updates: list[dict] = []

    def run(self) -> None:
        self._chain_labels()
        existing = self._existing()
        for session in self.sessions:
            wanted = self._wanted(session) if session.status == SessionStatus.SCHEDULED else {}
            if session.status in (SessionStatus.LIVE, SessionStatus.DONE):
                continue  # on air or over: its trailers are history
            mine = existing.get(session.id, {})
            for key, item in mine.items():  # first the posts retired by an earlier move (see _reconcile)
                if ":old" in key:
                    self._reconcile_retired(session, item, wanted)
            for key, item in mine.items():
                if ":old" not in key:
                    self._reconcile(session, item, wanted.pop(key, None))
            for key, want in wanted.items():
                self._insert(session, key, want)
        self._flush()

    def _existing(self) -> dict[int, dict[str, object]]:
        ids = [s.id for s in self.sessions]
        out: dict[int, dict] = {}
        columns = ContentItem.__table__.c
        for start in range(0, len(ids), CHUNK):
            for row in db.session.execute(select(columns.id, columns.session_id, columns.generation_key,
                                                 columns.status, columns.edited_by_store, columns.day, columns.slot,
                                                 columns.topic, columns.caption, columns.hashtags, columns.flag)
                                          .where(columns.session_id.in_(ids[start:start + CHUNK]))
                                          # A store marking a trailer published meanwhile waits for this sync
                                          # instead of being overwritten by it (PostgreSQL; SQLite has one writer).
                                          .with_for_update()):
                out.setdefault(row.session_id, {})[row.generation_key] = row
        return out

    def _chain_labels(self) -> None:
        """Start and offset labels in the chain's language, in one locale switch (one per label cost 2 s a week)."""
        zone = ZoneInfo(self.zone)
        scheduled = [s for s in self.sessions if s.status == SessionStatus.SCHEDULED]
        minutes = {int(step["minutes"]) for s in scheduled for step in self.rule_of[s.id].steps}
        self.starts_labels, self.offset_labels = chain_text(lambda: (
            {s.id: starts_label(s.starts_at.astimezone(zone)) for s in scheduled},
            {m: offset_label(m) for m in minutes}))

    def _start_day(self, post_day: date, start: date) -> str:
        """start_day in the chain's language; a week has few (post day, start day) pairs, each worded once."""
        if (post_day, start) not in self.start_days:
            self.start_days[post_day, start] = chain_text(lambda: start_day(post_day, start))
        return self.start_days[post_day, start]

    def _variables(self, session: LiveSession, host_account) -> dict:
        """The session's variables but the step's ("offset", "hours_before", "start_day")."""
        zone = ZoneInfo(self.zone)
        start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
        host = self.audience.hosts.get(session.store_id)
        community = self.audience.communities.get(session.store_id)
        platform = self.audience.platforms.get(host_account.platform_id)
        return {"title": session.title, "theme": session.theme or "", "anchor": session.anchor,
                "start_date": start.date(), "start_time": clock(start), "end_time": clock(end),
                "starts_label": self.starts_labels[session.id], "weekday": start.isoweekday(),
                "host_account": "@" + host_account.handle,
                "platform": (platform.name_zh if platform else ""),
                "brand": (host.brand if host else (host_account.brand.name if host_account.brand else "")) or "",
                "store_name": host.name if host else "", "store_code": host.code if host else "",
                "city": region_name(host.city_code) if host else "",
                "district": region_name(host.district_code) if host and host.district_code else "",
                "address": (host.address or "") if host else "", "phone": (host.phone or "") if host else "",
                "community_name": community.name if community else "",
                "community_link": (community.invite_link or "") if community else ""}

    def _wanted(self, session: LiveSession) -> dict[str, Wanted]:
        rule = self.rule_of[session.id]
        host_account = self.audience.accounts[session.account_id]
        siblings = self.audience.siblings(session, rule)
        host = self.audience.hosts.get(session.store_id)
        wanted: dict[str, Wanted] = {}
        taken: set[tuple[int, date, str]] = set()
        variables = self._variables(session, host_account)
        for step in sorted(rule.steps, key=lambda s: -int(s["minutes"])):
            minutes = int(step["minutes"])
            due = trailer_moment(session.starts_at, minutes, zone=self.zone, quiet_start=self.quiet[0],
                                 quiet_end=self.quiet[1], evening=self.quiet[2])
            rendered = render_fields(self.compiled[rule.id], {
                **variables, "offset": self.offset_labels[minutes], "hours_before": minutes // 60,
                "start_day": self._start_day(due.date(), variables["start_date"])})
            failed = [(name, r.errors[0]) for name, r in rendered.items() if r.errors]
            if failed:
                name, (line, message) = failed[0]
                self.report.failures.append(f"{session.title}: {name} {line or ''} {message}".strip())
                continue
            texts = tuple(rendered[f].text[:limit] for f, limit in zip(TEXT_FIELDS, (200, 5000, 500)))
            for store_id, account_id in self.audience.posters(session, rule, step, siblings):
                spot = (account_id, due.date(), clock(due))
                if spot in taken:  # two steps moved to the same evening slot: one trailer is enough
                    continue
                taken.add(spot)
                wanted[trailer_key(session.id, account_id, minutes)] = Wanted(
                    store_id, account_id, due.date(), clock(due), due, texts, host.name if host else "")
        return wanted

    def _insert(self, session: LiveSession, key: str, want: Wanted) -> None:
        if want.due < self.now:
            self.report.too_late += 1
            return
        self.report.added += 1
        self.inserts.append({"store_id": want.store_id, "account_id": want.account_id, "session_id": session.id,
                             "generation_key": key, "day": want.day, "slot": want.slot, "kind": ContentKind.TRAILER,
                             "source": ItemSource.TRAILER, "topic": want.texts[0], "caption": want.texts[1],
                             "hashtags": want.texts[2], "script": "", "location_tag": want.location_tag,
                             "status": ItemStatus.PLANNED, "approval": Approval.NOT_NEEDED,
                             "edited_by_store": False, "created_at": self.now, "updated_at": self.now})

    def _flag(self, session: LiveSession) -> str:
        if session.status == SessionStatus.CANCELLED:
            return chain_text(lambda: _("The session “%(title)s” was cancelled: this trailer announces it.",
                                         title=session.title))
        when = chain_text(lambda: format_datetime(session.starts_at, "yyyy-MM-dd HH:mm"))
        return chain_text(lambda: _("The session “%(title)s” moved to %(when)s: this trailer announces the old "
                                     "time.", title=session.title, when=when))

    def _reconcile_retired(self, session: LiveSession, item, wanted: dict[str, Wanted]) -> None:
        """A published trailer an earlier move replaced: right again when the session is back at its time."""
        cancelled = session.status == SessionStatus.CANCELLED
        if item.status != ItemStatus.PUBLISHED or not (cancelled or session.id in self.moved):
            return
        key = item.generation_key.split(":old")[0]
        want = None if cancelled else wanted.get(key)
        if want is not None and (want.day, want.slot) == (item.day, item.slot):
            wanted.pop(key)  # its replacement is no longer needed: cancelled below as not wanted
            self.updates.append({"id": item.id, "flag": None, "updated_at": self.now})
        else:
            self.updates.append({"id": item.id, "flag": self._flag(session), "updated_at": self.now})
            self.report.flagged += 1

    def _reconcile(self, session: LiveSession, item, want: Wanted | None) -> None:
        moved = session.id in self.moved or session.status == SessionStatus.CANCELLED
        changes: dict = {}
        if item.status == ItemStatus.PUBLISHED:
            # Published trailers are never moved. One the session's new time still wants at its own day and
            # slot announces (near enough) the right time again, e.g. after a move and a move back.
            back_in_place = want is not None and (want.day, want.slot) == (item.day, item.slot)
            if session.status == SessionStatus.CANCELLED or (moved and not back_in_place):
                changes["flag"] = self._flag(session)
                self.report.flagged += 1
                if session.status != SessionStatus.CANCELLED and want is not None and want.due >= self.now:
                    # The old post stays on record under another key; the account posts again for the new time.
                    changes["generation_key"] = f"{item.generation_key}:old{item.id}"
                    self._insert(session, item.generation_key, want)
            elif moved and item.flag:
                changes["flag"] = None
        elif item.status == ItemStatus.SKIPPED:
            return
        elif want is None or (want.due < self.now and (want.day, want.slot) != (item.day, item.slot)):
            if item.status != ItemStatus.CANCELLED:  # no longer wanted, or moved into the past
                changes.update(status=ItemStatus.CANCELLED, flag=None)
                self.report.cancelled += 1
        elif item.status == ItemStatus.CANCELLED and want.due < self.now:
            return  # wanted again, but too late to post
        else:
            placed = (want.day, want.slot) != (item.day, item.slot)
            changes.update(day=want.day, slot=want.slot, store_id=want.store_id)
            if item.status == ItemStatus.CANCELLED:  # revived with the rule's texts, so no longer the store's
                changes.update(status=ItemStatus.PLANNED, flag=None, edited_by_store=False)
                self.report.revived += 1
            elif placed:
                self.report.moved += 1
            if item.status == ItemStatus.SHOT and moved:
                changes["flag"] = chain_text(lambda: _("The session moved after this trailer was shot: check that "
                                                        "the video announces %(when)s.", when=format_datetime(
                                                            session.starts_at, "yyyy-MM-dd HH:mm")))
                self.report.flagged += 1
            elif item.edited_by_store and item.status != ItemStatus.CANCELLED:
                if moved:
                    changes["flag"] = chain_text(lambda: _("The session moved: check the time in your text."))
                    self.report.flagged += 1
            else:
                changes.update(zip(TEXT_FIELDS, want.texts))
                if item.status == ItemStatus.PLANNED:
                    changes["flag"] = None
        if changes:
            changes.update(id=item.id, updated_at=self.now)
            self.updates.append(changes)

    def _flush(self) -> None:
        # Updates first: a published trailer gives up its key before its replacement takes it.
        groups: dict[tuple, list[dict]] = {}  # bulk UPDATE by primary key wants the same keys in every row
        for row in self.updates:
            groups.setdefault(tuple(sorted(row)), []).append(row)
        for rows in groups.values():
            for start in range(0, len(rows), CHUNK):
                db.session.execute(update(ContentItem), rows[start:start + CHUNK])
        connection = db.session.connection()
        if self.inserts and can_copy(connection):
            copy_dicts(connection, self.inserts)
        else:
            # The table's INSERT, not the ORM's: the ORM leaves out None columns, so the brand account's rows
            # (no store) split the rows into a statement per run, about three per session.
            for start in range(0, len(self.inserts), CHUNK):
                db.session.execute(insert(ContentItem.__table__), self.inserts[start:start + CHUNK])
        self.inserts, self.updates = [], []


def sync_trailers(sessions: list[LiveSession], *, moved: set[int] | None = None, now: datetime | None = None,
                  old_windows: list[tuple[int | None, datetime, datetime]] = ()) -> TrailerReport:
    """Bring the trailers of `sessions` in line with their status, time and rule (in the caller's transaction).

    `moved` names the sessions whose time just changed: their published trailers get a flag. Other stores'
    sessions overlapping them (or `old_windows`: (store id, start, end) a session left) follow too, since a
    store live at the time can no longer announce them, or now can again. The posts to the
    host stores' customer groups are written, moved or withdrawn with them (matrix.broadcasts.posts).
    """
    report = TrailerReport()
    if sessions:
        db.session.flush()
        now = now or utcnow()
        neighbours = overlapping_neighbours(sessions, list(old_windows))
        with limits.render_job():  # however many sessions and steps, their texts share one rendering budget
            _Sync(list(sessions) + neighbours, set(moved or ()), report, now).run()
        report.posts = sync_posts(sessions, now=now).as_dict()  # the customer groups' posts follow the trailers
    return report


def session_trailers(session_id: int) -> list[ContentItem]:
    """A session's trailers, in the order they go out."""
    return list(db.session.scalars(select(ContentItem).where(ContentItem.session_id == session_id)
                                   .order_by(ContentItem.day, ContentItem.slot, ContentItem.id)))
