"""Working the leads: the inbox, one lead (pipeline, notes, follow-up, reveal), its invite card, the export.

HQ's pages are in hq_views and manual entry in manual_views: same blueprint, imported at the end.
"""
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, send_file,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from matrix.accounts.forms import city_choices, show_errors
from matrix.communities.services import current_community
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.imports.exports import to_csv
from matrix.joins.codes import lead_invite
from matrix.leads import services
from matrix.leads.forms import ConfirmForm, ExportForm, FollowUpForm, NoteForm, ReassignForm, StatusForm
from matrix.leads.models import Lead, LeadStatus
from matrix.leads.phones import reveal_phone
from matrix.models import utcnow
from matrix.permissions import can_manage_store, get_lead_or_404
from matrix.regions.services import region_name
from matrix.stores.picker import filter_store, offer_stores

bp = Blueprint("leads", __name__, url_prefix="/leads")


def chain_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["MATRIX_TIMEZONE"])


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


@bp.context_processor
def lead_helpers():
    return {"STATUS_LABELS": services.STATUS_LABELS, "RULE_LABELS": services.RULE_LABELS, "LeadStatus": LeadStatus,
            "lead_place": lead_place, "waited": services.time_to_first_contact, "now_utc": utcnow()}


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


@bp.get("/")
@login_required
def index():
    """The leads of the stores in the user's scope, newest first, filtered."""
    store_filter = filter_store(current_user, request.args)
    filters = read_filters(request.args, store_id=store_filter.store_id)
    page = db.paginate(services.filtered_leads(current_user, filters), page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("leads/index.html", page=page, store_filter=store_filter,
                           cities=city_choices(current_user) if current_user.is_hq else [],
                           sources=services.visible_sources(current_user), export_form=ExportForm(),
                           filters=filters)


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


@bp.get("/<int:lead_id>")
@login_required
def detail(lead_id: int):
    """One lead: contact, routing, invite, pipeline, notes and follow-up."""
    return render_detail(get_lead_or_404(current_user, lead_id))


def _failed(lead: Lead, form, error: DomainError | None, name: str):
    if error is not None:
        for message in show_errors(form, {error.field: error.message}):
            flash(message, "error")
    return render_detail(lead, status_code=422, **{name: form})


@bp.post("/<int:lead_id>/status")
@login_required
def status(lead_id: int):
    """Move the lead along the pipeline (lost needs a reason)."""
    lead = get_lead_or_404(current_user, lead_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return _failed(lead, form, None, "status_form")
    try:
        changed = services.change_status(lead, LeadStatus(form.status.data), actor=current_user,
                                         reason=form.lost_reason.data)
    except DomainError as e:
        return _failed(lead, form, e, "status_form")
    if changed:
        flash(_("Status changed to %(status)s.", status=services.STATUS_LABELS[lead.status]), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id))


@bp.post("/<int:lead_id>/notes")
@login_required
def add_note(lead_id: int):
    """Add a note to the lead."""
    lead = get_lead_or_404(current_user, lead_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _failed(lead, form, None, "note_form")
    try:
        services.add_note(lead, form.body.data, actor=current_user)
    except DomainError as e:
        return _failed(lead, form, e, "note_form")
    flash(_("Note added."), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id) + "#notes")


@bp.post("/<int:lead_id>/follow-up")
@login_required
def follow_up(lead_id: int):
    """Set or clear when to contact the lead next (in the chain's time zone)."""
    lead = get_lead_or_404(current_user, lead_id)
    form = FollowUpForm()
    if not form.validate_on_submit():
        return _failed(lead, form, None, "follow_form")
    when = form.follow_up_at.data
    if request.form.get("clear"):
        when = None
    services.set_follow_up(lead, when.replace(tzinfo=chain_tz()) if when else None, actor=current_user)
    flash(_("Follow-up set.") if when else _("Follow-up cleared."), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id))


@bp.post("/<int:lead_id>/reveal")
@login_required
def reveal(lead_id: int):
    """Show the full phone number once; the reveal is audit-logged."""
    lead = get_lead_or_404(current_user, lead_id)
    if not may_reveal(lead):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    phone = reveal_phone(lead, actor=current_user)
    body, code = render_detail(lead, phone=phone)
    # The number must not stay in a cache or come back with the browser's back button.
    return body, code, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.get("/<int:lead_id>/invite")
@login_required
def invite_card(lead_id: int):
    """A printable card inviting the lead into the store's group: name, QR code, store and address."""
    lead = get_lead_or_404(current_user, lead_id)
    community = invite_community(lead)
    if lead.store is None or community is None:
        abort(404)
    qr_svg = None
    if not community.qr_mime and community.invite_link:  # without a WeCom code the card prints the group's own
        import segno

        # Drawn from the invite link when no QR image was uploaded; inline SVG prints sharp at any size.
        qr_svg = Markup(segno.make(community.invite_link, error="m").svg_inline(scale=6, border=2))
    return render_template("leads/invite_card.html", lead=lead, community=community, store=lead.store,
                           qr_svg=qr_svg, invite=lead_invite(lead), action_form=ConfirmForm())


@bp.post("/export")
@login_required
def export():
    """The filtered leads as CSV: phones masked, or in full for HQ who ask (audit-logged with the row count)."""
    form = ExportForm()
    if not form.validate_on_submit():
        abort(400)
    store_filter = filter_store(current_user, request.form)
    if store_filter.forged:
        abort(404)
    filters = read_filters(request.form, store_id=store_filter.store_id)
    if form.include_phones.data and not current_user.is_hq:
        abort(403)
    headers, rows = services.export_leads(current_user, filters, include_phones=bool(form.include_phones.data),
                                          tz=chain_tz())
    stamp = datetime.now(chain_tz()).strftime("%Y%m%d-%H%M")
    return send_file(io.BytesIO(to_csv(headers, rows)), mimetype="text/csv; charset=utf-8", as_attachment=True,
                     download_name=f"leads-{stamp}.csv", max_age=0)


from matrix.leads import hq_views, manual_views  # noqa: E402,F401  the rest of the blueprint's routes
