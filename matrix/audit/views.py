"""The audit log: who changed what, newest first (HQ only)."""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from matrix.accounts.labels import ACCOUNT_STATUS_LABELS, SCOPE_LABELS
from matrix.accounts.models import Account, Platform
from matrix.audit.labels import ACTION_LABELS, ENTITY_LABELS
from matrix.audit.models import AuditEntry
from matrix.audit.reading import ChangeReader, summary_text
from matrix.auth.labels import ROLE_LABELS
from matrix.auth.models import Role, User
from matrix.brands.models import Brand
from matrix.campaigns.forms import SCOPE_CHOICES
from matrix.chain import chain_zone
from matrix.communities.labels import KIND_LABELS
from matrix.communities.models import Community
from matrix.content.models import Campaign, ContentItem
from matrix.extensions import db
from matrix.leads.models import Lead, LeadSource
from matrix.leads.services import RULE_LABELS
from matrix.leads.services import STATUS_LABELS as LEAD_STATUS_LABELS
from matrix.live.forms import SESSION_STATUS_LABELS
from matrix.live.models import LiveSession
from matrix.permissions import hq_required
from matrix.plans.labels import APPROVAL_LABELS, CONTENT_KIND_LABELS, ITEM_STATUS_LABELS, SOURCE_LABELS
from matrix.stores.labels import GEOCODE_LABELS, STORE_STATUS_LABELS
from matrix.stores.models import Store

bp = Blueprint("audit", __name__, url_prefix="/audit")

# entity -> (model, endpoint, URL argument). A link is drawn only when the endpoint is
# registered and the object is still there.
ENTITY_LINKS = {"store": (Store, "stores.detail", "store_id"),
                "account": (Account, "accounts.detail", "account_id"),
                "community": (Community, "communities.detail", "community_id"),
                "user": (User, "users.edit", "user_id"),
                "brand": (Brand, "brands.edit", "brand_id"),
                "platform": (Platform, "accounts.platform_edit", "platform_id"),
                "campaign": (Campaign, "campaigns.detail", "campaign_id"),
                "content_item": (ContentItem, "plans.item", "item_id"),
                "lead": (Lead, "leads.detail", "lead_id"),
                "lead_source": (LeadSource, "sources.detail", "source_id"),
                "live_session": (LiveSession, "live.detail", "session_id")}


@dataclass
class AuditFilters:
    actor: str = ""
    entity: str = ""
    entity_id: int | None = None
    action: str = ""
    store: str = ""
    date_from: date | None = None
    date_to: date | None = None
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> "AuditFilters":
        """Read the filters from the query string; a malformed date is reported, not fatal."""
        found = cls(actor=args.get("actor", "").strip(), entity=args.get("entity", "").strip(),
                    entity_id=args.get("entity_id", type=int), action=args.get("action", "").strip(),
                    store=args.get("store", "").strip())
        for name in ("date_from", "date_to"):
            raw = args.get(name, "").strip()
            try:
                setattr(found, name, date.fromisoformat(raw) if raw else None)
            except ValueError:
                found.problems.append(_("%(value)s is not a date; write it like 2024-05-31.", value=raw))
        return found


def _day_start_utc(day: date) -> datetime:
    """Midnight of `day` in the chain's time zone: the range means the days people see."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(chain_zone()))


def filtered(query: Select, filters: AuditFilters) -> Select:
    """Apply the filters to a query of audit entries."""
    if filters.actor:
        query = query.where(AuditEntry.actor_id.in_(select(User.id).where(or_(
            User.username.icontains(filters.actor, autoescape=True),
            User.display_name.icontains(filters.actor, autoescape=True)))))
    if filters.entity:
        query = query.where(AuditEntry.entity == filters.entity)
    if filters.entity_id is not None:
        query = query.where(AuditEntry.entity_id == filters.entity_id)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.store:
        store_id = db.session.scalar(select(Store.id).where(Store.code == filters.store))
        if store_id is None:
            filters.problems.append(_("No store has the code %(code)s.", code=filters.store))
            return query.where(false())
        query = query.where(AuditEntry.store_id == store_id)
    if filters.date_from:
        query = query.where(AuditEntry.at >= _day_start_utc(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEntry.at < _day_start_utc(filters.date_to + timedelta(days=1)))
    return query


def _link_endpoint(entity: str) -> tuple | None:
    target = ENTITY_LINKS.get(entity)
    if target is None or target[1] not in current_app.view_functions:
        return None
    if entity == "user" and current_user.role != Role.ADMIN:
        return None  # only admins may open the user form
    return target


def entity_links(entries: list[AuditEntry]) -> dict[int, str]:
    """Entry id -> URL of its object, for objects that still exist (one query per kind of object)."""
    links: dict[int, str] = {}
    for entity in {e.entity for e in entries}:
        target = _link_endpoint(entity)
        if target is None:
            continue
        model, endpoint, arg = target
        ids = {e.entity_id for e in entries if e.entity == entity and e.entity_id is not None}
        existing = set(db.session.scalars(select(model.id).where(model.id.in_(ids)))) if ids else set()
        for entry in entries:
            if entry.entity == entity and entry.entity_id in existing:
                try:
                    links[entry.id] = url_for(endpoint, **{arg: entry.entity_id})
                except BuildError:
                    break  # the endpoint takes other arguments: show no links rather than fail
    return links


def store_codes(entries: list[AuditEntry]) -> dict[int, str]:
    """Store id -> code for the stores the entries touch, archived ones included."""
    ids = {e.store_id for e in entries if e.store_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Store.id, Store.code).where(Store.id.in_(ids))).all())


def value_labels() -> dict:
    """(entity, field) or field -> {stored value: label}: how the log names codes it recorded."""
    return {("store", "status"): STORE_STATUS_LABELS, ("account", "status"): ACCOUNT_STATUS_LABELS,
            ("content_item", "status"): ITEM_STATUS_LABELS, ("live_session", "status"): SESSION_STATUS_LABELS,
            ("lead", "status"): LEAD_STATUS_LABELS, ("community", "kind"): KIND_LABELS,
            ("content_item", "kind"): CONTENT_KIND_LABELS, ("content_template", "kind"): CONTENT_KIND_LABELS,
            "scope": SCOPE_LABELS, "geocode_status": GEOCODE_LABELS, "role": ROLE_LABELS,
            "approval": APPROVAL_LABELS, "source": SOURCE_LABELS, "routing_rule": RULE_LABELS,
            "store_scope": dict(SCOPE_CHOICES)}


def _page_context(entries: list[AuditEntry], *, full: bool = False) -> dict:
    reader = ChangeReader(entries, zone=chain_zone(), value_labels=value_labels(), full=full)
    return {"links": entity_links(entries), "store_codes": store_codes(entries),
            "action_labels": ACTION_LABELS, "entity_labels": ENTITY_LABELS, "change_rows": reader.rows,
            "summary_text": summary_text}


@bp.get("/")
@hq_required
def index():
    """Every recorded change, newest first, with filters."""
    filters = AuditFilters.from_args(request.args)
    query = filtered(select(AuditEntry).options(joinedload(AuditEntry.actor)), filters)
    page = db.paginate(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()),
                       page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("audit/index.html", page=page, filters=filters, **_page_context(page.items))


@bp.get("/<int:entry_id>")
@hq_required
def entry(entry_id: int):
    """One audit entry with all its field changes."""
    found = db.get_or_404(AuditEntry, entry_id)
    return render_template("audit/entry.html", entry=found, **_page_context([found], full=True))
