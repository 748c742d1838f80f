"""Forms of the broadcasts: HQ's reminder and digest settings, a store's switch for its community posts."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import AnyOf, Length


class BroadcastSettingsForm(FlaskForm):
    reminder_hours = StringField(_l("Remind the staff channel of a lead still new after (hours)"),
                                 validators=[Length(max=4)], render_kw={"inputmode": "numeric"})
    digest_on = BooleanField(_l("Send each store's daily digest to its staff channel"))
    digest_at = StringField(_l("Daily digest at"), validators=[Length(max=10)],
                            render_kw={"type": "time", "placeholder": "08:30"})


class PostsForm(FlaskForm):
    """The switch's button sends "on" or "off"."""

    posts = HiddenField(validators=[AnyOf(["on", "off"])])
