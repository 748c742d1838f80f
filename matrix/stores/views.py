"""Store screens: the list with its gaps, a store's page, the store form, delete and restore."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from matrix import geo, geocoding
from matrix.accounts.models import Account, Platform
from matrix.audit.labels import ACTION_LABELS, ENTITY_LABELS
from matrix.audit.models import AuditEntry
from matrix.communities.models import Community
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import show_error
from matrix.permissions import get_store_or_404, hq_required, visible_accounts, visible_communities, visible_stores
from matrix.regions import services as regions
from matrix.stores import services
from matrix.stores.chain_cache import chain_summary
from matrix.stores.forms import ERROR_FIELDS, ActionForm, DeleteStoreForm, StoreForm, store_form_data
from matrix.stores.models import GeocodeStatus, Store, StoreStatus
from matrix.stores.values import clean_store

bp = Blueprint("stores", __name__, url_prefix="/stores")

# Endpoints other features add; a store's page links to them once they exist.
LINKED_ENDPOINTS = ("accounts.detail", "accounts.new", "communities.detail", "communities.new")


def current_geocoder():
    """The app's geocoder (one per process, so its rate limit holds), or None."""
    return geocoding.app_geocoder()


def _system(value: str | None) -> geo.CoordSystem:
    """The coordinate system asked for in ?cs=, GCJ-02 (what AMap shows) by default."""
    return geo.CoordSystem(value) if value in {s.value for s in geo.CoordSystem} else geo.CoordSystem.GCJ02


@bp.get("/")
@login_required
def index():
    """Stores the user may see, with search, filters and the gaps in their setup."""
    args = request.args
    show_archived = current_user.is_hq and args.get("archived") == "1"
    base = visible_stores(current_user, include_archived=show_archived)
    status = args.get("status", "") if args.get("status") in {s.value for s in StoreStatus} else ""
    problem = args.get("problem", "") if args.get("problem") in services.PROBLEMS else ""
    query = services.filter_stores(base, q=args.get("q", "").strip(), city_code=args.get("city", ""),
                                   district_code=args.get("district", ""), status=status, problem=problem)
    page = db.paginate(query.options(selectinload(Store.managers)).order_by(Store.code),
                       page=args.get("page", 1, type=int), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    cities, pairs = _used_regions(show_archived)
    city = args.get("city") or next((c for c, d in pairs if d == args.get("district")), "")
    # Only the chosen city's districts: every district of a chain of thousands is a select of 900 options.
    districts = [d for c, d in pairs if c == city] if city else []
    return render_template("stores/index.html", page=page, counts=services.link_counts([s.id for s in page.items]),
                           cities=cities, districts=districts, region_name=regions.region_name,
                           show_archived=show_archived, problems=problem_labels())


def _used_regions(show_archived: bool) -> tuple[list[str], list[tuple[str, str]]]:
    """The cities and (city, district) pairs of the user's stores; HQ's are the chain's, kept per process."""
    def build():
        return services.used_regions(visible_stores(current_user, include_archived=show_archived))
    return chain_summary(("used_regions", show_archived), build) if current_user.is_hq else build()


def problem_labels() -> dict[str, str]:
    return {"no_point": _("No coordinates"), "geocode_failed": _("Geocoding failed"),
            "no_community": _("No community"), "no_account": _("No account")}


@bp.get("/<int:store_id>")
@login_required
def detail(store_id: int):
    """One store: its place, accounts, communities and recent changes."""
    store = get_store_or_404(current_user, store_id, include_archived=current_user.is_hq)
    system = _system(request.args.get("cs"))
    accounts = db.session.scalars(
        visible_accounts(current_user).where(Account.store_id == store.id).join(Account.platform)
        .options(contains_eager(Account.platform)).order_by(Platform.sort_order, Account.handle)).all()
    communities = db.session.scalars(visible_communities(current_user).where(Community.store_id == store.id)
                                     .order_by(Community.rotation_order, Community.id)).all()
    entries = []
    if current_user.is_hq:
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.store_id == store.id)
                                     .options(selectinload(AuditEntry.actor))
                                     .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(20)).all()
    return render_template("stores/detail.html", store=store, system=system, point=_shown_point(store, system),
                           amap=_amap_point(store), accounts=accounts, communities=communities,
                           entries=entries, links={e: e in current_app.view_functions for e in LINKED_ENDPOINTS},
                           region_name=regions.region_name, systems=geo.COORD_SYSTEM_LABELS,
                           restore_form=ActionForm(), action_labels=ACTION_LABELS, entity_labels=ENTITY_LABELS)


def _shown_point(store: Store, system: geo.CoordSystem) -> geo.Point | None:
    return geo.from_wgs84(store.lon, store.lat, system) if store.has_point else None


