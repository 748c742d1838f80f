from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired

from matrix.imports.headers import KIND_LABELS, KINDS


class UploadForm(FlaskForm):
    kind = SelectField(_l("What the file holds"), choices=[(k, KIND_LABELS[k]) for k in KINDS],
                       validators=[DataRequired()])
    file = FileField(_l("File (CSV or XLSX, up to 20 MB and 50,000 rows)"),
                     validators=[FileRequired(_l("Choose a file to upload."))])


class ConfirmForm(FlaskForm):
    """The mapping travels as col-<n> fields beside these; the fingerprint pins what the preview showed."""

    fingerprint = HiddenField(validators=[DataRequired()])


class DiscardForm(FlaskForm):
    pass
