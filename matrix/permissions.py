"""The one place that decides who may see and change what.

Every query for a store's data goes through a `visible_*` helper that takes the user;
objects outside the user's scope answer 404, as if they did not exist.
"""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from matrix.accounts.models import Account, AccountScope
from matrix.auth.models import Role, User
from matrix.stores.models import store_managers
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.stores.models import Store

HQ_ROLES = (Role.ADMIN, Role.OPERATOR)


def role_required(*roles: Role):
    """Signed in, and holding one of `roles`; otherwise 403."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


hq_required = role_required(*HQ_ROLES)


def managed_store_ids(user: User) -> Select:
    return select(store_managers.c.store_id).where(store_managers.c.user_id == user.id)


def visible_stores(user: User, *, include_archived: bool = False) -> Select[tuple[Store]]:
    query = select(Store)
    if not include_archived:
        query = query.where(Store.archived_at.is_(None))
    if not user.is_hq:
        query = query.where(Store.id.in_(managed_store_ids(user)))
    return query


def visible_accounts(user: User) -> Select[tuple[Account]]:
    """HQ sees every account; a manager sees the store accounts of the stores they run."""
    query = select(Account)
    if not user.is_hq:
        query = query.where(Account.scope == AccountScope.STORE,
                            Account.store_id.in_(managed_store_ids(user)))
    return query


def visible_communities(user: User) -> Select[tuple[Community]]:
    query = select(Community)
    if not user.is_hq:
        query = query.where(Community.store_id.in_(managed_store_ids(user)))
    return query


def visible_store_rows(user: User, model) -> Select:
    """Rows of any store's table (leads, content items, sessions ...): HQ sees all, a manager those of their stores."""
    query = select(model)
    if not user.is_hq:
        query = query.where(model.store_id.in_(managed_store_ids(user)))
    return query


def one_or_404(query: Select, model, object_id: int):
    """The object of `query` with this id, or 404 (outside the user's scope looks like not there)."""
    found = db.session.scalar(query.where(model.id == object_id))
    if found is None:
        abort(404)
    return found


def get_store_or_404(user: User, store_id: int, *, include_archived: bool = False) -> Store:
    return one_or_404(visible_stores(user, include_archived=include_archived), Store, store_id)


def get_account_or_404(user: User, account_id: int) -> Account:
    return one_or_404(visible_accounts(user), Account, account_id)


def get_community_or_404(user: User, community_id: int) -> Community:
    return one_or_404(visible_communities(user), Community, community_id)


def can_manage_store(user: User, store_id: int | None) -> bool:
    """May `user` change data of this store (a form field naming a store is checked here)."""
    if store_id is None:
        return user.is_hq
    if user.is_hq:
        return True
    return db.session.scalar(managed_store_ids(user).where(store_managers.c.store_id == store_id)) is not None
