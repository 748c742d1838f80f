"""A session's values from a form or a sheet row, checked: the account, the time, the texts and the rule."""
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _

from matrix.accounts.models import Account, AccountStatus
from matrix.accounts.values import check_platform_url
from matrix.auth.models import User
from matrix.chain import chain_zone
from matrix.errors import Collector, DomainError
from matrix.extensions import db
from matrix.live.models import TrailerRule
from matrix.live.settings import default_rule
from matrix.live.timing import session_span
from matrix.permissions import visible_accounts

BOOKABLE = (AccountStatus.ACTIVE, AccountStatus.INCUBATING, AccountStatus.RESTRICTED)
LIMITS = {"title": 160, "theme": 2000, "anchor": 80}


@dataclass
class SessionValues:
    """Cleaned form or import values of one session."""

    account: Account
    starts_at: datetime
    ends_at: datetime
    title: str
    theme: str
    anchor: str
    rule_id: int | None
    key: object = None     # the import's row number, for its report
    accepted: list[int] = field(default_factory=list)
    live_url: str | None = None  # the live room link; None: not given (a sheet), "" : cleared


def _account(actor: User, account_id) -> Account:
    try:
        account_id = int(account_id)
    except (TypeError, ValueError):
        raise DomainError(_("Choose the account that goes live."), field="account_id") from None
    account = db.session.scalar(visible_accounts(actor).where(Account.id == account_id))
    if account is None:
        raise DomainError(_("Choose the account that goes live."), field="account_id")
    return account


def clean_session(values: dict, *, actor: User, account: Account | None = None,
                  current_rule_id: int | None = None) -> SessionValues:
    """Check a session's values; HQ may book any account, a manager only their stores' accounts.

    Trailer rules are HQ's: a manager gets the default rule, or keeps the rule HQ gave the session
    being edited (`current_rule_id`), since a rule can put trailers on the brand and neighbours' plans.
    An import passes `account`, loaded in bulk through visible_accounts(actor), instead of its id.
    """
    collect = Collector()  # every mistake of the form at once
    with collect.field("account_id"):
        account = account or _account(actor, values.get("account_id"))
        if account.status not in BOOKABLE:
            raise DomainError(_("The account %(account)s cannot go live: it is banned or retired.",
                                account="@" + account.handle), field="account_id")
    with collect.field("day"):
        day = _day(values.get("day"))
    starts_at = ends_at = None
    if not collect.failed("day"):
        with collect.field("start"):
            starts_at, ends_at = session_span(day, values.get("start") or "", values.get("end") or "", chain_zone())
    cleaned = {}
    for name, limit in LIMITS.items():
        text = " ".join((values.get(name) or "").split()) if name != "theme" else (values.get(name) or "").strip()
        with collect.field(name):
            if len(text) > limit:
                raise DomainError(_("This text is too long: at most %(n)d characters.", n=limit), field=name)
            if not text and name == "title":
                raise DomainError(_("The title is required."), field="title")
            if not text and name == "anchor":
                raise DomainError(_("Name the anchor: the staff member on camera."), field="anchor")
        cleaned[name] = text
    with collect.field("rule_id"):
        rule_id = _rule_id(values.get("rule_id"), actor, current_rule_id)
    live_url = None
    if "live_url" in values:
        with collect.field("live_url"):
            live_url = _live_url(values.get("live_url"), account)
    collect.check()
    return SessionValues(account, starts_at, ends_at, cleaned["title"], cleaned["theme"], cleaned["anchor"], rule_id,
                         live_url=live_url)


def _live_url(value, account: Account) -> str:
    """The live room customers open from the "we are live now" post: an address on the account's platform."""
    text = str(value or "").strip()
    if not text:
        return ""
    if len(text) > 500:
        raise DomainError(_("This text is too long: at most %(n)d characters.", n=500), field="live_url")
    try:
        return check_platform_url(text, account.platform)
    except DomainError as error:
        raise DomainError(error.message, field="live_url") from None


def _day(value) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise DomainError(_("“%(value)s” is not a date; write it like 2026-11-28.", value=value),
                              field="day") from None
    if not isinstance(value, date):
        raise DomainError(_("The day is required."), field="day")
    return value


def _rule_id(value, actor: User, current_rule_id: int | None) -> int | None:
    """None for the default rule; a manager may name only the default or the session's current rule."""
    if not value:
        return None
    try:
        rule_id = int(value)
    except (TypeError, ValueError):
        rule_id = None
    if rule_id is None or db.session.get(TrailerRule, rule_id) is None:
        raise DomainError(_("Choose a trailer rule."), field="rule_id")
    if not actor.is_hq and rule_id not in (default_rule().id, current_rule_id):
        raise DomainError(_("Headquarters chooses the trailer rule; your session uses the default one."),
                          field="rule_id")
    return rule_id
