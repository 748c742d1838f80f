"""HQ's store pages: the numbers per store and channel, the settings (privacy, consent, poster words), the posters."""
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func

from matrix.chain import chain_zone
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import show_error
from matrix.models import utcnow
from matrix.permissions import hq_required, visible_stores
from matrix.regions.services import region_name
from matrix.sandbox.engine import render_fields
from matrix.storefront.blueprint import bp
from matrix.storefront.channels import CHANNEL_LABELS
from matrix.storefront.counting import local_day
from matrix.storefront.forms import PosterPdfForm, SettingsForm
from matrix.storefront.poster_jobs import request_poster_pdf
from matrix.storefront.poster_texts import ACCENTS, POSTER_VARIABLES, SIZES, TEXT_FIELDS, compiled_texts
from matrix.storefront.posters import posters_for
from matrix.storefront.reports import page_report
from matrix.storefront.settings import storefront_settings, update_settings
from matrix.stores.models import Store, StoreStatus

SPANS = (7, 30, 90)
POSTERS_PER_DOCUMENT = 200  # a chain prints in documents of this many pages (?page=2 ...), merged by the PDF job


@bp.get("/")
@hq_required
def index():
    """Views of the store pages and clicks on their join buttons, per channel and per store."""
    days = request.args.get("days", type=int)
    days = days if days in SPANS else SPANS[0]
    until = local_day(chain_zone())
    report = page_report(visible_stores(current_user), since=until - timedelta(days=days - 1), until=until)
    return render_template("storefront/index.html", report=report, days=days, spans=SPANS, labels=CHANNEL_LABELS,
                           cities=_cities(), sizes=SIZES, poster_size=storefront_settings().poster_size)


def _cities() -> list[tuple[str, str]]:
    codes = db.session.scalars(visible_stores(current_user).with_only_columns(Store.city_code).distinct())
    return sorted(((c, region_name(c)) for c in codes), key=lambda pair: pair[1])


@bp.route("/settings", methods=["GET", "POST"])
@hq_required
def settings():
    """The privacy notice and consent line of the lead form, and the posters' layout and words."""
    current = storefront_settings()
    form = SettingsForm.for_settings(current) if request.method == "GET" else SettingsForm()
    if form.validate_on_submit():
        try:
            update_settings(form.values(), actor=current_user)
        except DomainError as e:
            show_error(form, e)
        else:
            flash(_("Store page settings saved."), "success")
            return redirect(url_for(".settings"))
    preview = render_fields(compiled_texts(tuple(form[f].data or "" for f in TEXT_FIELDS), str(get_locale())),
                            POSTER_VARIABLES)
    status = 422 if request.method == "POST" else 200
    return render_template("storefront/settings.html", form=form, preview=preview, variables=POSTER_VARIABLES,
                           text_fields=TEXT_FIELDS), status


@bp.get("/posters")
@login_required
def posters():
    """Posters to print, one per page: a store (?store_id=), a city (?city=) or the chain (?all=1, in documents)."""
    query = visible_stores(current_user).where(Store.status == StoreStatus.OPEN)
    pdf_city = None  # a city's or the chain's posters can also be built as one PDF (HQ)
    if request.args.get("store_id", type=int):
        query = query.where(Store.id == request.args.get("store_id", type=int))
    elif request.args.get("city"):
        query = query.where(Store.city_code == request.args["city"][:12])
        pdf_city = request.args["city"][:12]
    elif request.args.get("all"):
        pdf_city = ""
    else:
        abort(404)
    total = db.session.scalar(query.with_only_columns(func.count()).order_by(None))
    page = max(1, request.args.get("page", 1, type=int) or 1)
    stores = db.session.scalars(query.order_by(Store.city_code, Store.code)
                                .offset((page - 1) * POSTERS_PER_DOCUMENT).limit(POSTERS_PER_DOCUMENT)).all()
    if not stores:
        abort(404)
    settings = storefront_settings()
    size = request.args.get("size") if request.args.get("size") in SIZES else settings.poster_size
    base = (current_app.config.get("BASE_URL") or request.url_root).rstrip("/")
    sheet = posters_for(stores, settings=settings, base_url=base, locale=str(get_locale()), zone=chain_zone(),
                        now=utcnow())
    documents = -(-total // POSTERS_PER_DOCUMENT)
    return render_template("storefront/posters.html", posters=sheet, size=size, page=page, documents=documents,
                           accent=settings.poster_accent if settings.poster_accent in ACCENTS else "red",
                           printed_at=format_datetime(utcnow(), "yyyy-MM-dd HH:mm"),
                           pdf_city=pdf_city if current_user.is_hq else None)


@bp.post("/posters/pdf")
@hq_required
def posters_pdf():
    """Queue one PDF of a city's (or the chain's) posters, one per page after a cover; the print worker builds it."""
    form = PosterPdfForm()
    city = (form.city.data or "").strip() or None
    if not form.validate_on_submit():
        flash(_("Choose a poster size."), "error")
        return redirect(url_for(".index"))
    base = (current_app.config.get("BASE_URL") or request.url_root).rstrip("/")
    try:
        job = request_poster_pdf(actor=current_user, city=city, size=form.size.data, base_url=base,
                                 locale=str(get_locale()))
    except DomainError as e:
        flash(e.message, "error")
        return redirect(url_for(".index"))
    flash(_("The PDF is being made: this page shows how far it got."), "success")
    return redirect(url_for("prints.detail", job_id=job.id))
