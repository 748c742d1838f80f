"""Lead sources and refused webhook deliveries (HQ only)."""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import show_error
from matrix.leads import deliveries
from matrix.leads import sources as services
from matrix.leads.mapping import DEFAULT_MAPS, format_field_map, parse_field_map
from matrix.leads.models import Lead, LeadSource, RejectedDelivery
from matrix.leads.signatures import DEFAULT_SCHEME, SCHEMES, scheme_for
from matrix.leads.source_forms import KIND_CHOICES, RotateForm, SourceForm
from matrix.permissions import hq_required
from matrix.stores.chain_cache import report_figures
from matrix.stores.models import Store

bp = Blueprint("sources", __name__, url_prefix="/sources")

KIND_LABELS = dict(KIND_CHOICES) | {"manual": _l("Manual entry"), "import": _l("Sheet import"),
                                    "storefront": _l("Store page")}
# Why a delivery was refused, by the code the webhook stores (the part before any ":field").
REJECTION_LABELS = {
    "unknown_source": _l("Unknown or inactive source"), "too_large": _l("Body over the size limit"),
    "missing_signature": _l("Signature header missing"), "bad_signature": _l("Signature does not match"),
    "bad_timestamp": _l("Timestamp unreadable"), "stale_timestamp": _l("Timestamp too old (replay refused)"),
    "future_timestamp": _l("Timestamp in the future"), "no_secret": _l("Source has no secret"),
    "no_scheme": _l("Source takes no webhooks"), "bad_json": _l("Body is not JSON"),
    "not_object": _l("Body is not a JSON object"), "missing_field": _l("Required field missing"),
    "invalid_field": _l("Invalid field"), "too_deep": _l("Body nests too deeply"),
}


@bp.get("/")
@hq_required
def index():
    """Every lead source with its webhook URL, leads received and the last one's time."""
    sources = db.session.scalars(select(LeadSource).order_by(LeadSource.name)).all()
    # Every lead is read to count them: a report, so a process reuses the figures a minute (REPORT_CACHE_S).
    stats = report_figures("leads per source", lambda: {row.source_id: row for row in db.session.execute(
        select(Lead.source_id, func.count().label("leads"), func.max(Lead.received_at).label("last"))
        .group_by(Lead.source_id))})
    store_ids = [s.store_id for s in sources if s.store_id]
    stores = dict(db.session.execute(select(Store.id, Store.code).where(Store.id.in_(store_ids))).all()) \
        if store_ids else {}
    return render_template("sources/index.html", sources=sources, stats=stats, stores=stores,
                           kind_labels=KIND_LABELS, masked=services.masked_secret)


@bp.route("/new", methods=["GET", "POST"])
@hq_required
def new():
    """Add a webhook source; its secret is shown once, on the page that answers the form."""
    form = SourceForm()
    if form.validate_on_submit():
        try:
            source, secret = services.create_source(
                name=form.name.data, kind=form.kind.data, slug=form.slug.data or "", secret=form.secret.data or "",
                signature_scheme=form.signature_scheme.data, field_map=parse_field_map(form.field_map.data),
                store_id=services.store_id_for_code(form.store_code.data), active=form.active.data,
                actor=current_user)
        except DomainError as e:
            show_error(form, e)
        else:
            return _show_secret(source, secret, created=True)
    return render_template("sources/form.html", form=form, source=None, defaults=_defaults(),
                           kind_labels=KIND_LABELS), \
        200 if request.method == "GET" else 422


@bp.get("/<int:source_id>")
@hq_required
def detail(source_id: int):
    """A source's webhook URL, signature scheme, field map and a curl example."""
    source = _source_or_404(source_id)
    recent = db.session.scalars(select(RejectedDelivery).where(RejectedDelivery.source_id == source.id)
                                .order_by(RejectedDelivery.at.desc()).limit(10)).all()
    return render_template("sources/detail.html", **_context(source), recent=recent,
                           rotate_form=RotateForm(), rejection_label=rejection_label)


@bp.route("/<int:source_id>/edit", methods=["GET", "POST"])
@hq_required
def edit(source_id: int):
    """Change a source's name, scheme, field map, store or state."""
    source = _source_or_404(source_id, webhook=True)
    form = SourceForm(obj=source) if request.method == "POST" else SourceForm(
        obj=source, store_code=_store_code(source), field_map=format_field_map(source.field_map), formdata=None)
    if form.validate_on_submit():
        try:
            services.update_source(source, name=form.name.data, signature_scheme=form.signature_scheme.data,
                                   field_map=parse_field_map(form.field_map.data),
                                   store_id=services.store_id_for_code(form.store_code.data),
                                   active=form.active.data, actor=current_user)
        except DomainError as e:
            show_error(form, e)
        else:
            flash(_("Source %(name)s saved.", name=source.name), "success")
            return redirect(url_for(".detail", source_id=source.id))
    return render_template("sources/form.html", form=form, source=source, defaults=_defaults(),
                           kind_labels=KIND_LABELS), \
        200 if request.method == "GET" else 422


@bp.post("/<int:source_id>/rotate")
@hq_required
def rotate(source_id: int):
    """Replace a source's secret; the new one is shown once."""
    source = _source_or_404(source_id, webhook=True)
    form = RotateForm()
    if not form.validate_on_submit():
        abort(400)
    secret = services.rotate_secret(source, actor=current_user, secret=form.secret.data or "")
    return _show_secret(source, secret, created=False)


@bp.get("/rejected")
@hq_required
def rejected():
    """Webhook deliveries we refused, newest first: why, from where, how large (no personal data)."""
    query = select(RejectedDelivery).order_by(RejectedDelivery.at.desc(), RejectedDelivery.id.desc())
    if slug := request.args.get("source", "").strip():
        query = query.where(RejectedDelivery.source_slug == slug)
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=50, error_out=False)
    return render_template("sources/rejected.html", page=page, rejection_label=rejection_label,
                           unrouted=deliveries.failed_deliveries())


def rejection_label(reason: str) -> str:
    code, _sep, field = reason.partition(":")
    label = str(REJECTION_LABELS.get(code, code))
    return f"{label}: {field}" if field else label


def _show_secret(source: LeadSource, secret: str, *, created: bool):
    """The one page that shows the secret in full; not cached, not redirected to."""
    response = make_response(render_template("sources/secret.html", **_context(source), secret=secret,
                                             created=created), 201 if created else 200)
    response.headers["Cache-Control"] = "no-store"
    return response


def _context(source: LeadSource) -> dict:
    scheme = scheme_for(source)
    url = url_for("hooks.receive", slug=source.slug, _external=True) if scheme else None
    return {"source": source, "scheme": scheme, "webhook_url": url, "kind_labels": KIND_LABELS,
            "masked_secret": services.masked_secret(source), "store_code": _store_code(source),
            "field_map": format_field_map(source.field_map),
            "default_map": format_field_map(DEFAULT_MAPS.get(source.kind, {}))}


def _defaults() -> dict:
    """Each kind's default scheme and field map, shown beside the form."""
    return {kind: (SCHEMES[DEFAULT_SCHEME[kind]].label, format_field_map(DEFAULT_MAPS[kind]))
            for kind in DEFAULT_SCHEME}


def _source_or_404(source_id: int, *, webhook: bool = False) -> LeadSource:
    source = db.get_or_404(LeadSource, source_id)
    if webhook and source.kind not in services.WEBHOOK_KINDS:
        abort(404)  # the built-in manual and import sources have nothing to edit
    return source


def _store_code(source: LeadSource) -> str:
    return db.session.scalar(select(Store.code).where(Store.id == source.store_id)) if source.store_id else ""


