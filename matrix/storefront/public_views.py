"""The store's public page, its lead form, the counted join link and the chain's privacy notice (no login, no cookie).

Every public request is hostile until proven otherwise: limited per address, bodies capped, store codes
checked against open stores only, and nothing but public store fields rendered.
"""
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests

from matrix.chain import chain_zone
from matrix.communities.models import Community
from matrix.communities.services import current_groups
from matrix.errors import DomainError
from matrix.extensions import csrf, db
from matrix.forms import show_error
from matrix.joins.codes import join_code_for
from matrix.ops.ratelimit import client_address, limits_of, rate_limited
from matrix.storefront import tokens
from matrix.storefront.blueprint import current_visitor_locale
from matrix.storefront.blueprint import public_bp as bp
from matrix.storefront.cache import pages
from matrix.storefront.channels import CHANNEL_LABELS, channel_of, join_channel
from matrix.storefront.counting import count_join, count_view, ensure_flusher
from matrix.storefront.forms import LeadForm
from matrix.storefront.leads import leave_lead
from matrix.storefront.page import open_store, store_page, web_url
from matrix.storefront.posters import qr_svg
from matrix.storefront.settings import settings_digest, storefront_settings

TOKEN_MARK = "__STOREFRONT_FORM_TOKEN__"  # replaced per request in a cached page: each visitor's form is fresh


@bp.before_request
def refuse_floods():
    """Too many GETs from one address get 429 before any work (the lead form's POST has its own, lower limit)."""
    if request.method == "GET" and (wait := limits_of(current_app).hit("public_page", client_address())):
        raise TooManyRequests(retry_after=wait)


@bp.get("/s/<code>")
def page(code: str):
    """A store's page for customers, from a poster, profile link, trailer or shared link (`?c=` names which)."""
    channel = channel_of(request.args.get("c"))
    cached = pages.get_or_make(("page", code, channel, current_visitor_locale()), lambda: _render_page(code, channel),
                               current_app.config["STOREFRONT_CACHE_S"])
    if cached is None:
        abort(404)
    store_id, html, consent = cached
    count_view(store_id, channel, zone=chain_zone())
    ensure_flusher(current_app._get_current_object())
    return public(html.replace(TOKEN_MARK, tokens.issue(store_id, consent)))


def _render_page(code: str, channel: str):
    """(store id, HTML with a token mark, consent digest), or None for a code that is no open store's."""
    store = open_store(code)
    if store is None:
        return None
    settings = storefront_settings()
    html = _page_html(store, channel, settings, LeadForm(), token=TOKEN_MARK)
    return store.id, html, settings_digest(settings)


def _page_html(store, channel: str, settings, form: LeadForm, *, token: str, notice: str | None = None) -> str:
    data = store_page(store, channel=channel, locale=current_visitor_locale(), zone=chain_zone(),
                      now=datetime.now(timezone.utc))
    return render_template("storefront/page.html", page=data, channel=channel, settings=settings, form=form,
                           form_open=form_open(settings), token=token, notice=notice, **_join_context(data))


def _join_context(data) -> dict:
    """What the join card needs besides the page: a QR code of the group's invite link when it has no image."""
    link = web_url(data.join.invite_link) if data.join.kind == "group" and not data.join.has_qr_image else None
    return {"invite_qr": qr_svg(link) if link else None, "CHANNEL_LABELS": CHANNEL_LABELS}


def form_open(settings) -> bool:
    """The form asks for a phone number only once HQ has given the privacy notice it links to."""
    return bool(settings.lead_form and (settings.privacy_url or settings.privacy_text))


@bp.post("/s/<code>")
@csrf.exempt  # no session to ride on; the form's own signed token (tokens.py) takes the CSRF token's place
@rate_limited("public_form", methods=("POST",))
def leave(code: str):
    """Take a visitor's lead for this store, with their consent, through the same intake as webhooks."""
    request.max_content_length = current_app.config["STOREFRONT_MAX_BYTES"]  # 413 before the body is read
    store = open_store(code)
    settings = storefront_settings()
    if store is None or not form_open(settings):
        abort(404)
    if not _same_site():
        abort(403)
    channel = channel_of(request.args.get("c"))
    form = LeadForm(request.form)
    if form.is_bot:
        return redirect(url_for(".thanks", code=store.code, c=channel), 303)  # told nothing, stored nothing
    notice = _token_problem(form.token.data, store.id, settings)
    if notice is None and form.validate():
        try:
            leave_lead(store, **form.values(), channel=channel, settings=settings)
        except DomainError as e:
            show_error(form, e, default_field="phone")
        else:
            return redirect(url_for(".thanks", code=store.code, c=channel), 303)
    html = _page_html(store, channel, settings, form, notice=notice,
                      token=tokens.issue(store.id, settings_digest(settings)))
    return public(html), 422


