"""Forms for a store's groups. Values are checked by matrix.communities.values, shared with imports."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired, Length

from matrix.forms import StoreFields
from matrix.communities.models import CommunityKind
from matrix.communities.labels import KIND_LABELS


class SecretField(StringField):
    """A text input that never writes its value back into the page (the robot key is a secret)."""

    def _value(self) -> str:
        return ""


class CommunityForm(StoreFields, FlaskForm):
    name = StringField(_l("Group name"), validators=[InputRequired(), Length(max=120)])
    kind = SelectField(_l("Kind of group"), default=CommunityKind.WECOM.value,
                       choices=[(k.value, KIND_LABELS[k.value]) for k in CommunityKind])
    invite_link = StringField(_l("Invite link"), validators=[Length(max=500)])
    capacity = StringField(_l("Capacity"), default="200", validators=[Length(max=20)])
    members = StringField(_l("Members"), default="0", validators=[Length(max=20)])
    qr_upload = FileField(_l("QR code image"))
    robot_webhook_url = SecretField(_l("Group robot webhook"), validators=[Length(max=500)])
    wecom_chat_id = StringField(_l("WeCom chat id"), validators=[Length(max=64)])
    clear_webhook = BooleanField(_l("Remove the group robot"))
    active = BooleanField(_l("Active: the live code may hand out this group"), default=True)

    def raw(self, *, store_id: int | None, rotation_order: int) -> dict:
        """The fields as matrix.communities.values.clean_community reads them."""
        return {"store_id": store_id, "name": self.name.data, "kind": self.kind.data,
                "invite_link": self.invite_link.data, "capacity": self.capacity.data,
                "members": self.members.data, "robot_webhook_url": self.robot_webhook_url.data,
                "wecom_chat_id": self.wecom_chat_id.data,
                "active": bool(self.active.data), "rotation_order": rotation_order}


class MoveForm(FlaskForm):
    direction = HiddenField(validators=[AnyOf(["up", "down"])])
