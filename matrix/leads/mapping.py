"""Where each lead field sits in a source's JSON payload: data, not code.

A field map is {lead field: path}. A path is dotted ("store.store_id", "entries.0.phone");
"a|b" tries a, then b. A string holding JSON (Douyin's `content`) is decoded on the way down.
A source's own map entries override its kind's defaults, field by field.
"""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from matrix.chain import chain_zone
from matrix.errors import DomainError
from matrix.leads.models import SourceKind

# The lead fields a map may fill (LeadInput's names).
FIELDS = ("external_id", "name", "phone", "province", "city", "district", "address", "lon", "lat",
          "coord_system", "source_store_id", "account_id", "poi_id", "ad_id", "creative_id", "created_at")

DEFAULT_MAPS: dict[SourceKind, dict[str, str]] = {
    SourceKind.GENERIC: {
        "external_id": "id|lead_id", "name": "name", "phone": "phone|mobile|telephone", "province": "province",
        "city": "city", "district": "district", "address": "address", "lon": "lon|lng|longitude",
        "lat": "lat|latitude", "coord_system": "coord_system", "source_store_id": "store_code|store_id",
        "account_id": "account", "poi_id": "poi_id", "ad_id": "ad_id", "creative_id": "creative_id",
        "created_at": "created_at|create_time",
    },
    # Douyin Open Platform event envelope: {event, client_key, from_user_id, to_user_id, content, log_id};
    # `content` is a JSON string (an object only in the verify_webhook event).
    SourceKind.DOUYIN: {
        "external_id": "content.clue_id|content.lead_id", "name": "content.name|content.nickname",
        "phone": "content.telephone|content.phone|content.mobile", "province": "content.province",
        "city": "content.city", "district": "content.district", "address": "content.address|content.location",
        "lon": "content.longitude|content.lng", "lat": "content.latitude|content.lat",
        "source_store_id": "content.store_id", "poi_id": "content.poi_id", "account_id": "to_user_id",
        "ad_id": "content.ad_id", "creative_id": "content.creative_id",
        "created_at": "content.create_time|content.msg_time",
    },
    # Ocean Engine (巨量引擎) clue push: clue_id, name, telephone, province, city, location (text),
    # adv_id, ad_id / promotion_id, creative_id, create_time, store.store_id ...
    SourceKind.OCEANENGINE: {
        "external_id": "clue_id", "name": "name", "phone": "telephone|phone", "province": "province",
        "city": "city", "district": "district", "address": "location|address",
        "source_store_id": "store.store_id|store_id", "account_id": "adv_id|advertiser_id",
        "ad_id": "ad_id|promotion_id", "creative_id": "creative_id", "created_at": "create_time",
    },
    # Kuaishou (磁力引擎) lead push.
    SourceKind.KUAISHOU: {
        "external_id": "clue_id|lead_id|id", "name": "name|user_name", "phone": "phone|mobile|telephone",
        "province": "province", "city": "city", "district": "district", "address": "address|location",
        "source_store_id": "store_id|store_code", "account_id": "account_id|user_id",
        "ad_id": "unit_id|ad_id", "creative_id": "creative_id", "created_at": "create_time|createTime",
    },
}


class MappingError(DomainError):
    """A field map an admin typed cannot be used."""


def field_map_for(source) -> dict[str, str]:
    """The kind's defaults overlaid with the source's own entries (an empty path removes a field)."""
    merged = dict(DEFAULT_MAPS.get(source.kind, DEFAULT_MAPS[SourceKind.GENERIC]))
    for name, path in (source.field_map or {}).items():
        if path:
            merged[name] = path
        else:
            merged.pop(name, None)
    return merged


def extract(payload: dict, field_map: dict[str, str]) -> dict:
    """Lead field -> value found in `payload`, with ids as text, coordinates as floats, times aware."""
    out = {}
    for name, path in field_map.items():
        value = lookup(payload, path)
        if value is None or value == "":
            continue
        out[name] = convert(name, value)
    return {k: v for k, v in out.items() if v is not None}


def lookup(payload, path: str):
    """The first of the "|"-separated dotted paths that leads to a value; None when none does."""
    for alternative in path.split("|"):
        value = _walk(payload, [p for p in alternative.strip().split(".") if p])
        if value not in (None, "", [], {}):
            return value
    return None


def _walk(node, parts: list[str]):
    for part in parts:
        if isinstance(node, str) and node.lstrip()[:1] in ("{", "["):
            try:
                node = json.loads(node)
            except (ValueError, RecursionError):  # a string of JSON nested a thousand deep is no lead
                return None
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def convert(name: str, value):
    """One value as the lead field wants it; None when it cannot be read (the lead is kept without it)."""
    if name in ("lon", "lat"):
        try:
            return float(value)
        except (TypeError, ValueError):
            return str(value)[:30]  # kept as given: intake says why the point was refused
    if name == "created_at":
        return parse_time(value)
    if name == "phone" and (isinstance(value, (dict, list, bool))):
        # Dropping it would store a lead nobody can call: refuse the delivery instead.
        raise DomainError(_("The phone number must be one number written as text."), field="phone")
    if isinstance(value, (dict, list)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_time(value) -> datetime | None:
    """Unix seconds or milliseconds, or an ISO / "YYYY-MM-DD HH:MM:SS" time (naive means the chain's zone)."""
    zone = ZoneInfo(chain_zone())
    text = str(value).strip()
    try:
        if text.replace(".", "", 1).isdigit():
            stamp = float(text)
            stamp = stamp / 1000 if stamp > 1e11 else stamp  # 13 digits: milliseconds
            return datetime.fromtimestamp(stamp, tz=zone)
        moment = datetime.fromisoformat(text.replace("/", "-"))
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def parse_field_map(text: str) -> dict[str, str]:
    """Read "field = path" lines an admin typed into a map; raises MappingError naming the bad line."""
    result: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, path = (part.strip() for part in line.partition("="))
        if not sep or name not in FIELDS:
            raise MappingError(_("Line %(n)d: write “field = path”, where the field is one of %(fields)s.",
                                 n=number, fields=", ".join(FIELDS)), field="field_map")
        if any(c.isspace() for c in path):
            raise MappingError(_("Line %(n)d: a path has no spaces (use dots and |).", n=number), field="field_map")
        result[name] = path
    return result


def format_field_map(field_map: dict[str, str] | None) -> str:
    """A map as the "field = path" lines the admin form shows."""
    return "\n".join(f"{name} = {path}" for name, path in (field_map or {}).items())
