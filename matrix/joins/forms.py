"""Forms of the WeCom connection page; secrets are never written back into the page."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Length

from matrix.communities.forms import SecretField


class ConnectionForm(FlaskForm):
    corp_id = StringField(_l("Corp id (企业ID)"), validators=[InputRequired(), Length(max=32)])
    secret = SecretField(_l("App secret"), validators=[Length(max=64)])
    callback_token = SecretField(_l("Callback token"), validators=[Length(max=32)])
    aes_key = SecretField(_l("Callback EncodingAESKey"), validators=[Length(max=43)])
    generate_callback_keys = BooleanField(_l("Generate a new callback token and EncodingAESKey"))
    auto_create_room = BooleanField(_l("Let WeCom open a new group when a code's groups are all full"), default=True)


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
