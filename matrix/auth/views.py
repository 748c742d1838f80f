"""Sign in, sign out, and the language switch."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from matrix.auth import services
from matrix.auth.forms import LanguageForm, LoginForm
from matrix.auth.session import close_session, start_session
from matrix.ops.ratelimit import rate_limited

bp = Blueprint("auth", __name__)


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site paths: an open redirect would let a phishing link borrow our domain."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return fallback


@bp.route("/login", methods=["GET", "POST"])
@rate_limited("sign_in", methods=("POST",))
def login():
    """Sign in with username and password."""
    if current_user.is_authenticated:
        return redirect(url_for("overview.index"))
    form = LoginForm(next=request.args.get("next"))
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data,
                                         remote_addr=request.remote_addr or "")
        except services.TooManyAttempts as e:
            flash(e.message, "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(e.retry_after)}
        if user:
            start_session(user)
            return redirect(safe_next(form.next.data, url_for("overview.index")))
        flash(_("Wrong username or password."), "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Sign out, ending every session of the user (a copied cookie stops working too)."""
    if current_user.is_authenticated:
        services.sign_out(current_user)
    close_session()
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """Switch the interface language and remember it for the user."""
    form = LanguageForm()
    if not form.validate_on_submit() or form.locale.data not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = form.locale.data
    if current_user.is_authenticated:
        services.set_locale(current_user, form.locale.data)
    return redirect(safe_next(form.next.data, url_for("overview.index")))
