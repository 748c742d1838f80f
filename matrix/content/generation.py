"""Generate a campaign's week for the whole chain in one bulk operation.

Each in-scope open store's active or incubating store accounts on the campaign's platforms get
the weekly cadence, spread over the days and slots (see spacing.py). An item is found again by
its generation key, so regenerating adds what is missing, updates untouched items whose text
changed, leaves what a store edited or already worked on, and removes untouched items of stores
that left the scope. Reads are a few prefetching queries; writes are chunked bulk statements.
"""
import math
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.brands.models import Brand
from matrix.chain import chain_zone
from matrix.communities.services import current_groups
from matrix.content.bulk import CHUNK_ROWS, NEW_ITEM_COLUMNS, insert_items
from matrix.content.clashes import week_clashes
from matrix.content.days import campaign_days, slot_start
from matrix.content.models import Approval, Campaign, ContentItem, ContentKind, ItemStatus
from matrix.content.scope import in_scope, planned_accounts
from matrix.content.spacing import Site, place
from matrix.content.variables import CONTENT_ENV, variables_for
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.live.upcoming import next_sessions
from matrix.models import utcnow
from matrix.sandbox import limits
from matrix.sandbox.engine import compile_fields, render_fields
from matrix.stores.models import Store
from matrix.transaction import transactional
from matrix.weeks import monday_of, week_string

TEXT_FIELDS = ("topic", "caption", "script", "hashtags", "location_tag")
COMPARED = NEW_ITEM_COLUMNS[3:]  # day, slot, kind, template, texts: what regenerating may update
CHUNK_STORES = 2_000   # stores per read of existing texts
MAX_REASONS = 200      # skipped reasons kept in the report
MAX_CLASHES = 20       # spacing clashes named in the report


@dataclass
class GenerationReport:
    week: str
    added: int = 0
    changed: int = 0
    left: int = 0          # kept as they were: edited by a store, shot, published, skipped
    removed: int = 0       # untouched items of stores no longer in scope
    unchanged: int = 0
    stores: int = 0
    accounts: int = 0
    skipped: int = 0       # items not created because a template failed for that store
    past: int = 0          # items not created because their day and slot had already passed
    skipped_reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def skip(self, reason: str, items: int) -> None:
        self.skipped += items
        if len(self.skipped_reasons) < MAX_REASONS:
            self.skipped_reasons.append(reason)

    def as_dict(self) -> dict:
        """For the audit entry the campaign page shows: counts, warnings and the first reasons."""
        return {"week": self.week, "added": self.added, "changed": self.changed, "left": self.left,
                "removed": self.removed, "unchanged": self.unchanged, "skipped": self.skipped, "past": self.past,
                "stores": self.stores, "accounts": self.accounts, "warnings": self.warnings[:50],
                "skipped_reasons": self.skipped_reasons[:50]}

    def summary(self) -> str:
        return str(self.summary_message())

    def summary_message(self):
        """The summary as a translatable message (the audit log shows it in each reader's language)."""
        counts = {"week": self.week, "added": self.added, "changed": self.changed, "left": self.left,
                  "removed": self.removed, "skipped": self.skipped}
        if self.past:
            return _l("%(week)s: %(added)d added, %(changed)d changed, %(left)d left as they were, %(removed)d "
                      "removed, %(skipped)d skipped; %(past)d items of slots already past were not planned.",
                      past=self.past, **counts)
        return _l("%(week)s: %(added)d added, %(changed)d changed, %(left)d left as they were, %(removed)d removed, "
                  "%(skipped)d skipped.", **counts)


def item_sequence(cadence: dict, kinds: set[str], n_days: int) -> list[tuple[str, int]]:
    """(kind, index) per item of one account, each kind spread evenly; a short week gets its share."""
    items = []
    for order, kind in enumerate(ContentKind):
        n = int(cadence.get(kind.value, 0) or 0)
        if kind.value not in kinds or n <= 0:
            continue
        n = math.ceil(n * n_days / 7)
        items += [((i + 0.5) / n, order, kind.value, i) for i in range(n)]
    return [(kind, i) for _pos, _order, kind, i in sorted(items)]


