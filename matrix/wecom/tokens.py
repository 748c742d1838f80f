"""The access token cached in the database, so every web process and worker shares one token.

Saving commits the session: callers use the client with no changes of their own pending (the sync
commits its claim before calling WeCom, and no web request calls WeCom inside its transaction).
"""
from collections.abc import Callable

from sqlalchemy import select, update

from matrix.extensions import db
from matrix.wecom.api import Token
from matrix.wecom.models import WecomConnection


class DatabaseTokens:
    """A TokenStore on the connection row; `seal`/`unseal` encrypt the token at rest."""

    def __init__(self, connection_id: int, *, seal: Callable[[str], bytes], unseal: Callable[[bytes], str]):
        self.connection_id, self.seal, self.unseal = connection_id, seal, unseal

    def load(self) -> Token | None:
        row = db.session.execute(select(WecomConnection.access_token_encrypted, WecomConnection.token_expires_at)
                                 .where(WecomConnection.id == self.connection_id)).one_or_none()
        if row is None or not row.access_token_encrypted or row.token_expires_at is None:
            return None
        return Token(self.unseal(row.access_token_encrypted), row.token_expires_at)

    def save(self, token: Token) -> None:
        db.session.execute(update(WecomConnection).where(WecomConnection.id == self.connection_id)
                           .values(access_token_encrypted=self.seal(token.value), token_expires_at=token.expires_at))
        db.session.commit()

    def discard(self, value: str) -> None:
        """Forget the token WeCom refused, unless another process has stored a newer one meanwhile."""
        current = self.load()
        if current is not None and current.value == value:
            db.session.execute(update(WecomConnection).where(WecomConnection.id == self.connection_id)
                               .values(access_token_encrypted=None, token_expires_at=None))
            db.session.commit()
