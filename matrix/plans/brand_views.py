"""The brand main account's week (HQ): the trailers it posts for the stores' sessions, its items, its own sessions."""
from flask import abort, render_template
from flask_login import current_user

from matrix.accounts.models import AccountScope
from matrix.chain import chain_zone
from matrix.models import utcnow
from matrix.permissions import get_account_or_404, hq_required
from matrix.plans import services
from matrix.plans.blueprint import bp, monday_or_404
from matrix.plans.forms import StatusForm
from matrix.plans.printing import account_week
from matrix.weeks import current_week, next_week, previous_week, today, week_label, week_string


@bp.get("/brand/<int:account_id>/<week>")
@hq_required
def brand_week(account_id: int, week: str):
    """A brand main account's week, laid out like a store's."""
    account = get_account_or_404(current_user, account_id)
    if account.scope != AccountScope.BRAND:
        abort(404)
    monday = monday_or_404(week)
    plan = account_week(account, monday)
    now, zone = utcnow(), chain_zone()
    overdue = {item.id for item in plan.items if services.is_overdue(item, now=now, zone=zone)}
    return render_template("plans/brand_week.html", account=account, plan=plan, monday=monday,
                           label=week_label(monday), week=week_string(monday), today=today(zone),
                           prev_week=week_string(previous_week(monday)), next_week=week_string(next_week(monday)),
                           this_week=week_string(current_week()), overdue=overdue, quick_form=StatusForm())
