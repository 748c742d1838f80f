"""HQ's first hour: the setup checklist, progress by city and store, naming rules, gap sheets, handing gaps over."""
import io
from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from matrix.errors import DomainError
from matrix.forms import ConfirmForm, show_error
from matrix.imports.exports import to_csv, to_xlsx
from matrix.onboarding import gap_sheet
from matrix.onboarding.blueprint import PER_PAGE, bp
from matrix.onboarding.forms import HandoverForm, NamingForm
from matrix.onboarding.gaps import chain_gaps, hq_chain_gaps, progress_by_city
from matrix.onboarding.handover import hand_over
from matrix.onboarding.naming import (
    PLACEHOLDERS,
    account_name,
    group_name,
    naming_rules,
    naming_values,
    save_naming_rules,
)
from matrix.onboarding.setup import mark_printed, setup_steps
from matrix.permissions import hq_required

FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SHEETS = {"accounts": gap_sheet.account_gap_table, "communities": gap_sheet.community_gap_table}


@bp.get("/")
@hq_required
def index():
    """The setup checklist and how far each city's stores are."""
    stores = hq_chain_gaps(current_user)
    progress = progress_by_city(stores)
    return render_template("onboarding/index.html", steps=setup_steps(progress[-1]), cities=progress[:-1],
                           total=progress[-1], form=ConfirmForm())


@bp.get("/stores")
@hq_required
def stores():
    """The stores still lacking something, a page at a time, to hand to their managers."""
    city = request.args.get("city") or None
    missing = [s for s in hq_chain_gaps(current_user, city=city) if not s.complete]
    page = max(request.args.get("page", 1, type=int), 1)
    shown = missing[(page - 1) * PER_PAGE: page * PER_PAGE]
    return render_template("onboarding/stores.html", stores=shown, total=len(missing), page=page,
                           pages=max(1, -(-len(missing) // PER_PAGE)), city=city,
                           form=HandoverForm(formdata=None, city=city or ""))


@bp.post("/handover")
@hq_required
def handover():
    """Put the chosen stores' gaps (or every incomplete store of the list) on their managers' task lists."""
    form = HandoverForm()
    if not form.validate_on_submit():
        abort(400)
    ids = form.store_ids.data or []
    if form.everyone.data == "1":
        ids = [s.id for s in chain_gaps(current_user, city=form.city.data or None) if not s.complete]
    try:
        n = hand_over(ids, actor=current_user, note=form.note.data or "")
    except DomainError as e:
        flash(e.message, "error")
    else:
        flash(_("%(n)d stores handed over: their managers see what to fill in on their phones.", n=n), "success")
    return redirect(url_for(".stores", city=form.city.data or None))


@bp.route("/naming", methods=["GET", "POST"])
@hq_required
def naming():
    """The rules that name a store's missing accounts and groups, with a preview on the chain's own stores."""
    rules = naming_rules()
    form = NamingForm(obj=rules) if request.method == "GET" else NamingForm()
    if form.validate_on_submit():
        try:
            save_naming_rules(account_name_rule=form.account_name_rule.data, group_name_rule=form.group_name_rule.data,
                              actor=current_user)
        except DomainError as e:
            show_error(form, e)
        else:
            flash(_("Naming rules saved: the gap sheet and the managers' lists use them now."), "success")
            return redirect(url_for(".naming"))
    return render_template("onboarding/naming.html", form=form, placeholders=PLACEHOLDERS,
                           examples=_examples(rules)), 422 if form.errors else 200


def _examples(rules) -> list[tuple[str, str, str]]:
    """(store, account name, group name) of a few stores, as the saved rules name them."""
    out = []
    for store in chain_gaps(current_user)[:3]:
        values = naming_values(brand=store.brand, store_name=store.name, code=store.code,
                               city_code=store.city_code, district_code=store.district_code, platform="抖音")
        out.append((f"{store.code} {store.name}", account_name(rules, values), group_name(rules, values)))
    return out


@bp.get("/gaps")
@hq_required
def gaps():
    """Download the gap sheet (accounts or groups), pre-filled: fill the empty cells and import it as it is."""
    kind, fmt = request.args.get("kind", ""), request.args.get("format", "xlsx")
    if kind not in SHEETS or fmt not in FORMATS:
        abort(404)
    headers, rows = SHEETS[kind](current_user, city=request.args.get("city") or None)
    data = to_csv(headers, rows) if fmt == "csv" else to_xlsx(headers, rows)
    return send_file(io.BytesIO(data), mimetype=FORMATS[fmt], as_attachment=True, max_age=0,
                     download_name=f"storematrix-gaps-{kind}-{date.today():%Y%m%d}.{fmt}")


@bp.post("/printed")
@hq_required
def printed():
    """Tick the checklist's last step: the first week is on the stores' walls."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    mark_printed(actor=current_user)
    flash(_("Done: the first week is on the walls."), "success")
    return redirect(url_for(".index"))
