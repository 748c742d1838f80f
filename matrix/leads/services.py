"""Working a lead: the inbox query, the status pipeline, notes, follow-ups and revealing the phone.

Each public call that changes something is one transaction and writes an audit entry.
Queries start from scoping.visible_leads, so a store manager never meets another
store's lead here either.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads.intake import LeadInput, stage_lead
from matrix.leads.models import Lead, LeadNote, LeadSource, LeadStatus, RoutingRule
from matrix.leads.phones import PhoneError, decrypt_phone, protect_phone
from matrix.leads.scoping import visible_leads
from matrix.leads.sources import manual_source
from matrix.leads.store_index import ROUTABLE_STATUSES
from matrix.models import utcnow
from matrix.permissions import can_manage_store, managed_store_ids
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


def check_entry_store(store: Store | None, *, actor: User) -> None:
    """A lead typed in by a manager names one of their stores, and only an open store can take it."""
    if store is None and not actor.is_hq:
        raise DomainError(_("Choose your store."), field="store_id")
    if store is not None and store.status not in ROUTABLE_STATUSES:
        # Routing would pass the lead on to another store, which the manager may not see.
        raise DomainError(_("This store is not open: it cannot take leads."), field="store_id")


def enter_lead(data: LeadInput, *, actor: User, note: str = "", now: datetime | None = None) -> Lead:
    """Save a lead staff typed in, routed and queued for notice like any other, with its first note: one transaction."""
    store_id = data.source_store_id if isinstance(data.source_store_id, int) else None
    check_entry_store(db.session.get(Store, store_id) if store_id else None, actor=actor)
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


def reveal_phone(lead: Lead, *, actor: User) -> str:
    """Show a lead's phone in full to its store's managers or HQ, and audit-log that (commits)."""
    allowed = actor.is_hq if lead.store_id is None else can_manage_store(actor, lead.store_id)
    if not allowed:
        raise DomainError(_("You may not see this lead's phone number."))
    phone = decrypt_phone(lead.phone_encrypted)
    audit.record(actor, "reveal_phone", "lead", entity_id=lead.id, store_id=lead.store_id,
                 summary=f"Phone of lead #{lead.id} revealed")
    db.session.commit()
    return phone
