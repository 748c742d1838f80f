"""Forms of the first hour: naming rules, handing gaps over, the QR upload, and a store's own task list."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import HiddenField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length

from matrix.forms import optional_id


class NamingForm(FlaskForm):
    account_name_rule = StringField(_l("Account name rule"), validators=[Length(max=200)])
    group_name_rule = StringField(_l("Group name rule"), validators=[Length(max=200)])


class HandoverForm(FlaskForm):
    """The stores ticked on the list, or every store of the list's city that still lacks something."""

    store_ids = SelectMultipleField(_l("Stores"), coerce=int, validate_choice=False)
    city = HiddenField()
    everyone = HiddenField()  # "1": every store of the list (its city) still lacking something
    note = StringField(_l("Note for the managers"), validators=[Length(max=300)])


class QrUploadForm(FlaskForm):
    files = MultipleFileField(_l("QR images or a zip of them"),
                              render_kw={"accept": ".zip,image/png,image/jpeg,image/gif,image/webp"})


class StoreAccountForm(FlaskForm):
    """One missing platform account of a store, as its manager fills it on a phone."""

    platform_id = HiddenField(validators=[InputRequired()])
    handle = StringField(_l("Handle (account id on the platform)"), validators=[InputRequired(), Length(max=81)],
                         render_kw={"autocapitalize": "none", "autocomplete": "off", "spellcheck": "false"})
    profile_url = StringField(_l("Profile link"), validators=[Length(max=500)], render_kw={"inputmode": "url"})
    display_name = StringField(_l("Display name"), validators=[Length(max=160)])


class StoreGroupForm(FlaskForm):
    """The store's group: a new one, or the QR code and link of one customers cannot join yet."""

    community_id = HiddenField(filters=[optional_id])
    name = StringField(_l("Group name"), validators=[InputRequired(), Length(max=120)])
    invite_link = StringField(_l("Invite link"), validators=[Length(max=500)], render_kw={"inputmode": "url"})
    qr_upload = FileField(_l("QR code image"), render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp"})
