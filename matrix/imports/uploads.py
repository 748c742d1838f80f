"""Keep an uploaded file between preview and confirm, keyed by a random token.

In the database, not the cookie session (too large) nor a local folder (the confirm may
land on another web process or machine). Only the uploader can read it back, for a day.
"""
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from matrix.extensions import db
from matrix.imports.models import ImportUpload
from matrix.models import utcnow

LIFETIME = timedelta(hours=24)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass
class Upload:
    token: str
    user_id: int
    kind: str
    filename: str
    created_at: datetime

    def read(self) -> bytes:
        return db.session.scalar(select(ImportUpload.data).where(ImportUpload.token == self.token)) or b""


def save_upload(data: bytes, *, filename: str, kind: str, user_id: int) -> Upload:
    """Store the bytes under a fresh token; only `user_id` can read them back."""
    purge_expired()
    row = ImportUpload(token=secrets.token_urlsafe(24), user_id=user_id, kind=kind, data=data,
                       filename=os.path.basename((filename or "").replace("\\", "/"))[:200], created_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return Upload(row.token, row.user_id, row.kind, row.filename, row.created_at)


def load_upload(token: str, user_id: int) -> Upload | None:
    """The upload, or None when the token is unknown, expired or another user's."""
    if not _TOKEN.match(token or ""):
        return None
    row = db.session.execute(
        select(ImportUpload.token, ImportUpload.user_id, ImportUpload.kind, ImportUpload.filename,
               ImportUpload.created_at)
        .where(ImportUpload.token == token, ImportUpload.user_id == user_id,
               ImportUpload.created_at > utcnow() - LIFETIME)).first()
    return Upload(*row) if row else None


def discard_upload(token: str, *, actor) -> bool:
    """Forget an upload. Its uploader may; an admin may too, audited; for anyone else it does not exist."""
    from matrix.audit import services as audit
    from matrix.auth.models import Role

    if not _TOKEN.match(token or ""):
        return False
    row = db.session.execute(select(ImportUpload.user_id, ImportUpload.kind, ImportUpload.filename)
                             .where(ImportUpload.token == token)).first()
    if row is None or (row.user_id != actor.id and actor.role != Role.ADMIN):
        return False
    if row.user_id != actor.id:
        audit.record(actor, "discard", "import_upload",
                     summary=f"{row.kind} upload {row.filename} of user #{row.user_id} discarded")
    db.session.execute(delete(ImportUpload).where(ImportUpload.token == token))
    db.session.commit()
    return True


def purge_expired(now: datetime | None = None) -> int:
    """Delete uploads older than a day; returns how many."""
    result = db.session.execute(delete(ImportUpload).where(ImportUpload.created_at < (now or utcnow()) - LIFETIME))
    db.session.commit()
    return result.rowcount or 0
