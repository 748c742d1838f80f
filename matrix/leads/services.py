"""Working a lead: the status pipeline, notes, follow-ups, the inbox query and the export.

Each public call that changes something is one transaction and writes an audit entry.
Queries start from scoping.visible_leads, so a store manager never meets another
store's lead here either.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads.intake import LeadInput, stage_lead
from matrix.leads.models import Lead, LeadNote, LeadSource, LeadStatus, RoutingRule
from matrix.leads.phones import PhoneError, decrypt_phone, protect_phone
from matrix.leads.sources import manual_source
from matrix.models import utcnow
from matrix.permissions import managed_store_ids
from matrix.leads.scoping import visible_leads
from matrix.regions.services import region_name
from matrix.stores.models import Store

# new -> contacted -> joined the community -> visited the store -> converted; lost leaves from anywhere.
PIPELINE = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.JOINED, LeadStatus.VISITED, LeadStatus.CONVERTED)
STATUS_LABELS = {LeadStatus.NEW: lazy_pgettext("lead status", "New"), LeadStatus.CONTACTED: _l("Contacted"),
                 LeadStatus.JOINED: _l("Joined the group"), LeadStatus.VISITED: _l("Visited the store"),
                 LeadStatus.CONVERTED: _l("Converted"), LeadStatus.LOST: _l("Lost")}
RULE_LABELS = {RoutingRule.COORDINATES: _l("Nearest store"), RoutingRule.DISTRICT: _l("Store of the district"),
               RoutingRule.CITY: _l("Store of the city"), RoutingRule.SOURCE: _l("Named by the source"),
               RoutingRule.MANUAL: _l("Assigned by hand"), RoutingRule.UNROUTED: _l("Unrouted")}
CLOSED_STATUSES = (LeadStatus.CONVERTED, LeadStatus.LOST)
MAX_NOTE = 2000
MAX_REASON = 300
# A typed search is taken as a phone number when it has this many digits and nothing but phone punctuation.
PHONE_SEARCH = re.compile(r"^\+?[\d\s\-()]{7,}$")


@dataclass(frozen=True)
class LeadFilters:
    """What the inbox, the export and the unrouted queue may narrow by (all optional)."""

    store_id: int | None = None
    city_code: str | None = None
    status: LeadStatus | None = None
    source_id: int | None = None
    follow_up_due: bool = False
    unrouted: bool = False
    q: str = ""

    def as_dict(self) -> dict:
        """The filters that are set, for the audit entry of an export."""
        return {k: (v.value if isinstance(v, LeadStatus) else v) for k, v in self.__dict__.items() if v}


def filtered_leads(user: User, filters: LeadFilters, *, now: datetime | None = None) -> Select[tuple[Lead]]:
    """The user's leads narrowed by `filters`, newest first, with what a list row shows loaded."""
    query = visible_leads(user).options(joinedload(Lead.store), joinedload(Lead.community),
                                        joinedload(Lead.source))
    if filters.store_id:
        query = query.where(Lead.store_id == filters.store_id)
    if filters.unrouted:
        query = query.where(Lead.store_id.is_(None))
    if filters.city_code:
        query = query.where(Lead.city_code == filters.city_code)
    if filters.status:
        query = query.where(Lead.status == filters.status)
    if filters.source_id:
        query = query.where(Lead.source_id == filters.source_id)
    if filters.follow_up_due:
        query = query.where(Lead.follow_up_at <= (now or utcnow()), Lead.status.not_in(CLOSED_STATUSES))
    if q := filters.q.strip():
        query = query.where(_search(q))
    return query.order_by(Lead.received_at.desc(), Lead.id.desc())


def _search(q: str):
    """By name, or by the keyed hash of a typed phone number: numbers are never decrypted to search."""
    escaped = q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    by_name = Lead.name.ilike(f"%{escaped}%", escape="\\")
    if not PHONE_SEARCH.match(q):
        return by_name
    try:
        digest = protect_phone(q).hash
    except PhoneError:
        return by_name
    return or_(by_name, Lead.phone_hash == digest)


def visible_sources(user: User) -> list[LeadSource]:
    """Sources for a filter: HQ sees all; a manager the chain-wide ones and their own stores' ones."""
    query = select(LeadSource).order_by(LeadSource.name)
    if not user.is_hq:
        query = query.where(or_(LeadSource.store_id.is_(None), LeadSource.store_id.in_(managed_store_ids(user))))
    return list(db.session.scalars(query))


def time_to_first_contact(lead: Lead) -> timedelta | None:
    if lead.first_contact_at is None or lead.received_at is None:
        return None
    return max(lead.first_contact_at - lead.received_at, timedelta(0))


