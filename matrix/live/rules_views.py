"""Trailer rules and the chain's live settings (HQ only)."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import show_error
from matrix.live.blueprint import bp
from matrix.live.models import LiveSession, SessionStatus, TrailerRule
from matrix.live.rules_forms import TEXT_FIELDS, RuleForm, SettingsForm
from matrix.live.settings import live_settings, save_rule, update_settings
from matrix.live.timing import offset_label, offset_text
from matrix.live.trailer_examples import example_trailer_variables
from matrix.live.trailer_texts import TRAILER_ENV
from matrix.models import utcnow
from matrix.permissions import hq_required
from matrix.sandbox.engine import Rendered, render_text
from matrix.weeks import current_week


@bp.get("/rules")
@hq_required
def rules():
    """The trailer rules, default first, and the live settings they work with."""
    rows = list(db.session.scalars(select(TrailerRule).order_by(TrailerRule.is_default.desc(), TrailerRule.name,
                                                                TrailerRule.id)))
    return render_template("live/rules.html", rules=rows, upcoming=_upcoming_by_rule(rows),
                           settings=live_settings(), offset_text=offset_text, offset_label=offset_label)


def _upcoming_by_rule(rules: list[TrailerRule]) -> dict[int, int]:
    """Scheduled sessions still to come per rule; those without a rule of their own count for the default."""
    counts = dict(db.session.execute(
        select(LiveSession.rule_id, func.count()).where(LiveSession.status == SessionStatus.SCHEDULED,
                                                        LiveSession.starts_at > utcnow())
        .group_by(LiveSession.rule_id)).tuples().all())
    default = next((r.id for r in rules if r.is_default), None)
    if default is not None:
        counts[default] = counts.get(default, 0) + counts.pop(None, 0)
    return counts


@bp.route("/rules/new", methods=["GET", "POST"])
@hq_required
def rule_new():
    """A new trailer rule, starting from the standard steps and texts."""
    return _rule_page(None)


@bp.route("/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@hq_required
def rule_edit(rule_id: int):
    """Change a rule; sessions scheduled or moved afterwards use the new version."""
    return _rule_page(db.get_or_404(TrailerRule, rule_id))


def _rule_page(rule: TrailerRule | None):
    form = RuleForm.for_rule(rule) if request.method == "GET" else RuleForm()
    preview, refused = None, False
    if form.validate_on_submit():
        if request.form.get("action") == "preview":
            preview = _preview(form)
        else:
            try:
                saved = save_rule(rule, form.values(), actor=current_user)
            except DomainError as e:
                refused = True
                show_error(form, e, aliases={"offsets": "steps"})
                if e.field in TEXT_FIELDS:  # show the marked lines too
                    preview = _preview(form)
            else:
                flash(_("Trailer rule %(name)s saved. It applies to sessions scheduled or moved from now on.",
                        name=saved.name), "success")
                return redirect(url_for(".rules"))
    status = 422 if request.method == "POST" and (form.errors or refused) else 200
    return render_template("live/rules_form.html", form=form, rule=rule, preview=preview,
                           variables=example_trailer_variables(current_week())), status


def _preview(form: RuleForm) -> list[tuple[str, str, Rendered]]:
    """Each text rendered with the example values; errors come with their line."""
    examples = example_trailer_variables(current_week())
    return [(name, form[name].data or "", render_text(form[name].data or "", examples, TRAILER_ENV))
            for name in TEXT_FIELDS]


@bp.route("/settings", methods=["GET", "POST"])
@hq_required
def settings():
    """The nearby distance of the overlap warning and the quiet hours of trailers."""
    row = live_settings()
    form = SettingsForm() if request.method == "POST" else SettingsForm(formdata=None, data={
        "nearby_km": f"{row.nearby_km:g}", "quiet_start": row.quiet_start, "quiet_end": row.quiet_end,
        "evening_slot": row.evening_slot})
    refused = False
    if form.validate_on_submit():
        try:
            update_settings({name: (form[name].data or "").strip() for name in
                             ("nearby_km", "quiet_start", "quiet_end", "evening_slot")}, actor=current_user)
        except DomainError as e:
            refused = True
            show_error(form, e)
        else:
            flash(_("Live settings saved. New trailer times follow them; existing ones move when their session "
                    "is moved."), "success")
            return redirect(url_for(".rules"))
    status = 422 if request.method == "POST" and (form.errors or refused) else 200
    return render_template("live/settings.html", form=form), status
