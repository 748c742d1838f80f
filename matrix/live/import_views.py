"""Live session import from CSV/XLSX (HQ only, it books any account): upload, row-by-row preview, confirm."""
import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

from matrix.chain import chain_zone
from matrix.errors import DomainError
from matrix.forms import show_error
from matrix.imports.confirming import PreviewOutdated, confirm_preview
from matrix.imports.exports import to_csv, to_xlsx
from matrix.imports.readers import Table, read_table
from matrix.imports.uploads import Upload, discard_upload, load_upload, save_upload
from matrix.live import session_import as importer
from matrix.live import session_sheet as sheet
from matrix.live.blueprint import bp
from matrix.live.calendars import local_day
from matrix.permissions import hq_required
from matrix.weeks import week_string

SHOWN_ROWS = 500  # the counts cover every row
TEMPLATE_FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class SessionUploadForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX, up to 5,000 sessions)"),
                     validators=[FileRequired(_l("Choose a file to upload."))])


class SessionConfirmForm(FlaskForm):
    """The fingerprint pins what the preview showed; nearby overlaps need the box ticked."""

    fingerprint = HiddenField(validators=[DataRequired()])
    accept_nearby = BooleanField(_l("Schedule anyway: I accept the overlaps with nearby stores listed below"))


class DiscardForm(FlaskForm):
    pass


def _upload_page(form: SessionUploadForm, status: int = 200):
    return render_template("live/import.html", form=form, columns=sheet.COLUMNS, required=sheet.REQUIRED,
                           example=sheet.EXAMPLE, max_rows=sheet.MAX_ROWS), status


@bp.get("/import")
@hq_required
def import_sessions():
    """Upload a sheet of sessions."""
    return _upload_page(SessionUploadForm())


@bp.post("/import")
@hq_required
def import_upload():
    """Read the sheet, keep it for the preview (any web process may confirm it), and show the preview."""
    form = SessionUploadForm()
    if form.validate_on_submit():
        try:
            data = form.file.data.read()
            sheet.check_table(read_table(data, form.file.data.filename))
        except DomainError as e:
            show_error(form, e, default_field="file")
        else:
            saved = save_upload(data, filename=form.file.data.filename, kind=sheet.KIND, user_id=current_user.id)
            return redirect(url_for(".import_preview", token=saved.token))
    return _upload_page(form, 422)


@bp.get("/import/template")
@hq_required
def import_template():
    """An empty sheet with the columns the importer reads."""
    fmt = request.args.get("format", "csv")
    if fmt not in TEMPLATE_FORMATS:
        abort(404)
    headers = sheet.template_headers()
    data = to_csv(headers, []) if fmt == "csv" else to_xlsx(headers, [])
    return send_file(io.BytesIO(data), mimetype=TEMPLATE_FORMATS[fmt], as_attachment=True,
                     download_name=f"storematrix-live-sessions-template.{fmt}", max_age=0)


@bp.get("/import/<token>")
@hq_required
def import_preview(token: str):
    """What importing the sheet would schedule, row by row."""
    upload, table = _load(token)
    preview = importer.preview_session_import(table, actor=current_user, filename=upload.filename)
    return _preview(upload, preview, SessionConfirmForm(formdata=None))


@bp.post("/import/<token>/confirm")
@hq_required
def import_confirm(token: str):
    """Schedule every session of the sheet with its trailers, or none; checked again against the data now."""
    upload, table = _load(token)
    form = SessionConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    preview = importer.preview_session_import(table, actor=current_user, filename=upload.filename)
    confirmed = confirm_preview(
        preview, form, token=token, actor=current_user, write=lambda: _schedule(preview, accept_nearby=form.accept_nearby.data),
        has_errors=_("The file has errors, so nothing was scheduled. Fix them and upload the file again."),
        changed=_("The sessions changed since the preview. Check the new preview and confirm again."))
    if confirmed.status == 409:  # show what is there now
        preview = importer.preview_session_import(table, actor=current_user, filename=upload.filename)
    if not confirmed.ok:
        return _preview(upload, preview, form, confirmed.status)
    report = confirmed.result
    trailers = report.trailers
    message = _("%(file)s: %(n)d live sessions scheduled with %(trailers)d trailers.", file=upload.filename,
                n=len(report.sessions), trailers=trailers.added)
    if trailers.too_late:
        message += " " + _("%(n)d trailers were not created because their time has already passed.",
                           n=trailers.too_late)
    flash(message, "success")
    # Open the list on the week of the first imported session, not on this week (which may show none of them).
    first = min((s.starts_at for s in report.sessions), default=None)
    week = week_string(local_day(first, chain_zone())) if first else None
    return redirect(url_for("live.index", week=week))


def _schedule(preview: importer.SessionImportPreview, *, accept_nearby: bool):
    report = importer.schedule_preview(preview, actor=current_user, accept_nearby=accept_nearby)
    if not report.ok:  # someone booked a clashing session between the check and the write
        raise PreviewOutdated(_("Another session was booked meanwhile, so nothing was scheduled. "
                                "Check the new preview."))
    return report


@bp.post("/import/<token>/discard")
@hq_required
def import_discard(token: str):
    """Forget an uploaded sheet without scheduling anything."""
    if DiscardForm().validate_on_submit():
        if not discard_upload(token, actor=current_user):
            abort(404)  # another user's upload, or none: as if it did not exist
        flash(_("The file was discarded; nothing was scheduled."), "success")
    return redirect(url_for(".import_sessions"))


def _load(token: str) -> tuple[Upload, Table]:
    upload = load_upload(token, current_user.id)
    if upload is None or upload.kind != sheet.KIND:
        abort(404)
    return upload, read_table(upload.read(), upload.filename)


def _preview(upload: Upload, preview: importer.SessionImportPreview, form: SessionConfirmForm, status: int = 200):
    flagged = [r for r in preview.rows if r.errors or r.warnings]
    # Every row in file order; a long file with findings opens on them so none hides past the shown rows.
    show = request.args.get("show")
    if show not in ("all", "flagged"):
        show = "flagged" if flagged and len(preview.rows) > SHOWN_ROWS else "all"
    rows = flagged if show == "flagged" else preview.rows
    form.fingerprint.data = preview.fingerprint()  # after a 409 the confirm must pin the new preview
    return render_template("live/import_preview.html", upload=upload, preview=preview, counts=preview.counts, form=form,
                           rows=rows[:SHOWN_ROWS], shown_total=len(rows), show=show, flagged=len(flagged),
                           labels=sheet.LABELS, discard_form=DiscardForm()), status
