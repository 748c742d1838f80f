"""One public service call is one transaction: it commits what it did, or leaves nothing behind when it fails."""
from functools import wraps

from matrix.extensions import db


def transactional(service):
    """Roll back the session when `service` raises, so a refused change never lingers for the next commit."""
    @wraps(service)
    def run(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
    return run
