"""Bulk import (upload, preview, confirm) and export of stores, accounts and communities. HQ only."""
import io
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from matrix.accounts.labels import ACCOUNT_STATUS_LABELS, SCOPE_LABELS
from matrix.communities.labels import KIND_LABELS
from matrix.communities.models import mask_secret_url
from matrix.errors import DomainError
from matrix.forms import show_error
from matrix.geocoding import app_geocoder
from matrix.imports import headers as cols
from matrix.imports.apply import apply_import
from matrix.imports.confirming import confirm_preview
from matrix.imports.exports import export_table, template_table, to_csv, to_xlsx
from matrix.imports.forms import ConfirmForm, DiscardForm, UploadForm
from matrix.imports.preview import ImportPreview, parse_mapping, parse_options, preview_import
from matrix.imports.readers import BadFile, Table, read_table
from matrix.imports.uploads import Upload, discard_upload, load_upload, save_upload
from matrix.permissions import hq_required
from matrix.stores.labels import STORE_STATUS_LABELS

bp = Blueprint("imports", __name__, url_prefix="/imports")

FORMATS = {"csv": "text/csv",  # send_file adds "; charset=utf-8" to text types itself
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SHOWN_ROWS = 500  # a preview of 10,000 rows lists the first 500 of the chosen status; the counts cover all
FILTERS = ("all", "error", "warning", "new", "changed", "unchanged", "blank")


@bp.get("/")
@hq_required
def index():
    """Upload a file, or download an export or an empty template."""
    return render_template("imports/index.html", form=UploadForm(), kinds=cols.KINDS, kind_labels=cols.KIND_LABELS)


@bp.post("/")
@hq_required
def upload():
    """Read an uploaded file, keep it for the preview, and show the preview."""
    form = UploadForm()
    if form.validate_on_submit():
        try:
            data = form.file.data.read()
            table = read_table(data, form.file.data.filename)
            _require_header(form.kind.data, table)
        except DomainError as e:
            show_error(form, e, default_field="file")
        else:
            saved = save_upload(data, filename=form.file.data.filename, kind=form.kind.data, user_id=current_user.id)
            return redirect(url_for(".preview", token=saved.token))
    return render_template("imports/index.html", form=form, kinds=cols.KINDS, kind_labels=cols.KIND_LABELS), 422


@bp.get("/<token>")
@hq_required
def preview(token: str):
    """Show what importing the file would do, row by row; the operator may change the column mapping."""
    upload, table = _load(token)
    preview = preview_import(upload.kind, table, parse_mapping(upload.kind, len(table.headers), request.args),
                             filename=upload.filename, options=parse_options(request.args))
    return _render_preview(upload, table, preview)


@bp.post("/<token>/confirm")
@hq_required
def confirm(token: str):
    """Write every row of the file, or none; checks again against the data as it is now."""
    upload, table = _load(token)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    preview = preview_import(upload.kind, table, parse_mapping(upload.kind, len(table.headers), request.form),
                             filename=upload.filename, options=parse_options(request.form))
    confirmed = confirm_preview(
        preview, form, token=token, actor=current_user, write=lambda: apply_import(preview, current_user, geocoder=app_geocoder()),
        has_errors=_("The file has errors, so nothing was imported. Fix them and upload the file again."),
        changed=_("The data changed since the preview. Check the new preview and confirm again."))
    if not confirmed.ok:
        return _render_preview(upload, table, preview, status=confirmed.status)
    counts = confirmed.result
    flash(_("Imported %(file)s: %(new)d new, %(changed)d changed, %(unchanged)d unchanged.", file=upload.filename,
            new=counts["new"], changed=counts["changed"], unchanged=counts["unchanged"]), "success")
    return redirect(url_for(".index"))


@bp.post("/<token>/discard")
@hq_required
def discard(token: str):
    """Forget an uploaded file without importing it."""
    if DiscardForm().validate_on_submit():
        if not discard_upload(token, actor=current_user):
            abort(404)  # another user's upload, or none: as if it did not exist
        flash(_("The file was discarded; nothing was imported."), "success")
    return redirect(url_for(".index"))


@bp.get("/export")
@hq_required
def export():
    """Download every store, account or community as CSV or XLSX, in the importer's own columns."""
    kind, fmt = _kind_and_format()
    headers, rows = export_table(kind, current_user)
    return _send(headers, rows, fmt, f"storematrix-{kind}-{date.today():%Y%m%d}")


@bp.get("/template")
@hq_required
def template():
    """Download an empty sheet with the columns the importer knows."""
    kind, fmt = _kind_and_format()
    return _send(template_table(kind), [], fmt, f"storematrix-{kind}-template")


def _require_header(kind: str, table: Table) -> None:
    """A first row with no recognised column name is data or noise, not a header."""
    if not cols.guess_mapping(kind, table.headers):
        examples = "、".join(c.header for c in cols.COLUMNS[kind][:3])
        raise BadFile(_("No column name was recognised in the first row. The first row must hold the column "
                        "names, such as %(examples)s.", examples=examples))


def _load(token: str) -> tuple[Upload, Table]:
    upload = load_upload(token, current_user.id)
    if upload is None:
        abort(404)
    return upload, read_table(upload.read(), upload.filename)


def _render_preview(upload: Upload, table: Table, preview: ImportPreview, status: int = 200):
    show = request.values.get("show") or ("error" if preview.counts["error"] else "all")
    show = show if show in FILTERS else "all"
    rows = [r for r in preview.rows if show == "all" or r.status == show or (show == "warning" and r.warnings)]
    context = dict(upload=upload, preview=preview, counts=preview.counts, show=show, filters=FILTERS,
                   rows=rows[:SHOWN_ROWS], shown_total=len(rows), samples=_samples(table, preview),
                   mapping_args=_mapping_args(preview),
                   choices=cols.field_choices(preview.kind), kind_label=cols.KIND_LABELS[preview.kind],
                   label_of=lambda name: cols.label_of(preview.kind, name), show_value=_show_value,
                   form=ConfirmForm(fingerprint=preview.fingerprint(), formdata=None), discard_form=DiscardForm())
    return render_template("imports/preview.html", **context), status


def _mapping_args(preview: ImportPreview) -> dict:
    """The column mapping and the answers, carried by the preview's links and its confirm form."""
    args = {f"col-{i}": preview.mapping.get(i, "") for i in range(len(preview.headers))}
    if preview.options.get("brand_id"):
        args["brand"] = preview.options["brand_id"]
    return args


def _samples(table: Table, preview: ImportPreview) -> list[str]:
    """The first row's cells, short, and with anything that looks like a robot key masked."""
    first = table.rows[0] if table.rows else []
    out = []
    for i in range(len(preview.headers)):
        value = str(first[i]) if i < len(first) else ""
        if "key=" in value or preview.mapping.get(i) == "robot_webhook_url":
            out.append(mask_secret_url(value))
        else:
            out.append(value if len(value) <= 60 else value[:60] + "…")
    return out


def _show_value(name: str, value: str):
    """Enum codes in the preview as the words the rest of the app uses."""
    for labels in ((STORE_STATUS_LABELS | ACCOUNT_STATUS_LABELS) if name == "status" else None,
                   SCOPE_LABELS if name == "scope" else None, KIND_LABELS if name == "kind" else None):
        if labels and value in labels:
            return labels[value]
    if name == "active" and value in ("True", "False"):
        return _("Yes") if value == "True" else _("No")
    return value


def _kind_and_format() -> tuple[str, str]:
    kind, fmt = request.args.get("kind", ""), request.args.get("format", "csv")
    if kind not in cols.KINDS or fmt not in FORMATS:
        abort(404)
    return kind, fmt


def _send(headers: list[str], rows: list[list], fmt: str, stem: str):
    data = to_csv(headers, rows) if fmt == "csv" else to_xlsx(headers, rows)
    return send_file(io.BytesIO(data), mimetype=FORMATS[fmt], as_attachment=True, download_name=f"{stem}.{fmt}",
                     max_age=0)
