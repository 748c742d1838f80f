"""Live sessions: list, schedule, move, cancel, go live, results."""
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from matrix.chain import chain_zone
from matrix.content.models import ContentItem
from matrix.content.scoping import visible_items
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import show_error
from matrix.live import calendars, services, suggestions
from matrix.live.blueprint import bp, chosen_week, week_links
from matrix.live.forms import (
    SESSION_STATUS_LABELS,
    CancelForm,
    ResultsForm,
    SessionForm,
    StatusForm,
    fill_session_choices,
)
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.scoping import get_session_or_404, visible_sessions
from matrix.live.timing import clock
from matrix.models import utcnow
from matrix.permissions import visible_stores
from matrix.stores.models import Store
from matrix.stores.picker import city_choices
from matrix.weeks import week_string


@bp.get("/")
@login_required
def index():
    """The week's sessions the user may see, filtered by city, store and status."""
    monday = chosen_week()
    store_id = request.args.get("store", type=int)
    query = calendars.week_sessions(current_user, monday, zone=chain_zone(), city=request.args.get("city") or None,
                                    store_id=store_id, status=request.args.get("status"), q=request.args.get("q", ""))
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    my_stores = [] if current_user.is_hq else db.session.execute(
        visible_stores(current_user).with_only_columns(Store.id, Store.code, Store.name).order_by(Store.code)).all()
    return render_template("live/index.html", page=page, trailers=calendars.trailer_counts(s.id for s in page.items),
                           cities=city_choices(current_user), my_stores=my_stores, statuses=list(SessionStatus),
                           **week_links(monday))


def _book(form: SessionForm, session: LiveSession | None):
    """Schedule or move; nearby overlaps pass only when the user accepted exactly the ones shown."""
    values = services.clean_session(form.values, actor=current_user,
                                    current_rule_id=session.rule_id if session else None)
    version = int(form.version.data) if (form.version.data or "").isdigit() else None

    def book(accept: bool):
        if session is None:
            return services.schedule_session(values, actor=current_user, accept_nearby=accept)
        return services.move_session(session, values, actor=current_user, accept_nearby=accept,
                                     expected_version=version)

    try:
        return book(False)
    except services.ScheduleConflict as conflict:
        shown = {o.other_session_id for o in conflict.nearby}
        if not form.accept_nearby.data or conflict.errors or not shown <= form.seen:
            raise  # not accepted, a double booking, or an overlap the user has not been shown yet
    return book(True)


def _session_form_page(form: SessionForm, session: LiveSession | None, *, capped: bool = False,
                       conflict: services.ScheduleConflict | None = None, status: int = 200):
    if conflict is not None and not conflict.errors:
        form.seen_overlaps.data = ",".join(str(o.other_session_id) for o in conflict.nearby if o.other_session_id)
        form.accept_nearby.data = False
    return render_template("live/form.html", form=form, session=session, capped=capped, conflict=conflict,
                           anchors=suggestions.known_anchors(current_user),
                           cities=city_choices(current_user) if current_user.is_hq else []), status


def _save(form: SessionForm, session: LiveSession | None, capped: bool):
    """Run the scheduling for a posted form; the form page again (keeping all input) when it is refused."""
    try:
        saved, report = _book(form, session)
    except services.ScheduleConflict as conflict:
        return _session_form_page(form, session, capped=capped, conflict=conflict, status=422)
    except DomainError as e:
        show_error(form, e)
        return _session_form_page(form, session, capped=capped, status=422)
    flash((_("Session scheduled.") if session is None else _("Session changed.")) + " " + report.summary(), "success")
    if report.too_late:  # say why a trailer the rule wants is missing (its time had passed)
        flash(_("%(n)d trailers were not created because their time has already passed.", n=report.too_late),
              "warning")
    if report.failures:
        flash(_("Some trailer texts could not be written: %(failures)s", failures="; ".join(report.failures[:3])),
              "warning")
    return redirect(url_for("live.detail", session_id=saved.id))


def narrowing() -> dict:
    """?store_id= (calendar links), and the form's own city and search, narrow the account list."""
    return {"store_id": request.args.get("store_id", type=int),
            "city": request.form.get("narrow_city") or request.args.get("city") or None,
            "q": request.form.get("narrow_q", request.args.get("q", ""))}


