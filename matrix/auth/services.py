"""Sign-in with a throttle every web process shares, and user management."""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from matrix.audit import services as audit
from matrix.auth.models import LoginAttempt, Role, User
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.models import utcnow


class TooManyAttempts(DomainError):
    pass


def authenticate(username: str, password: str, *, remote_addr: str, max_failures: int,
                 window_minutes: int) -> User | None:
    """The user for these credentials, or None; refuses after too many recent failures."""
    username = username.strip()
    since = utcnow() - timedelta(minutes=window_minutes)
    failures = db.session.scalar(
        select(func.count()).select_from(LoginAttempt)
        .where(LoginAttempt.username == username, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since))
    if failures >= max_failures:
        raise TooManyAttempts(_("Too many failed sign-ins for this user. Try again in %(minutes)d minutes.",
                                minutes=window_minutes))
    user = db.session.scalar(select(User).where(User.username == username))
    ok = user is not None and user.active and user.check_password(password)
    db.session.add(LoginAttempt(username=username[:80], remote_addr=remote_addr[:64], succeeded=ok))
    if ok:
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.username == username,
                                                      LoginAttempt.succeeded.is_(False)))
        audit.record(user, "sign_in", "user", entity_id=user.id, summary=username)
    db.session.commit()
    return user if ok else None


def validate_password(password: str) -> None:
    if len(password) < 10:
        raise DomainError(_("The password must have at least 10 characters."), field="password")


def create_user(*, username: str, password: str, role: Role, actor: User | None,
                display_name: str = "", mobile: str | None = None, locale: str = "zh",
                store_ids: list[int] | None = None) -> User:
    """Add a user; store managers get the stores they run."""
    from matrix.stores.models import Store

    username = username.strip()
    if not username:
        raise DomainError(_("The username is required."), field="username")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise DomainError(_("The username %(name)s is taken.", name=username), field="username")
    validate_password(password)
    user = User(username=username, display_name=display_name or username, role=Role(role),
                mobile=mobile or None, locale=locale)
    user.set_password(password)
    if role == Role.STORE_MANAGER and store_ids:
        user.stores = list(db.session.scalars(select(Store).where(Store.id.in_(store_ids))))
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "create", "user", entity_id=user.id, summary=f"{username} ({role})",
                 changes={"role": str(role), "stores": [s.code for s in user.stores]})
    db.session.commit()
    return user


def update_user(user: User, *, actor: User, display_name: str, role: Role, active: bool,
                mobile: str | None, store_ids: list[int], password: str | None = None) -> None:
    """Change a user's role, stores, status or password."""
    from matrix.stores.models import Store

    if user.id == actor.id and (role != user.role or not active):
        raise DomainError(_("You cannot change your own role or deactivate yourself."))
    before = {"role": str(user.role), "active": user.active, "display_name": user.display_name,
              "mobile": user.mobile, "stores": sorted(s.code for s in user.stores)}
    user.display_name, user.role, user.active, user.mobile = display_name, Role(role), active, mobile or None
    stores = db.session.scalars(select(Store).where(Store.id.in_(store_ids))).all() if store_ids else []
    user.stores = list(stores) if user.role == Role.STORE_MANAGER else []
    if password:
        validate_password(password)
        user.set_password(password)
    after = {"role": str(user.role), "active": user.active, "display_name": user.display_name,
             "mobile": user.mobile, "stores": sorted(s.code for s in user.stores)}
    changes = audit.diff(before, after)
    if password:
        changes["password"] = ["****", "****"]
    audit.record(actor, "update", "user", entity_id=user.id, summary=user.username, changes=changes)
    db.session.commit()


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.commit()
