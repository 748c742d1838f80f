"""The printable wall plan (one A4 page per store) and the store's private calendar feed."""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matrix.chain import chain_zone
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.models import utcnow
from matrix.permissions import get_store_or_404, hq_required, visible_stores
from matrix.plans import ical
from matrix.plans.blueprint import bp, monday_or_404
from matrix.plans.forms import FeedForm, PrintPdfForm
from matrix.plans.print_jobs import request_week_pdf
from matrix.plans.sheets import store_sheets
from matrix.regions.services import region_name
from matrix.stores.models import Store, StoreStatus
from matrix.weeks import WeekError, current_week, iso_week, today, week_label, week_string

# Stores one city document holds in the browser, about 20 KB of HTML each, so no page passes 150 KB; the next
# ones are a link away, and a whole city is one PDF from the print worker.
PRINT_STORES = 6


def _print_page(sheets, monday, back: str, title: str, city: str | None = None, stores=None):
    # Every sheet is one fixed A4 page (sheets.py), so the sheets are the pages.
    return render_template("print/week.html", sheets=sheets, monday=monday, label=week_label(monday),
                           week=week_string(monday), back=back, title=title, pages=len(sheets), stores=stores,
                           printed_at=format_datetime(utcnow(), "yyyy-MM-dd HH:mm"), city=city)


@bp.get("/<int:store_id>/<week>/print")
@login_required
def print_store(store_id: int, week: str):
    """The store's week on one A4 landscape page for the back-office wall."""
    store = get_store_or_404(current_user, store_id)
    monday = monday_or_404(week)
    return _print_page(store_sheets([store], monday), monday,
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
    stores = db.paginate(visible_stores(current_user).where(Store.city_code == city, Store.status == StoreStatus.OPEN)
                         .order_by(Store.code), page=request.args.get("page", 1, type=int), per_page=PRINT_STORES,
                         error_out=False)
    if not stores.items:
        flash(_("No open store in that city to print."), "warning")
        return redirect(url_for("plans.index", city=city or None))
    return _print_page(store_sheets(stores.items, monday), monday, back=url_for("plans.index", city=city),
                       title=region_name(city), city=city, stores=stores)


@bp.post("/print/pdf")
@hq_required
def print_pdf():
    """Queue one PDF of a city's (or the chain's) wall plans; the print worker builds it."""
    form = PrintPdfForm()
    city = (form.city.data or "").strip() or None
    if not form.validate_on_submit():
        flash(_("Choose a week to print."), "error")
        return redirect(url_for("plans.index", city=city))
    try:
        job = request_week_pdf(actor=current_user, monday=iso_week(form.week.data.strip()), city=city,
                               locale=str(get_locale()))
    except WeekError as e:
        flash(str(e), "error")
    except DomainError as e:
        flash(e.message, "error")
    else:
        flash(_("The PDF is being made: this page shows how far it got."), "success")
        return redirect(url_for("prints.detail", job_id=job.id))
    return redirect(url_for("plans.index", city=city))


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
