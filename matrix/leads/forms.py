"""Forms for working leads and for entering one by hand."""
import re

from flask_babel import lazy_gettext as _l, lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from matrix.forms import StoreFields
from matrix.geo import COORD_SYSTEM_LABELS, CoordSystem
from matrix.leads.models import LeadStatus
from matrix.leads.phones import PhoneError, normalise_phone
from matrix.leads.services import MAX_NOTE, MAX_REASON, STATUS_LABELS

# Mainland mobile numbers, and landlines with their area code (0571-88889999, 010 12345678).
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")


class StatusForm(FlaskForm):
    # New is where a lead starts, not a step back to.
    status = SelectField(_l("Status"), choices=[(s.value, STATUS_LABELS[s]) for s in LeadStatus
                                                if s != LeadStatus.NEW])
    lost_reason = StringField(_l("Reason (required when lost)"), validators=[Length(max=MAX_REASON)])


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Note"), validators=[InputRequired(), Length(max=MAX_NOTE)])


class FollowUpForm(FlaskForm):
    follow_up_at = DateTimeLocalField(_l("Follow up at"), format="%Y-%m-%dT%H:%M", validators=[Optional()])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: revealing a phone number is a POST."""


class ReassignForm(StoreFields, FlaskForm):
    """HQ only; the unrouted queue types the store code, the lead's page picks the store."""


class ExportForm(FlaskForm):
    include_phones = BooleanField(_l("Include phone numbers"))


class ManualLeadForm(StoreFields, FlaskForm):
    name = StringField(lazy_pgettext("person", "Name"), validators=[InputRequired(), Length(max=120)])
    phone = StringField(_l("Phone"), validators=[InputRequired(), Length(max=30)])
    city = StringField(_l("City"), validators=[Length(max=60)])
    district = StringField(_l("District"), validators=[Length(max=60)])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    lon = StringField(_l("Longitude"), validators=[Length(max=30)])
    lat = StringField(_l("Latitude"), validators=[Length(max=30)])
    coord_system = SelectField(_l("Coordinate system"), default=CoordSystem.GCJ02.value,
                               choices=[(s.value, label) for s, label in COORD_SYSTEM_LABELS.items()])
    note = TextAreaField(_l("Note"), validators=[Length(max=MAX_NOTE)])

    def validate_phone(self, field) -> None:
        try:
            number = normalise_phone(field.data)
        except PhoneError:
            number = ""
        if not (MOBILE.match(number) or LANDLINE.match(number)):
            raise ValidationError(_l("Enter a mainland mobile number (11 digits starting with 13–19) "
                                     "or a landline with its area code, such as 0571-88889999."))

    def validate_lat(self, field) -> None:
        if bool((self.lon.data or "").strip()) != bool((field.data or "").strip()):
            raise ValidationError(_l("Give both longitude and latitude, or neither."))
