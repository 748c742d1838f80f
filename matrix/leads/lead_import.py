"""Import leads from a sheet (CSV/XLSX): preview every row, then write all of them or none.

Rows go through the same intake as webhooks (encrypted phone, routing, queued notice) under the
built-in "import" source; a row's lead id makes a second import of the same file change nothing.
"""
import hashlib
import json
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matrix import geo
from matrix.audit import services as audit
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.imports.headers import Column, header_lookup, map_headers
from matrix.imports.readers import BadFile, Table
from matrix.imports.rows import load_in
from matrix.leads import phones
from matrix.leads.intake import LeadInput, stage_lead
from matrix.leads.mapping import parse_time
from matrix.leads.models import Lead, LeadSource
from matrix.leads.sources import import_source
from matrix.models import utcnow
from matrix.stores.models import Store

MAX_ROWS = 10_000  # each row is routed and queued inside the confirm request
NEW, DUPLICATE, ERROR = "new", "duplicate", "error"
COLUMNS = [
    Column("external_id", "线索编号", _l("Lead id"), ("线索id", "外部编号", "编号", "clueid", "leadid", "id")),
    Column("name", "姓名", lazy_pgettext("person", "Name"), ("客户姓名", "名字", "称呼", "name")),
    Column("phone", "手机号", _l("Phone"), ("电话", "手机", "联系电话", "手机号码", "phone", "mobile", "telephone", "tel")),
    Column("province", "省份", _l("Province"), ("省", "province")),
    Column("city", "城市", _l("City"), ("市", "所在城市", "city")),
    Column("district", "区县", _l("District"), ("区", "县", "district")),
    Column("address", "地址", _l("Address"), ("详细地址", "所在地", "location", "address")),
    Column("lon", "经度", _l("Longitude"), ("lng", "lon", "longitude")),
    Column("lat", "纬度", _l("Latitude"), ("lat", "latitude")),
    Column("coord_system", "坐标系", _l("Coordinate system"), ("坐标类型", "coordsystem", "crs")),
    Column("store_code", "门店编码", _l("Store code"), ("门店代码", "门店编号", "storecode", "store")),
    Column("created_at", "留资时间", _l("Time left"), ("创建时间", "提交时间", "时间", "createtime", "createdat")),
    Column("ad_id", "广告ID", _l("Ad id"), ("计划id", "adid")),
    Column("creative_id", "创意ID", _l("Creative id"), ("creativeid",)),
]
FIELD_NAMES = [c.field for c in COLUMNS]
_LOOKUP = header_lookup(COLUMNS)


@dataclass
class LeadRow:
    line: int
    status: str = NEW
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    data: LeadInput | None = None
    label: str = ""  # masked phone or lead id: what the preview shows of the row


@dataclass
class LeadImportPreview:
    headers: list[str]
    mapping: dict[int, str]
    rows: list[LeadRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    filename: str = ""
    notes: list[str] = field(default_factory=list)  # what the reader did on its own (a title row skipped)

    @property
    def counts(self) -> dict[str, int]:
        out = {NEW: 0, DUPLICATE: 0, ERROR: 0, "warning": 0, "total": len(self.rows)}
        for row in self.rows:
            out[row.status] += 1
            out["warning"] += bool(row.warnings)
        return out

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows) and all(r.status != ERROR for r in self.rows)

    def fingerprint(self) -> str:
        """Changes when anything the preview showed would come out differently."""
        shown = [sorted(self.mapping.items()), self.problems,
                 [(r.line, r.status, sorted(r.errors)) for r in self.rows]]
        return hashlib.sha256(json.dumps(shown, default=str).encode()).hexdigest()[:32]


def guess_mapping(headers: list[str]) -> dict[int, str]:
    """Column index -> field for every recognised header of this file kind."""
    return map_headers(headers, _LOOKUP)


def parse_mapping(width: int, args) -> dict[int, str] | None:
    """col-0, col-1 ... from the preview's selects; None when none was sent."""
    if not any(f"col-{i}" in args for i in range(width)):
        return None
    return {i: args.get(f"col-{i}") for i in range(width) if args.get(f"col-{i}") in FIELD_NAMES}


