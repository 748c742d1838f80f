"""Forms of the trailer rules and the live settings. Checking the values is live.settings' job."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, StringField, TextAreaField
from wtforms.validators import Length

from matrix.live.models import DEFAULT_CAPTION, DEFAULT_HASHTAGS, DEFAULT_STEPS, DEFAULT_TOPIC, TrailerRule
from matrix.live.settings import MAX_STEPS, TEXT_LIMITS
from matrix.live.timing import offset_text

STEP_ROWS = 6  # rows shown; a rule with more steps shows them all, up to MAX_STEPS
TEXT_FIELDS = ("topic", "caption", "hashtags")


class StepForm(Form):
    """One offset row; no CSRF of its own (the rule form's token covers it)."""

    offset = StringField(_l("Before the start"), validators=[Length(max=20)],
                         render_kw={"placeholder": "30m", "size": 10})
    brand = BooleanField(_l("Brand main account posts"))
    siblings = BooleanField(_l("Sibling stores post"))
    community = BooleanField(_l("Also to the store's customer groups"))


class RuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=120)])
    is_default = BooleanField(_l("Default rule: sessions without a rule of their own use it"))
    steps = FieldList(FormField(StepForm), min_entries=0, max_entries=MAX_STEPS)
    # Text, not number fields: the service reads "0.5" and "０.5" and says what is wrong in its own words.
    sibling_km = StringField(_l("Sibling stores within (km)"), validators=[Length(max=10)],
                             render_kw={"inputmode": "decimal"})
    max_siblings = StringField(_l("At most this many sibling stores (the nearest)"), validators=[Length(max=4)],
                               render_kw={"inputmode": "numeric"})
    other_platforms = BooleanField(_l("Also accounts on other platforms than the host account's"))
    topic = TextAreaField(_l("Topic"), validators=[Length(max=TEXT_LIMITS["topic"])],
                          render_kw={"rows": 2, "class": "template-source"})
    caption = TextAreaField(_l("Caption"), validators=[Length(max=TEXT_LIMITS["caption"])],
                            render_kw={"rows": 5, "class": "template-source"})
    hashtags = TextAreaField(_l("Hashtags"), validators=[Length(max=TEXT_LIMITS["hashtags"])],
                             render_kw={"rows": 2, "class": "template-source"})

    @classmethod
    def for_rule(cls, rule: TrailerRule | None) -> "RuleForm":
        """A form showing a saved rule, or a new one with the standard steps and texts."""
        if rule is None:
            data = {"name": "", "is_default": False, "steps": DEFAULT_STEPS, "sibling_km": "0", "max_siblings": "5",
                    "other_platforms": False, "topic": DEFAULT_TOPIC, "caption": DEFAULT_CAPTION,
                    "hashtags": DEFAULT_HASHTAGS}
        else:
            data = {"name": rule.name, "is_default": rule.is_default, "steps": rule.steps or [],
                    "sibling_km": f"{rule.sibling_km:g}", "max_siblings": str(rule.max_siblings),
                    "other_platforms": rule.other_platforms, "topic": rule.topic, "caption": rule.caption,
                    "hashtags": rule.hashtags}
        steps = [{"offset": offset_text(int(s["minutes"])), "brand": bool(s.get("brand")),
                  "siblings": bool(s.get("siblings")), "community": bool(s.get("community"))} for s in data["steps"]]
        rows = min(MAX_STEPS, max(STEP_ROWS, len(steps) + 2))
        data["steps"] = steps + [{"offset": "", "brand": False, "siblings": False, "community": False}] * (
            rows - len(steps))
        return cls(formdata=None, data=data)

    def values(self) -> dict:
        """What settings.save_rule takes; blank step rows are dropped there."""
        return {"name": self.name.data, "is_default": self.is_default.data,
                "steps": [{"offset": row.offset.data, "brand": row.brand.data, "siblings": row.siblings.data,
                           "community": row.community.data} for row in self.steps],
                "sibling_km": (self.sibling_km.data or "").strip(),
                "max_siblings": (self.max_siblings.data or "").strip(),
                "other_platforms": self.other_platforms.data,
                **{name: self[name].data or "" for name in TEXT_FIELDS}}


class SettingsForm(FlaskForm):
    nearby_km = StringField(_l("Nearby distance for the overlap warning (km)"), validators=[Length(max=10)],
                            render_kw={"inputmode": "decimal"})
    quiet_start = StringField(_l("Quiet hours start"), validators=[Length(max=10)],
                              render_kw={"type": "time", "placeholder": "22:00"})
    quiet_end = StringField(_l("Quiet hours end"), validators=[Length(max=10)],
                            render_kw={"type": "time", "placeholder": "08:00"})
    evening_slot = StringField(_l("Evening slot"), validators=[Length(max=10)],
                               render_kw={"type": "time", "placeholder": "20:00"})