def change_status(lead: Lead, status: LeadStatus, *, actor: User, reason: str = "",
                  now: datetime | None = None) -> bool:
    """Move a lead along the pipeline; lost needs a reason. False when nothing changed."""
    reason = (reason or "").strip()
    if status == LeadStatus.LOST and not reason:
        raise DomainError(_("Say why the lead was lost."), field="lost_reason")
    if len(reason) > MAX_REASON:
        raise DomainError(_("The reason is too long (at most %(n)d characters).", n=MAX_REASON), field="lost_reason")
    if status == LeadStatus.NEW and lead.status != LeadStatus.NEW:
        raise DomainError(_("A lead that was contacted cannot become new again."), field="status")
    new_reason = reason if status == LeadStatus.LOST else None
    if status == lead.status and new_reason == lead.lost_reason:
        return False
    before = audit.snapshot(lead, ["status", "lost_reason", "first_contact_at"])
    lead.status, lead.lost_reason = status, new_reason
    if status != LeadStatus.NEW and lead.first_contact_at is None:
        lead.first_contact_at = now or utcnow()  # time to first contact is measured to this moment
    audit.record(actor, "status", "lead", entity_id=lead.id, store_id=lead.store_id,
                 summary=f"{before['status']} -> {status.value}",
                 changes=audit.diff(before, audit.snapshot(lead, ["status", "lost_reason", "first_contact_at"])))
    db.session.commit()
    return True


def add_note(lead: Lead, body: str, *, actor: User, now: datetime | None = None) -> LeadNote:
    """Add a note to a lead's history."""
    body = (body or "").strip()
    if not body:
        raise DomainError(_("Write something in the note."), field="body")
    if len(body) > MAX_NOTE:
        raise DomainError(_("The note is too long (at most %(n)d characters).", n=MAX_NOTE), field="body")
    note = LeadNote(lead_id=lead.id, author_id=actor.id, body=body, at=now or utcnow())
    db.session.add(note)
    db.session.flush()
    # The note's text may hold personal data: the audit log says that a note was added, not what it says.
    audit.record(actor, "note", "lead", entity_id=lead.id, store_id=lead.store_id,
                 changes={"note_id": note.id, "length": len(body)})
    db.session.commit()
    return note


def set_follow_up(lead: Lead, when: datetime | None, *, actor: User) -> None:
    """Set (or clear, with None) when the store should next contact the lead."""
    if when is not None and when.tzinfo is None:
        raise ValueError("follow-up times are time-zone aware")
    before = audit.snapshot(lead, ["follow_up_at"])
    lead.follow_up_at = when
    changes = audit.diff(before, audit.snapshot(lead, ["follow_up_at"]))
    if changes:
        audit.record(actor, "follow_up", "lead", entity_id=lead.id, store_id=lead.store_id, changes=changes)
    db.session.commit()


def enter_lead(data: LeadInput, *, actor: User, note: str = "", now: datetime | None = None) -> Lead:
    """Save a lead staff typed in, routed and queued for notice like any other, with its first note: one transaction."""
    try:
        lead, _created = stage_lead(data, source=manual_source(), actor=actor, now=now)
        if note := (note or "").strip():
            db.session.add(LeadNote(lead_id=lead.id, author_id=actor.id, body=note[:MAX_NOTE], at=now or utcnow()))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return lead


def notes_of(lead: Lead) -> list[tuple[LeadNote, str | None]]:
    """The lead's notes, newest first, with their authors' names."""
    rows = db.session.execute(select(LeadNote, User.display_name).outerjoin(User, User.id == LeadNote.author_id)
                              .where(LeadNote.lead_id == lead.id).order_by(LeadNote.at.desc(), LeadNote.id.desc()))
    return [(note, name) for note, name in rows]


# --- Export --------------------------------------------------------------------------------

EXPORT_HEADERS = (_l("Lead id"), _l("Received"), lazy_pgettext("person", "Name"), _l("Phone"), _l("Status"),
                  _l("Reason lost"), _l("Store code"), _l("Store"), _l("Group"), _l("Routing rule"),
                  _l("Routing reason"), _l("Distance (m)"), _l("City"), _l("District"), _l("Address"), _l("Source"), _l("Follow up at"),
                  _l("First contact"), _l("Minutes to first contact"))


