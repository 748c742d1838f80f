"""Create, change and remove accounts of the matrix. Each public call is one transaction."""
from flask_babel import gettext as _
from sqlalchemy import select

from matrix.accounts.models import Account, AccountScope
from matrix.accounts.values import AccountValues
from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.errors import DomainError, FieldErrors
from matrix.extensions import db

AUDITED_FIELDS = ["platform_id", "scope", "brand_id", "store_id", "handle", "display_name", "profile_url",
                  "poi_id", "followers", "status", "run_by"]


class InvalidAccount(FieldErrors):
    """A record's cleaned values with errors: every field's message, so a form shows them all at once."""

    def __init__(self, cleaned: AccountValues):
        super().__init__(cleaned.errors)
        self.cleaned = cleaned


def _columns(cleaned: AccountValues) -> dict:
    values = dict(cleaned.values)
    values["platform_id"] = values.pop("platform").id
    return values


def check_account_rules(values: dict, *, account_id: int | None = None) -> None:
    """Handles are unique per platform; a brand has one main account per platform."""
    same_handle = select(Account.id).where(Account.platform_id == values["platform_id"],
                                           Account.handle == values["handle"])
    if account_id:
        same_handle = same_handle.where(Account.id != account_id)
    if db.session.scalar(same_handle):
        raise DomainError(_("The handle %(handle)s is already registered on this platform.", handle=values["handle"]),
                          field="handle")
    if values["scope"] == AccountScope.BRAND:
        main = select(Account.id).where(Account.scope == AccountScope.BRAND, Account.brand_id == values["brand_id"],
                                        Account.platform_id == values["platform_id"])
        if account_id:
            main = main.where(Account.id != account_id)
        if db.session.scalar(main):
            raise DomainError(_("This brand already has a main account on this platform; "
                                "add a sub-brand for a second one."), field="platform")


def create_account(cleaned: AccountValues, *, actor: User) -> Account:
    """Register an account on a platform for a store or a brand."""
    if cleaned.errors:
        raise InvalidAccount(cleaned)
    values = _columns(cleaned)
    check_account_rules(values)
    account = Account(**values)
    db.session.add(account)
    db.session.flush()
    audit.record(actor, "create", "account", entity_id=account.id, store_id=account.store_id,
                 summary=account.handle, changes=audit.snapshot(account, AUDITED_FIELDS))
    db.session.commit()
    return account


def update_account(account: Account, cleaned: AccountValues, *, actor: User) -> dict:
    """Change an account; returns what changed."""
    if cleaned.errors:
        raise InvalidAccount(cleaned)
    values = _columns(cleaned)
    check_account_rules(values, account_id=account.id)
    before = audit.snapshot(account, AUDITED_FIELDS)
    for name, value in values.items():
        setattr(account, name, value)
    changes = audit.diff(before, audit.snapshot(account, AUDITED_FIELDS))
    if changes:
        audit.record(actor, "update", "account", entity_id=account.id, store_id=account.store_id,
                     summary=account.handle, changes=changes)
    db.session.commit()
    return changes


def delete_account(account: Account, *, actor: User) -> None:
    """Remove an account from the matrix (the audit log keeps what it was)."""
    audit.record(actor, "delete", "account", entity_id=account.id, store_id=account.store_id,
                 summary=account.handle, changes=audit.snapshot(account, AUDITED_FIELDS))
    db.session.delete(account)
    db.session.commit()
