"""Working the leads: the inbox, one lead (pipeline, notes, follow-up, reveal), its invite card, the export."""
import io
from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import show_error
from matrix.imports.exports import to_csv
from matrix.joins.codes import lead_invite
from matrix.leads import deliveries, reports, services
from matrix.leads.blueprint import bp, chain_tz, invite_community, may_reveal, read_filters, render_detail
from matrix.leads.forms import ConfirmForm, ExportForm, FollowUpForm, NoteForm, StatusForm
from matrix.leads.models import Lead, LeadStatus
from matrix.leads.scoping import get_lead_or_404
from matrix.stores.picker import city_choices, filter_store


@bp.get("/")
@login_required
def index():
    """The leads of the stores in the user's scope, newest first, filtered."""
    store_filter = filter_store(current_user, request.args)
    filters = read_filters(request.args, store_id=store_filter.store_id)
    page = db.paginate(services.filtered_leads(current_user, filters), page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    intake = deliveries.backlog() if current_user.is_hq else None  # webhook leads the worker has yet to route
    return render_template("leads/index.html", page=page, store_filter=store_filter,
                           cities=city_choices(current_user) if current_user.is_hq else [],
                           sources=services.visible_sources(current_user), export_form=ExportForm(),
                           filters=filters, intake=intake)


@bp.get("/<int:lead_id>")
@login_required
def detail(lead_id: int):
    """One lead: contact, routing, invite, pipeline, notes and follow-up."""
    return render_detail(get_lead_or_404(current_user, lead_id))


def _failed(lead: Lead, form, error: DomainError | None, name: str):
    if error is not None:
        show_error(form, error)
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
    phone = services.reveal_phone(lead, actor=current_user)
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
    headers, rows = reports.export_leads(current_user, filters, include_phones=bool(form.include_phones.data),
                                          tz=chain_tz())
    stamp = datetime.now(chain_tz()).strftime("%Y%m%d-%H%M")
    return send_file(io.BytesIO(to_csv(headers, rows)), mimetype="text/csv; charset=utf-8", as_attachment=True,
                     download_name=f"leads-{stamp}.csv", max_age=0)