@transactional
def generate_week(campaign: Campaign, monday: date, *, actor: User | None, now: datetime | None = None,
                  zone: str | None = None) -> GenerationReport:
    """Create or refresh the campaign's items of one ISO week for every in-scope store account.

    Slots already past at `now` get no new items (they would be overdue at once), and items there are left alone.
    """
    monday = monday_of(monday)
    week = week_string(monday)
    report = GenerationReport(week)
    days = campaign_days(campaign, monday)
    if not days:
        raise DomainError(_("The week %(week)s is outside the campaign's dates.", week=week))
    if not campaign.active:
        raise DomainError(_("The campaign is paused: activate it before generating a week."))
    now, zone = now or utcnow(), zone or chain_zone()
    if slot_start(days[-1], max(campaign.slots), zone) <= now:
        raise DomainError(_("The week %(week)s is over: there is no slot left to plan.", week=week))
    with limits.render_job():  # every store's texts share one rendering budget
        _Job(campaign, monday, days, report, now=now, zone=zone).run()
    audit.record(actor, "generate", "campaign", entity_id=campaign.id, summary=report.summary_message(),
                 changes=report.as_dict())
    db.session.commit()
    return report


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _touched(status, edited_by_store, approval) -> bool:
    """A store or HQ worked on it: regenerating must leave it alone."""
    return bool(edited_by_store) or status != ItemStatus.PLANNED or approval != Approval.NOT_NEEDED


