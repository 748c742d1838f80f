"""The whitelisted variables a content template reads: plain str, int and date values, never objects."""
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from matrix.communities.services import CurrentGroup, current_groups
from matrix.extensions import db
from matrix.live.upcoming import next_sessions
from matrix.regions.services import region_name
from matrix.sandbox.engine import ContentEnvironment
from matrix.stores.models import Store, StoreStatus
from matrix.weeks import week_string

# name -> a sample value (the sandbox's tests render with it). These are the only names a template can
# read, besides its own set/for names. Screens show example_variables() instead: the chain's own values.
VARIABLES = {
    "brand": "栖木家居", "store_name": "栖木家居·杭州西湖店", "store_code": "HZ-001", "city": "杭州市",
    "district": "西湖区", "address": "文三路100号", "phone": "0571-88880000",
    "week": "2026-W48", "week_start": date(2026, 11, 23), "week_end": date(2026, 11, 29),
    "community_name": "栖木家居·杭州西湖店1群", "community_link": "https://work.weixin.qq.com/…",
    "next_live_session": "11月28日 19:00 冬季新品直播",  # empty when the store has no session that week
}


def variables_for(*, brand: str | None, store_name: str, store_code: str, city_code: str,
                  district_code: str | None, address: str | None, phone: str | None, week_monday: date,
                  community: CurrentGroup | None, next_live_session: str = "") -> dict:
    """The whitelisted variables from plain values (generation prefetches them in bulk)."""
    return {"brand": brand or "", "store_name": store_name, "store_code": store_code,
            "city": region_name(city_code), "district": region_name(district_code), "address": address or "",
            "phone": phone or "", "week": week_string(week_monday), "week_start": week_monday,
            "week_end": week_monday + timedelta(days=6), "community_name": community.name if community else "",
            "community_link": (community.invite_link or "") if community else "", "next_live_session": next_live_session}


def store_variables(store, week_monday: date) -> dict:
    """The whitelisted plain values a template may read for one store and week."""
    return variables_for(brand=store.brand.name if store.brand else None, store_name=store.name,
                         store_code=store.code, city_code=store.city_code, district_code=store.district_code,
                         address=store.address, phone=store.phone, week_monday=week_monday,
                         community=current_groups({store.id}).get(store.id),
                         next_live_session=next_sessions([store.id], week_monday).get(store.id, ""))


def first_store() -> Store | None:
    """The chain's first open store by code: the example a help box or a preview shows."""
    return db.session.scalar(select(Store).where(Store.archived_at.is_(None), Store.status == StoreStatus.OPEN)
                             .order_by(Store.code).limit(1))


def placeholder_variables(week_monday: date) -> dict:
    """Words that say what each variable holds, for a chain without stores yet (never another chain's data)."""
    return {"brand": _("Your brand"), "store_name": _("The store's name"), "store_code": _("Store code"),
            "city": _("City"), "district": _("District"), "address": _("Address"), "phone": "",
            "week": week_string(week_monday), "week_start": week_monday, "week_end": week_monday + timedelta(days=6),
            "community_name": _("The store's group"), "community_link": "", "next_live_session": ""}


def example_variables(week_monday: date) -> dict:
    """The values a help box or a preview shows: the chain's first open store's, else placeholders."""
    store = first_store()
    return store_variables(store, week_monday) if store is not None else placeholder_variables(week_monday)


# The sandbox content templates render in: it reads only VARIABLES (and its own set/for names).
CONTENT_ENV = ContentEnvironment(names=VARIABLES)