def preview_lead_import(table: Table, mapping: dict[int, str] | None = None, *, filename: str = "") -> LeadImportPreview:
    """Check every row without writing anything."""
    if len(table.rows) > MAX_ROWS:
        raise BadFile(_("The file has more than %(max)d leads; split it into several files.", max=MAX_ROWS))
    mapping = guess_mapping(table.headers) if mapping is None else mapping
    preview = LeadImportPreview(headers=table.headers, mapping=dict(mapping), filename=filename, notes=table.notes())
    names = list(mapping.values())
    if len(names) != len(set(names)):
        preview.problems.append(_("Two columns are read as the same field; ignore one of them."))
    if "phone" not in names and "external_id" not in names:
        preview.problems.append(_("No column is read as the phone number or the lead id; choose one of them."))
    if preview.problems:
        return preview
    raws = [{name: (row[i] if i < len(row) else "") for i, name in mapping.items()} for row in table.rows]
    known = _known(raws)
    first_line: dict[str, int] = {}
    for line, raw in zip(table.lines, raws):
        row = check_row(line, raw, known)
        key = (row.data.external_id if row.data else None) or None
        if key and key in first_line:
            row.errors.setdefault("external_id", _("The same lead id is already on line %(line)d.", line=first_line[key]))
        elif key:
            first_line[key] = line
        row.status = ERROR if row.errors else row.status
        preview.rows.append(row)
    return preview


def _known(raws: list[dict]) -> dict:
    """What the database already holds for these rows, fetched in a few queries."""
    source = db.session.scalar(select(LeadSource.id).where(LeadSource.slug == "import"))  # None before the first import
    ids = {str(r.get("external_id") or "").strip() for r in raws} - {""}
    codes = {str(r.get("store_code") or "").strip() for r in raws} - {""}
    imported = {row[0] for row in load_in(select(Lead.external_id).where(Lead.source_id == source),
                                          Lead.external_id, list(ids))}
    stores = dict(load_in(select(Store.code, Store.id).where(Store.archived_at.is_(None)), Store.code, list(codes)))
    return {"imported": imported, "stores": stores}


def check_row(line: int, raw: dict, known: dict) -> LeadRow:
    """One row's lead, or the reasons it cannot be one."""
    row = LeadRow(line=line)
    text = {k: str(v).strip() if v is not None else "" for k, v in raw.items()}
    external_id, phone = text.get("external_id", ""), text.get("phone", "")
    if not external_id and not phone:
        row.errors["phone"] = _("A lead needs a phone number or a lead id.")
    if phone:
        try:
            phone = phones.normalise_phone(phone)
        except DomainError as e:
            row.errors["phone"] = e.message
    lon, lat, system = _coordinates(text, row)
    store_id = None
    if text.get("store_code"):
        store_id = known["stores"].get(text["store_code"])
        if store_id is None:
            row.errors["store_code"] = _("No store has the code %(code)s.", code=text["store_code"])
    created = parse_time(raw.get("created_at")) if text.get("created_at") else None
    if text.get("created_at") and created is None:
        row.errors["created_at"] = _("The time cannot be read; write it as 2024-05-01 14:30.")
    if external_id and external_id in known["imported"]:
        row.status = DUPLICATE
    row.label = phones.mask_phone(phone) if phone else external_id
    row.data = LeadInput(external_id=external_id or None, name=text.get("name", ""), phone=phone or None,
                         province=text.get("province", ""), city=text.get("city", ""),
                         district=text.get("district", ""), address=text.get("address", ""), lon=lon, lat=lat,
                         coord_system=system, source_store_id=store_id, ad_id=text.get("ad_id") or None,
                         creative_id=text.get("creative_id") or None, created_at=created,
                         raw={"line": line, **{k: v for k, v in text.items() if v}})
    return row


def _coordinates(text: dict, row: LeadRow):
    lon, lat = text.get("lon", ""), text.get("lat", "")
    if not lon and not lat:
        return None, None, None
    try:
        system = geo.parse_system(text.get("coord_system"))
        geo.to_wgs84(float(lon), float(lat), system)
    except (ValueError, geo.CoordinateError) as e:
        row.errors["lon"] = str(e) if isinstance(e, geo.CoordinateError) else _("Coordinates must be numbers.")
        return None, None, None
    return float(lon), float(lat), system.value


def apply_lead_import(preview: LeadImportPreview, actor, *, notify: bool = True) -> dict[str, int]:
    """Write every new row of a checked preview, or none; returns the counts."""
    if not preview.ok:
        raise DomainError(_("The file still has errors: fix them and upload it again. Nothing was imported."))
    source, now = import_source(), utcnow()
    created = 0
    try:
        for row in preview.rows:
            if row.status == NEW:
                created += stage_lead(row.data, source=source, now=now, notify=notify)[1]
        counts = {"new": created, "duplicate": preview.counts[DUPLICATE], "total": len(preview.rows)}
        if created:
            audit.record(actor, "import", "lead", summary=preview.filename or "leads", changes={"file": preview.filename,
                                                                                            **counts})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DomainError(_("Some of these leads were imported by someone else meanwhile. Nothing was imported; "
                            "preview the file again.")) from None
    except Exception:
        db.session.rollback()
        raise
    return counts
