"""Forms of the staff channel pages: enter or replace the robot, answer which group a robot is in."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField
from wtforms.validators import AnyOf, Length

from matrix.communities.forms import SecretField


class StaffChannelForm(FlaskForm):
    robot_webhook_url = SecretField(_l("Robot webhook of the staff group"), validators=[Length(max=500)])
    in_staff_group = BooleanField(_l("This robot sits in the store's staff group: only staff are members, no "
                                     "customers"))


class AnswerForm(FlaskForm):
    """Which group is this robot in? The buttons send "staff" or "customers"."""

    audience = HiddenField(validators=[AnyOf(["staff", "customers"])])
