"""HQ's side of the weekly plan: the approval queue and how far the stores got."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from matrix.accounts.models import Account
from matrix.chain import chain_zone
from matrix.content.models import Approval, Campaign, ContentItem
from matrix.content.scoping import visible_items
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.models import utcnow
from matrix.permissions import hq_required
from matrix.plans import services, week_summary
from matrix.plans.blueprint import bp
from matrix.plans.forms import DecisionForm
from matrix.stores.models import Store
from matrix.stores.picker import city_choices
from matrix.weeks import WeekError, current_week, iso_week, next_week, previous_week, week_label, week_string


def _pending_query(args):
    query = (visible_items(current_user).join(ContentItem.store).options(
        contains_eager(ContentItem.store), selectinload(ContentItem.account).selectinload(Account.platform))
        .where(ContentItem.approval == Approval.PENDING))
    if city := args.get("city"):
        query = query.where(Store.city_code == city)
    return query.order_by(ContentItem.day, ContentItem.slot, Store.code, ContentItem.id)


@bp.get("/approvals")
@hq_required
def approvals():
    """Store-authored items waiting for HQ, oldest day first."""
    page = db.paginate(_pending_query(request.args), page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("plans/approvals.html", page=page, form=DecisionForm(),
                           cities=city_choices(current_user))


def _chosen(form: DecisionForm) -> tuple[bool, list[int]]:
    """A row's own button decides that item; otherwise the bulk buttons decide the ticked ones."""
    one = request.form.get("one", "")
    decision, _sep, item_id = one.partition(":")
    if decision in ("approve", "reject") and item_id.isdigit():
        return decision == "approve", [int(item_id)]
    return form.decision.data == "approve", list(form.item_ids.data or [])


@bp.post("/approvals")
@hq_required
def decide():
    """Approve or reject (with a reason) one item or the ticked ones."""
    form = DecisionForm()
    approve, ids = _chosen(form)
    if not request.form.get("one") and not form.validate_on_submit():
        flash(_("Choose approve or reject."), "error")
    elif not ids:
        flash(_("Tick the items to decide first."), "warning")
    else:
        items = db.session.scalars(visible_items(current_user).where(ContentItem.id.in_(ids))).all()
        try:
            n = services.decide(items, actor=current_user, approve=approve, reason=form.reason.data or "")
            flash(_("%(n)d items approved.", n=n) if approve else _("%(n)d items rejected.", n=n), "success")
        except DomainError as e:
            flash(e.message, "error")
            page = db.paginate(_pending_query(request.args), page=1, per_page=current_app.config["PAGE_SIZE"],
                               error_out=False)
            return render_template("plans/approvals.html", page=page, form=form,
                                   cities=city_choices(current_user)), 422
    return redirect(url_for("plans.approvals", **request.args))


@bp.get("/completion")
@hq_required
def completion():
    """Planned, shot, published, skipped and overdue items of a week per campaign, city and store."""
    try:
        monday = iso_week(request.args["week"]) if request.args.get("week") else current_week()
    except WeekError as e:
        flash(str(e), "error")
        monday = current_week()
    city = request.args.get("city") or None
    campaign_id = request.args.get("campaign", type=int)
    now, zone = utcnow(), chain_zone()
    filters = {"now": now, "zone": zone}
    page, counts = week_summary.stores_page(monday, page=request.args.get("page", 1, type=int),
                                            per_page=current_app.config["PAGE_SIZE"], city=city,
                                            campaign_id=campaign_id, **filters)
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.name)).all()
    summary = week_summary.week_summary(monday, city=city, campaign_id=campaign_id, **filters)
    return render_template(
        "plans/completion.html", week=week_string(monday), label=week_label(monday),
        prev_week=week_string(previous_week(monday)), next_week=week_string(next_week(monday)),
        total=summary.total, per_campaign=summary.per_campaign, per_city=summary.per_city,
        page=page, counts=counts, campaigns=campaigns, cities=city_choices(current_user))
