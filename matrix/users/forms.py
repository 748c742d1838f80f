"""Forms for user administration and for one's own account."""
import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from matrix.auth import services
from matrix.auth.models import Role
from matrix.errors import DomainError
from matrix.auth.labels import ROLE_LABELS


def _digits_only(value: str | None) -> str | None:
    """Mobiles arrive as '138 0013 8000' or '138-0013-8000'; WeCom @mentions want digits."""
    return re.sub(r"[\s\-()]", "", value) if value else value


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)],
                           filters=[lambda v: v.strip() if v else v])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=120)])
    # A new user starts with the least access: an admin is something one chooses on purpose.
    role = SelectField(_l("Role"), choices=[(r.value, ROLE_LABELS[r.value]) for r in Role],
                       default=Role.STORE_MANAGER.value)
    mobile = StringField(_l("Mobile"), filters=[_digits_only], validators=[
        Optional(), Regexp(r"^\+?\d{5,19}$", message=_l("Enter the mobile number as digits."))])
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=200)])
    store_codes = TextAreaField(_l("Stores (store codes)"))

    def validate_store_codes(self, field) -> None:
        """Resolve the codes for store managers; other roles run no stores, so the field is ignored."""
        field.store_ids = []
        if self.role.data != Role.STORE_MANAGER.value:
            return
        try:
            field.store_ids = services.resolve_store_codes(field.data)
        except DomainError as e:
            raise ValidationError(e.message) from None

    def payload(self) -> dict:
        """Keyword arguments for create_user / update_user."""
        return {"username": self.username.data, "display_name": (self.display_name.data or "").strip(),
                "role": Role(self.role.data), "active": self.active.data, "mobile": self.mobile.data or None,
                "password": self.password.data or None,
                "store_ids": getattr(self.store_codes, "store_ids", [])}


class NewUserForm(UserForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class AccountForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=120)])
    locale = SelectField(_l("Language"))
    current_password = PasswordField(_l("Current password"), validators=[Optional(), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[Optional(), Length(max=200)])
    confirm_password = PasswordField(_l("New password again"), validators=[
        EqualTo("new_password", message=_l("The two new passwords differ."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = list(current_app.config["LANGUAGES"].items())

    def validate_current_password(self, field) -> None:
        if self.new_password.data and not field.data:
            raise ValidationError(_l("Enter your current password to set a new one."))
