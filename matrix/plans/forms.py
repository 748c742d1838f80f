"""Forms of the week view, the approval queue and the calendar feed. Values are checked by the services."""
from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length

from matrix.content.models import ContentItem, ContentKind
from matrix.forms import optional_id
from matrix.plans.labels import CONTENT_KIND_LABELS
from matrix.weeks import week_days


def day_choices(monday: date) -> list[tuple[str, str]]:
    """The seven days of the week as (ISO date, "Mon, Nov 23")."""
    return [(day.isoformat(), format_date(day, "EEE, MMM d")) for day in week_days(monday)]


def parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


class ItemTextForm(FlaskForm):
    topic = StringField(_l("Topic"), validators=[InputRequired(), Length(max=200)])
    caption = TextAreaField(_l("Caption"), validators=[Length(max=5000)])
    script = TextAreaField(_l("Script or shot list"), validators=[Length(max=5000)])
    hashtags = StringField(_l("Hashtags"), validators=[Length(max=500)])

    @property
    def texts(self) -> dict:
        return {"topic": self.topic.data or "", "caption": self.caption.data or "",
                "script": self.script.data or "", "hashtags": self.hashtags.data or ""}


class MoveForm(FlaskForm):
    # A day outside the week is refused by the service with a message, not by the choice list.
    day = SelectField(_l("Day"), validate_choice=False)
    slot = StringField(_l("Time"), validators=[InputRequired(), Length(max=5)])


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validate_choice=False, validators=[InputRequired()])
    post_url = StringField(_l("Post URL (when published)"), validators=[Length(max=500)])
    reason = StringField(_l("Reason (when skipped)"), validators=[Length(max=300)])


class NewItemForm(ItemTextForm):
    account_id = SelectField(_l("Account"), coerce=optional_id, validate_choice=False)
    kind = SelectField(_l("Kind"), default=ContentKind.SHORT_VIDEO.value,
                       choices=[(k.value, CONTENT_KIND_LABELS[k.value]) for k in ContentKind])
    day = SelectField(_l("Day"), validate_choice=False)
    slot = StringField(_l("Time"), default="18:00", validators=[InputRequired(), Length(max=5)])


class DecisionForm(FlaskForm):
    item_ids = SelectMultipleField(_l("Items"), coerce=int, validate_choice=False)
    decision = HiddenField(validators=[AnyOf(["approve", "reject"])])
    reason = StringField(_l("Reason for rejecting"), validators=[Length(max=300)])


class PrintPdfForm(FlaskForm):
    """A city (empty: the whole chain) and a week, for one PDF of their wall plans."""

    city = StringField(_l("City"), validators=[Length(max=12)])
    week = StringField(_l("Week"), validators=[InputRequired(), Length(max=10)])


class FeedForm(FlaskForm):
    """Only the CSRF token: making and revoking a feed are POSTs."""


def item_form_data(item: ContentItem) -> dict:
    return {"topic": item.topic, "caption": item.caption, "script": item.script, "hashtags": item.hashtags,
            "day": item.day.isoformat(), "slot": item.slot}
