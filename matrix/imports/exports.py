"""Write stores, accounts and communities as sheets the importer reads back unchanged."""
import csv
import io
import re

from sqlalchemy.orm import joinedload, selectinload

from matrix import geo
from matrix.accounts.models import Account, AccountScope, AccountStatus
from matrix.auth.models import User
from matrix.communities.models import Community, CommunityKind
from matrix.extensions import db
from matrix.imports.headers import export_headers
from matrix.permissions import visible_accounts, visible_communities, visible_stores
from matrix.regions import services as regions
from matrix.stores.models import Store, StoreStatus

# Words from each values module's list, so every exported status imports back as itself.
STORE_STATUS_WORDS = {StoreStatus.PLANNED: "筹备", StoreStatus.OPEN: "营业",
                      StoreStatus.CLOSED_TEMPORARILY: "暂停营业", StoreStatus.CLOSED: "关闭"}
ACCOUNT_STATUS_WORDS = {AccountStatus.INCUBATING: "孵化中", AccountStatus.ACTIVE: "运营中",
                        AccountStatus.RESTRICTED: "限流", AccountStatus.BANNED: "封禁", AccountStatus.RETIRED: "停用"}
SCOPE_WORDS = {AccountScope.BRAND: "品牌主号", AccountScope.STORE: "门店号"}
KIND_WORDS = {CommunityKind.WECOM: "企业微信群", CommunityKind.WECHAT: "微信群"}
# The robot webhook is a secret: it never leaves in a file (the importer keeps it when the column is absent).
NOT_EXPORTED = {"communities": ("robot_webhook_url",)}
COORD_SYSTEM_WORD = "GCJ-02"
# Excel runs a cell starting with one of these as a formula; an apostrophe makes it text (the reader drops it).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Digits a spreadsheet would turn into a number, losing digits past 15 or leading zeros (POI ids, codes):
# a CSV writes them as ="…", which Excel and WPS open as text (the reader unwraps it); an XLSX as text cells.
LONG_DIGITS = re.compile(r"^(?:\d{12,}|0\d+)$")


def export_table(kind: str, user: User) -> tuple[list[str], list[list]]:
    """The header and rows of every record of `kind` the user can see."""
    fields = export_headers(kind, without=NOT_EXPORTED.get(kind, ()))
    rows = {"stores": _store_rows, "accounts": _account_rows, "communities": _community_rows}[kind](user)
    return [header for _field, header in fields], [[row.get(name) for name, _h in fields] for row in rows]


def template_table(kind: str) -> list[str]:
    """The header of an empty sheet for `kind` (with every column the importer knows)."""
    return [header for _field, header in export_headers(kind)]


def _store_rows(user: User):
    query = (visible_stores(user).options(joinedload(Store.brand), selectinload(Store.managers))
             .order_by(Store.code))
    for store in db.session.scalars(query):
        lon = lat = None
        if store.has_point:
            point = geo.from_wgs84(store.lon, store.lat, geo.CoordSystem.GCJ02)
            lon, lat = round(point.lon, 7), round(point.lat, 7)
        yield {"code": store.code, "name": store.name, "brand": store.brand.name if store.brand else "",
               "city": regions.region_name(store.city_code), "district": regions.region_name(store.district_code),
               "address": store.address, "lon": lon, "lat": lat, "coord_system": COORD_SYSTEM_WORD,
               "status": STORE_STATUS_WORDS[store.status], "service_radius_km": store.service_radius_km,
               "opened_on": store.opened_on.isoformat() if store.opened_on else "", "phone": store.phone or "",
               "opening_hours": store.opening_hours or "",
               "managers": ", ".join(sorted(u.username for u in store.managers))}


def _account_rows(user: User):
    query = (visible_accounts(user).options(joinedload(Account.platform), joinedload(Account.store),
                                            joinedload(Account.brand))
             .order_by(Account.platform_id, Account.scope, Account.handle))
    for account in db.session.scalars(query):
        yield {"platform": account.platform.name_zh, "scope": SCOPE_WORDS[account.scope],
               "store_code": account.store.code if account.store else "",
               "brand": account.brand.name if account.brand else "", "handle": account.handle,
               "display_name": account.display_name, "profile_url": account.profile_url or "",
               "poi_id": account.poi_id or "", "followers": account.followers,
               "status": ACCOUNT_STATUS_WORDS[account.status], "run_by": account.run_by or ""}


def _community_rows(user: User):
    query = (visible_communities(user).options(joinedload(Community.store))
             .order_by(Community.store_id, Community.rotation_order, Community.id))
    for community in db.session.scalars(query):
        yield {"store_code": community.store.code, "name": community.name, "kind": KIND_WORDS[community.kind],
               "invite_link": community.invite_link or "", "capacity": community.capacity,
               "members": community.members, "active": "是" if community.active else "否",
               "rotation_order": community.rotation_order}


def to_csv(headers: list[str], rows: list[list]) -> bytes:
    """UTF-8 with a BOM, so Excel on Chinese Windows opens it without garbling."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def _csv_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, str) and LONG_DIGITS.match(value):
        return f'="{value}"'
    return "" if value is None else value


def to_xlsx(headers: list[str], rows: list[list]) -> bytes:
    """One sheet; text cells stay text even when they start with “=” or are long digits (POI ids)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append(headers)
    for row in rows:
        sheet.append([_text_cell(sheet, v) if isinstance(v, str) and (v.startswith("=") or LONG_DIGITS.match(v))
                      else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_cell(sheet, value: str):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl would store it as a formula
    cell.number_format = "@"  # formatted as text: an edit in Excel stays text, not a rounded number
    return cell
