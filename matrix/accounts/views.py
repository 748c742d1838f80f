"""Accounts of the matrix (brand main accounts and store accounts) and the platforms they live on."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from matrix.accounts import platforms as platform_services
from matrix.accounts import services
from matrix.accounts.forms import AccountForm, PlatformForm
from matrix.accounts.listing import account_page
from matrix.accounts.models import Account, AccountScope, AccountStatus, Platform
from matrix.accounts.values import clean_account
from matrix.brands.models import Brand
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import ConfirmForm, preselect_only_choice, show_error
from matrix.permissions import get_account_or_404, get_store_or_404, hq_required, visible_accounts
from matrix.stores.models import Store
from matrix.stores.picker import city_choices, offer_stores

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def like_pattern(text: str) -> str:
    """A LIKE pattern that matches `text` literally anywhere (% and _ typed by people are not wildcards)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered_accounts(args):
    query = (visible_accounts(current_user).join(Account.platform).outerjoin(Account.store)
             .options(contains_eager(Account.platform), contains_eager(Account.store), joinedload(Account.brand)))
    if q := args.get("q", "").strip():
        pattern = like_pattern(q)
        query = query.where(or_(Account.handle.ilike(pattern, escape="\\"),
                                Account.display_name.ilike(pattern, escape="\\"),
                                Store.code.ilike(pattern, escape="\\"), Store.name.ilike(pattern, escape="\\")))
    if platform := args.get("platform"):
        query = query.where(Platform.code == platform)
    if (scope := args.get("scope")) in set(AccountScope):
        query = query.where(Account.scope == AccountScope(scope))
    if (status := args.get("status")) in set(AccountStatus):
        query = query.where(Account.status == AccountStatus(status))
    if city := args.get("city"):
        query = query.where(Store.city_code == city)
    if store_id := args.get("store", type=int):
        query = query.where(Account.store_id == store_id)
    return query  # ordered page by page by account_page: brand accounts, then store accounts by store code


@bp.get("/")
@login_required
def index():
    """All accounts in the user's scope, searchable and filtered."""
    page = account_page(_filtered_accounts(request.args), page=request.args.get("page", 1, type=int),
                        per_page=current_app.config["PAGE_SIZE"])
    return render_template("accounts/index.html", page=page, platforms=platform_services.ordered_platforms(),
                           cities=city_choices(current_user), statuses=list(AccountStatus))


@bp.get("/<int:account_id>")
@login_required
def detail(account_id: int):
    """One account with its store or brand."""
    return render_template("accounts/detail.html", account=get_account_or_404(current_user, account_id))


def _fill_choices(form: AccountForm, account: Account | None = None) -> None:
    locale = str(get_locale())
    form.platform.choices = [(p.code, p.label(locale)) for p in platform_services.ordered_platforms()
                             if p.enabled or (account and p.id == account.platform_id)]
    offer_stores(form, current_user, current=account and account.store, blank=_("Choose a store"))
    brands = db.session.execute(select(Brand.id, Brand.name).order_by(Brand.name)).all() if current_user.is_hq else []
    form.brand_id.choices = [("", _("Choose a brand"))] + [(b.id, b.name) for b in brands]


def _target(form: AccountForm, account: Account | None = None) -> tuple[str, int | None, int | None]:
    """Scope, store and brand asked for, checked against the user's scope (a forged store answers 404)."""
    scope = form.scope.data or AccountScope.STORE.value
    if scope == AccountScope.BRAND.value:
        if not current_user.is_hq:
            abort(403)  # brand main accounts are HQ's
        brand_id = form.brand_id.data
        if brand_id is not None and db.session.get(Brand, brand_id) is None:
            abort(404)
        return scope, None, brand_id
    store_id = form.store_id.data
    if store_id is not None and not (account and store_id == account.store_id):
        get_store_or_404(current_user, store_id)
    return scope, store_id, None


def _save(form: AccountForm, account: Account | None = None) -> Account | None:
    """Validate and save through the services; None when the form must be shown again."""
    scope, store_id, brand_id = _target(form, account)
    if not form.validate_on_submit():
        return None
    cleaned = clean_account(form.raw(scope=scope, store_id=store_id, brand_id=brand_id))
    try:
        if account is None:
            return services.create_account(cleaned, actor=current_user)
        services.update_account(account, cleaned, actor=current_user)
        return account
    except DomainError as e:
        show_error(form, e)
    return None


