"""Form pieces every feature shares, and the one way a DomainError is shown on a form."""
from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length

from matrix.errors import DomainError, field_errors


def optional_id(value) -> int | None:
    """Coerce a select's value to an id; an empty choice means none."""
    if value in (None, "", "None"):
        return None
    return int(value)


class StoreFields:
    """The store of a form: a select of the user's stores, or past a few hundred a code typed in.

    matrix.stores.picker.offer_stores fills and reads them; the macro store_field shows the one that fits. The
    store is checked against the user's scope there or by the view (404), not as an invalid choice (422).
    """

    store_id = SelectField(_l("Store"), coerce=optional_id, validate_choice=False)
    store_code = StringField(_l("Store"), validators=[Length(max=40)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: a POST from a confirm page or a one-click button."""


def preselect_only_choice(field: SelectField) -> None:
    """A manager of one store (or a chain of one brand) should not have to pick it."""
    real = [value for value, _label in field.choices if value != ""]
    if field.data is None and len(real) == 1:
        field.data = real[0]


def show_error(form: FlaskForm, error: DomainError, *, aliases: dict[str, str] | None = None,
               default_field: str | None = None) -> None:
    """Each message next to its field; one that names no field of the form goes to `default_field`, or is flashed.

    `aliases` maps a service's field name to the form's, where the two differ (cadence -> short_video).
    """
    for name, message in field_errors(error).items():
        name = (aliases or {}).get(name or "", name)
        field = form._fields.get(name) if name else None
        if field is None and default_field:
            field = form._fields[default_field]
        if field is not None:
            field.errors = list(field.errors) + [message]
        else:
            flash(message, "error")