def export_leads(user: User, filters: LeadFilters, *, include_phones: bool = False, tz=None,
                 now: datetime | None = None) -> tuple[list[str], list[list]]:
    """The user's leads as sheet rows, phones masked unless HQ asks for them; audit-logged with the row count."""
    if include_phones and not user.is_hq:
        raise DomainError(_("Only headquarters may export phone numbers."))
    rows = [_export_row(lead, include_phones=include_phones, tz=tz)
            for lead in db.session.scalars(filtered_leads(user, filters, now=now)).unique()]
    audit.record(user, "export", "lead",
                 summary=_("%(n)d leads exported.", n=len(rows)) if not include_phones
                 else _("%(n)d leads exported with phone numbers.", n=len(rows)),
                 changes={"rows": len(rows), "phones": include_phones, "filters": filters.as_dict()})
    db.session.commit()
    return [str(h) for h in EXPORT_HEADERS], rows


def _export_row(lead: Lead, *, include_phones: bool, tz) -> list:
    def local(dt: datetime | None) -> str:
        return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M") if dt else ""

    waited = time_to_first_contact(lead)
    store, community = lead.store, lead.community
    return [lead.id, local(lead.received_at), lead.name,
            _full_phone(lead) if include_phones else (lead.phone_masked or ""),
            str(STATUS_LABELS[lead.status]), lead.lost_reason or "",
            store.code if store else "", store.name if store else "",
            community.name if community else "", str(RULE_LABELS[lead.routing_rule]) if lead.routing_rule else "",
            lead.routing_reason or "", round(lead.distance_m) if lead.distance_m is not None else "",
            region_name(lead.city_code) or lead.city_text, region_name(lead.district_code), lead.address_text,
            lead.source.name if lead.source else "", local(lead.follow_up_at), local(lead.first_contact_at),
            round(waited.total_seconds() / 60) if waited is not None else ""]


def _full_phone(lead: Lead) -> str:
    return decrypt_phone(lead.phone_encrypted) if lead.phone_encrypted else ""


# --- Funnel --------------------------------------------------------------------------------

FUNNEL_GROUPS = ("city", "store", "source")


@dataclass
class FunnelRow:
    key: object
    label: str
    counts: dict
    median_first_contact: timedelta | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def conversion(self) -> float | None:
        """Converted leads as a percentage of all leads of the row."""
        return 100.0 * self.counts.get(LeadStatus.CONVERTED, 0) / self.total if self.total else None


def funnel(user: User, *, group_by: str, start: datetime, end: datetime) -> tuple[list[FunnelRow], FunnelRow]:
    """Leads received in [start, end) by status per city, store or source, and all of them together,
    with the median time to first contact."""
    key = {"city": Lead.city_code, "store": Lead.store_id, "source": Lead.source_id}[group_by]
    scoped = visible_leads(user).where(Lead.received_at >= start, Lead.received_at < end)
    counts: dict = {}
    for value, status, n in db.session.execute(
            scoped.with_only_columns(key, Lead.status, func.count()).group_by(key, Lead.status)):
        counts.setdefault(value, {})[status] = n
    # The median needs the spread, not a sum: two timestamps per contacted lead (SQLite has no percentile).
    waits: dict = {}
    for value, received, contacted in db.session.execute(scoped.with_only_columns(
            key, Lead.received_at, Lead.first_contact_at).where(Lead.first_contact_at.is_not(None))):
        waits.setdefault(value, []).append(max(contacted - received, timedelta(0)))
    labels = _group_labels(group_by, [k for k in counts if k is not None])
    rows = [FunnelRow(k, labels.get(k, str(k)) if k is not None else str(_none_label(group_by)), c,
                      median(waits[k]) if k in waits else None) for k, c in counts.items()]
    rows.sort(key=lambda r: (r.key is None, -r.total, r.label))
    total: dict = {}
    for row in rows:
        for status, n in row.counts.items():
            total[status] = total.get(status, 0) + n
    every_wait = [w for ws in waits.values() for w in ws]
    label = str(lazy_pgettext("total row", "All"))
    return rows, FunnelRow(None, label, total, median(every_wait) if every_wait else None)


def _group_labels(group_by: str, keys: list) -> dict:
    if group_by == "city":
        return {code: region_name(code) or code for code in keys}
    if group_by == "store":
        found = db.session.execute(select(Store.id, Store.code, Store.name).where(Store.id.in_(keys)))
        return {row.id: f"{row.code} {row.name}" for row in found}
    found = db.session.execute(select(LeadSource.id, LeadSource.name).where(LeadSource.id.in_(keys)))
    return {row.id: row.name for row in found}


def _none_label(group_by: str):
    return {"city": _l("No city"), "store": _l("Unrouted"), "source": _l("No source")}[group_by]

