"""Leads as HQ reads them in bulk: the sheet export and the funnel by city, store or source."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import func, select

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads.models import Lead, LeadSource, LeadStatus
from matrix.leads.phones import decrypt_phone
from matrix.leads.scoping import visible_leads
from matrix.leads.services import RULE_LABELS, STATUS_LABELS, LeadFilters, filtered_leads, time_to_first_contact
from matrix.regions.services import region_name
from matrix.stores.models import Store

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
                 summary=_l("%(n)d leads exported.", n=len(rows)) if not include_phones
                 else _l("%(n)d leads exported with phone numbers.", n=len(rows)),
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
    labels: dict = {}
    if group_by == "store":
        # The store's code and name come with the counts: a chain has thousands of stores with leads,
        # and naming them afterwards would be one IN (...) of thousands of ids.
        for value, code, name, status, n in db.session.execute(
                scoped.with_only_columns(key, Store.code, Store.name, Lead.status, func.count())
                .outerjoin(Store, Store.id == Lead.store_id).group_by(key, Store.code, Store.name, Lead.status)):
            counts.setdefault(value, {})[status] = n
            labels[value] = f"{code} {name}"
    else:
        for value, status, n in db.session.execute(
                scoped.with_only_columns(key, Lead.status, func.count()).group_by(key, Lead.status)):
            counts.setdefault(value, {})[status] = n
        labels = _group_labels(group_by, [k for k in counts if k is not None])
    # The median needs the spread, not a sum: two timestamps per contacted lead (SQLite has no percentile).
    waits: dict = {}
    for value, received, contacted in db.session.execute(scoped.with_only_columns(
            key, Lead.received_at, Lead.first_contact_at).where(Lead.first_contact_at.is_not(None))):
        waits.setdefault(value, []).append(max(contacted - received, timedelta(0)))
    rows = [FunnelRow(k, labels.get(k, str(k)) if k is not None else str(_none_label(group_by)), c,
                      median(waits[k]) if k in waits else None) for k, c in counts.items()]
    rows.sort(key=lambda r: (r.key is None, -sum(r.counts.values()), r.label))
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
    found = db.session.execute(select(LeadSource.id, LeadSource.name).where(LeadSource.id.in_(keys)))
    return {row.id: row.name for row in found}


def _none_label(group_by: str):
    return {"city": _l("No city"), "store": _l("Unrouted"), "source": _l("No source")}[group_by]

