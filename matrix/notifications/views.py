"""HQ's view of the robot deliveries: to whom each goes, what is held, pending or failed and why; retry by hand."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField

from matrix.communities.models import Community, StaffChannel
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.notifications import manual, services, targets
from matrix.notifications.channels import held_count, unconfirmed_stores
from matrix.notifications.models import CUSTOMER_KINDS, STAFF_KINDS, Audience, DeliveryStatus, Notification
from matrix.permissions import get_community_or_404, get_store_or_404, hq_required
from matrix.stores.models import Store

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

STATUS_LABELS = {"pending": _l("Pending"), "held": _l("Held"), "sent": _l("Sent"), "failed": _l("Failed"),
                 "unnotified": _l("Not notified"), "cancelled": _l("Withdrawn")}
REASON_LABELS = {services.NO_GROUP: _l("The store has no group."),
                 services.GROUPS_FULL: _l("All the store's groups are full."),
                 services.NO_ROBOT: _l("The group has no robot."),
                 services.REFUSED_URL: _l("The robot address is not a WeCom webhook."),
                 targets.HELD_REASON: _l("Waits for the store's staff channel to be confirmed."),
                 targets.NO_GROUP_ROBOT: _l("Withdrawn: the group has no confirmed customer robot."),
                 targets.SESSION_OFF: _l("Withdrawn: the session was cancelled or is over."),
                 targets.POSTS_OFF: _l("Withdrawn: the store switched its community posts off."),
                 targets.TOO_LATE: _l("Withdrawn: too late to post."),
                 targets.MOVED: _l("Withdrawn: the session or its trailer changed."),
                 targets.BOTH_AUDIENCES: _l("Refused: this robot serves staff and customers."),
                 targets.OTHER_STORE: _l("Refused: the staff channel belongs to another store.")}
KIND_LABELS = {"lead_alert": _l("Lead alert"), "lead_reminder": _l("Lead reminder"), "digest": _l("Daily digest"),
               "trailer_post": _l("Trailer post"), "live_now": _l("We are live now")}
AUDIENCE_LABELS = {Audience.STAFF.value: _l("Staff channel"), Audience.CUSTOMERS.value: _l("Customer group")}
MSGTYPE_LABELS = {"markdown": _l("Card"), "text": _l("Text")}


class RetryForm(FlaskForm):
    """Only the CSRF token: retrying is a POST."""


class ClearFlagForm(FlaskForm):
    requeue = BooleanField(_l("Also retry this robot's failed deliveries"), default=True)


def _filtered(args):
    query = select(Notification)
    status = args.get("status", "")
    if status == "unnotified":
        # Never attempted: written before staff channels, when the lead's store had no robot to send to.
        query = query.where(Notification.status == DeliveryStatus.FAILED, Notification.attempts == 0)
    elif status in set(DeliveryStatus):
        query = query.where(Notification.status == DeliveryStatus(status))
    if (audience := args.get("audience")) in set(Audience):
        query = query.where(Notification.kind.in_(STAFF_KINDS if audience == Audience.STAFF else CUSTOMER_KINDS))
    if code := args.get("store", "").strip():
        query = query.where(Notification.store_id.in_(select(Store.id).where(Store.code == code)))
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


def _summary() -> dict[str, int]:
    """Deliveries per status, and the failed ones never attempted ("not notified"), in one pass over the table."""
    never = Notification.attempts == 0
    summary = {status.value: 0 for status in DeliveryStatus} | {"unnotified": 0}
    for status, unattempted, n in db.session.execute(
            select(Notification.status, never, func.count()).group_by(Notification.status, never)):
        summary[status.value] += n
        if status == DeliveryStatus.FAILED and unattempted:
            summary["unnotified"] += n
    return summary


def _by_id(model, ids: set[int]) -> dict:
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}


def _render_index(status_code: int = 200):
    page = db.paginate(_filtered(request.args), page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    groups = _by_id(Community, {n.community_id for n in page.items if n.community_id})
    staff = _by_id(StaffChannel, {n.staff_channel_id for n in page.items if n.staff_channel_id})
    flagged = list(db.session.scalars(select(Community).where(Community.robot_error.is_not(None))
                                      .order_by(Community.store_id, Community.id)))
    flagged_staff = list(db.session.scalars(select(StaffChannel).where(StaffChannel.robot_error.is_not(None))
                                            .order_by(StaffChannel.store_id)))
    stores = _by_id(Store, {n.store_id for n in page.items if n.store_id} | {c.store_id for c in flagged}
                    | {c.store_id for c in flagged_staff})
    unconfirmed = db.session.scalar(select(func.count()).select_from(unconfirmed_stores().subquery()))
    return render_template("notifications/index.html", page=page, stores=stores, groups=groups, staff=staff,
                           flagged=flagged, flagged_staff=flagged_staff, summary=_summary(), unconfirmed=unconfirmed,
                           held_total=held_count(), lead_links="leads.detail" in current_app.view_functions,
                           retry_form=RetryForm(), clear_form=ClearFlagForm(), status=request.args.get("status", ""),
                           status_labels=_text(STATUS_LABELS), reason_labels=_text(REASON_LABELS),
                           msgtype_labels=_text(MSGTYPE_LABELS), kind_labels=_text(KIND_LABELS),
                           audience_labels=_text(AUDIENCE_LABELS)), status_code


def _text(labels: dict) -> dict[str, str]:
    """Lazy labels translated once for the page, not once per row that shows them."""
    return {key: str(label) for key, label in labels.items()}


@bp.get("/")
@hq_required
def index():
    """Robot deliveries by audience and status, the stores still to confirm, and the robots that need fixing."""
    return _render_index()


@bp.post("/<int:notification_id>/retry")
@hq_required
def retry(notification_id: int):
    """Put a failed delivery back in the queue."""
    notification = db.get_or_404(Notification, notification_id)
    if not RetryForm().validate_on_submit():
        flash(_("The form expired. Try again."), "error")
        return _render_index(400)
    try:
        manual.retry_notification(notification, actor=current_user)
    except DomainError as e:
        flash(e.message, "error")
        return _render_index(422)
    if notification.status == DeliveryStatus.HELD:
        flash(_("The delivery waits for the store's staff channel to be confirmed."), "warning")
    else:
        flash(_("The delivery is queued again; the worker sends it shortly."), "success")
    return redirect(url_for("notifications.index", status=request.args.get("status") or None))


def _cleared(clear, target, name: str):
    form = ClearFlagForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Try again."), "error")
        return _render_index(400)
    try:
        requeued = clear(target, actor=current_user, requeue=form.requeue.data)
    except DomainError as e:
        flash(e.message, "error")
        return _render_index(422)
    flash(_("The robot flag of %(name)s is cleared; %(count)d deliveries queued again.", name=name, count=requeued),
          "success")
    return redirect(url_for("notifications.index"))


@bp.post("/communities/<int:community_id>/clear")
@hq_required
def clear_flag(community_id: int):
    """Clear a group's robot flag after its webhook was fixed."""
    community = get_community_or_404(current_user, community_id)
    return _cleared(manual.clear_robot_error, community, community.name)


@bp.post("/stores/<int:store_id>/clear-staff")
@hq_required
def clear_staff_flag(store_id: int):
    """Clear a staff channel's robot flag after its webhook was fixed."""
    store = get_store_or_404(current_user, store_id)
    channel = db.session.scalar(select(StaffChannel).where(StaffChannel.store_id == store.id))
    if channel is None:
        flash(_("This store has no staff channel."), "error")
        return _render_index(404)
    return _cleared(manual.clear_staff_flag, channel, store.code)
