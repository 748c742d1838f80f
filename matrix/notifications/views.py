"""HQ's view of the robot deliveries: what is pending, what failed and why, retry by hand."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField

from matrix.communities.models import Community
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.notifications.models import DeliveryStatus, Notification
from matrix.notifications import services
from matrix.permissions import get_community_or_404, hq_required
from matrix.stores.models import Store

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

STATUS_LABELS = {"pending": _l("Pending"), "sent": _l("Sent"), "failed": _l("Failed"),
                 "unnotified": _l("Not notified")}
REASON_LABELS = {services.NO_GROUP: _l("The store has no group."),
                 services.GROUPS_FULL: _l("All the store's groups are full."),
                 services.NO_ROBOT: _l("The group has no robot."),
                 services.REFUSED_URL: _l("The robot address is not a WeCom webhook.")}
MSGTYPE_LABELS = {"markdown": _l("Lead card"), "text": _l("Mention")}


class RetryForm(FlaskForm):
    """Only the CSRF token: retrying is a POST."""


class ClearFlagForm(FlaskForm):
    requeue = BooleanField(_l("Also retry this group's failed deliveries"), default=True)


def _filtered(args):
    query = select(Notification)
    status = args.get("status", "")
    if status == "unnotified":
        # Never attempted: the lead's store had no robot to send to (see services).
        query = query.where(Notification.status == DeliveryStatus.FAILED, Notification.attempts == 0)
    elif status in set(DeliveryStatus):
        query = query.where(Notification.status == DeliveryStatus(status))
    if code := args.get("store", "").strip():
        query = query.where(Notification.store_id.in_(select(Store.id).where(Store.code == code)))
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


def _summary() -> dict[str, int]:
    counts = dict(db.session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all())
    summary = {status.value: counts.get(status, 0) for status in DeliveryStatus}
    summary["unnotified"] = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.status == DeliveryStatus.FAILED, Notification.attempts == 0))
    return summary


def _related(items: list[Notification]) -> tuple[dict, dict]:
    """Stores and groups of a page of deliveries, one query each."""
    store_ids = {n.store_id for n in items if n.store_id}
    community_ids = {n.community_id for n in items if n.community_id}
    stores = {s.id: s for s in db.session.scalars(select(Store).where(Store.id.in_(store_ids)))} if store_ids else {}
    groups = ({c.id: c for c in db.session.scalars(select(Community).where(Community.id.in_(community_ids)))}
              if community_ids else {})
    return stores, groups


def _render_index(status_code: int = 200):
    page = db.paginate(_filtered(request.args), page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    stores, groups = _related(page.items)
    flagged = list(db.session.scalars(select(Community).where(Community.robot_error.is_not(None))
                                      .order_by(Community.store_id, Community.id)))
    flagged_stores = _related_stores({c.store_id for c in flagged})
    lead_links = "leads.detail" in current_app.view_functions
    return render_template("notifications/index.html", page=page, stores=stores, groups=groups,
                           flagged=flagged, flagged_stores=flagged_stores, summary=_summary(),
                           lead_links=lead_links, retry_form=RetryForm(), clear_form=ClearFlagForm(),
                           status=request.args.get("status", ""), status_labels=STATUS_LABELS,
                           reason_labels=REASON_LABELS, msgtype_labels=MSGTYPE_LABELS), status_code


def _related_stores(ids: set[int]) -> dict:
    return {s.id: s for s in db.session.scalars(select(Store).where(Store.id.in_(ids)))} if ids else {}


@bp.get("/")
@hq_required
def index():
    """Robot deliveries, filterable by status, and the groups whose robot needs fixing."""
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
        services.retry_notification(notification, actor=current_user)
    except DomainError as e:
        flash(e.message, "error")
        return _render_index(422)
    flash(_("The delivery is queued again; the worker sends it shortly."), "success")
    return redirect(url_for("notifications.index", status=request.args.get("status") or None))


@bp.post("/communities/<int:community_id>/clear")
@hq_required
def clear_flag(community_id: int):
    """Clear a group's robot flag after its webhook was fixed."""
    community = get_community_or_404(current_user, community_id)
    form = ClearFlagForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Try again."), "error")
        return _render_index(400)
    try:
        requeued = services.clear_robot_error(community, actor=current_user, requeue=form.requeue.data)
    except DomainError as e:
        flash(e.message, "error")
        return _render_index(422)
    flash(_("The robot flag of %(name)s is cleared; %(count)d deliveries queued again.",
            name=community.name, count=requeued), "success")
    return redirect(url_for("notifications.index"))
