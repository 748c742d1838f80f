"""Forms of the campaign screens. Checking the values is campaigns.values' job (via the services)."""
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from matrix.accounts.platforms import ordered_platforms
from matrix.content.models import DEFAULT_SLOTS, Campaign, ContentKind, StoreScope
from matrix.extensions import db
from matrix.plans.labels import CONTENT_KIND_LABELS
from matrix.regions import services as regions
from matrix.stores.models import Store

SCOPE_CHOICES = [(StoreScope.ALL.value, _l("All open stores")), (StoreScope.CITY.value, _l("Stores in these cities")),
                 (StoreScope.LIST.value, _l("These stores (by code)")), (StoreScope.TAG.value, _l("Stores with a tag"))]
KIND_CHOICES = [(k.value, CONTENT_KIND_LABELS[k.value]) for k in ContentKind]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _cadence_field(label):
    return IntegerField(label, default=0, validators=[Optional(), NumberRange(min=0, max=84)],
                        render_kw={"inputmode": "numeric", "min": 0, "max": 84})


class CampaignForm(FlaskForm):
    name = StringField(_l("Campaign name"), validators=[InputRequired(), Length(max=160)])
    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day"), validators=[InputRequired()])
    store_scope = SelectField(_l("Stores"), choices=SCOPE_CHOICES, default=StoreScope.ALL.value)
    cities = MultiCheckboxField(_l("Cities"), validate_choice=False)
    store_codes = TextAreaField(_l("Store codes"), render_kw={"rows": 3})
    tags = StringField(_l("Store tags"), validators=[Length(max=500)])
    platform_ids = MultiCheckboxField(_l("Platforms"), coerce=int, validate_choice=False)
    short_video = _cadence_field(_l("Short videos a week"))
    image_post = _cadence_field(_l("Image posts a week"))
    live = _cadence_field(_l("Live sessions a week"))
    trailer = _cadence_field(_l("Trailers a week"))
    slots = StringField(_l("Posting slots"), default=", ".join(DEFAULT_SLOTS), validators=[Length(max=200)])
    spacing_km = StringField(_l("Spacing (km)"), default="0", validators=[Length(max=10)],
                             render_kw={"inputmode": "decimal"})
    requires_approval = BooleanField(_l("Items stores add need HQ approval"))
    active = BooleanField(_l("Active"), default=True)

    def fill_choices(self, campaign: Campaign | None = None) -> None:
        """The chain's own cities (those with stores), and any city the campaign already names."""
        kept = list(campaign.scope_values or []) if campaign and campaign.store_scope == StoreScope.CITY else []
        codes = set(db.session.scalars(select(Store.city_code).where(Store.archived_at.is_(None)).distinct()))
        self.cities.choices = sorted(((code, regions.region_name(code)) for code in codes | set(kept)),
                                     key=lambda choice: choice[0])
        locale = str(get_locale())
        self.platform_ids.choices = [(p.id, p.label(locale) if p.enabled else _("%(name)s (disabled)",
                                                                                 name=p.label(locale)))
                                     for p in ordered_platforms()]

    def fill_from(self, campaign: Campaign) -> None:
        """Show a saved campaign; scope values go back to what people type (codes, not ids)."""
        values = list(campaign.scope_values or [])
        scope = campaign.store_scope
        self.process(data={
            "name": campaign.name, "starts_on": campaign.starts_on, "ends_on": campaign.ends_on,
            "store_scope": scope.value, "platform_ids": campaign.platform_ids, "slots": ", ".join(campaign.slots),
            "spacing_km": f"{campaign.spacing_km:g}", "requires_approval": campaign.requires_approval,
            "active": campaign.active, "cities": values if scope == StoreScope.CITY else [],
            "tags": ", ".join(values) if scope == StoreScope.TAG else "",
            "store_codes": "\n".join(db.session.scalars(select(Store.code).where(Store.id.in_(values))
                                                        .order_by(Store.code))) if scope == StoreScope.LIST else "",
            **{k.value: (campaign.cadence or {}).get(k.value, 0) for k in ContentKind}})

    @property
    def payload(self) -> dict:
        """Keyword arguments of services.create_campaign / update_campaign."""
        return {"name": self.name.data, "starts_on": self.starts_on.data, "ends_on": self.ends_on.data,
                "store_scope": self.store_scope.data, "cities": self.cities.data, "store_codes": self.store_codes.data,
                "tags": self.tags.data, "platform_ids": self.platform_ids.data,
                "cadence": {k.value: self[k.value].data or 0 for k in ContentKind}, "slots": self.slots.data,
                "spacing_km": (self.spacing_km.data or "0").strip(), "requires_approval": self.requires_approval.data,
                "active": self.active.data}


class TemplateForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default=ContentKind.SHORT_VIDEO.value)
    topic = StringField(_l("Topic"), validators=[InputRequired(), Length(max=200)])
    caption = TextAreaField(_l("Caption"), render_kw={"rows": 5})
    script = TextAreaField(_l("Shooting script or shot list"), render_kw={"rows": 8})
    hashtags = StringField(_l("Hashtags"), validators=[Length(max=500)])
    location_tag = StringField(_l("Location tag"), validators=[Length(max=200)])

    @property
    def payload(self) -> dict:
        return {name: self[name].data or "" for name in ("kind", "topic", "caption", "script", "hashtags",
                                                          "location_tag")}


class GenerateForm(FlaskForm):
    week = SelectField(_l("Week"), validate_choice=False)


class TagsForm(FlaskForm):
    store_code = StringField(_l("Store code"), validators=[InputRequired(), Length(max=40)],
                             render_kw={"list": "store-codes"})
    tags = StringField(_l("Tags"), validators=[Length(max=500)])


class ConfirmForm(FlaskForm):
    """An empty form: the CSRF token of a POST button."""
