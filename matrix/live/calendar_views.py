"""Calendars of live sessions: a city's stores by days, one store's week, and the chain's day."""
from datetime import date, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matrix.chain import chain_zone
from matrix.live import calendars
from matrix.live.blueprint import bp, chosen_week, week_links
from matrix.live.day import day_view
from matrix.permissions import get_store_or_404
from matrix.stores.picker import city_choices
from matrix.weeks import today


@bp.get("/city")
@login_required
def city_pick():
    """The city picker's target: the chosen city's calendar (or the user's first city)."""
    cities = city_choices(current_user)
    chosen = request.args.get("city") or (cities[0][0] if cities else None)
    if chosen is None:
        flash(_("There are no stores to show yet."), "warning")
        return redirect(url_for("live.index"))
    return redirect(url_for("live.city", city_code=chosen, week=request.args.get("week") or None,
                            busy=request.args.get("busy") or None))


@bp.get("/city/<city_code>")
@login_required
def city(city_code: str):
    """A city's stores (with store accounts) by the days of a week; managers see only their own stores."""
    monday = chosen_week()
    calendar = calendars.city_calendar(current_user, city_code, monday, zone=chain_zone(),
                                       page=request.args.get("page", 1, type=int),
                                       per_page=current_app.config["PAGE_SIZE"],
                                       busy_only=bool(request.args.get("busy")))
    if calendar is None:
        abort(404)
    return render_template("live/city.html", calendar=calendar, city_code=city_code,
                           cities=city_choices(current_user), **week_links(monday))


@bp.get("/store/<int:store_id>")
@login_required
def store_calendar(store_id: int):
    """One store's sessions of a week and the trailers it must post, its neighbours' included."""
    store = get_store_or_404(current_user, store_id)
    monday = chosen_week()
    calendar = calendars.store_calendar(current_user, store, monday, zone=chain_zone())
    return render_template("live/store.html", store=store, calendar=calendar, **week_links(monday))


@bp.get("/day")
@login_required
def day():
    """Who is live when on one day, chain-wide (a manager: their stores), grouped by city."""
    chosen = today()
    if text := request.args.get("date", "").strip():
        try:
            chosen = date.fromisoformat(text)
        except ValueError:
            flash(_("“%(value)s” is not a date; write it like 2026-11-28.", value=text), "error")
    city = request.args.get("city") or None
    view = day_view(current_user, chosen, zone=chain_zone(), city=city,
                    page=request.args.get("page", 1, type=int))
    return render_template("live/day.html", view=view, city=city, cities=city_choices(current_user),
                           prev_day=(chosen - timedelta(days=1)).isoformat(),
                           next_day=(chosen + timedelta(days=1)).isoformat(), today=today().isoformat())
