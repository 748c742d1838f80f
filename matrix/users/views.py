"""User administration (admins only) and each user's own account page."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select, func, or_, select

from matrix.auth import services
from matrix.auth.session import keep_session
from matrix.auth.models import LoginAttempt, Role, User
from matrix.stores.models import store_managers
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import show_error
from matrix.permissions import role_required
from matrix.stores.models import Store
from matrix.users.forms import AccountForm, NewUserForm, UserForm

bp = Blueprint("users", __name__, url_prefix="/users")
admin_required = role_required(Role.ADMIN)
STORES_SHOWN = 3  # codes listed per user in the table; the rest are counted


def _user_query(args) -> Select:
    query = select(User).order_by(User.username)
    q = args.get("q", "").strip()
    if q:
        query = query.where(or_(*(column.icontains(q, autoescape=True)
                                  for column in (User.username, User.display_name, User.mobile))))
    if args.get("role") in {r.value for r in Role}:
        query = query.where(User.role == Role(args["role"]))
    if args.get("status") in ("active", "inactive"):
        query = query.where(User.active.is_(args["status"] == "active"))
    return query


def _stores_by_user(user_ids: list[int]) -> dict[int, list[str]]:
    """Store codes per user for one page of users, in one query."""
    rows = db.session.execute(
        select(store_managers.c.user_id, Store.code).join(Store, Store.id == store_managers.c.store_id)
        .where(store_managers.c.user_id.in_(user_ids)).order_by(Store.code)) if user_ids else []
    codes: dict[int, list[str]] = {}
    for user_id, code in rows:
        codes.setdefault(user_id, []).append(code)
    return codes


def _last_sign_ins(usernames: list[str]) -> dict:
    if not usernames:
        return {}
    return dict(db.session.execute(
        select(LoginAttempt.username, func.max(LoginAttempt.at))
        .where(LoginAttempt.username.in_(usernames), LoginAttempt.succeeded.is_(True))
        .group_by(LoginAttempt.username)).all())


@bp.get("/")
@admin_required
def index():
    """Everyone who can sign in, with search and a role filter."""
    page = db.paginate(_user_query(request.args), page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("users/index.html", page=page, roles=list(Role), stores_shown=STORES_SHOWN,
                           stores=_stores_by_user([u.id for u in page.items]),
                           last_sign_ins=_last_sign_ins([u.username for u in page.items]))


def _refuse(form, error: DomainError, template: str, **context):
    """Show a service's refusal next to its field (or on top) and keep what was typed."""
    show_error(form, error)
    return render_template(template, form=form, **context), 422


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    """Add a user."""
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(actor=current_user, **form.payload())
        except DomainError as e:
            return _refuse(form, e, "users/form.html", user=None)
        flash(_("User %(name)s was added.", name=user.username), "success")
        return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=None), 422 if form.is_submitted() else 200


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(user_id: int):
    """Change a user's role, stores, status or password."""
    user = db.get_or_404(User, user_id)
    form = UserForm(data={"username": user.username, "display_name": user.display_name,
                          "role": user.role.value, "mobile": user.mobile, "active": user.active,
                          "store_codes": "\n".join(sorted(s.code for s in user.stores))})
    if form.validate_on_submit():
        try:
            services.update_user(user, actor=current_user, **form.payload())
        except DomainError as e:
            return _refuse(form, e, "users/form.html", user=user)
        if user.id == current_user.id:
            keep_session(current_user)
        flash(_("User %(name)s was saved.", name=user.username), "success")
        return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=user), 422 if form.is_submitted() else 200


@bp.route("/me", methods=["GET", "POST"])
@login_required
def me():
    """One's own name, language and password."""
    form = AccountForm(data={"display_name": current_user.display_name, "locale": current_user.locale})
    if form.validate_on_submit():
        try:
            changes = services.update_own_account(
                current_user, display_name=form.display_name.data, locale=form.locale.data,
                current_password=form.current_password.data or "", new_password=form.new_password.data or "")
        except DomainError as e:
            return _refuse(form, e, "users/me.html")
        session["locale"] = current_user.locale
        keep_session(current_user)  # a new password ends the other sessions, not this one
        flash(_("Your password was changed.") if "password" in changes else _("Your account was saved."), "success")
        return redirect(url_for("users.me"))
    return render_template("users/me.html", form=form), 422 if form.is_submitted() else 200
