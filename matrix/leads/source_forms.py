"""Forms of the lead-source admin pages and the lead import."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from matrix.leads.signatures import SCHEMES

KIND_CHOICES = [("generic", _l("Generic signed JSON")), ("douyin", _l("Douyin Open Platform")),
                ("oceanengine", _l("Ocean Engine leads")), ("kuaishou", _l("Kuaishou"))]
SCHEME_CHOICES = [("", _l("The kind's default"))] + [(name, scheme.label) for name, scheme in SCHEMES.items()]


class SecretInput(PasswordField):
    """Never echoes what was typed back into the page."""


class SourceForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default="generic")
    slug = StringField(_l("URL name"), validators=[Length(max=40)])
    secret = SecretInput(_l("Secret"), validators=[Length(max=200)])
    signature_scheme = SelectField(_l("Signature scheme"), choices=SCHEME_CHOICES, default="")
    store_code = StringField(_l("Store code"), validators=[Length(max=30)])
    field_map = TextAreaField(_l("Field map"), validators=[Length(max=4000)], render_kw={"rows": 6})
    active = BooleanField(_l("Active: the webhook takes leads"), default=True)


class RotateForm(FlaskForm):
    secret = SecretInput(_l("New secret"), validators=[Length(max=200)])


class LeadUploadForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(_l("Choose a file to upload."))])


class LeadConfirmForm(FlaskForm):
    fingerprint = HiddenField(validators=[DataRequired()])
    notify = BooleanField(_l("Notify the stores' groups of the new leads"), default=True)


class DiscardForm(FlaskForm):
    pass
