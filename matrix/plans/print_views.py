"""The printable wall plan (one A4 page per store) and the store's private calendar feed."""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_locale, gettext as _
from flask_login import current_user, login_required

from matrix.extensions import db
from matrix.models import utcnow
from matrix.permissions import get_store_or_404, hq_required, visible_stores
from matrix.weeks import WeekError, current_week, iso_week, today, week_label, week_string
from matrix.plans import ical
from matrix.plans.forms import FeedForm
from matrix.plans.printing import store_weeks
from matrix.chain import chain_zone
from matrix.plans.blueprint import bp, monday_or_404
from matrix.regions.services import region_name
from matrix.stores.models import Store, StoreStatus


def _print_page(plans, monday, back: str, title: str):
    return render_template("print/week.html", plans=plans, monday=monday, label=week_label(monday),
                           week=week_string(monday), back=back, title=title,
                           printed_at=format_datetime(utcnow(), "yyyy-MM-dd HH:mm"))


@bp.get("/<int:store_id>/<week>/print")
@login_required
def print_store(store_id: int, week: str):
    """The store's week on one A4 landscape page for the back-office wall."""
    store = get_store_or_404(current_user, store_id)
    monday = monday_or_404(week)
    return _print_page(store_weeks([store], monday), monday,
                       back=url_for("plans.week", store_id=store.id, week=week_string(monday)),
                       title=f"{store.code} {store.name}")


@bp.get("/print")
@hq_required
def print_city():
    """One document with a page per open store of a city, for HQ to print and send out."""
    city = request.args.get("city", "")
    try:
        monday = iso_week(request.args["week"]) if request.args.get("week") else current_week()
    except WeekError:
        abort(404)
    stores = db.session.scalars(visible_stores(current_user).where(Store.city_code == city,
                                                                   Store.status == StoreStatus.OPEN)
                                .order_by(Store.code)).all()
    if not stores:
        flash(_("No open store in that city to print."), "warning")
        return redirect(url_for("plans.index", city=city or None))
    return _print_page(store_weeks(stores, monday), monday, back=url_for("plans.index", city=city),
                       title=region_name(city))


def _feed_url(token: str) -> str:
    return url_for("plans.ical", token=token, _external=True)


def _masked_url() -> str:
    return _feed_url("TOKEN").replace("TOKEN", "•" * 12)


@bp.get("/<int:store_id>/calendar")
@login_required
def ical_settings(store_id: int):
    """The store's private calendar feed: make, replace or revoke its secret URL."""
    store = get_store_or_404(current_user, store_id)
    return render_template("plans/calendar.html", store=store, feed=ical.active_feed(store.id), form=FeedForm(),
                           new_url=None, masked_url=_masked_url(), week=week_string(current_week()))


@bp.post("/<int:store_id>/calendar")
@login_required
def ical_create(store_id: int):
    """Make a new feed URL (the old one stops working) and show it this once."""
    store = get_store_or_404(current_user, store_id)
    form = FeedForm()
    if not form.validate_on_submit():
        abort(400)
    feed, token = ical.create_feed(store, actor=current_user)
    # Shown in this response only: the database keeps a hash, so no later page can show it again.
    response = render_template("plans/calendar.html", store=store, feed=feed, form=FeedForm(),
                               new_url=_feed_url(token), masked_url=_masked_url(),
                               week=week_string(current_week()))
    return response, 200, {"Cache-Control": "no-store"}


@bp.post("/<int:store_id>/calendar/revoke")
@login_required
def ical_revoke(store_id: int):
    """Revoke the store's feed: phones subscribed to it get nothing more."""
    store = get_store_or_404(current_user, store_id)
    if not FeedForm().validate_on_submit():
        abort(400)
    if ical.revoke_feed(store, actor=current_user):
        flash(_("The calendar feed was revoked."), "success")
    else:
        flash(_("This store has no calendar feed to revoke."), "warning")
    return redirect(url_for("plans.ical_settings", store_id=store.id))


@bp.get("/ical/<token>.ics", endpoint="ical")
def calendar_feed(token: str):
    """The store's items and live sessions from a week back to four weeks ahead, for staff phones; the token is the key."""
    store = ical.feed_store(token)
    if store is None:
        abort(404)
    now, zone = utcnow(), chain_zone()
    day = today(zone)
    text = ical.calendar_text(store, ical.feed_items(store.id, day), zone=zone, locale=str(get_locale()), now=now,
                              sessions=ical.feed_sessions(store.id, day))
    return Response(text, mimetype="text/calendar", headers={
        "Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex",
        "Content-Disposition": f'inline; filename="store-{store.id}.ics"'})
