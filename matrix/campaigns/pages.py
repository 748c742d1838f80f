"""What the campaign pages show besides the campaign itself: week choices, scope facts, store lists."""
from datetime import timedelta

from flask_babel import get_locale
from sqlalchemy import select

from matrix.accounts.models import Platform
from matrix.auth.models import User
from matrix.content import scope
from matrix.content.models import Campaign, StoreScope
from matrix.extensions import db
from matrix.permissions import visible_stores
from matrix.regions.services import region_name
from matrix.stores.models import Store
from matrix.weeks import WeekError, current_week, iso_week, monday_of, week_label, week_string

MAX_WEEKS = 60        # weeks offered in the select; a longer campaign shows its first 60
DATALIST_STORES = 200  # a chain may have 10,000 stores: the code field suggests the first ones


def week_choices(campaign: Campaign, selected: str | None) -> tuple[list[tuple[str, str]], str]:
    """The ISO weeks the campaign touches, and the one to preselect (asked, current, or first)."""
    monday, last = monday_of(campaign.starts_on), monday_of(campaign.ends_on)
    choices = []
    while monday <= last and len(choices) < MAX_WEEKS:
        choices.append((week_string(monday), week_label(monday)))
        monday += timedelta(days=7)
    values = [value for value, _label in choices]
    try:
        asked = week_string(iso_week(selected)) if selected else None
    except WeekError:
        asked = None
    now = week_string(current_week())
    chosen = asked if asked in values else now if now in values else (values[0] if values else now)
    return choices, chosen


def campaign_facts(campaign: Campaign) -> dict:
    """Stores and accounts the campaign reaches now, and its scope and platforms in words."""
    stores, accounts = scope.planned_account_count(campaign)
    platform_ids = scope.campaign_platform_ids(campaign)
    locale = str(get_locale())
    platforms = [p.label(locale) for p in db.session.scalars(
        select(Platform).where(Platform.id.in_(platform_ids)).order_by(Platform.sort_order, Platform.id))]
    return {"stores": stores, "accounts": accounts, "platforms": platforms, "scope": scope_words(campaign)}


def scope_words(campaign: Campaign) -> list[str]:
    """The scope's values as people know them: city names, store codes, tags."""
    values = list(campaign.scope_values or [])
    if campaign.store_scope == StoreScope.CITY:
        return [region_name(code) for code in values]
    if campaign.store_scope == StoreScope.LIST:
        return list(db.session.scalars(select(Store.code).where(Store.id.in_(values[:50])).order_by(Store.code)))
    return values


def store_datalist(user: User) -> list[tuple[str, str]]:
    """(code, name) of the first stores the user sees, for a code field's suggestions."""
    query = visible_stores(user).with_only_columns(Store.code, Store.name).order_by(Store.code).limit(DATALIST_STORES)
    return db.session.execute(query).tuples().all()
