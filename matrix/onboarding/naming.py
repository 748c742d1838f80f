"""HQ's naming rules: `{brand}·{city}{district}店` filled for each store (and platform, and group number)."""
import string

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.errors import Collector, DomainError
from matrix.extensions import db
from matrix.onboarding.models import NamingRules
from matrix.regions.services import region_name, short_name
from matrix.transaction import transactional

# Placeholder -> what it holds; the only names a rule may use.
PLACEHOLDERS = {"brand": _l("the brand"), "city": _l("the city, short (杭州)"),
                "district": _l("the district, short (西湖)"), "store": _l("the store's name"),
                "code": _l("the store code"), "platform": _l("the platform (抖音)"), "n": _l("the group's number")}
MAX_RULE = 120
LIMITS = {"account_name_rule": 160, "group_name_rule": 120}  # what the account and group names can hold
FIELDS = ["account_name_rule", "group_name_rule"]


def naming_rules() -> NamingRules:
    """The chain's rules, created with the defaults the first time they are read."""
    row = db.session.scalar(select(NamingRules).order_by(NamingRules.id).limit(1))
    if row is None:
        row = NamingRules()
        db.session.add(row)
        db.session.flush()
    return row


def check_rule(text: str, *, field: str) -> str:
    """A rule's text, or a DomainError naming what is wrong (an unknown {name}, a lone brace, too long)."""
    text = " ".join((text or "").split())
    if not text:
        raise DomainError(_("Write a rule, such as {brand}·{city}{district}店."), field=field)
    if len(text) > MAX_RULE:
        raise DomainError(_("A rule has %(n)d characters at most.", n=MAX_RULE), field=field)
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise DomainError(_("A brace is not closed: write placeholders as {brand}."), field=field) from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise DomainError(_("“{%(name)s}” is not a placeholder; use %(names)s.", name=name,
                                names=", ".join("{%s}" % p for p in PLACEHOLDERS)), field=field)
    return text


def render_rule(rule: str, values: dict) -> str:
    """The rule filled with one store's values (a rule that no longer checks gives its text as it is)."""
    try:
        return string.Formatter().vformat(rule, (), {name: values.get(name, "") for name in PLACEHOLDERS})
    except (ValueError, KeyError, IndexError):
        return rule


def naming_values(*, brand: str | None, store_name: str, code: str, city_code: str | None,
                  district_code: str | None, platform: str = "", n: int = 1) -> dict:
    """A store's values for the placeholders."""
    return {"brand": brand or "", "city": short_name(region_name(city_code)),
            "district": short_name(region_name(district_code)) if district_code else "", "store": store_name,
            "code": code, "platform": platform, "n": n}


def account_name(rules: NamingRules, values: dict) -> str:
    """The name HQ's rule gives a store's missing account (as long as an account's name may be)."""
    return render_rule(rules.account_name_rule, values)[:LIMITS["account_name_rule"]]


def group_name(rules: NamingRules, values: dict) -> str:
    """The name HQ's rule gives a store's next group (as long as a group's name may be)."""
    return render_rule(rules.group_name_rule, values)[:LIMITS["group_name_rule"]]


@transactional
def save_naming_rules(*, account_name_rule: str, group_name_rule: str, actor: User) -> NamingRules:
    """Change the naming rules; every field's mistake is said at once."""
    collect = Collector()
    checked = {}
    for name, text in (("account_name_rule", account_name_rule), ("group_name_rule", group_name_rule)):
        with collect.field(name):
            checked[name] = check_rule(text, field=name)
    collect.check()
    row = naming_rules()
    before = audit.snapshot(row, FIELDS)
    row.account_name_rule, row.group_name_rule = checked["account_name_rule"], checked["group_name_rule"]
    changes = audit.diff(before, audit.snapshot(row, FIELDS))
    if changes:
        audit.record(actor, "update", "naming_rules", entity_id=row.id, summary=_l("Naming rules changed."),
                     changes=changes)
    db.session.commit()
    return row
