"""Reference files of campaign templates: HQ uploads and deletes them; stores download those of their items."""
from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from matrix.content.models import ContentTemplate
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.materials import services
from matrix.materials.models import Material
from matrix.permissions import hq_required, one_or_404

bp = Blueprint("materials", __name__, url_prefix="/materials")


class UploadForm(FlaskForm):
    file = FileField()


def _back(template: ContentTemplate):
    return redirect(url_for("campaigns.template_edit", campaign_id=template.campaign_id, template_id=template.id,
                            _anchor="materials"))


@bp.post("/templates/<int:template_id>")
@hq_required
def upload(template_id: int):
    """Add an image or a short video to a template's reference files."""
    template = db.get_or_404(ContentTemplate, template_id)
    form = UploadForm()
    if not form.validate_on_submit() or not form.file.data:
        flash(_("Choose a file to upload."), "error")
        return _back(template)
    limit = max(current_app.config["MATERIAL_MAX_IMAGE_BYTES"], current_app.config["MATERIAL_MAX_VIDEO_BYTES"])
    data = form.file.data.read(limit + 1)  # one byte more is enough to say "too large"
    try:
        material = services.add_material(template, actor=current_user, file_name=form.file.data.filename or "",
                                         data=data)
        flash(_("%(name)s added.", name=material.file_name), "success")
    except DomainError as e:
        flash(e.message, "error")
    return _back(template)


@bp.post("/<int:material_id>/delete")
@hq_required
def delete(material_id: int):
    """Remove a reference file."""
    material = db.get_or_404(Material, material_id)
    template = material.template
    if not FlaskForm().validate_on_submit():
        abort(400)
    services.delete_material(material, actor=current_user)
    flash(_("Deleted."), "success")
    return _back(template)


@bp.get("/<int:material_id>")
@login_required
def download(material_id: int):
    """The file, for HQ and for the stores whose items use its template (others: 404)."""
    material = one_or_404(services.visible_materials(current_user), Material, material_id)
    response = Response(material.data, mimetype=material.mime)
    inline = material.kind == "image" and request.args.get("inline") == "1"
    response.headers["Content-Disposition"] = services.content_disposition(material.file_name, inline=inline)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    return response
