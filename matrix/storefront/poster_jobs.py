"""The posters of a city or the whole chain as one PDF: asked for here, built by the print worker.

Registers the "posters" renderer: a cover in the posters' own paper size listing the cities, then one
poster per open store, by city and store code (the order of the posters page). The QR codes point at
the address the request came to (or BASE_URL), recorded with the job: the worker has no request.
"""

from flask import render_template
from flask_babel import format_datetime
from flask_babel import gettext as _

from matrix.auth.models import User
from matrix.chain import chain_zone
from matrix.extensions import db
from matrix.models import utcnow
from matrix.permissions import visible_stores
from matrix.printjobs.covers import cover_rows
from matrix.printjobs.models import PrintJob
from matrix.printjobs.renderers import Renderer, inline_css, register_renderer
from matrix.printjobs.services import request_job
from matrix.regions.services import region_name
from matrix.storefront.poster_texts import ACCENTS, SIZES
from matrix.storefront.posters import posters_for
from matrix.storefront.settings import storefront_settings
from matrix.stores.models import Store, StoreStatus

RENDERER = "posters"
COVER_ROWS = {"A4": 30, "A5": 18}   # city rows that fit the cover's page (poster.css .poster-cover)


def poster_stores(actor: User, city: str | None) -> list[int]:
    """The open stores of a city (or of the chain) the actor sees, in the posters page's order."""
    query = visible_stores(actor).where(Store.status == StoreStatus.OPEN)
    if city:
        query = query.where(Store.city_code == city)
    return list(db.session.scalars(query.with_only_columns(Store.id).order_by(Store.city_code, Store.code)))


def request_poster_pdf(*, actor: User, city: str | None, size: str | None, base_url: str,
                       locale: str) -> PrintJob:
    """Queue one PDF of the posters of a city's (or the chain's) open stores, HQ only."""
    size = size if size in SIZES else storefront_settings().poster_size
    name = region_name(city) if city else _("the whole chain")
    return request_job(actor=actor, renderer=RENDERER, store_ids=poster_stores(actor, city),
                       title=_("Posters %(size)s · %(where)s", size=size, where=name),
                       params={"city": city or "", "size": size, "base_url": base_url.rstrip("/")},
                       paper=size, locale=locale)


def _accent(settings) -> str:
    return settings.poster_accent if settings.poster_accent in ACCENTS else "red"


def _cover(job: PrintJob, stores: list[Store]) -> str:
    size = job.params["size"]
    rows = cover_rows(stores)
    most = COVER_ROWS[size]
    shown = rows if len(rows) <= most else rows[:most - 1]
    return render_template("storefront/poster_cover.html", job=job, rows=shown, more=len(rows) - len(shown),
                           cities=len(rows), stores=len(stores), size=size, inline_css=inline_css("poster.css"),
                           printed_at=format_datetime(utcnow(), "yyyy-MM-dd HH:mm"),
                           requested_by=job.requested_by.display_name if job.requested_by else "")


def _pages(job: PrintJob, stores: list[Store]) -> str:
    settings = storefront_settings()
    sheet = posters_for(stores, settings=settings, base_url=job.params["base_url"], locale=job.locale,
                        zone=chain_zone(), now=utcnow())
    return render_template("storefront/posters.html", posters=sheet, size=job.params["size"], page=1, documents=1,
                           accent=_accent(settings), inline_css=inline_css("poster.css"), job=job,
                           printed_at=format_datetime(utcnow(), "yyyy-MM-dd HH:mm"))


register_renderer(RENDERER, Renderer(cover=_cover, pages=_pages))
