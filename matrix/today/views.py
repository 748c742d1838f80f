"""Today: a store manager's first page, made for the phone."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from matrix.chain import chain_zone
from matrix.extensions import db
from matrix.models import utcnow
from matrix.onboarding.handover import open_handover_tasks
from matrix.permissions import get_store_or_404, visible_stores
from matrix.plans.forms import StatusForm
from matrix.plans.labels import labels
from matrix.stores.models import Store
from matrix.today.services import store_day
from matrix.weeks import week_string

bp = Blueprint("today", __name__, url_prefix="/today")


@bp.context_processor
def _labels():
    return labels()


@bp.get("/")
@login_required
def index():
    """Today's items and trailers with their times, this week's live sessions, leads to call, gaps to fill."""
    if store_id := request.args.get("store", type=int):
        stores = [get_store_or_404(current_user, store_id)]
    elif current_user.is_hq:
        return redirect(url_for("overview.index"))  # HQ's first page is the matrix; a store's day is ?store=
    else:
        stores = list(db.session.scalars(visible_stores(current_user).order_by(Store.code)))
    day = store_day(current_user, stores, now=utcnow(), zone=chain_zone())
    return render_template("today/index.html", day=day, week=week_string(day.day), quick_form=StatusForm(),
                           several=len(stores) > 1, tasks=open_handover_tasks(current_user))