class _Job:
    """One run of generate_week: prefetch, place, render per store, write in chunks."""

    def __init__(self, campaign: Campaign, monday: date, days: list[date], report: GenerationReport, *,
                 now: datetime, zone: str):
        self.campaign, self.monday, self.days, self.report = campaign, monday, days, report
        self.key_prefix, self.key_week = f"{campaign.id}:", f":{report.week}:"
        self.slots = list(campaign.slots)
        self.now = utcnow()
        # Positions (day, slot) at or before the clock are past: nothing new goes there.
        self.past = {(day, slot) for day in days for slot in self.slots if slot_start(day, slot, zone) <= now}
        self.inserts, self.updates, self.deletes = [], [], []
        templates = sorted(campaign.templates, key=lambda t: (t.sort_order, t.id))
        self.templates = {t.id: t for t in templates}
        self.compiled = compile_fields({(t.id, f): getattr(t, f) for t in templates for f in TEXT_FIELDS}, CONTENT_ENV)
        self.variants: dict[str, list[int]] = {}
        for t in templates:
            self.variants.setdefault(t.kind.value, []).append(t.id)
        self._warn_missing_kinds()
        self.sequence = item_sequence(campaign.cadence or {}, set(self.variants), len(days))
        self.day_of = [n * len(days) // len(self.sequence) for n in range(len(self.sequence))]

    def _warn_missing_kinds(self) -> None:
        for kind, n in (self.campaign.cadence or {}).items():
            if n and kind not in self.variants:
                self.report.warnings.append(_("No template of the kind “%(kind)s”: its %(n)s items a week "
                                              "are not planned.", kind=kind, n=n))

    def _prefetch(self):
        stores = db.session.execute(in_scope(
            select(Store.id, Store.code, Store.name, Brand.name.label("brand"), Store.city_code, Store.district_code,
                   Store.address, Store.phone, Store.lon, Store.lat).outerjoin(Brand, Brand.id == Store.brand_id),
            self.campaign).order_by(Store.id)).all()
        ids = {s.id for s in stores}
        accounts = planned_accounts(self.campaign, ids)
        self.sessions = next_sessions(ids, self.monday)
        return [s for s in stores if s.id in accounts], accounts, current_groups(ids)

    def run(self) -> None:
        stores, self.accounts, self.communities = self._prefetch() if self.sequence else ([], {}, {})
        self.report.stores = len(stores)
        self.report.accounts = sum(len(self.accounts[s.id]) for s in stores)
        placement = place([Site(s.id, s.city_code, s.lon, s.lat) for s in stores], self.sequence, self.day_of,
                          self.variants, len(self.slots), float(self.campaign.spacing_km or 0))
        existing = self._existing()
        for chunk in _chunks(stores, CHUNK_STORES):
            texts = self._texts(chunk[0].id, chunk[-1].id) if existing else {}
            for store in chunk:
                self._store(store, placement.plans[store.id], existing, texts)
            self._flush(final=False)
        self._forget(existing.values())  # keys no longer produced: stores out of scope, fewer items
        self._flush(final=True)
        if any(placement.conflicts.values()):
            self._warn_clashes()

    def _warn_clashes(self) -> None:
        """Name the stores and slots that still share a template (more stores than variants × slots)."""
        clashes = week_clashes(self.campaign, self.monday)
        self.report.warnings.extend(clash.describe() for clash in clashes[:MAX_CLASHES])
        if len(clashes) > MAX_CLASHES:
            self.report.warnings.append(_("… and %(n)d more clashes: see the campaign page.",
                                          n=len(clashes) - MAX_CLASHES))

    def _existing(self) -> dict:
        """Generation key -> [id, store id, status, edited, approval, day, slot] of the campaign's items of the week."""
        table = ContentItem.__table__.c
        rows = db.session.execute(select(table.generation_key, table.id, table.store_id, table.status,
                                         table.edited_by_store, table.approval, table.day, table.slot).where(
            table.campaign_id == self.campaign.id,
            table.generation_key.like(f"{self.key_prefix}%{self.key_week}%"))).tuples()
        return {key: row for key, *row in rows}

    def _texts(self, first_store: int, last_store: int) -> dict[int, tuple]:
        """Item id -> COMPARED values of the untouched items of stores first..last (ids, in order).

        A range, not a list of ids: a few statements with four parameters for the whole chain.
        """
        table = ContentItem.__table__.c
        rows = db.session.execute(select(table.id, *[table[f] for f in COMPARED]).where(
            table.campaign_id == self.campaign.id, table.store_id.between(first_store, last_store),
            table.generation_key.like(f"{self.key_prefix}%{self.key_week}%"),
            table.status == ItemStatus.PLANNED, table.edited_by_store.is_(False),
            table.approval == Approval.NOT_NEEDED)).tuples()
        return {row[0]: tuple(row[1:]) for row in rows}

    def _render(self, store, plan: list) -> dict[int, tuple | None]:
        """Template id -> its rendered TEXT_FIELDS for this store (None after reporting why it failed)."""
        variables = variables_for(
            brand=store.brand, store_name=store.name, store_code=store.code, city_code=store.city_code,
            district_code=store.district_code, address=store.address, phone=store.phone,
            week_monday=self.monday, community=self.communities.get(store.id),
            next_live_session=self.sessions.get(store.id, ""))
        results = render_fields(self.compiled, variables)
        failed = {key[0] for key, r in results.items() if r.errors}
        out = {}
        for template_id in dict.fromkeys(spot.template_id for spot in plan):
            if template_id not in failed:
                out[template_id] = tuple(results[(template_id, name)].text for name in TEXT_FIELDS)
                continue
            out[template_id] = None
            name, result = next((n, results[(template_id, n)]) for n in TEXT_FIELDS
                                if results[(template_id, n)].errors)
            uses = sum(1 for spot in plan if spot.template_id == template_id) * len(self.accounts[store.id])
            self._report_failure(store, template_id, (name, *result.errors[0]), uses)
        return out

    def _report_failure(self, store, template_id: int, failure: tuple, uses: int) -> None:
        name, line, message = failure
        where = _("line %(line)s", line=line) if line else ""
        self.report.skip(_("%(code)s %(store)s: template “%(topic)s”, %(field)s %(where)s: %(message)s",
                           code=store.code, store=store.name, topic=self.templates[template_id].topic,
                           field=name, where=where, message=message), uses)

    def _store(self, store, plan: list, existing: dict, texts: dict) -> None:
        rendered = self._render(store, plan)
        for account_id in self.accounts[store.id]:
            for n, spot in enumerate(plan):
                key = f"{self.key_prefix}{account_id}{self.key_week}{n}"
                row, fields = existing.pop(key, None), rendered[spot.template_id]
                if fields is None:  # the template fails for this store: keep what exists, add nothing
                    self.report.left += row is not None
                    continue
                wanted = (self.days[spot.day], self.slots[spot.slot], self.templates[spot.template_id].kind,
                          spot.template_id, *fields)  # in COMPARED order
                self._apply(store.id, account_id, key, wanted, row, texts)

    def _apply(self, store_id: int, account_id: int, key: str, wanted: tuple, row: list | None,
               texts: dict) -> None:
        if row is None and wanted[:2] in self.past:
            self.report.past += 1
        elif row is None:
            self.report.added += 1
            self.inserts.append((store_id, account_id, key, *wanted))  # NEW_ITEM_COLUMNS order
        elif _touched(*row[2:5]) or tuple(row[5:7]) in self.past or wanted[:2] in self.past:
            self.report.left += 1  # worked on, or history: an item of a past slot is not moved or rewritten
        elif texts.get(row[0]) != wanted:
            self.report.changed += 1
            self.updates.append({"id": row[0], "updated_at": self.now, **dict(zip(COMPARED, wanted))})
        else:
            self.report.unchanged += 1

    def _forget(self, rows) -> None:
        """Items whose key is no longer produced: removed when untouched, else left."""
        for row in rows:
            if _touched(*row[2:5]) or tuple(row[5:7]) in self.past:
                self.report.left += 1
            else:
                self.report.removed += 1
                self.deletes.append(row[0])

    def _flush(self, *, final: bool) -> None:
        if self.inserts and (final or len(self.inserts) >= CHUNK_ROWS):
            insert_items(self.inserts, campaign_id=self.campaign.id, now=self.now)
            self.inserts = []
        if self.updates and (final or len(self.updates) >= CHUNK_ROWS):
            for rows in _chunks(self.updates, CHUNK_ROWS):
                db.session.execute(update(ContentItem), rows)
            self.updates = []
        if self.deletes and final:
            for ids in _chunks(self.deletes, CHUNK_ROWS):
                db.session.execute(delete(ContentItem).where(ContentItem.id.in_(ids)))
            self.deletes = []
