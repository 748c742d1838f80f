"""Campaign screens (HQ): campaigns, their content templates, the preview, generating a week, store tags."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from matrix.audit.models import AuditEntry
from matrix.campaigns import services
from matrix.campaigns.forms import CampaignForm, ConfirmForm, GenerateForm, TagsForm, TemplateForm
from matrix.campaigns.pages import campaign_facts, store_datalist, week_choices
from matrix.chain import chain_zone
from matrix.content import clashes, generation
from matrix.content.models import Campaign, ContentTemplate
from matrix.content.variables import CONTENT_ENV, example_variables, first_store, placeholder_variables, store_variables
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import show_error
from matrix.materials.services import template_materials
from matrix.models import utcnow
from matrix.permissions import hq_required, visible_stores
from matrix.plans.labels import CONTENT_KIND_LABELS
from matrix.sandbox.engine import render_text
from matrix.stores.models import Store
from matrix.weeks import WeekError, current_week, iso_week

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
# The services name the cadence as a whole; the form shows its first box.
CAMPAIGN_FIELDS = {"cadence": "short_video"}


@bp.context_processor
def labels():
    return {"CONTENT_KIND_LABELS": CONTENT_KIND_LABELS}


def _campaign_or_404(campaign_id: int) -> Campaign:
    return db.get_or_404(Campaign, campaign_id)


def _template_or_404(campaign: Campaign, template_id: int) -> ContentTemplate:
    template = db.session.get(ContentTemplate, template_id)
    if template is None or template.campaign_id != campaign.id:
        abort(404)
    return template


@bp.get("/")
@hq_required
def index():
    """Campaigns, newest first."""
    page = db.paginate(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc()),
                       page=request.args.get("page", 1, type=int), per_page=50)
    counts = dict(db.session.execute(select(ContentTemplate.campaign_id, func.count())
                                     .where(ContentTemplate.campaign_id.in_([c.id for c in page.items]))
                                     .group_by(ContentTemplate.campaign_id)).tuples().all())
    return render_template("campaigns/index.html", page=page, counts=counts)


@bp.route("/new", methods=["GET", "POST"])
@hq_required
def new():
    """Add a campaign."""
    form = CampaignForm()
    form.fill_choices()
    if form.validate_on_submit():
        try:
            campaign = services.create_campaign(actor=current_user, **form.payload)
        except DomainError as e:
            show_error(form, e, aliases=CAMPAIGN_FIELDS)
        else:
            flash(_("Campaign %(name)s added. Now add its content templates.", name=campaign.name), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=None), 422 if form.is_submitted() else 200


@bp.get("/<int:campaign_id>")
@hq_required
def detail(campaign_id: int):
    """A campaign: its settings, templates, week generation and the last reports."""
    campaign = _campaign_or_404(campaign_id)
    form = GenerateForm()
    form.week.choices, form.week.data = week_choices(campaign, request.args.get("week"))
    runs = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity == "campaign", AuditEntry.entity_id == campaign.id, AuditEntry.action == "generate")
        .order_by(AuditEntry.id.desc()).limit(5)).all()
    found = clashes.shown_week_clashes(campaign, iso_week(form.week.data))
    return render_template("campaigns/detail.html", campaign=campaign, form=form, runs=runs, clashes=found[:50],
                           clash_count=len(found), facts=campaign_facts(campaign), confirm=ConfirmForm())


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@hq_required
def edit(campaign_id: int):
    """Change a campaign's dates, stores, platforms, cadence, slots and spacing."""
    campaign = _campaign_or_404(campaign_id)
    form = CampaignForm()
    form.fill_choices(campaign)
    if not form.is_submitted():
        form.fill_from(campaign)
    if form.validate_on_submit():
        try:
            services.update_campaign(campaign, actor=current_user, **form.payload)
        except DomainError as e:
            show_error(form, e, aliases=CAMPAIGN_FIELDS)
        else:
            flash(_("Campaign %(name)s saved.", name=campaign.name), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=campaign), 422 if form.is_submitted() else 200


@bp.route("/<int:campaign_id>/delete", methods=["GET", "POST"])
@hq_required
def delete(campaign_id: int):
    """Confirm, then delete a campaign with its templates and untouched planned items."""
    campaign = _campaign_or_404(campaign_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = campaign.name
        removed = services.delete_campaign(campaign, actor=current_user)
        flash(_("Campaign %(name)s deleted with %(n)d planned items.", name=name, n=removed), "success")
        return redirect(url_for("campaigns.index"))
    return render_template("campaigns/delete.html", campaign=campaign, form=form)


@bp.post("/<int:campaign_id>/generate")
@hq_required
def generate(campaign_id: int):
    """Generate (or regenerate) one week of the campaign for every in-scope store account."""
    campaign = _campaign_or_404(campaign_id)
    form = GenerateForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        report = generation.generate_week(campaign, iso_week(form.week.data), actor=current_user, zone=chain_zone())
    except (DomainError, WeekError) as e:
        flash(getattr(e, "message", str(e)), "error")
    else:
        flash(report.summary(), "success")
        for warning in report.warnings[:5]:
            flash(warning, "warning")
        if report.skipped:
            flash(_("%(n)d items were not created because a template failed for some stores: see the report "
                    "below.", n=report.skipped), "warning")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id, week=form.week.data))


