"""Many group QR images at once (HQ): a zip or several files, matched by file name, with a report per file."""
from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from matrix.errors import DomainError
from matrix.forms import show_error
from matrix.onboarding.blueprint import bp
from matrix.onboarding.forms import QrUploadForm
from matrix.onboarding.qr_batch import CREATED, REFUSED, SAVED, apply_qr_files, read_files
from matrix.permissions import hq_required


@bp.get("/qr")
@hq_required
def qr():
    """The upload form, and how files are matched to groups."""
    return render_template("onboarding/qr.html", form=QrUploadForm(), report=None)


@bp.post("/qr")
@hq_required
def qr_upload():
    """Save each uploaded image that names a group or store; say what happened to every file."""
    form = QrUploadForm()
    report = None
    uploads = [(f.filename or "", f.read()) for f in (form.files.data or []) if f and f.filename]
    if form.validate_on_submit() and not uploads:
        form.files.errors = [_("Choose the QR images, or a zip of them.")]
    elif form.validate_on_submit():
        try:
            report = apply_qr_files(read_files(uploads), actor=current_user)
        except DomainError as e:
            show_error(form, e, default_field="files")
    status = 422 if form.errors or form.files.errors else 200
    return render_template("onboarding/qr.html", form=form, report=report, SAVED=SAVED, CREATED=CREATED,
                           REFUSED=REFUSED), status
