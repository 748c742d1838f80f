"""The columns each kind of import knows, and how the headers people write map onto them."""
import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

KINDS = ("stores", "accounts", "communities")
KIND_LABELS = {"stores": _l("Stores"), "accounts": _l("Accounts"), "communities": _l("Communities")}


@dataclass(frozen=True)
class Column:
    field: str
    header: str      # the header exports and templates write: part of the file format, so not translated
    label: object    # what the mapping select shows
    aliases: tuple[str, ...] = ()
    exported: bool = True  # False: read when present, never written to exports and templates


# The gap sheet's column (what a row still lacks): its rows left blank are skipped, not refused.
GAP_FIELD, GAP_HEADER, GAP_LABEL, GAP_ALIASES = "gap", "待补", _l("Still missing (gap sheet)"), ("缺口", "gap")

COLUMNS: dict[str, list[Column]] = {
    "stores": [
        Column("code", "门店编码", _l("Store code"), ("门店代码", "门店编号", "店铺编码", "编码", "storecode", "code", "storeno")),
        Column("name", "门店名称", _l("Store name"), ("门店名", "店名", "店铺名称", "名称", "name", "storename")),
        Column("brand", "品牌", _l("Brand"), ("brand", "品牌名称")),
        Column("city", "城市", _l("City"), ("所在城市", "市", "city")),
        Column("district", "区县", _l("District"), ("区", "县", "区域", "district")),
        Column("address", "详细地址", _l("Address"), ("地址", "门店地址", "address")),
        Column("lon", "经度", _l("Longitude"), ("lng", "lon", "long", "longitude")),
        Column("lat", "纬度", _l("Latitude"), ("lat", "latitude")),
        Column("coord_system", "坐标系", _l("Coordinate system"),
               ("坐标类型", "坐标系统", "coordsystem", "coordinatesystem", "crs")),
        Column("status", "状态", _l("Status"), ("门店状态", "营业状态", "status")),
        Column("service_radius_km", "服务半径", _l("Service radius (km)"),
               ("服务半径km", "服务半径公里", "半径", "radius", "serviceradius", "serviceradiuskm")),
        Column("opened_on", "开业日期", _l("Opening date"), ("开业时间", "openingdate", "openedon", "opendate")),
        Column("phone", "电话", _l("Phone"), ("门店电话", "联系电话", "phone", "tel", "telephone")),
        Column("opening_hours", "营业时间", _l("Opening hours"), ("营业时段", "openinghours", "hours", "opentime")),
        Column("managers", "店长", _l("Store managers (usernames)"), ("店长账号", "managers", "manager", "storemanagers")),
    ],
    "accounts": [
        Column("platform", "平台", _l("Platform"), ("platform",)),
        Column("scope", "类型", _l("Account type"), ("账号类型", "scope", "type", "accounttype")),
        Column("store_code", "门店编码", _l("Store code"), ("门店代码", "门店编号", "storecode", "store")),
        Column("brand", "品牌", _l("Brand"), ("brand",)),
        Column("handle", "账号", _l("Handle"), ("抖音号", "快手号", "视频号id", "小红书号", "账号id", "handle", "accountid")),
        Column("display_name", "昵称", _l("Display name"), ("账号名称", "账号昵称", "displayname", "nickname", "name")),
        Column("profile_url", "主页链接", _l("Profile URL"), ("主页", "主页地址", "profileurl", "profile", "url")),
        Column("poi_id", "POI", _l("POI"), ("poiid", "poi", "门店poi")),
        Column("followers", "粉丝数", _l("Followers"), ("粉丝", "粉丝量", "followers")),
        Column("status", "状态", _l("Status"), ("账号状态", "status")),
        Column("run_by", "运营人", _l("Run by"), ("负责人", "运营", "runby", "owner")),
        Column(GAP_FIELD, GAP_HEADER, GAP_LABEL, GAP_ALIASES, exported=False),
    ],
    "communities": [
        Column("store_code", "门店编码", _l("Store code"), ("门店代码", "门店编号", "storecode", "store")),
        Column("name", "群名称", _l("Group name"), ("群名", "群聊名称", "name", "groupname")),
        Column("kind", "群类型", _l("Kind"), ("类型", "kind", "type")),
        Column("invite_link", "邀请链接", _l("Invite link"), ("入群链接", "invitelink", "link")),
        Column("capacity", "容量", _l("Capacity"), ("群容量", "上限", "capacity")),
        Column("members", "群人数", _l("Members"), ("人数", "成员数", "members")),
        Column("robot_webhook_url", "机器人", _l("Robot webhook"), ("机器人webhook", "webhook", "robot", "robotwebhook")),
        Column("active", "启用", _l("Active"), ("是否启用", "active", "enabled")),
        Column("rotation_order", "顺序", _l("Rotation order"), ("轮换顺序", "排序", "rotationorder", "order")),
        Column(GAP_FIELD, GAP_HEADER, GAP_LABEL, GAP_ALIASES, exported=False),
    ],
}
# Without these a row cannot be matched to a record, so the preview refuses to go on.
KEY_FIELDS = {"stores": ("code",), "accounts": ("platform", "handle"), "communities": ("store_code", "name")}

