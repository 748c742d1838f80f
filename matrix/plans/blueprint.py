"""The weekly plan's blueprint and what its pages share: labels, the week in a URL, an item's week link."""
from datetime import date

from flask import Blueprint, abort, url_for

from matrix.content.models import ContentItem
from matrix.plans.labels import labels
from matrix.regions.services import region_name
from matrix.weeks import WeekError, iso_week, week_string

bp = Blueprint("plans", __name__, url_prefix="/plans")


@bp.context_processor
def _labels():
    return labels() | {"region_name": region_name, "week_string": week_string}


def monday_or_404(week: str) -> date:
    try:
        return iso_week(week)
    except WeekError:
        abort(404)


def week_url(item: ContentItem) -> str:
    if item.store_id is None:  # a brand main account's item: on that account's week
        if item.account_id is None:
            return url_for("plans.item", item_id=item.id)
        return url_for("plans.brand_week", account_id=item.account_id, week=week_string(item.day),
                       _anchor=f"item-{item.id}")
    return url_for("plans.week", store_id=item.store_id, week=week_string(item.day), _anchor=f"item-{item.id}")
