"""The leads blueprint and what its pages share: filters, inbox filters and the lead's page."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user

from matrix.chain import chain_zone
from matrix.communities.services import current_community
from matrix.leads import services
from matrix.leads.forms import ConfirmForm, FollowUpForm, NoteForm, ReassignForm, StatusForm
from matrix.leads.models import Lead, LeadStatus
from matrix.models import utcnow
from matrix.permissions import can_manage_store
from matrix.regions.services import region_name
from matrix.stores.picker import offer_stores

bp = Blueprint("leads", __name__, url_prefix="/leads")


def chain_tz() -> ZoneInfo:
    return ZoneInfo(chain_zone())


@bp.app_template_filter("lead_wait")
def lead_wait(value: timedelta | None) -> str:
    """A waiting time people read at a glance: 45 min, 3 h 20 min, 2 d 4 h."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return _("%(m)d min", m=minutes)
    if minutes < 24 * 60:
        return _("%(h)d h %(m)d min", h=minutes // 60, m=minutes % 60)
    return _("%(d)d d %(h)d h", d=minutes // 1440, h=minutes % 1440 // 60)


@bp.app_template_filter("lead_distance")
def lead_distance(metres: float | None) -> str:
    if metres is None:
        return ""
    return _("%(m)d m", m=round(metres)) if metres < 1000 else _("%(km).1f km", km=metres / 1000)


def lead_place(lead: Lead) -> str:
    """The parsed city and district when routing found them, else what the lead said."""
    parsed = region_name(lead.city_code) + region_name(lead.district_code)
    return parsed or " ".join(p for p in (lead.province_text, lead.city_text) if p)


def row_labels() -> dict[str, object]:
    """A lead row's column names, statuses and rules, translated once for a whole list (not per cell)."""
    return {"received": _("Received"), "name": pgettext("person", "Name"), "phone": _("Phone"),
            "status": _("Status"), "store": _("Store"), "place": _("Place"), "distance": _("Distance"),
            "rule": _("Routing rule"), "group": _("Group"), "source": _("Source"),
            "waited": _("Time to first contact"), "follow_up": _("Follow up at"), "no_name": _("(no name)"),
            "unrouted": _("Unrouted"), "statuses": {k: str(v) for k, v in services.STATUS_LABELS.items()},
            "rules": {k: str(v) for k, v in services.RULE_LABELS.items()}}


@bp.context_processor
def lead_helpers():
    return {"STATUS_LABELS": services.STATUS_LABELS, "RULE_LABELS": services.RULE_LABELS, "LeadStatus": LeadStatus,
            "lead_place": lead_place, "waited": services.time_to_first_contact, "now_utc": utcnow(),
            "lead_row_labels": row_labels}


def read_filters(args, *, store_id: int | None = None) -> services.LeadFilters:
    """The inbox filters from a query string (or the export form): unknown values are ignored.

    The store comes from matrix.stores.picker.filter_store, which reads ?store= and ?store_code=.
    """
    status = args.get("status", "")
    return services.LeadFilters(store_id=store_id, city_code=args.get("city") or None,
                                status=LeadStatus(status) if status in set(LeadStatus) else None,
                                source_id=args.get("source", type=int), follow_up_due=bool(args.get("due")),
                                unrouted=bool(args.get("unrouted")) and current_user.is_hq,
                                q=args.get("q", "")[:60])


def may_reveal(lead: Lead) -> bool:
    """The assigned store's managers and HQ may see the full number; everyone else the masked one."""
    return current_user.is_hq or (lead.store_id is not None and can_manage_store(current_user, lead.store_id))


def render_detail(lead: Lead, *, status_code: int = 200, phone: str | None = None, **forms):
    """The lead's page; a form that failed is passed in so it shows what was typed and why."""
    status_form = forms.get("status_form") or StatusForm(
        data={"status": lead.status.value if lead.status != LeadStatus.NEW else LeadStatus.CONTACTED.value,
              "lost_reason": lead.lost_reason or ""})
    follow_form = forms.get("follow_form") or FollowUpForm(
        data={"follow_up_at": lead.follow_up_at.astimezone(chain_tz()).replace(tzinfo=None)
              if lead.follow_up_at else None})
    reassign_form = forms.get("reassign_form")  # a failed reassign was offered the stores already
    if current_user.is_hq and reassign_form is None:
        reassign_form = ReassignForm(data={"store_id": lead.store_id})
        offer_stores(reassign_form, current_user, blank=_("Choose a store"))
    return render_template("leads/detail.html", lead=lead, notes=services.notes_of(lead), phone=phone,
                           status_form=status_form, note_form=forms.get("note_form") or NoteForm(),
                           follow_form=follow_form, reveal_form=ConfirmForm(), reassign_form=reassign_form,
                           can_reveal=may_reveal(lead), community=invite_community(lead),
                           now=datetime.now(chain_tz())), status_code


def invite_community(lead: Lead):
    """The group the lead was given; if it has none yet, the store's current one in the rotation."""
    if lead.community is not None:
        return lead.community
    return current_community(lead.store_id) if lead.store_id else None
