"""Staff channels: HQ's list of stores still to confirm, a store's channel page, and the answers to
"which group is this robot in?". Managers act for their own stores only."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from matrix.broadcasts.services import community_posts_on
from matrix.communities.models import Community, StaffChannel
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import ConfirmForm, show_error
from matrix.notifications import channels
from matrix.notifications.forms import AnswerForm, StaffChannelForm
from matrix.notifications.models import DeliveryStatus, Notification
from matrix.permissions import get_community_or_404, get_store_or_404, hq_required
from matrix.stores.models import Store

bp = Blueprint("channels", __name__, url_prefix="/channels")


@bp.get("/")
@hq_required
def index():
    """The stores still to confirm a staff channel, the candidates the upgrade found and the alerts held."""
    query = channels.unconfirmed_stores()
    if q := request.args.get("q", "").strip():
        query = query.where(Store.code.contains(q, autoescape=True) | Store.name.contains(q, autoescape=True))
    page = db.paginate(query.order_by(Store.code), page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    ids = [s.id for s in page.items]
    candidates = {c.store_id: c for c in db.session.scalars(select(StaffChannel).where(StaffChannel.store_id.in_(ids)))}
    held = dict(db.session.execute(select(Notification.store_id, func.count()).where(
        Notification.store_id.in_(ids), Notification.status == DeliveryStatus.HELD)
        .group_by(Notification.store_id)).tuples().all())
    total = db.session.scalar(select(func.count()).select_from(channels.unconfirmed_stores().subquery()))
    return render_template("notifications/channels.html", page=page, candidates=candidates, held=held, total=total,
                           held_total=channels.held_count())


def _store_page(store: Store, form: StaffChannelForm | None = None, status: int = 200):
    groups = db.session.scalars(select(Community).where(Community.store_id == store.id, Community.robot_webhook_url
                                                        .is_not(None)).order_by(Community.rotation_order, Community.id))
    return render_template("notifications/store_channel.html", store=store, channel=channels.staff_channel_of(store.id),
                           held=channels.held_count(store.id), groups=list(groups), form=form or StaffChannelForm(),
                           action_form=ConfirmForm(), posts_on=community_posts_on(store.id)), status


@bp.get("/stores/<int:store_id>")
@login_required
def store(store_id: int):
    """A store's staff channel and the robots of its groups: which is which."""
    return _store_page(get_store_or_404(current_user, store_id))


@bp.post("/stores/<int:store_id>/robot")
@login_required
def set_robot(store_id: int):
    """Enter or replace the staff channel's robot, confirmed as sitting in the staff group."""
    store = get_store_or_404(current_user, store_id)
    form = StaffChannelForm()
    if not form.validate_on_submit():
        return _store_page(store, form, 422)
    try:
        released = channels.set_staff_channel(store, url=form.robot_webhook_url.data, actor=current_user,
                                              in_staff_group=form.in_staff_group.data)
    except DomainError as e:
        show_error(form, e, default_field="robot_webhook_url")
        return _store_page(store, form, 422)
    flash(_("Staff channel confirmed; %(n)d waiting lead alerts released.", n=released), "success")
    return redirect(url_for("channels.store", store_id=store.id))


def _act(store_id: int, action, message: str):
    store = get_store_or_404(current_user, store_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired. Try again."), "error")
        return _store_page(store, status=400)
    try:
        count = action(store, actor=current_user)
    except DomainError as e:
        flash(e.message, "error")
        return _store_page(store, status=422)
    flash(message % {"n": count or 0}, "success")
    return redirect(url_for("channels.store", store_id=store.id))


@bp.post("/stores/<int:store_id>/confirm")
@login_required
def confirm(store_id: int):
    """The candidate robot sits in the staff group: use it for lead alerts."""
    return _act(store_id, channels.confirm_candidate, _("Staff channel confirmed; %(n)d waiting lead alerts released."))


@bp.post("/stores/<int:store_id>/reject")
@login_required
def reject(store_id: int):
    """The candidate robot sits in a customer group: never use it for lead alerts."""
    return _act(store_id, channels.reject_candidate, _("Noted: that robot posts to customers only."))


@bp.post("/stores/<int:store_id>/unconfirm")
@login_required
def unconfirm(store_id: int):
    """Stop sending lead alerts to the staff channel; waiting ones are held."""
    return _act(store_id, channels.unconfirm_staff_channel,
                _("Staff channel unconfirmed; %(n)d waiting lead alerts are held."))


@bp.post("/communities/<int:community_id>/answer")
@login_required
def answer(community_id: int):
    """Say which group a group's robot sits in: the staff group or this customer group."""
    community = get_community_or_404(current_user, community_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("Answer staff or customers."), "error")
        return redirect(url_for("communities.detail", community_id=community.id))
    try:
        released = channels.answer_group_robot(community, audience=form.audience.data, actor=current_user)
    except DomainError as e:
        flash(e.message, "error")
        return redirect(url_for("communities.detail", community_id=community.id))
    if form.audience.data == "staff":
        flash(_("The robot is now the staff channel of the store; %(n)d waiting lead alerts released.", n=released),
              "success")
        return redirect(url_for("channels.store", store_id=community.store_id))
    flash(_("The robot posts trailers and live posts to this customer group."), "success")
    return redirect(url_for("communities.detail", community_id=community.id))


@bp.app_template_global()
def store_staff_channel(store_id: int) -> dict:
    """For the store page: the staff channel, held alerts and whether community posts are on."""
    return {"channel": channels.staff_channel_of(store_id), "held": channels.held_count(store_id),
            "posts_on": community_posts_on(store_id)}


@bp.app_template_global()
def robot_answer_form() -> AnswerForm:
    """For the group page: the "which group is this robot in?" buttons."""
    return AnswerForm()
