"""Forms for accounts and platforms. Values are checked by matrix.accounts.values, shared with imports."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from matrix.accounts.models import AccountScope, AccountStatus
from matrix.forms import StoreFields, optional_id
from matrix.accounts.labels import ACCOUNT_STATUS_LABELS, SCOPE_LABELS


class AccountForm(StoreFields, FlaskForm):
    # Store and brand lists depend on who asks: the view fills the choices. The brand is
    # checked by the view (404), not as an invalid choice (422).
    platform = SelectField(_l("Platform"), validators=[InputRequired()])
    scope = SelectField(_l("Kind of account"), default=AccountScope.STORE.value,
                        choices=[(s.value, SCOPE_LABELS[s.value]) for s in AccountScope])
    brand_id = SelectField(_l("Brand"), coerce=optional_id, validate_choice=False)
    handle = StringField(_l("Handle (account id on the platform)"), validators=[InputRequired(), Length(max=81)])
    display_name = StringField(_l("Display name"), validators=[Length(max=160)])
    profile_url = StringField(_l("Profile URL"), validators=[Length(max=500)])
    poi_id = StringField(_l("POI id"), validators=[Length(max=80)])
    followers = StringField(_l("Followers"), default="0", validators=[Length(max=20)])
    status = SelectField(_l("Status"), default=AccountStatus.INCUBATING.value,
                         choices=[(s.value, ACCOUNT_STATUS_LABELS[s.value]) for s in AccountStatus])
    run_by = StringField(_l("Run by"), validators=[Length(max=120)])

    def raw(self, *, scope: str, store_id: int | None, brand_id: int | None) -> dict:
        """The fields as matrix.accounts.values.clean_account reads them."""
        return {"platform": self.platform.data, "scope": scope, "store_id": store_id, "brand_id": brand_id,
                "handle": self.handle.data, "display_name": self.display_name.data,
                "profile_url": self.profile_url.data, "poi_id": self.poi_id.data,
                "followers": self.followers.data, "status": self.status.data, "run_by": self.run_by.data}


class PlatformForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=30)])
    name_zh = StringField(_l("Chinese name"), validators=[InputRequired(), Length(max=60)])
    name_en = StringField(_l("English name"), validators=[InputRequired(), Length(max=60)])
    url_hosts = TextAreaField(_l("URL hosts"), validators=[Length(max=1000)])
    sort_order = IntegerField(_l("Sort order"), default=0,
                              validators=[Optional(), NumberRange(min=-100000, max=100000)])
    enabled = BooleanField(_l("Enabled: new accounts can be registered on it"), default=True)

    @property
    def payload(self) -> dict:
        return {"code": self.code.data, "name_zh": self.name_zh.data, "name_en": self.name_en.data,
                "url_hosts": self.url_hosts.data, "sort_order": self.sort_order.data or 0,
                "enabled": self.enabled.data}
