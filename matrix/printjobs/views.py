"""HQ's documents: the PDFs the print worker makes, their progress, the download and cancelling."""
from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from matrix.extensions import db
from matrix.permissions import hq_required
from matrix.printjobs import services
from matrix.printjobs.labels import JOB_STATUS_LABELS
from matrix.printjobs.models import PrintJob

bp = Blueprint("prints", __name__, url_prefix="/prints")


@bp.context_processor
def _labels():
    return {"JOB_STATUS_LABELS": JOB_STATUS_LABELS}


def _job_or_404(job_id: int) -> PrintJob:
    return db.get_or_404(PrintJob, job_id)


@bp.get("/")
@hq_required
def index():
    """The newest documents, with their state."""
    return render_template("prints/index.html", jobs=services.recent_jobs())


@bp.get("/<int:job_id>")
@hq_required
def detail(job_id: int):
    """One document: how far it got (the page refreshes itself while it is being made), then the file."""
    job = _job_or_404(job_id)
    return render_template("prints/detail.html", job=job, file=services.job_file(job), form=FlaskForm())


@bp.get("/<int:job_id>/file")
@hq_required
def download(job_id: int):
    """The finished PDF, while it is kept."""
    job = _job_or_404(job_id)
    path = services.job_file(job)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="application/pdf", as_attachment=True,
                         download_name=f"storematrix-{job.id}.pdf", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:job_id>/cancel")
@hq_required
def cancel(job_id: int):
    """Stop a document that is waiting or being made."""
    job = _job_or_404(job_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if services.cancel_job(job, actor=current_user):
        flash(_("Cancelled."), "success")
    else:
        flash(_("This document is no longer being made."), "warning")
    return redirect(url_for("prints.detail", job_id=job.id))
