"""The confirm step every import shares: the preview checked again, still the one shown, then written once."""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import flash
from flask_wtf import FlaskForm

from matrix.errors import DomainError
from matrix.forms import show_error
from matrix.imports.uploads import discard_upload


class PreviewOutdated(DomainError):
    """The data changed between the check and the write (another booking, say): nothing was written."""


@dataclass
class Confirmed:
    result: Any = None
    status: int = 200  # 422: the file has errors or the write was refused; 409: the data changed since the preview

    @property
    def ok(self) -> bool:
        return self.status == 200


def confirm_preview(preview, form: FlaskForm, *, token: str, actor, write: Callable[[], Any], has_errors: str,
                    changed: str) -> Confirmed:
    """Write `preview` if it is error-free and is the one the user saw (form.fingerprint); forget the upload then."""
    if not preview.ok:
        flash(has_errors, "error")
        return Confirmed(status=422)
    if form.fingerprint.data != preview.fingerprint():
        flash(changed, "warning")
        return Confirmed(status=409)
    try:
        result = write()
    except PreviewOutdated as e:
        flash(e.message, "error")
        return Confirmed(status=409)
    except DomainError as e:
        show_error(form, e)
        return Confirmed(status=422)
    discard_upload(token, actor=actor)
    return Confirmed(result)
