"""Store rows: matched by code, checked by clean_store, written in bulk."""
import re

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select

from matrix import geo
from matrix.auth.models import Role, User
from matrix.brands.models import Brand
from matrix.choices import normalise_choice
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.imports.rows import CHANGED, NEW, UNCHANGED, RowReport, load_in, overlay, same, text
from matrix.regions import services as regions
from matrix.stores.models import GeocodeStatus, Store, store_managers
from matrix.stores.services import locate  # the store form's rule: coordinates given win, else geocode
from matrix.stores.values import clean_store

TEXT_FIELDS = ("code", "name", "city", "district", "address", "status", "service_radius_km", "opened_on", "phone",
               "opening_hours")
KEEP_WHEN_EMPTY = ("status", "service_radius_km")  # an empty cell means "as it is", not "back to the default"
COMPARED = ("name", "brand_id", "city_code", "district_code", "address", "service_radius_km", "status",
            "opened_on", "phone", "opening_hours")
# Degrees, about 10 cm: a point exported in GCJ-02 and read back lands this close to where it was.
POINT_TOLERANCE = 1e-6
WHERE_FIELDS = {"lon", "city_code", "district_code", "address"}
_SPLIT = re.compile(r"[,，;；、/\s]+")


class StoreRows:
    """Plans and writes the rows of a store sheet."""

    def __init__(self, raws: list[dict], mapped: set[str], options: dict | None = None):
        self.mapped = mapped
        codes = {self.key(raw) for raw in raws}
        self.stores = {s.code: s for (s,) in load_in(select(Store), Store.code, codes)}
        brands = db.session.execute(select(Brand.id, Brand.name).order_by(Brand.name)).all()
        self.brand_ids = {normalise_choice(name): id_ for id_, name in brands}
        self.brand_names = {id_: name for id_, name in brands}
        # A store without a brand posts no brand content or trailers: rows that name none get the chain's only
        # brand, or the one the operator picked in the preview; with several and none picked, the preview asks.
        chosen = (options or {}).get("brand_id")
        self.default_brand = chosen if chosen in self.brand_names else brands[0][0] if len(brands) == 1 else None
        self.brandless = 0  # rows left without a brand while several brands exist and none was picked
        self.managers: dict[int, set[str]] = {}
        self.users: dict[str, tuple[int, Role]] = {}
        if "managers" in mapped:
            self._load_managers(raws)

    def _load_managers(self, raws: list[dict]) -> None:
        ids = [s.id for s in self.stores.values()]
        query = select(store_managers.c.store_id, User.username).join(User, User.id == store_managers.c.user_id)
        for store_id, username in load_in(query, store_managers.c.store_id, ids):
            self.managers.setdefault(store_id, set()).add(username)
        names = {n for raw in raws for n in _SPLIT.split(str(raw.get("managers") or "")) if n}
        for id_, username, role in load_in(select(User.id, User.username, User.role), User.username, names):
            self.users[username] = (id_, role)

    @staticmethod
    def key(raw: dict) -> str | None:
        return str(raw.get("code") or "").strip() or None

    @staticmethod
    def key_label() -> str:
        return _("store code")

    def check(self, raw: dict, report: RowReport) -> RowReport:
        """Clean the row, resolve brand and managers, and compare it with the stored store."""
        report.key = self.key(raw) or ""
        store = self.stores.get(report.key)
        if store is not None and store.archived_at is not None:
            report.errors["code"] = _("Store %(code)s is archived: restore it before importing it again.",
                                      code=store.code)
            return report
        cleaned = clean_store(self._merge(store, raw))
        report.errors.update(cleaned.errors)
        report.warnings.update(cleaned.warnings)
        values = cleaned.values
        values["brand_id"] = self._brand(raw, store, report)
        managers = self._managers(raw, report)
        if report.errors:
            return report
        report.values, report.target = values, store
        report.extra["managers"] = managers
        if store is None:
            report.status = NEW
            return report
        self._keep_point(store, values)
        report.changes = self._changes(store, values, managers)
        report.status = CHANGED if report.changes else UNCHANGED
        return report

    def _merge(self, store: Store | None, raw: dict) -> dict:
        """The stored store as raw fields, with the file's columns put over it."""
        merged = {}
        if store is not None:
            merged = {"code": store.code, "name": store.name, "city": store.city_code,
                      "district": store.district_code or "", "address": store.address, "status": store.status,
                      "service_radius_km": store.service_radius_km, "opened_on": store.opened_on,
                      "phone": store.phone, "opening_hours": store.opening_hours, "lon": store.lon, "lat": store.lat, "coord_system": "wgs84"}
            if "city" in self.mapped and "district" not in self.mapped and self._city(raw) != store.city_code:
                merged["district"] = ""  # the old district cannot be in a new city
        overlay(merged, raw, self.mapped, TEXT_FIELDS, keep_when_empty=KEEP_WHEN_EMPTY, updating=store is not None)
        if {"lon", "lat"} & self.mapped:
            # The file's point comes with the file's system; GCJ-02 (AMap) when the sheet does not say.
            merged.update(lon=raw.get("lon"), lat=raw.get("lat"), coord_system=raw.get("coord_system"))
        return merged

    @staticmethod
    def _city(raw: dict) -> str | None:
        try:
            return regions.find_city(str(raw.get("city") or ""))
        except DomainError:
            return None

    def _brand(self, raw: dict, store: Store | None, report: RowReport) -> int | None:
        """The file's brand; else the store's own; else the default brand (an empty cell never drops a brand).

        A stored store without a brand gets the default only from a sheet without a brand column.
        """
        name = str(raw.get("brand") or "").strip() if "brand" in self.mapped else ""
        if name:
            if normalise_choice(name) not in self.brand_ids:
                report.errors["brand"] = _("Unknown brand “%(name)s”: add it under Brands first.", name=name)
                return None
            return self.brand_ids[normalise_choice(name)]
        if store is not None and (store.brand_id or "brand" in self.mapped):
            return store.brand_id  # an export's empty brand cell: the store stays as it is
        if self.default_brand is None and len(self.brand_names) > 1:
            self.brandless += 1
        return self.default_brand

    def questions(self) -> dict:
        """What the operator must answer before the rows can be written: the brand of rows naming none."""
        if not self.brandless:
            return {}
        return {"brand_id": {"rows": self.brandless, "choices": list(self.brand_names.items())}}

    def _managers(self, raw: dict, report: RowReport) -> dict[str, int] | None:
        """Username -> user id, or None to leave the store's managers as they are (no column, empty cell)."""
        names = [n for n in _SPLIT.split(str(raw.get("managers") or "")) if n] if "managers" in self.mapped else []
        if not names:
            return None
        found = {}
        for name in names:
            user = self.users.get(name)
            if user is None or user[1] != Role.STORE_MANAGER:
                report.errors["managers"] = _("“%(name)s” is not the username of a store manager.", name=name)
                return None
            found[name] = user[0]
        return found

    def _keep_point(self, store: Store, values: dict) -> None:
        """No coordinates in the row: keep the stored point while the address stays, as the store form does."""
        same_place = (values.get("address"), values.get("city_code")) == (store.address, store.city_code)
        if values.get("lon") is None and store.has_point and same_place:
            values.update(lon=store.lon, lat=store.lat)
        elif not {"lon", "lat"} & self.mapped and not same_place and store.geocode_status == GeocodeStatus.GEOCODED:
            values.update(lon=None, lat=None)  # a geocoded point follows its address

    def _changes(self, store: Store, values: dict, managers: dict | None) -> dict:
        changes = {}
        for name in COMPARED:
            old, new = getattr(store, name), values.get(name)
            if not same(old, new):
                changes[name] = (self._show(name, old), self._show(name, new))
        if same(store.lon, values["lon"], tolerance=POINT_TOLERANCE) and \
                same(store.lat, values["lat"], tolerance=POINT_TOLERANCE):
            values.update(lon=store.lon, lat=store.lat)  # within a rounding of the export: not a move
        else:
            changes["lon"] = (point_text(store.lon, store.lat), point_text(values["lon"], values["lat"]))
        if managers is not None:
            before = self.managers.get(store.id, set())
            if before != set(managers):
                changes["managers"] = (", ".join(sorted(before)), ", ".join(sorted(managers)))
        return changes

    def _show(self, name: str, value) -> str:
        if name in ("city_code", "district_code"):
            return regions.region_name(value)
        if name == "brand_id":
            return self.brand_names.get(value, "") if value else ""
        return text(value)

    @staticmethod
    def write(rows: list[RowReport], *, geocoder=None) -> None:
        """Insert the new stores and update the changed ones; geocode only rows without coordinates."""
        new_rows = [r for r in rows if r.status == NEW]
        inserts = []
        for row in new_rows:
            values = dict(row.values)
            _locate(values, geocoder)
            inserts.append(values)
        pairs = []
        if inserts:
            ids = db.session.scalars(insert(Store).returning(Store.id, sort_by_parameter_order=True), inserts).all()
            pairs = [(uid, sid) for row, sid in zip(new_rows, ids) for uid in (row.extra["managers"] or {}).values()]
        for row in (r for r in rows if r.status == CHANGED):
            _update(row, geocoder)
            if "managers" in row.changes:
                db.session.execute(delete(store_managers).where(store_managers.c.store_id == row.target.id))
                pairs.extend((uid, row.target.id) for uid in row.extra["managers"].values())
        if pairs:
            db.session.execute(insert(store_managers), [{"user_id": u, "store_id": s} for u, s in pairs])
        db.session.flush()


def _update(row: RowReport, geocoder) -> None:
    store, values = row.target, dict(row.values)
    if WHERE_FIELDS & row.changes.keys():
        _locate(values, geocoder)
    for name in ("lon", "lat", "geocode_status", "geocode_error", *COMPARED):
        if name in values:
            setattr(store, name, values[name])


def _locate(values: dict, geocoder) -> None:
    """The store form's rule, except that coordinates given by the sheet say they were imported."""
    locate(values, geocoder)
    if values["geocode_status"] == GeocodeStatus.MANUAL:
        values["geocode_status"] = GeocodeStatus.IMPORTED


def point_text(lon: float | None, lat: float | None) -> str:
    """A WGS-84 point as the sheets write it: GCJ-02, six decimals (about 10 cm)."""
    if lon is None or lat is None:
        return ""
    point = geo.from_wgs84(lon, lat, geo.CoordSystem.GCJ02)
    return f"{point.lon:.6f}, {point.lat:.6f} (GCJ-02)"
