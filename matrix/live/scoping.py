"""Which live sessions a user may see: every one for HQ; a manager those hosted by their stores' accounts."""
from sqlalchemy import Select

from matrix.auth.models import User
from matrix.live.models import LiveSession
from matrix.permissions import one_or_404, visible_store_rows


def visible_sessions(user: User) -> Select[tuple[LiveSession]]:
    return visible_store_rows(user, LiveSession)


def get_session_or_404(user: User, session_id: int) -> LiveSession:
    return one_or_404(visible_sessions(user), LiveSession, session_id)
