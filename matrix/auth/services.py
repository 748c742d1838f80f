"""Sign-in with a throttle every web process shares, and user management."""
import math
import re
import secrets
from datetime import datetime
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from matrix.audit import services as audit
from matrix.auth import throttle
from matrix.auth.models import LoginAttempt, Role, User
from matrix.auth.passwords import check_password
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.models import utcnow
from matrix.stores.models import Store


class TooManyAttempts(DomainError):
    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Checked against when the name is unknown or inactive, with the hashing new passwords get, so the
    # answer takes as long as for a real user and does not tell which names exist.
    return generate_password_hash(secrets.token_hex(16))


def authenticate(username: str, password: str, *, remote_addr: str, now: datetime | None = None) -> User | None:
    """The user for these credentials, or None; after failures the next try must wait (see throttle)."""
    username, remote_addr, now = username.strip()[:80], (remote_addr or "")[:64], now or utcnow()
    wait = throttle.wait_s(username, remote_addr, now=now)
    if wait > 0:
        seconds = math.ceil(wait)
        raise TooManyAttempts(_("Too many failed sign-ins. Try again in %(seconds)d seconds.", seconds=seconds),
                              retry_after=seconds)
    user = db.session.scalar(select(User).where(User.username == username))
    matches = user.check_password(password) if user is not None else check_password_hash(_dummy_hash(), password)
    ok = matches and user is not None and user.active
    db.session.add(LoginAttempt(username=username, remote_addr=remote_addr, succeeded=ok, at=now))
    if ok:
        throttle.forget(username=username, remote_addr=remote_addr, now=now)
        audit.record(user, "sign_in", "user", entity_id=user.id, summary=username)
    db.session.commit()
    return user if ok else None


def sign_out(user: User) -> None:
    """Sign out by ending every session of the user so far: any copy of their cookies stops working."""
    user.session_version = (user.session_version or 0) + 1
    audit.record(user, "sign_out", "user", entity_id=user.id, summary=user.username)
    db.session.commit()


def validate_password(password: str, *, username: str = "", display_name: str = "") -> None:
    """Refuse passwords shorter than 10 characters, the commonest ones and ones holding the user's name."""
    check_password(password, username=username, display_name=display_name)


# Codes come pasted from Excel columns or typed: commas (also Chinese ones), spaces, new lines.
_CODE_SEPARATORS = re.compile(r"[\s,;，；、]+")
_CODE_CHUNK = 500  # stays far below every database's limit of bound parameters


def parse_store_codes(text: str | None) -> list[str]:
    """The distinct store codes in a pasted list, in the order given."""
    return list(dict.fromkeys(code for code in _CODE_SEPARATORS.split(text or "") if code))


def resolve_store_codes(text: str | None) -> list[int]:
    """The ids of the stores named in `text`; unknown codes raise an error that names them."""
    codes = parse_store_codes(text)
    found: dict[str, int] = {}
    for start in range(0, len(codes), _CODE_CHUNK):
        chunk = codes[start:start + _CODE_CHUNK]
        found.update(db.session.execute(select(Store.code, Store.id).where(Store.code.in_(chunk))).all())
    unknown = [code for code in codes if code not in found]
    if unknown:
        shown = ", ".join(unknown[:20]) + (" …" if len(unknown) > 20 else "")
        raise DomainError(_("These store codes were not found (%(count)d): %(codes)s.",
                            count=len(unknown), codes=shown), field="store_codes")
    return [found[code] for code in codes]


def _user_fields(user: User) -> dict:
    return {"username": user.username, "role": str(user.role), "active": user.active,
            "display_name": user.display_name, "mobile": user.mobile,
            "stores": sorted(s.code for s in user.stores)}


def _check_username(username: str, user_id: int | None = None) -> str:
    username = username.strip()
    if not username:
        raise DomainError(_("The username is required."), field="username")
    query = select(User.id).where(User.username == username)
    if user_id is not None:
        query = query.where(User.id != user_id)
    if db.session.scalar(query):
        raise DomainError(_("The username %(name)s is taken.", name=username), field="username")
    return username


