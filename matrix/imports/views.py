"""Placeholder, replaced by the feature's views."""
from flask import Blueprint

from matrix.permissions import role_required, hq_required  # noqa: F401

bp = Blueprint("imports", __name__, url_prefix="/imports")


@bp.get("/")
@hq_required
def index():
    """Placeholder."""
    return "imports"