def narrowed(form: SessionForm) -> bool:
    """The "narrow the account list" button: show the form again with everything typed, save nothing."""
    return request.method == "POST" and bool(request.form.get("narrow")) and form.validate_on_submit()


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Schedule a session on an account the user may book; ?account_id=, ?store_id=, ?day= prefill it."""
    form = SessionForm()
    if request.method == "GET":
        form.account_id.data = request.args.get("account_id", type=int)
        form.day.data = request.args.get("day", "")
        form.start.data = request.args.get("start", "19:00")
        form.end.data = request.args.get("end", "21:00")
    capped = fill_session_choices(form, current_user, **narrowing())
    if narrowed(form):
        return _session_form_page(form, None, capped=capped)
    if request.method == "POST" and form.validate_on_submit():
        return _save(form, None, capped)
    return _session_form_page(form, None, capped=capped, status=200 if request.method == "GET" else 422)


def session_form_data(session: LiveSession) -> dict:
    """A stored session as the form shows it: local day and wall-clock times."""
    zone = ZoneInfo(chain_zone())
    starts, ends = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    return {"account_id": session.account_id, "day": starts.date().isoformat(), "start": clock(starts),
            "end": clock(ends), "title": session.title, "theme": session.theme, "anchor": session.anchor,
            "rule_id": session.rule_id, "live_url": session.live_url or "", "version": str(session.version)}


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit(session_id: int):
    """Move or change a scheduled session; its trailers follow."""
    session = get_session_or_404(current_user, session_id)
    if session.status != SessionStatus.SCHEDULED:
        flash(_("Only a scheduled session can be changed."), "error")
        return redirect(url_for("live.detail", session_id=session.id))
    form = SessionForm(data=session_form_data(session)) if request.method == "GET" else SessionForm()
    capped = fill_session_choices(form, current_user, current_rule_id=session.rule_id, **narrowing())
    if narrowed(form):
        return _session_form_page(form, session, capped=capped)
    if request.method == "POST" and form.validate_on_submit():
        return _save(form, session, capped)
    return _session_form_page(form, session, capped=capped, status=200 if request.method == "GET" else 422)


def _detail_page(session: LiveSession, status: int = 200, **forms):
    """The session with its trailers and the forms its status allows."""
    trailers = list(db.session.scalars(calendars.session_trailer_query(session.id)))
    linkable = set(db.session.scalars(visible_items(current_user).with_only_columns(ContentItem.id)
                                      .where(ContentItem.session_id == session.id)))
    overlaps = {s.id: s for s in db.session.scalars(
        calendars.with_host(visible_sessions(current_user)).where(LiveSession.id.in_(session.accepted_overlaps or [])))}
    started = session.starts_at <= utcnow()
    can_go_live = session.starts_at - utcnow() <= services.EARLIEST_LIVE
    return render_template(
        "live/detail.html", session=session, trailers=trailers, linkable=linkable, overlaps=overlaps,
        can_go_live=can_go_live, leads_during=suggestions.leads_during(session) if started else None,
        show_results=session.status != SessionStatus.CANCELLED and (
            started or session.status in (SessionStatus.LIVE, SessionStatus.DONE)),
        status_form=forms.get("status_form") or StatusForm(formdata=None),
        results_form=forms.get("results_form") or ResultsForm(formdata=None, data={
            n: getattr(session, n) for n in ("peak_viewers", "new_followers", "orders", "leads", "replay_url")}),
        week=week_string(calendars.local_day(session.starts_at, chain_zone()))), status


@bp.get("/<int:session_id>")
@login_required
def detail(session_id: int):
    """One session: when, who, what, its trailers and results."""
    return _detail_page(get_session_or_404(current_user, session_id))


@bp.route("/<int:session_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(session_id: int):
    """Confirm and cancel a scheduled session: open trailers are cancelled, published ones flagged."""
    session = get_session_or_404(current_user, session_id)
    if session.status != SessionStatus.SCHEDULED:
        flash(_("Only a scheduled session can be cancelled."), "error")
        return redirect(url_for("live.detail", session_id=session.id))
    form = CancelForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            report = services.cancel_session(session, actor=current_user, reason=form.reason.data or "")
            flash(_("Session cancelled.") + " " + report.summary(), "success")
            return redirect(url_for("live.detail", session_id=session.id))
        except DomainError as e:
            show_error(form, e)
            status = 422
    counts = {}
    for item_status in db.session.scalars(select(ContentItem.status).where(ContentItem.session_id == session.id)):
        counts[item_status.value] = counts.get(item_status.value, 0) + 1
    return render_template("live/cancel.html", session=session, form=form, counts=counts), status


@bp.post("/<int:session_id>/status")
@login_required
def change_status(session_id: int):
    """Go live, or mark the session done."""
    session = get_session_or_404(current_user, session_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            if form.status.data not in (SessionStatus.LIVE.value, SessionStatus.DONE.value):
                raise DomainError(_("Unknown status."))
            services.set_status(session, form.status.data, actor=current_user)
            flash(_("The session is now %(status)s.", status=SESSION_STATUS_LABELS[session.status.value]), "success")
            return redirect(url_for("live.detail", session_id=session.id))
        except DomainError as e:
            flash(e.message, "error")
    return _detail_page(session, 422, status_form=form)


@bp.post("/<int:session_id>/results")
@login_required
def results(session_id: int):
    """Peak viewers, new followers, orders, leads and the replay link."""
    session = get_session_or_404(current_user, session_id)
    form = ResultsForm()
    if form.validate_on_submit():
        try:
            services.record_results(session, form.values, actor=current_user)
            flash(_("Results saved."), "success")
            return redirect(url_for("live.detail", session_id=session.id))
        except DomainError as e:
            show_error(form, e)
    return _detail_page(session, 422, results_form=form)

