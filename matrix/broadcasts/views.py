"""Broadcast settings (HQ), a store's switch for its community posts, and a session's posts for its page."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from matrix.broadcasts import services
from matrix.broadcasts.forms import BroadcastSettingsForm, PostsForm
from matrix.communities.models import Community
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import show_error
from matrix.notifications.models import CUSTOMER_KINDS, Notification
from matrix.permissions import get_store_or_404, hq_required

bp = Blueprint("broadcasts", __name__, url_prefix="/broadcasts")


@bp.route("/settings", methods=["GET", "POST"])
@hq_required
def settings():
    """When a still-new lead is recalled to the staff channel, and when the daily digest goes out."""
    row = services.broadcast_settings()
    form = BroadcastSettingsForm() if request.method == "POST" else BroadcastSettingsForm(formdata=None, data={
        "reminder_hours": str(row.reminder_hours), "digest_on": row.digest_on, "digest_at": row.digest_at})
    refused = False
    if form.validate_on_submit():
        try:
            services.update_broadcast_settings({"reminder_hours": form.reminder_hours.data,
                                                "digest_on": form.digest_on.data,
                                                "digest_at": (form.digest_at.data or "").strip()}, actor=current_user)
        except DomainError as e:
            refused = True
            show_error(form, e)
        else:
            flash(_("Reminder and digest settings saved."), "success")
            return redirect(url_for("channels.index"))
    status = 422 if request.method == "POST" and (form.errors or refused) else 200
    return render_template("broadcasts/settings.html", form=form), status


@bp.post("/stores/<int:store_id>/posts")
@login_required
def switch(store_id: int):
    """Switch the store's trailer and live posts to its customer groups on or off."""
    store = get_store_or_404(current_user, store_id)
    form = PostsForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Try again."), "error")
        return redirect(url_for("channels.store", store_id=store.id))
    report = services.set_community_posts(store, on=form.posts.data == "on", actor=current_user)
    if form.posts.data == "on":
        flash(_("Community posts are on; %(n)d posts written for sessions to come.", n=report.added), "success")
    else:
        flash(_("Community posts are off; %(n)d waiting posts withdrawn.", n=report.withdrawn), "success")
    return redirect(url_for("channels.store", store_id=store.id))


@bp.app_template_global()
def session_posts(session_id: int) -> list[tuple[Notification, Community | None]]:
    """For the session page: its posts to the host store's customer groups, in the order they go out."""
    rows = db.session.execute(select(Notification, Community).outerjoin(Community, Community.id == Notification.community_id)
                              .where(Notification.session_id == session_id, Notification.kind.in_(CUSTOMER_KINDS))
                              .order_by(Notification.next_attempt_at, Notification.id)).all()
    return [(n, c) for n, c in rows]


@bp.app_template_global()
def posts_form() -> PostsForm:
    return PostsForm()