@bp.post("/<int:campaign_id>/spacing")
@hq_required
def fix_spacing(campaign_id: int):
    """Move the stores that share a template, day and slot with a neighbour to the next free slot."""
    campaign = _campaign_or_404(campaign_id)
    form = GenerateForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        monday = iso_week(form.week.data)
    except WeekError:
        abort(404)
    report = clashes.fix_clashes(campaign, monday, actor=current_user, now=utcnow(), zone=chain_zone())
    flash(str(report.summary_message()), "success" if not report.unfixable else "warning")
    for line in report.unfixable[:5]:
        flash(line, "warning")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id, week=form.week.data))


@bp.route("/<int:campaign_id>/templates/new", methods=["GET", "POST"])
@hq_required
def template_new(campaign_id: int):
    """Add a content template (a variant of its kind)."""
    campaign = _campaign_or_404(campaign_id)
    form = TemplateForm()
    if form.validate_on_submit():
        try:
            template = services.add_template(campaign, actor=current_user, **form.payload)
        except DomainError as e:
            show_error(form, e, aliases=CAMPAIGN_FIELDS)
        else:
            flash(_("Template %(topic)s added.", topic=template.topic), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/template_form.html", form=form, campaign=campaign, template=None,
                           variables=example_variables(current_week())), 422 if form.is_submitted() else 200


@bp.route("/<int:campaign_id>/templates/<int:template_id>/edit", methods=["GET", "POST"])
@hq_required
def template_edit(campaign_id: int, template_id: int):
    """Change a template's texts."""
    campaign = _campaign_or_404(campaign_id)
    template = _template_or_404(campaign, template_id)
    form = TemplateForm(obj=template) if request.method == "GET" else TemplateForm()
    if request.method == "GET":
        form.kind.data = template.kind.value
    if form.validate_on_submit():
        try:
            services.update_template(template, actor=current_user, **form.payload)
        except DomainError as e:
            show_error(form, e, aliases=CAMPAIGN_FIELDS)
        else:
            flash(_("Template %(topic)s saved. Regenerate a week to update its untouched items.",
                    topic=template.topic), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/template_form.html", form=form, campaign=campaign, template=template,
                           variables=example_variables(current_week()), materials=template_materials(template.id),
                           confirm=ConfirmForm()), 422 if form.is_submitted() else 200


@bp.post("/<int:campaign_id>/templates/<int:template_id>/delete")
@hq_required
def template_delete(campaign_id: int, template_id: int):
    """Delete a template; items made from it keep their text."""
    campaign = _campaign_or_404(campaign_id)
    template = _template_or_404(campaign, template_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_template(template, actor=current_user)
    flash(_("Template %(topic)s deleted.", topic=template.topic), "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


@bp.post("/<int:campaign_id>/templates/<int:template_id>/move")
@hq_required
def template_move(campaign_id: int, template_id: int):
    """Move a template up or down in the campaign's order."""
    campaign = _campaign_or_404(campaign_id)
    template = _template_or_404(campaign, template_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.move_template(template, direction=-1 if request.form.get("direction") == "up" else 1,
                           actor=current_user)
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


@bp.get("/<int:campaign_id>/preview")
@hq_required
def preview(campaign_id: int):
    """Render a template for a chosen store and week, with errors next to their lines."""
    campaign = _campaign_or_404(campaign_id)
    templates = sorted(campaign.templates, key=lambda t: (t.sort_order, t.id))
    chosen = next((t for t in templates if t.id == request.args.get("template", type=int)),
                  templates[0] if templates else None)
    weeks, week = week_choices(campaign, request.args.get("week"))
    code = (request.args.get("store") or "").strip()
    store = db.session.scalar(visible_stores(current_user).where(Store.code == code)) if code else first_store()
    if code and store is None:
        flash(_("No store with the code %(code)s.", code=code), "error")
    monday = iso_week(week)
    variables = store_variables(store, monday) if store is not None else placeholder_variables(monday)
    fields = []
    if chosen is not None:
        for name in generation.TEXT_FIELDS:
            source = getattr(chosen, name)
            fields.append((name, source, render_text(source, variables, CONTENT_ENV)))
    return render_template("campaigns/preview.html", campaign=campaign, templates=templates, chosen=chosen,
                           store=store, code=code, weeks=weeks, week=week, fields=fields,
                           variables=variables, stores=store_datalist(current_user))


@bp.route("/tags", methods=["GET", "POST"])
@hq_required
def tags():
    """Store tags (campaigns can target stores by tag): see them and set one store's tags."""
    form = TagsForm()
    if form.validate_on_submit():
        store = db.session.scalar(visible_stores(current_user).where(Store.code == form.store_code.data.strip()))
        if store is None:
            form.store_code.errors = [_("No store with the code %(code)s.", code=form.store_code.data)]
        else:
            try:
                saved = services.set_store_tags(store, form.tags.data, actor=current_user)
            except DomainError as e:
                show_error(form, e, aliases=CAMPAIGN_FIELDS)
            else:
                flash(_("Tags of %(code)s: %(tags)s", code=store.code, tags=", ".join(saved) or "—"), "success")
                return redirect(url_for("campaigns.tags"))
    return render_template("campaigns/tags.html", form=form, tags=services.known_tags(),
                           stores=store_datalist(current_user)), 422 if form.is_submitted() else 200
