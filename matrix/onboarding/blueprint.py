"""The onboarding blueprint (a chain's first hour) and what its pages share."""
from flask import Blueprint

from matrix.onboarding.gaps import StoreGaps
from matrix.onboarding.naming import account_name, group_name, naming_values
from matrix.regions.services import region_name

bp = Blueprint("onboarding", __name__, url_prefix="/onboarding")
PER_PAGE = 50


@bp.context_processor
def _onboarding_globals():
    return {"region_name": region_name}


def suggested_names(rules, store: StoreGaps) -> dict:
    """Platform id -> the account name HQ's rule gives the store, and "group" -> its next group's name."""
    def values(platform: str = "", n: int = 1) -> dict:
        return naming_values(brand=store.brand, store_name=store.name, code=store.code, city_code=store.city_code,
                             district_code=store.district_code, platform=platform, n=n)
    names = {p.id: account_name(rules, values(p.name_zh)) for p in store.missing}
    names["group"] = group_name(rules, values(n=len(store.groups) + 1))
    return names