def _amap_point(store: Store) -> geo.Point | None:
    # AMap's marker URL reads GCJ-02.
    return geo.from_wgs84(store.lon, store.lat, geo.CoordSystem.GCJ02) if store.has_point else None


@bp.route("/new", methods=["GET", "POST"])
@hq_required
def new():
    """Add a store (HQ)."""
    form = StoreForm()
    form.fill_choices()
    if form.validate_on_submit():
        cleaned = clean_store(form.raw())
        try:
            store = services.create_store(cleaned, actor=current_user, brand_id=form.brand_id.data or None,
                                          manager_ids=form.managers.data or [], geocoder=current_geocoder())
        except DomainError as e:
            _show_error(form, e)
        else:
            _flash_saved(store, list(cleaned.warnings.values()), _("Store %(code)s added.", code=store.code))
            return redirect(url_for("stores.detail", store_id=store.id))
    return _render_form(form, None), 422 if form.is_submitted() else 200


@bp.route("/<int:store_id>/edit", methods=["GET", "POST"])
@login_required
def edit(store_id: int):
    """Change a store; a store manager may change their own store but not its code or city."""
    store = get_store_or_404(current_user, store_id)
    form = StoreForm(data=store_form_data(store, _system(request.args.get("cs"))))
    if not current_user.is_hq:
        del form.managers, form.brand_id
    form.fill_choices()
    if form.validate_on_submit():
        hq = current_user.is_hq
        try:
            saved = services.edit_store(store, form.raw(), actor=current_user,
                                        brand_id=(form.brand_id.data or None) if hq else None,
                                        manager_ids=(form.managers.data or []) if hq else None,
                                        geocoder=current_geocoder())
        except DomainError as e:
            _show_error(form, e)
        else:
            message = _("Store %(code)s saved.", code=store.code) if saved.changes else _("Nothing changed.")
            _flash_saved(store, saved.warnings, message)
            return redirect(url_for("stores.detail", store_id=store.id))
    return _render_form(form, store), 422 if form.is_submitted() else 200


def _show_error(form: StoreForm, error: DomainError) -> None:
    if isinstance(error, services.InvalidStore) and "city_code" in error.cleaned.values:
        form.city.data = error.cleaned.values["city_code"]  # a typed city name shows as the matching option
    show_error(form, error, aliases=ERROR_FIELDS)


def _flash_saved(store: Store, warnings: list[str], message: str) -> None:
    flash(message, "success")
    for warning in warnings:
        flash(warning, "warning")
    if store.geocode_status == GeocodeStatus.FAILED:
        flash(_("The address could not be placed on the map: %(error)s Enter the coordinates by hand.",
                error=store.geocode_error or ""), "warning")


def _render_form(form: StoreForm, store: Store | None) -> str:
    city_code = form.city.data if form.city.data in dict(regions.cities()) else None
    districts = [name for _code, name in regions.districts_of(city_code)] if city_code else []
    return render_template("stores/form.html", form=form, store=store, districts=districts,
                           region_name=regions.region_name, systems=geo.COORD_SYSTEM_LABELS)


@bp.route("/<int:store_id>/delete", methods=["GET", "POST"])
@login_required
def delete(store_id: int):
    """Delete a store without history, or archive one with history once confirmed (HQ)."""
    store = get_store_or_404(current_user, store_id)  # out of scope: 404 before 403
    if not current_user.is_hq:
        abort(403)
    form = DeleteStoreForm()
    if form.validate_on_submit():
        try:
            result = services.delete_store(store, actor=current_user, confirm_history=form.confirm_history.data)
        except DomainError as e:
            show_error(form, e, default_field="confirm_history")
        else:
            if result == "archived":
                flash(_("Store %(code)s archived; its history is kept.", code=store.code), "success")
                return redirect(url_for("stores.detail", store_id=store_id))
            flash(_("Store %(code)s deleted.", code=store.code), "success")
            return redirect(url_for("stores.index"))
    accounts, communities = services.link_counts([store.id])[store.id]
    return render_template("stores/delete.html", store=store, form=form, accounts=accounts,
                           communities=communities), 422 if form.is_submitted() else 200


@bp.post("/<int:store_id>/restore")
@hq_required
def restore(store_id: int):
    """Bring an archived store back into the lists (HQ)."""
    store = get_store_or_404(current_user, store_id, include_archived=True)
    if ActionForm().validate_on_submit() and store.archived_at is not None:
        services.restore_store(store, actor=current_user)
        flash(_("Store %(code)s restored.", code=store.code), "success")
    return redirect(url_for("stores.detail", store_id=store.id))