def _initial(account: Account) -> dict:
    return {"platform": account.platform.code, "scope": account.scope.value, "store_id": account.store_id,
            "brand_id": account.brand_id, "handle": account.handle, "display_name": account.display_name,
            "profile_url": account.profile_url or "", "poi_id": account.poi_id or "",
            "followers": str(account.followers), "status": account.status.value, "run_by": account.run_by or ""}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Register an account: a store account, or (HQ only) a brand main account; ?store_id= and ?platform= prefill."""
    form = AccountForm()
    _fill_choices(form)
    if request.method == "GET":
        if request.args.get("scope") == AccountScope.BRAND.value:
            if not current_user.is_hq:
                abort(403)
            form.scope.data = AccountScope.BRAND.value
        if store_id := request.args.get("store_id", type=int):
            form.store_id.data = get_store_or_404(current_user, store_id).id
        preselect_only_choice(form.store_id)
        preselect_only_choice(form.brand_id)
        if request.args.get("platform") in {code for code, _label in form.platform.choices}:
            form.platform.data = request.args["platform"]
        return render_template("accounts/form.html", form=form, account=None)
    account = _save(form)
    if account:
        flash(_("Account %(handle)s added.", handle=account.handle), "success")
        return redirect(url_for("accounts.detail", account_id=account.id))
    return render_template("accounts/form.html", form=form, account=None), 422


@bp.route("/<int:account_id>/edit", methods=["GET", "POST"])
@login_required
def edit(account_id: int):
    """Change an account in the user's scope."""
    account = get_account_or_404(current_user, account_id)
    form = AccountForm(data=_initial(account))
    _fill_choices(form, account)
    if request.method == "GET":
        return render_template("accounts/form.html", form=form, account=account)
    if _save(form, account):
        flash(_("Account %(handle)s saved.", handle=account.handle), "success")
        return redirect(url_for("accounts.detail", account_id=account.id))
    return render_template("accounts/form.html", form=form, account=account), 422


@bp.route("/<int:account_id>/delete", methods=["GET", "POST"])
@login_required
def delete(account_id: int):
    """Ask, then remove an account from the matrix."""
    account = get_account_or_404(current_user, account_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        handle = account.handle
        services.delete_account(account, actor=current_user)
        flash(_("Account %(handle)s deleted.", handle=handle), "success")
        return redirect(url_for("accounts.index"))
    return render_template("accounts/delete.html", form=form, account=account)


@bp.get("/platforms")
@hq_required
def platforms():
    """The platforms accounts can be registered on."""
    counts = dict(db.session.execute(select(Account.platform_id, func.count()).group_by(Account.platform_id)).all())
    return render_template("accounts/platforms.html", platforms=platform_services.ordered_platforms(), counts=counts)


def _save_platform(form: PlatformForm, platform: Platform | None = None) -> bool:
    if not form.validate_on_submit():
        return False
    try:
        if platform is None:
            platform_services.create_platform(**form.payload, actor=current_user)
        else:
            platform_services.update_platform(platform, **form.payload, actor=current_user)
        return True
    except DomainError as e:
        show_error(form, e)
        return False


@bp.route("/platforms/new", methods=["GET", "POST"])
@hq_required
def platform_new():
    """Add a platform."""
    form = PlatformForm()
    if _save_platform(form):
        flash(_("Platform %(code)s added.", code=form.code.data.strip().lower()), "success")
        return redirect(url_for("accounts.platforms"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/platform_form.html", form=form, platform=None), status


@bp.route("/platforms/<int:platform_id>/edit", methods=["GET", "POST"])
@hq_required
def platform_edit(platform_id: int):
    """Rename, reorder, enable or disable a platform."""
    platform = db.get_or_404(Platform, platform_id)
    form = PlatformForm(obj=platform)
    if _save_platform(form, platform):
        flash(_("Platform %(code)s saved.", code=platform.code), "success")
        return redirect(url_for("accounts.platforms"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/platform_form.html", form=form, platform=platform), status
