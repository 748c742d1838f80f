"""The wall plan of a city or the whole chain as one PDF: asked for here, built by the print worker.

Registers the "week_plan" renderer: a cover listing what is inside, then each store's sheet
(sheets.py) in store-code order.
"""
from datetime import date

from flask import render_template
from flask_babel import format_datetime
from flask_babel import gettext as _

from matrix.auth.models import User
from matrix.extensions import db
from matrix.models import utcnow
from matrix.permissions import visible_stores
from matrix.plans.labels import labels
from matrix.plans.sheets import store_sheets
from matrix.printjobs.covers import cover_rows
from matrix.printjobs.models import PrintJob
from matrix.printjobs.renderers import Renderer, inline_css, register_renderer
from matrix.printjobs.services import request_job
from matrix.regions.services import region_name
from matrix.stores.models import Store, StoreStatus
from matrix.weeks import iso_week, week_label, week_string

RENDERER = "week_plan"
COVER_ROWS = 78   # three columns of 26 cities fill the cover's fixed page (print.css .cover)


def open_stores(actor: User, city: str | None) -> list[int]:
    """The open stores of a city (or of the chain), in store-code order."""
    query = visible_stores(actor).where(Store.status == StoreStatus.OPEN)
    if city:
        query = query.where(Store.city_code == city)
    return list(db.session.scalars(query.with_only_columns(Store.id).order_by(Store.code)))


def request_week_pdf(*, actor: User, monday: date, city: str | None, locale: str) -> PrintJob:
    """Queue one PDF of the week's wall plans of a city's (or the chain's) open stores, HQ only."""
    name = region_name(city) if city else _("the whole chain")
    return request_job(actor=actor, renderer=RENDERER, store_ids=open_stores(actor, city),
                       title=_("Wall plans %(week)s · %(where)s", week=week_string(monday), where=name),
                       params={"week": week_string(monday), "city": city or ""}, locale=locale)


def _cover(job: PrintJob, stores: list[Store]) -> str:
    monday = iso_week(job.params["week"])
    rows = cover_rows(stores)
    shown = rows if len(rows) <= COVER_ROWS else rows[:COVER_ROWS - 1]
    return render_template("print/cover.html", job=job, rows=shown, more=len(rows) - len(shown),
                           cities=len(rows), stores=len(stores), label=week_label(monday),
                           week=job.params["week"], inline_css=inline_css("print.css"),
                           printed_at=format_datetime(utcnow(), "yyyy-MM-dd HH:mm"),
                           requested_by=job.requested_by.display_name if job.requested_by else "")


def _pages(job: PrintJob, stores: list[Store]) -> str:
    monday = iso_week(job.params["week"])
    sheets = store_sheets(stores, monday)
    return render_template("print/week.html", sheets=sheets, monday=monday, label=week_label(monday),
                           week=week_string(monday), back=None, title=job.title, pages=len(sheets),
                           inline_css=inline_css("print.css"), printed_at=format_datetime(utcnow(), "yyyy-MM-dd HH:mm"),
                           **labels())


register_renderer(RENDERER, Renderer(cover=_cover, pages=_pages))