def _load_stores(store_ids: list[int] | None) -> list:
    if not store_ids:
        return []
    return list(db.session.scalars(select(Store).where(Store.id.in_(store_ids)).order_by(Store.code)))


def create_user(*, username: str, password: str, role: Role, actor: User | None,
                display_name: str = "", mobile: str | None = None, locale: str = "zh",
                store_ids: list[int] | None = None, active: bool = True) -> User:
    """Add a user; store managers get the stores they run."""
    username = _check_username(username)
    validate_password(password, username=username, display_name=display_name)
    user = User(username=username, display_name=display_name or username, role=Role(role),
                mobile=mobile or None, locale=locale, active=active)
    user.set_password(password)
    if user.role == Role.STORE_MANAGER:
        user.stores = _load_stores(store_ids)
    db.session.add(user)
    db.session.flush()
    changes = _user_fields(user)
    del changes["username"]
    audit.record(actor, "create", "user", entity_id=user.id, summary=f"{username} ({role})", changes=changes)
    db.session.commit()
    return user


def _check_role_change(user: User, *, actor: User | None, role: Role, active: bool) -> None:
    """Nobody demotes or locks out themself, and the chain always keeps one active admin."""
    if actor is not None and user.id == actor.id and (role != user.role or not active):
        raise DomainError(_("You cannot change your own role or deactivate yourself."))
    if user.role != Role.ADMIN or not user.active or (role == Role.ADMIN and active):
        return
    # Lock every active admin row (the target too): two admins demoting each other at the
    # same moment then run one after the other and the second sees the first's change.
    admins = db.session.scalars(select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))
                                .with_for_update()).all()
    if not [admin_id for admin_id in admins if admin_id != user.id]:
        raise DomainError(_("%(name)s is the last active admin. Make another user admin first.",
                            name=user.username), field="role")


def update_user(user: User, *, actor: User, display_name: str, role: Role, active: bool,
                mobile: str | None, store_ids: list[int], password: str | None = None,
                username: str | None = None) -> None:
    """Change a user's name, role, stores, status or password; users are deactivated, never deleted."""
    role = Role(role)
    _check_role_change(user, actor=actor, role=role, active=active)
    new_username = _check_username(username, user.id) if username is not None else user.username
    if password:
        validate_password(password, username=new_username, display_name=display_name or user.display_name)
    before = _user_fields(user)
    user.username, user.display_name = new_username, display_name or new_username
    user.role, user.active, user.mobile = role, active, mobile or None
    user.stores = _load_stores(store_ids) if role == Role.STORE_MANAGER else []
    if password:
        user.set_password(password)
        user.session_version = (user.session_version or 0) + 1  # every session signed in with the old one ends
    changes = audit.diff(before, _user_fields(user))
    if password:
        changes["password"] = ["****", "****"]
    if changes:
        audit.record(actor, "update", "user", entity_id=user.id, summary=user.username, changes=changes)
    db.session.commit()


def update_own_account(user: User, *, display_name: str, locale: str,
                       current_password: str = "", new_password: str = "") -> dict:
    """Change one's own name, language or password; a new password needs the current one."""
    if new_password:
        if not user.check_password(current_password or ""):
            raise DomainError(_("The current password is not right."), field="current_password")
        validate_password(new_password, username=user.username, display_name=display_name or user.display_name)
    before = {"display_name": user.display_name, "locale": user.locale}
    user.display_name = display_name.strip() or user.username
    user.locale = locale
    changes = audit.diff(before, {"display_name": user.display_name, "locale": user.locale})
    if new_password:
        user.set_password(new_password)
        user.session_version = (user.session_version or 0) + 1  # other sessions end; the view keeps this one
        changes["password"] = ["****", "****"]
    if changes:
        audit.record(user, "update", "user", entity_id=user.id, summary=user.username, changes=changes)
    db.session.commit()
    return changes


def set_locale(user: User, locale: str) -> None:
    """Remember the user's interface language."""
    user.locale = locale
    db.session.commit()
