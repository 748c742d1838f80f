"""Forms of the live pages and the choices they offer. Values are checked by matrix.live.services."""
from flask_babel import get_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField

from matrix.accounts.models import Account, Platform
from matrix.auth.models import User
from matrix.extensions import db
from matrix.live.models import TrailerRule
from matrix.live.session_values import BOOKABLE
from matrix.permissions import visible_accounts
from matrix.stores.models import Store

# A context of their own: "Done" is also the plans' completion rate (完成率), here a session that is over.
SESSION_STATUS_LABELS = {"scheduled": lazy_pgettext("live session", "Scheduled"),
                         "live": lazy_pgettext("live session", "On air"),
                         "done": lazy_pgettext("live session", "Done"),
                         "cancelled": lazy_pgettext("live session", "Cancelled")}
ACCOUNT_CHOICE_LIMIT = 500  # a chain of 10,000 stores has ~20,000 accounts: HQ narrows by city or store first


def loose_id(value) -> int | None:
    """A select's value as an id; empty or garbage is None, and the service says what is missing."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


class SessionForm(FlaskForm):
    # Choices depend on who asks; the service refuses an account outside the user's scope.
    account_id = SelectField(_l("Host account"), coerce=loose_id, validate_choice=False)
    day = StringField(_l("Day"))
    start = StringField(_l("Starts"))
    end = StringField(_l("Ends"))
    title = StringField(_l("Title"))
    theme = TextAreaField(_l("Theme or products"))
    anchor = StringField(_l("Anchor (staff member on camera)"))
    rule_id = SelectField(_l("Trailer rule"), coerce=loose_id, validate_choice=False)
    live_url = StringField(_l("Live room link"))
    accept_nearby = BooleanField(_l("Accept these overlaps and schedule"))
    seen_overlaps = HiddenField()  # the nearby sessions the user was shown: accepting covers only those
    version = HiddenField()  # the session's version when the form was opened: a later change is not overwritten

    @property
    def values(self) -> dict:
        """The fields as clean_session reads them."""
        return {"account_id": self.account_id.data, "day": self.day.data or "", "start": self.start.data or "",
                "end": self.end.data or "", "title": self.title.data or "", "theme": self.theme.data or "",
                "anchor": self.anchor.data or "", "rule_id": self.rule_id.data, "live_url": self.live_url.data or ""}

    @property
    def seen(self) -> set[int]:
        return {int(p) for p in (self.seen_overlaps.data or "").split(",") if p.strip().isdigit()}


class CancelForm(FlaskForm):
    reason = StringField(_l("Reason (optional)"))


class StatusForm(FlaskForm):
    """The buttons send the new status; only CSRF is validated here."""
    status = HiddenField()


class ResultsForm(FlaskForm):
    peak_viewers = StringField(_l("Peak viewers"))
    new_followers = StringField(_l("New followers"))
    orders = StringField(_l("Orders"))
    leads = StringField(_l("Leads"))
    replay_url = StringField(_l("Replay URL"))

    @property
    def values(self) -> dict:
        return {name: getattr(self, name).data or "" for name in
                ("peak_viewers", "new_followers", "orders", "leads", "replay_url")}


def account_label(account: Account, locale: str) -> str:
    """"@handle · platform · store code", or the brand main account."""
    place = account.store.code if account.store else _("brand main account")
    return f"@{account.handle} · {account.platform.label(locale)} · {place}"


def bookable_accounts(user: User, *, store_id: int | None = None, city: str | None = None, q: str = "",
                      include: int | None = None) -> tuple[list[tuple[int, str]], bool]:
    """(id, label) of the accounts the user may book, narrowed by store, city or text; and whether it was capped.

    HQ sees brand main accounts too (first); `include` stays in the list (the chosen one after a failed post)."""
    query = (visible_accounts(user).join(Account.platform).outerjoin(Account.store)
             .options(contains_eager(Account.platform), contains_eager(Account.store))
             .where(Account.status.in_(BOOKABLE)))
    if store_id:
        query = query.where(Account.store_id == store_id)
    if city:
        query = query.where(Store.city_code == city)
    if q := q.strip():
        query = query.where(or_(*(column.icontains(q, autoescape=True)  # % and _ typed are literal
                                  for column in (Account.handle, Store.code, Store.name))))
    ordered = query.order_by(Account.scope, Store.code, Platform.sort_order, Account.handle)
    accounts = list(db.session.scalars(ordered.limit(ACCOUNT_CHOICE_LIMIT + 1)))
    capped = len(accounts) > ACCOUNT_CHOICE_LIMIT
    accounts = accounts[:ACCOUNT_CHOICE_LIMIT]
    if include and include not in {a.id for a in accounts}:
        extra = db.session.scalar(visible_accounts(user).where(Account.id == include, Account.status.in_(BOOKABLE)))
        if extra is not None:
            accounts.insert(0, extra)
    locale = str(get_locale())
    return [(a.id, account_label(a, locale)) for a in accounts], capped


def rule_choices(user: User, current_rule_id: int | None = None) -> tuple[list[tuple[int | str, str]], int | None]:
    """The trailer rules (the default first and marked) and the default's id; none yet: the built-in default.

    Rules are HQ's: a manager is offered the default and the rule HQ gave the session being edited.
    """
    rules = db.session.scalars(select(TrailerRule).order_by(TrailerRule.is_default.desc(), TrailerRule.name)).all()
    if rules and not user.is_hq:
        default_id = next((r.id for r in rules if r.is_default), rules[0].id)
        rules = [r for r in rules if r.id in (default_id, current_rule_id)]
    if not rules:
        return [("", _("Standard trailers (default)"))], None
    default = next((r.id for r in rules if r.is_default), rules[0].id)
    return [(r.id, _("%(name)s (default)", name=r.name) if r.id == default else r.name) for r in rules], default


def fill_session_choices(form: SessionForm, user: User, *, store_id: int | None = None, city: str | None = None,
                         q: str = "", current_rule_id: int | None = None) -> bool:
    """Fill the account and rule lists; True when the account list was capped."""
    accounts, capped = bookable_accounts(user, store_id=store_id, city=city, q=q, include=form.account_id.data)
    form.account_id.choices = [("", _("Choose an account"))] + accounts
    form.rule_id.choices, default = rule_choices(user, current_rule_id)
    if form.rule_id.data is None and default is not None and not form.is_submitted():
        form.rule_id.data = default
    if form.account_id.data is None and len(accounts) == 1 and not form.is_submitted():
        form.account_id.data = accounts[0][0]
    return capped
