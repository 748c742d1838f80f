"""Entering a lead by hand: taken by phone or met in the street."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matrix import geo
from matrix.errors import DomainError
from matrix.forms import preselect_only_choice, show_error
from matrix.leads import services
from matrix.leads.blueprint import bp
from matrix.leads.forms import ManualLeadForm
from matrix.leads.intake import LeadInput
from matrix.leads.phones import normalise_phone
from matrix.permissions import can_manage_store, get_store_or_404
from matrix.stores.picker import offer_stores


def _point(form: ManualLeadForm) -> geo.Point | None:
    """The typed coordinates in WGS-84, or None; a bad point becomes an error on the field."""
    lon, lat = (form.lon.data or "").strip(), (form.lat.data or "").strip()
    if not lon or not lat:
        return None
    try:
        return geo.to_wgs84(float(lon), float(lat), geo.CoordSystem(form.coord_system.data))
    except ValueError as e:  # CoordinateError is a ValueError; so is float("abc")
        message = str(e) if isinstance(e, geo.CoordinateError) else _("Coordinates must be numbers.")
        form.lon.errors = list(form.lon.errors) + [message]
        return None


def _lead_input(form: ManualLeadForm, store_id: int | None, point: geo.Point | None) -> LeadInput:
    def text(field) -> str:
        return (field.data or "").strip()

    return LeadInput(name=text(form.name), phone=normalise_phone(form.phone.data), city=text(form.city),
                     district=text(form.district), address=text(form.address), lon=point.lon if point else None,
                     lat=point.lat if point else None, coord_system=geo.CoordSystem.WGS84.value,
                     source_store_id=store_id)


def _save(form: ManualLeadForm):
    """Validate and hand the lead to intake; None when the form must be shown again."""
    store_id = form.store_id.data
    store = get_store_or_404(current_user, store_id) if store_id is not None else None  # forged id: 404
    valid = form.validate_on_submit()
    try:
        services.check_entry_store(store, actor=current_user)  # with the form's own checks: every mistake at once
    except DomainError as e:
        show_error(form, e)
        valid = False
    point = _point(form)
    if not valid or form.lon.errors:
        return None
    try:
        return services.enter_lead(_lead_input(form, store_id, point), actor=current_user, note=form.note.data)
    except DomainError as e:
        show_error(form, e)
        return None


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Enter a lead taken by phone or in the street: a manager for their store, HQ for routing to decide."""
    form = ManualLeadForm()
    offer_stores(form, current_user, blank=_("Let routing decide") if current_user.is_hq else _("Choose a store"))
    if request.method == "GET":
        if store_id := request.args.get("store_id", type=int):
            form.store_id.data = get_store_or_404(current_user, store_id).id
        elif not current_user.is_hq:
            preselect_only_choice(form.store_id)
        return render_template("leads/new.html", form=form)
    lead = _save(form)
    if lead is None:
        return render_template("leads/new.html", form=form), 422
    if not can_manage_store(current_user, lead.store_id):
        # Not expected (the store is open and keeps what its staff type in), but never show another store's lead.
        flash(_("Lead %(name)s saved.", name=lead.name), "success")
        return redirect(url_for("leads.index"))
    if lead.store_id is None:
        flash(_("Lead %(name)s saved; no rule could route it: %(reason)s", name=lead.name,
                reason=lead.routing_reason or ""), "warning")
    else:
        flash(_("Lead %(name)s saved for %(store)s.", name=lead.name, store=lead.store.name), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id))
