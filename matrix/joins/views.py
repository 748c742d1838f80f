"""HQ's WeCom page: connect the app, test it, see every channel join code and the joins they brought."""
from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from matrix.communities.models import Community
from matrix.errors import DomainError, field_errors
from matrix.extensions import db
from matrix.joins import codes, connection as connections
from matrix.joins.forms import ActionForm, ConnectionForm
from matrix.joins.models import JoinWay, JoinWayStatus, WecomChat
from matrix.joins.states import CHANNELS
from matrix.leads.scoping import get_lead_or_404
from matrix.permissions import hq_required
from matrix.stores.models import Store

bp = Blueprint("joins", __name__, url_prefix="/joins")


@bp.get("/")
@hq_required
def index():
    """The WeCom connection, the state of every join code and the joins of the last 30 days by channel."""
    row = connections.connection_row()
    form = ConnectionForm(data={"corp_id": row.corp_id if row else "",
                                "auto_create_room": row.auto_create_room if row else True})
    return _page(form)


def _page(form: ConnectionForm, *, keys=None, status_code: int = 200):
    row = connections.connection_row()
    status = request.args.get("status", "")
    query = (select(JoinWay).join(Store, Store.id == JoinWay.store_id)
             .order_by(Store.code, JoinWay.channel, JoinWay.id))
    if status in set(JoinWayStatus):
        query = query.where(JoinWay.status == JoinWayStatus(status))
    page = db.paginate(query, page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    store_ids = {way.store_id for way in page.items}
    stores = {s.id: s for s in db.session.scalars(select(Store).where(Store.id.in_(store_ids)))}
    counts = dict(db.session.execute(select(JoinWay.status, func.count()).group_by(JoinWay.status)).all())
    stale = db.session.scalar(select(func.count()).select_from(JoinWay).where(JoinWay.stale.is_(True),
                                                                              JoinWay.status != JoinWayStatus.RETIRED))
    unlinked = db.session.scalars(
        select(WecomChat).where(WecomChat.dismissed.is_(False),
                                WecomChat.chat_id.not_in(select(Community.wecom_chat_id)
                                                         .where(Community.wecom_chat_id.is_not(None))))
        .order_by(WecomChat.name, WecomChat.chat_id).limit(50)).all()
    response = make_response(render_template(
        "joins/index.html", row=row, form=form, keys=keys, page=page, stores=stores, counts=counts, stale=stale,
        status=status, statuses=list(JoinWayStatus), channels=CHANNELS, by_channel=codes.joins_by_channel(), unlinked=unlinked,
        callback_url=url_for("wecom_callback.verify", _external=True), action_form=ActionForm(),
        masked=connections.masked, status_labels=codes.STATUS_LABELS, badges=codes.STATUS_BADGES), status_code)
    if keys:  # the generated callback keys are on this page only once
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/connection")
@hq_required
def save_connection():
    """Connect the WeCom app or change its settings; generated callback keys are shown once."""
    form = ConnectionForm()
    if not form.validate_on_submit():
        return _page(form, status_code=422)
    try:
        _row, keys = connections.save_connection(
            corp_id=form.corp_id.data or "", secret=form.secret.data or "",
            callback_token=form.callback_token.data or "", aes_key=form.aes_key.data or "",
            generate_callback_keys=bool(form.generate_callback_keys.data),
            auto_create_room=bool(form.auto_create_room.data), actor=current_user)
    except DomainError as error:
        db.session.rollback()
        for name, message in field_errors(error).items():
            target = getattr(form, name or "", None)
            if target is not None:
                target.errors = list(target.errors) + [message]
            else:
                flash(message, "error")
        return _page(form, status_code=422)
    if keys:
        flash(_("Saved. Paste the callback token and EncodingAESKey below into WeCom now: they are not shown again."),
              "warning")
        return _page(ConnectionForm(data={"corp_id": form.corp_id.data, "auto_create_room": form.auto_create_room.data},
                                    formdata=None), keys=keys)
    flash(_("WeCom settings saved."), "success")
    return redirect(url_for(".index"))


@bp.post("/connection/test")
@hq_required
def test_connection():
    """Ask WeCom for an access token with the stored settings and say what it answered."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        connections.test_connection(actor=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("WeCom answered: the corp id and the app secret work."), "success")
    return redirect(url_for(".index"))


@bp.post("/connection/disconnect")
@hq_required
def disconnect():
    """Stop using WeCom; the stores' uploaded QR codes are used again."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        connections.disconnect(actor=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("WeCom disconnected: join codes fall back to the groups' uploaded QR codes."), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:join_way_id>/retry")
@hq_required
def retry(join_way_id: int):
    """Try a refused join code again at the next sync."""
    way = db.get_or_404(JoinWay, join_way_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        codes.retry_join_way(way, actor=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("The code will be tried again at the next sync."), "success")
    return redirect(request.referrer if _same_site(request.referrer) else url_for(".index"))


@bp.post("/leads/<int:lead_id>/code")
@login_required
def lead_code(lead_id: int):
    """Ask for the lead's own join code, so their join is attributed to them."""
    lead = get_lead_or_404(current_user, lead_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        codes.request_lead_code(lead, actor=current_user)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("leads.detail", lead_id=lead.id))
    flash(_("The lead’s own code is being made; it replaces the store’s code here within a minute."), "success")
    return redirect(url_for("leads.invite_card", lead_id=lead.id))


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


@bp.app_template_global()
def store_join_codes(store_id: int) -> dict:
    """For the store page: whether WeCom is connected and the store's channel codes."""
    connected = connections.active_connection() is not None
    return {"connected": connected, "ways": codes.store_join_ways(store_id) if connected else [],
            "channels": CHANNELS, "by_channel": codes.joins_by_channel(store_id=store_id) if connected else {},
            "status_labels": codes.STATUS_LABELS, "badges": codes.STATUS_BADGES}


@bp.app_template_global()
def community_wecom_chat(chat_id: str | None) -> WecomChat | None:
    """For the group page: what the last read of the group at WeCom found."""
    if not chat_id:
        return None
    return db.session.scalar(select(WecomChat).where(WecomChat.chat_id == chat_id))
