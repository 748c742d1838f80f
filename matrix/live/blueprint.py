"""The live blueprint and what its pages share: the chosen week, week links, labels in every template."""
from datetime import date

from flask import Blueprint, flash, request

from matrix.chain import chain_zone
from matrix.live import calendars
from matrix.live.forms import SESSION_STATUS_LABELS
from matrix.live.models import LiveSession
from matrix.plans.labels import ITEM_STATUS_LABELS
from matrix.regions.services import region_name
from matrix.weeks import WeekError, current_week, iso_week, next_week, previous_week, today, week_label, week_string

bp = Blueprint("live", __name__, url_prefix="/live")


@bp.context_processor
def _live_globals():
    zone = chain_zone()

    weekdays: list[str] = []  # looked up on the first use of the page, once

    def session_span(session: LiveSession, pattern: str = "EEE MM-dd HH:mm") -> str:
        if not weekdays:
            weekdays.extend(calendars.weekday_names())
        return calendars.span_text(session.starts_at, session.ends_at, zone, pattern=pattern, weekdays=weekdays)

    return {"SESSION_STATUS_LABELS": SESSION_STATUS_LABELS, "ITEM_STATUS_LABELS": ITEM_STATUS_LABELS,
            "region_name": region_name, "chain_zone": zone, "local_today": today(), "session_span": session_span}


def chosen_week() -> date:
    """The Monday of ?week=2026-W48, or of this week (a malformed week is said, not a 404)."""
    if text := request.args.get("week", "").strip():
        try:
            return iso_week(text)
        except WeekError as e:
            flash(str(e), "error")
    return current_week()


def week_links(monday: date) -> dict:
    return {"week": week_string(monday), "week_label": week_label(monday),
            "prev_week": week_string(previous_week(monday)), "next_week": week_string(next_week(monday)),
            "this_week": week_string(current_week())}
