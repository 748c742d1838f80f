"""Forms of the store page (the visitor's lead form) and of HQ's store-page settings."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from matrix.storefront.leads import NAME_MAX, PHONE_MAX, WANTS_MAX
from matrix.storefront.models import StorefrontSettings
from matrix.storefront.poster_texts import ACCENTS, SIZES
from matrix.storefront.settings import FIELDS, TEXT_LIMITS

# A field no person sees (hidden by the stylesheet, skipped by the tab key); a bot filling every field fills it.
HONEYPOT = "website"


class LeadForm(Form):
    """The visitor's form. A plain WTForms form: no session, so no Flask-WTF CSRF (tokens.py says why)."""

    name = StringField(_l("Your name (optional)"), validators=[Length(max=NAME_MAX)])
    phone = StringField(_l("Mobile phone"), validators=[Length(max=PHONE_MAX)])
    wants = TextAreaField(_l("What are you looking for?"), validators=[Length(max=WANTS_MAX)])
    consent = BooleanField()
    website = StringField(validators=[Length(max=200)])
    token = HiddenField(validators=[Length(max=80)])

    @property
    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())

    def values(self) -> dict:
        return {"name": self.name.data or "", "phone": self.phone.data or "", "wants": self.wants.data or "",
                "consent": bool(self.consent.data)}


class SettingsForm(FlaskForm):
    lead_form = BooleanField(_l("Show the lead form on store pages"))
    privacy_url = StringField(_l("Privacy notice (web address)"), validators=[Length(max=500)])
    privacy_text = TextAreaField(_l("Privacy notice (text, when there is no web address)"),
                                 validators=[Length(max=TEXT_LIMITS["privacy_text"])], render_kw={"rows": 8})
    consent_text = TextAreaField(_l("Consent line next to the box"), validators=[Length(max=TEXT_LIMITS["consent_text"])],
                                 render_kw={"rows": 2})
    poster_size = SelectField(_l("Poster size"), choices=list(SIZES.items()))
    poster_accent = SelectField(_l("Poster colour"), choices=list(ACCENTS.items()))
    poster_headline = TextAreaField(_l("Poster headline"), validators=[Length(max=TEXT_LIMITS["poster_headline"])],
                                    render_kw={"rows": 2, "class": "template-source"})
    poster_body = TextAreaField(_l("Poster text"), validators=[Length(max=TEXT_LIMITS["poster_body"])],
                                render_kw={"rows": 4, "class": "template-source"})
    poster_footer = TextAreaField(_l("Poster footer"), validators=[Length(max=TEXT_LIMITS["poster_footer"])],
                                  render_kw={"rows": 2, "class": "template-source"})

    @classmethod
    def for_settings(cls, settings: StorefrontSettings) -> "SettingsForm":
        return cls(data={name: getattr(settings, name) for name in FIELDS})

    def values(self) -> dict:
        return {name: self[name].data for name in FIELDS}


class PosterPdfForm(FlaskForm):
    """A city (empty: the whole chain) and a size, for one PDF of their posters."""

    city = StringField(_l("City"), validators=[Length(max=12)])
    size = SelectField(_l("Poster size"), choices=list(SIZES.items()))
