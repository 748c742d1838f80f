"""The matrix overview: every store's accounts by platform, with the gaps to fill."""
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from matrix.onboarding.handover import open_handover_tasks
from matrix.onboarding.setup import chain_is_empty
from matrix.overview import services

bp = Blueprint("overview", __name__, url_prefix="")

# Pages the overview links to when their feature is installed.
LINKED_ENDPOINTS = ("stores.detail", "accounts.detail", "accounts.new")


@bp.get("/")
@login_required
def index():
    """The first page: HQ's matrix overview (or, on a new install, the setup list); a store manager's is Today."""
    if not current_user.is_hq:
        return redirect(url_for("today.index"))
    if not request.args and chain_is_empty():
        return redirect(url_for("onboarding.index"))
    return matrix()


@bp.get("/matrix")
@login_required
def matrix():
    """Stores by city with their accounts per platform, coverage and gaps."""
    filters = services.OverviewFilters.from_args(request.args)
    data = services.overview_page(current_user, filters, page=request.args.get("page", 1, type=int))
    links = {e: e in current_app.view_functions for e in LINKED_ENDPOINTS}
    return render_template("overview/index.html", page=data, links=links, tasks=open_handover_tasks(current_user))


@bp.get("/coverage")
@login_required
def coverage():
    """Coverage per city: each city's open stores and the share with an account on each platform."""
    return render_template("overview/coverage.html", cities=services.city_coverage(current_user),
                           platforms=services.enabled_platforms())
