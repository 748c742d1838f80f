"""The weekly plan: choose a store, see its week, and work its items."""

from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from matrix.accounts.models import Account, AccountScope, Platform
from matrix.chain import chain_zone
from matrix.content.models import Approval, ContentItem
from matrix.content.scoping import get_item_or_404
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import show_error
from matrix.live.models import LiveSession
from matrix.live.scoping import visible_sessions
from matrix.materials.services import template_materials
from matrix.models import utcnow
from matrix.permissions import get_store_or_404, visible_stores
from matrix.plans import services
from matrix.plans.blueprint import bp, monday_or_404, week_url
from matrix.plans.forms import ItemTextForm, MoveForm, NewItemForm, StatusForm, day_choices, item_form_data, parse_day
from matrix.plans.labels import ITEM_STATUS_LABELS
from matrix.plans.printing import brand_accounts, store_weeks
from matrix.stores.models import Store
from matrix.stores.picker import city_choices
from matrix.weeks import current_week, next_week, previous_week, week_label, week_string


def announced_session(item: ContentItem):
    """The live session a trailer announces, when the viewer may see it (siblings may not)."""
    if item.session_id is None:
        return None
    return db.session.scalar(visible_sessions(current_user).where(LiveSession.id == item.session_id))


@bp.get("/")
@login_required
def index():
    """Pick a store's week (HQ: with a city filter); a manager of one store goes straight to it."""
    this_week = week_string(current_week())
    query = visible_stores(current_user)
    if not current_user.is_hq:
        stores = db.session.scalars(query.order_by(Store.code)).all()
        if len(stores) == 1:
            return redirect(url_for("plans.week", store_id=stores[0].id, week=this_week, _anchor="today"))
    if city := request.args.get("city"):
        query = query.where(Store.city_code == city)
    if q := request.args.get("q", "").strip():
        query = query.where(or_(Store.code.contains(q, autoescape=True), Store.name.contains(q, autoescape=True)))
    page = db.paginate(query.order_by(Store.code), page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    pending = 0
    if current_user.is_hq:
        pending = db.session.scalar(select(func.count(ContentItem.id))
                                    .where(ContentItem.approval == Approval.PENDING))
    return render_template("plans/index.html", page=page, cities=city_choices(current_user), week=this_week,
                           pending=pending, brands=brand_accounts() if current_user.is_hq else [])


@bp.get("/<int:store_id>/<week>")
@login_required
def week(store_id: int, week: str):
    """One store's week: days by slots on wide screens, a day-by-day list on phones."""
    store = get_store_or_404(current_user, store_id)
    monday = monday_or_404(week)
    plan = store_weeks([store], monday)[0]
    now, zone = utcnow(), chain_zone()
    overdue = {item.id for item in plan.items if services.is_overdue(item, now=now, zone=zone)}
    return render_template("plans/week.html", store=store, plan=plan, monday=monday, label=week_label(monday),
                           today=now.astimezone(ZoneInfo(zone)).date(),
                           week=week_string(monday), prev_week=week_string(previous_week(monday)),
                           next_week=week_string(next_week(monday)), this_week=week_string(current_week()),
                           overdue=overdue, quick_form=StatusForm())


def _item_page(item: ContentItem, status: int = 200, **forms):
    """The item page with its three forms; a form that failed keeps what the user typed."""
    data = item_form_data(item)
    text_form = forms.get("text_form") or ItemTextForm(data=data, formdata=None)
    move_form = forms.get("move_form") or MoveForm(data=data, formdata=None)
    status_form = forms.get("status_form") or StatusForm(formdata=None)
    move_form.day.choices = day_choices(item.day)
    status_form.status.choices = [(s.value, ITEM_STATUS_LABELS[s.value])
                                  for s in services.allowed_statuses(item, current_user)]
    overdue = services.is_overdue(item, now=utcnow(), zone=chain_zone())
    return render_template("plans/item.html", item=item, text_form=text_form, move_form=move_form,
                           status_form=status_form, overdue=overdue, week=week_string(item.day),
                           session=announced_session(item), materials=template_materials(item.template_id)), status


@bp.get("/items/<int:item_id>")
@login_required
def item(item_id: int):
    """One item with its texts, its place in the week and its status."""
    return _item_page(get_item_or_404(current_user, item_id))


@bp.post("/items/<int:item_id>/edit")
@login_required
def edit_item(item_id: int):
    """Change an item's topic, caption, script and hashtags."""
    item = get_item_or_404(current_user, item_id)
    form = ItemTextForm()
    if form.validate_on_submit():
        try:
            services.edit_item(item, actor=current_user, **form.texts)
            flash(_("Item saved."), "success")
            return redirect(week_url(item))
        except DomainError as e:
            show_error(form, e)
    return _item_page(item, 422, text_form=form)


@bp.post("/items/<int:item_id>/move")
@login_required
def move_item(item_id: int):
    """Move an item to another day and time of its week."""
    item = get_item_or_404(current_user, item_id)
    form = MoveForm()
    if form.validate_on_submit():
        day = parse_day(form.day.data)
        try:
            if day is None:
                raise DomainError(_("Choose a day."), field="day")
            services.move_item(item, actor=current_user, day=day, slot=form.slot.data, zone=chain_zone())
            flash(_("Item moved."), "success")
            return redirect(week_url(item))
        except DomainError as e:
            show_error(form, e)
    return _item_page(item, 422, move_form=form)


@bp.post("/items/<int:item_id>/status")
@login_required
def item_status(item_id: int):
    """Mark an item shot, published (with the post URL) or skipped (with a reason)."""
    item = get_item_or_404(current_user, item_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            services.change_status(item, actor=current_user, status=form.status.data,
                                   post_url=form.post_url.data or "", reason=form.reason.data or "")
            flash(_("The item is now %(status)s.", status=ITEM_STATUS_LABELS[item.status.value]), "success")
            back = request.form.get("back")
            return redirect(week_url(item) if back == "week" else url_for("today.index") if back == "today"
                            else url_for("plans.item", item_id=item.id))
        except DomainError as e:
            show_error(form, e)
    return _item_page(item, 422, status_form=form)


def store_account_choices(store: Store) -> list[tuple[int, str]]:
    accounts = db.session.scalars(
        select(Account).join(Account.platform).options(contains_eager(Account.platform))
        .where(Account.store_id == store.id, Account.scope == AccountScope.STORE)
        .order_by(Platform.sort_order, Account.handle)).all()
    locale = str(get_locale())
    return [(a.id, f"{a.platform.label(locale)} · @{a.handle}") for a in accounts]


@bp.route("/<int:store_id>/<week>/new", methods=["GET", "POST"])
@login_required
def new_item(store_id: int, week: str):
    """Add the store's own item to one of its accounts."""
    store = get_store_or_404(current_user, store_id)
    monday = monday_or_404(week)
    form = NewItemForm()
    form.account_id.choices = [("", _("Choose an account"))] + store_account_choices(store)
    form.day.choices = day_choices(monday)
    if request.method == "GET":
        form.day.data = request.args.get("day") or monday.isoformat()
        if len(form.account_id.choices) == 2:
            form.account_id.data = form.account_id.choices[1][0]
    elif form.validate_on_submit():
        try:
            item = services.add_item(store, actor=current_user, account_id=form.account_id.data,
                                     day=parse_day(form.day.data), week=monday, slot=form.slot.data,
                                     kind=form.kind.data, **form.texts)
            flash(_("Item added; it waits for HQ approval.") if item.approval == Approval.PENDING
                  else _("Item added."), "success")
            return redirect(week_url(item))
        except DomainError as e:
            show_error(form, e)
    status = 200 if request.method == "GET" else 422
    return render_template("plans/new_item.html", store=store, form=form, week=week_string(monday),
                           label=week_label(monday)), status

