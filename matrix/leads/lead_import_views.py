"""Lead import from CSV/XLSX: upload, preview, confirm (HQ only)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from matrix.forms import show_error
from matrix.errors import DomainError
from matrix.imports.confirming import confirm_preview
from matrix.imports.readers import Table, read_table
from matrix.imports.uploads import Upload, discard_upload, load_upload, save_upload
from matrix.leads.lead_import import (COLUMNS, ERROR, LeadImportPreview, apply_lead_import, guess_mapping,
                                      parse_mapping, preview_lead_import)
from matrix.leads.source_forms import DiscardForm, LeadConfirmForm, LeadUploadForm
from matrix.permissions import hq_required

bp = Blueprint("lead_imports", __name__, url_prefix="/sources/import")
KIND = "leads"  # the ImportUpload kind: a registry upload's token does not open here
SHOWN_ROWS = 500


@bp.get("/")
@hq_required
def index():
    """Upload a sheet of leads."""
    return render_template("sources/import.html", form=LeadUploadForm(), columns=COLUMNS)


@bp.post("/")
@hq_required
def upload():
    """Read the sheet, keep it for the preview, and show the preview."""
    form = LeadUploadForm()
    if form.validate_on_submit():
        try:
            data = form.file.data.read()
            table = read_table(data, form.file.data.filename)
            if not guess_mapping(table.headers):
                raise DomainError(_("No column name was recognised in the first row. The first row must hold the "
                                    "column names, such as 手机号, 姓名, 城市."))
        except DomainError as e:
            show_error(form, e, default_field="file")
        else:
            saved = save_upload(data, filename=form.file.data.filename, kind=KIND, user_id=current_user.id)
            return redirect(url_for(".preview", token=saved.token))
    return render_template("sources/import.html", form=form, columns=COLUMNS), 422


@bp.get("/<token>")
@hq_required
def preview(token: str):
    """What importing the sheet would do, row by row; the columns can be re-read as other fields."""
    upload, table = _load(token)
    preview = _preview(upload, table, request.args)
    return _render(upload, preview, LeadConfirmForm(fingerprint=preview.fingerprint(), formdata=None))


@bp.post("/<token>/confirm")
@hq_required
def confirm(token: str):
    """Write every new lead of the sheet, or none."""
    upload, table = _load(token)
    form = LeadConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    preview = _preview(upload, table, request.form)
    confirmed = confirm_preview(
        preview, form, token=token, actor=current_user, write=lambda: apply_lead_import(preview, current_user, notify=form.notify.data),
        has_errors=_("The file has errors, so nothing was imported. Fix them and upload the file again."),
        changed=_("The data changed since the preview. Check the new preview and confirm again."))
    if not confirmed.ok:
        return _render(upload, preview, form, status=confirmed.status)
    counts = confirmed.result
    flash(_("Imported %(file)s: %(new)d new leads, %(duplicate)d imported before.", file=upload.filename,
            new=counts["new"], duplicate=counts["duplicate"]), "success")
    return redirect(url_for("sources.index"))


@bp.post("/<token>/discard")
@hq_required
def discard(token: str):
    """Forget an uploaded sheet without importing it."""
    if DiscardForm().validate_on_submit():
        if not discard_upload(token, actor=current_user):
            abort(404)  # another user's upload, or none: as if it did not exist
        flash(_("The file was discarded; nothing was imported."), "success")
    return redirect(url_for(".index"))


def _load(token: str) -> tuple[Upload, Table]:
    upload = load_upload(token, current_user.id)
    if upload is None or upload.kind != KIND:
        abort(404)
    return upload, read_table(upload.read(), upload.filename)


def _preview(upload: Upload, table: Table, args) -> LeadImportPreview:
    try:
        return preview_lead_import(table, parse_mapping(len(table.headers), args), filename=upload.filename)
    except DomainError as e:
        preview = LeadImportPreview(headers=table.headers, mapping={}, filename=upload.filename)
        preview.problems.append(e.message)
        return preview


def _render(upload: Upload, preview: LeadImportPreview, form: LeadConfirmForm, status: int = 200):
    rows = [r for r in preview.rows if r.status == ERROR or r.warnings] or preview.rows
    form.fingerprint.data = preview.fingerprint()  # after a 409 the confirm must pin the new preview
    return render_template("sources/import_preview.html", upload=upload, preview=preview, counts=preview.counts,
                           rows=rows[:SHOWN_ROWS], shown_total=len(rows), form=form,
                           choices=[(c.field, c.label) for c in COLUMNS],
                           labels={c.field: c.label for c in COLUMNS},
                           discard_form=DiscardForm(),
                           mapping_args={f"col-{i}": preview.mapping.get(i, "") for i in range(len(preview.headers))}), status
