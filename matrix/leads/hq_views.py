"""HQ's views of the leads: the unrouted queue, reassigning by hand, the funnel."""
from datetime import date, datetime, time, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads import reports, services
from matrix.leads.blueprint import bp, chain_tz, read_filters, render_detail
from matrix.leads.forms import ReassignForm
from matrix.leads.models import LeadStatus
from matrix.leads.routing import reassign_lead
from matrix.leads.scoping import get_lead_or_404
from matrix.leads.store_index import ROUTABLE_STATUSES
from matrix.paging import ListPage
from matrix.permissions import get_store_or_404, hq_required, visible_stores
from matrix.stores.chain_cache import report_figures
from matrix.stores.models import Store
from matrix.stores.picker import SELECT_MAX, offer_stores

FUNNEL_DAYS = 30


@bp.get("/unrouted")
@hq_required
def unrouted():
    """Leads no rule could place, with the reason, to assign by hand."""
    filters = read_filters(request.args)
    filters = services.LeadFilters(unrouted=True, q=filters.q, source_id=filters.source_id,
                                   status=filters.status)
    page = db.paginate(services.filtered_leads(current_user, filters), page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    # One list of open stores' codes for the page (a select per row would repeat every store 50 times);
    # a big chain's codes are typed, so the list suggests no more than a select would hold.
    stores = db.session.execute(visible_stores(current_user).with_only_columns(Store.code, Store.name)
                                .where(Store.status.in_(ROUTABLE_STATUSES)).order_by(Store.code)
                                .limit(SELECT_MAX)).all()
    return render_template("leads/unrouted.html", page=page, form=ReassignForm(), stores=stores)


@bp.post("/<int:lead_id>/reassign")
@hq_required
def reassign(lead_id: int):
    """Give the lead to another store by hand (audit-logged)."""
    lead = get_lead_or_404(current_user, lead_id)
    form = ReassignForm()
    offer_stores(form, current_user, blank=_("Choose a store"))
    store = _chosen_store(form)
    if store is None:
        if not form.errors:  # an unknown code says so next to the field
            flash(_("Choose the store to give the lead to."), "error")
        return render_detail(lead, status_code=422, reassign_form=form)
    try:
        reassign_lead(lead, store, actor=current_user)
    except DomainError as e:
        flash(e.message, "error")
        return render_detail(lead, status_code=422, reassign_form=form)
    flash(_("Lead given to %(store)s.", store=f"{store.code} {store.name}"), "success")
    if request.form.get("back") == "unrouted":
        return redirect(url_for("leads.unrouted"))
    return redirect(url_for("leads.detail", lead_id=lead.id))


def _chosen_store(form: ReassignForm) -> Store | None:
    """The store picked from the select, or typed by its code (found in scope by offer_stores)."""
    if not form.validate_on_submit() or form.store_id.data is None:
        return None
    return get_store_or_404(current_user, form.store_id.data)  # a forged store id: 404


def _date_arg(name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default


@bp.get("/funnel")
@hq_required
def funnel():
    """Leads by status per city, store or source for a date range, with conversion and time to first contact."""
    today = datetime.now(chain_tz()).date()
    first = _date_arg("from", today - timedelta(days=FUNNEL_DAYS - 1))
    last = _date_arg("to", today)
    if last < first:
        first, last = last, first
    group_by = request.args.get("group", "store")
    if group_by not in reports.FUNNEL_GROUPS:
        group_by = "store"
    # The range means the days people see in the chain's time zone.
    start = datetime.combine(first, time.min, tzinfo=chain_tz())
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=chain_tz())
    # A report over every lead of the range: reused for REPORT_CACHE_S (HQ sees every lead; labels per language).
    rows, total = report_figures(("funnel", group_by, start, end, str(get_locale())),
                                 lambda: reports.funnel(current_user, group_by=group_by, start=start, end=end))
    # By store, a chain has thousands of rows: a page of them (largest first), the total row on every page.
    page = ListPage.of(len(rows), request.args.get("page", type=int), current_app.config["PAGE_SIZE"])
    return render_template("leads/funnel.html", rows=page.slice(rows), page=page, total=total, group_by=group_by,
                           first=first, last=last, statuses=list(LeadStatus),
                           status_labels={s: str(services.STATUS_LABELS[s]) for s in LeadStatus},
                           widest=max((r.total for r in rows), default=0))

