"""Placeholder, replaced by the feature's views."""
from flask import Blueprint

from matrix.permissions import role_required, hq_required  # noqa: F401

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@hq_required
def index():
    """Placeholder."""
    return "audit"