_BRACKETED = re.compile(r"[(\[{<][^)\]}>]*[)\]}>]")
_NOISE = re.compile(r"[\s_\-*:#/\\.·、]+")
_CJK_BRACKETS = str.maketrans("【】〔〕「」『』", "[][][][]")


def normalise_header(text) -> str:
    """服务半径（km） -> 服务半径, "Store Code*" -> storecode: width, case, brackets, units and spaces removed."""
    text = unicodedata.normalize("NFKC", str(text or "")).translate(_CJK_BRACKETS).lower()
    return _NOISE.sub("", _BRACKETED.sub("", text))


def header_lookup(columns) -> dict[str, str]:
    """Normalised header, field name and aliases of each column -> its field (the first column wins)."""
    table = {}
    for column in columns:
        for word in (column.header, column.field, *column.aliases):
            table.setdefault(normalise_header(word), column.field)
    return table


def map_headers(headers: list[str], lookup: dict[str, str]) -> dict[int, str]:
    """Column index -> field for every recognised header; a field already taken stays with its first column."""
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        name = lookup.get(normalise_header(header))
        if name and name not in mapping.values():
            mapping[index] = name
    return mapping


def _lookup(kind: str) -> dict[str, str]:
    return header_lookup(COLUMNS[kind])


_LOOKUPS = {kind: _lookup(kind) for kind in KINDS}


def recognise(kind: str, header) -> str | None:
    """The field a header names, or None."""
    return _LOOKUPS[kind].get(normalise_header(header))


def guess_mapping(kind: str, headers: list[str]) -> dict[int, str]:
    """Column index -> field for every recognised header of a registry file (stores, accounts, communities)."""
    return map_headers(headers, _LOOKUPS[kind])


def field_choices(kind: str) -> list[tuple[str, object]]:
    return [(c.field, c.label) for c in COLUMNS[kind]]


def field_names(kind: str) -> set[str]:
    return {c.field for c in COLUMNS[kind]}


def export_headers(kind: str, *, without: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(field, header) in file order."""
    return [(c.field, c.header) for c in COLUMNS[kind] if c.field not in without and c.exported]


# Names the checks use for values that are not file columns (resolved ids, the row's key).
VALUE_LABELS = {"key": _l("Key"), "store_id": _l("Store code"), "brand_id": _l("Brand"), "city_code": _l("City"),
                "district_code": _l("District"), "lon": _l("Coordinates"), "lat": _l("Coordinates"),
                "platform_id": _l("Platform")}


def label_of(kind: str, name: str):
    """What the preview calls a field or value of `kind`."""
    return VALUE_LABELS.get(name) or dict(field_choices(kind)).get(name) or name
