"""The gap sheet: exactly the accounts and groups stores still lack, pre-filled, in the importer's own columns.

HQ fills the empty cells (handles, links) and uploads the sheet as it is: the account and community imports
read it back, and skip the rows still left blank (the 待补 column marks a gap sheet).
"""
from matrix.auth.models import User
from matrix.communities.models import CommunityKind
from matrix.imports.exports import KIND_WORDS
from matrix.imports.headers import COLUMNS, GAP_HEADER
from matrix.onboarding.gaps import StoreGaps, chain_gaps
from matrix.onboarding.naming import account_name, group_name, naming_rules, naming_values
from matrix.regions.services import region_name

# Columns only people read (the importers ignore them): which store it is, and the QR file to name.
STORE_NAME, CITY, QR_FILE = "门店名称", "城市", "二维码文件名"


def _header(kind: str, name: str) -> str:
    return next(c.header for c in COLUMNS[kind] if c.field == name)


def account_gap_table(user: User, *, city: str | None = None) -> tuple[list[str], list[list]]:
    """One row per store and enabled platform without an account, named by HQ's rule."""
    rules = naming_rules()
    header = [GAP_HEADER, _header("accounts", "store_code"), STORE_NAME, CITY, _header("accounts", "platform"),
              _header("accounts", "scope"), _header("accounts", "display_name"), _header("accounts", "handle"),
              _header("accounts", "profile_url"), _header("accounts", "poi_id")]
    rows = []
    for store in chain_gaps(user, city=city):
        for platform in store.missing:
            name = account_name(rules, _values(store, platform.name_zh))
            rows.append([f"缺{platform.name_zh}账号", store.code, store.name, region_name(store.city_code),
                         platform.name_zh, "门店号", name, "", "", ""])
    return header, rows


def community_gap_table(user: User, *, city: str | None = None) -> tuple[list[str], list[list]]:
    """One row per store without a group (named by HQ's rule) and per group customers cannot join yet."""
    rules = naming_rules()
    header = [GAP_HEADER, _header("communities", "store_code"), STORE_NAME, CITY, _header("communities", "name"),
              _header("communities", "kind"), _header("communities", "invite_link"), QR_FILE]
    rows = []
    for store in chain_gaps(user, city=city):
        base = [store.code, store.name, region_name(store.city_code)]
        if store.needs_group:
            name = group_name(rules, _values(store, "", n=len(store.groups) + 1))
            rows.append(["缺社群", *base, name, KIND_WORDS[CommunityKind.WECOM], "", f"{store.code}.png"])
        elif store.group_gap:
            for group in store.groups_without_code:
                rows.append(["缺二维码或链接", *base, group.name, "", "", f"{store.code}.png"])
    return header, rows


def _values(store: StoreGaps, platform: str, n: int = 1) -> dict:
    return naming_values(brand=store.brand, store_name=store.name, code=store.code, city_code=store.city_code,
                         district_code=store.district_code, platform=platform, n=n)