def _token_problem(token: str, store_id: int, settings) -> str | None:
    """Why the form cannot be taken as it is (and is shown again), or None."""
    read = tokens.read(token, store_id)
    if read is None:
        abort(400)  # not a form we served for this store
    age = datetime.now(timezone.utc).timestamp() - read.issued_at
    if age < current_app.config["STOREFRONT_MIN_FILL_S"]:
        return _("That was quick: check your details and send the form again.")
    if age > current_app.config["STOREFRONT_FORM_MAX_AGE_S"]:
        return _("This form was open for a long time: check your details and send it again.")
    if read.consent != settings_digest(settings):
        return _("The privacy notice has changed since the page was opened: read it and tick the box again.")
    return None


def _same_site() -> bool:
    """A browser's form post carries our own host as Origin (or none): another site cannot post its visitors' way."""
    origin = request.headers.get("Origin")
    return not origin or origin == "null" or urlsplit(origin).netloc == request.host


@bp.get("/s/<code>/thanks")
def thanks(code: str):
    """After the form: the store will call back, and the group's join code once more."""
    store = open_store(code)
    if store is None:
        abort(404)
    channel = channel_of(request.args.get("c"))
    data = store_page(store, channel=channel, locale=current_visitor_locale(), zone=chain_zone(), now=datetime.now(timezone.utc))
    return public(render_template("storefront/thanks.html", page=data, channel=channel, **_join_context(data)))


@bp.get("/s/<code>/join")
def join(code: str):
    """Count a click on the page's join button for its channel, then open the store's join code."""
    channel = channel_of(request.args.get("c"))
    cached = pages.get_or_make(("join", code, channel), lambda: _join_target(code, channel),
                               current_app.config["STOREFRONT_CACHE_S"])
    if cached is None:
        abort(404)
    store_id, target = cached
    count_join(store_id, channel, zone=chain_zone())
    ensure_flusher(current_app._get_current_object())
    response = redirect(target or url_for(".page", code=code, c=channel), 302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _join_target(code: str, channel: str):
    store = open_store(code)
    if store is None:
        return None
    return store.id, store_page_join(store, channel)


def store_page_join(store, channel: str) -> str | None:
    """Where the join button leads: WeCom's join code, else the group's invite link, else its uploaded QR image."""
    code = join_code_for(store.id, join_channel(channel))
    if code.kind == "wecom":
        return web_url(code.qr_url)
    if code.kind == "group":
        return web_url(code.invite_link) or (url_for(".group_qr", code=store.code) if code.has_qr_image else None)
    return None


@bp.get("/s/<code>/qr")
def group_qr(code: str):
    """The QR image of the store's current group (the one with room, in rotation order); never another group's."""
    store = open_store(code)
    group = current_groups({store.id}).get(store.id) if store else None
    row = db.session.get(Community, group.id) if group else None
    if row is None or not row.qr_image:
        abort(404)
    response = Response(row.qr_image, mimetype=row.qr_mime or "application/octet-stream")
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/privacy")
def privacy():
    """The chain's privacy notice, as HQ wrote it (or a link to the chain's own)."""
    settings = storefront_settings()
    if not (settings.privacy_text or settings.privacy_url):
        abort(404)
    return public(render_template("storefront/privacy.html", settings=settings))


def public(body) -> Response:
    """A public answer: no cookie, not kept by shared caches (views are counted here), the language it varies by."""
    response = body if isinstance(body, Response) else Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Accept-Language"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.errorhandler(400)
@bp.errorhandler(403)
@bp.errorhandler(404)
@bp.errorhandler(413)
@bp.errorhandler(429)
def public_error(error):
    """Errors of public pages: a plain page in the visitor's language, with no navigation and no cookie."""
    messages = {400: _("This form cannot be read. Open the store page again."),
                403: _("This form must be sent from the store's own page."),
                404: _("There is no such store page."),
                413: _("The form is too long."),
                429: _("Too many requests from your network. Wait a minute and try again.")}
    code = getattr(error, "code", 400)
    return public(render_template("storefront/error.html", code=code, message=messages.get(code, ""))), code
