"""Brand screens (HQ): the list, the brand form and the logo image."""
from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from matrix.brands import services
from matrix.brands.forms import BrandForm
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import show_error
from matrix.permissions import hq_required
from matrix.brands.models import Brand

bp = Blueprint("brands", __name__, url_prefix="/brands")


@bp.get("/")
@hq_required
def index():
    """Brands with their logo, store count and main accounts."""
    rows = services.brand_overview()
    accounts = services.main_accounts([brand.id for brand, _n in rows])
    return render_template("brands/index.html", rows=rows, accounts=accounts)


@bp.route("/new", methods=["GET", "POST"])
@hq_required
def new():
    """Add a brand."""
    form = BrandForm()
    del form.remove_logo
    if form.validate_on_submit():
        try:
            brand = services.create_brand(name=form.name.data, logo=form.logo_bytes(), actor=current_user)
        except DomainError as e:
            show_error(form, e, default_field="name")
        else:
            flash(_("Brand %(name)s added.", name=brand.name), "success")
            return redirect(url_for("brands.index"))
    return render_template("brands/form.html", form=form, brand=None, accounts=[]), \
        422 if form.is_submitted() else 200


@bp.route("/<int:brand_id>/edit", methods=["GET", "POST"])
@hq_required
def edit(brand_id: int):
    """Rename a brand or change its logo."""
    brand = db.get_or_404(Brand, brand_id)
    form = BrandForm(data={"name": brand.name})
    if form.validate_on_submit():
        try:
            services.update_brand(brand, name=form.name.data, logo=form.logo_bytes(),
                                  remove_logo=form.remove_logo.data, actor=current_user)
        except DomainError as e:
            show_error(form, e, default_field="name")
        else:
            flash(_("Brand %(name)s saved.", name=brand.name), "success")
            return redirect(url_for("brands.index"))
    accounts = services.main_accounts([brand.id])[brand.id]
    return render_template("brands/form.html", form=form, brand=brand, accounts=accounts), \
        422 if form.is_submitted() else 200


@bp.get("/<int:brand_id>/logo")
@hq_required
def logo(brand_id: int):
    """The brand's logo image."""
    brand = db.get_or_404(Brand, brand_id)
    if not brand.logo:
        abort(404)
    response = Response(brand.logo, mimetype=brand.logo_mime or "application/octet-stream")
    response.headers["X-Content-Type-Options"] = "nosniff"  # never let a browser guess the type
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
