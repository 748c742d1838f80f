"""Create, change and retire stores. Each public call is one transaction."""
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import exists, func, select

from matrix import geo
from matrix.accounts.models import Account
from matrix.audit import services as audit
from matrix.auth.models import Role, User
from matrix.communities.models import Community
from matrix.errors import DomainError, FieldErrors
from matrix.extensions import db
from matrix.models import Base, utcnow
from matrix.regions import services as regions
from matrix.stores.models import GeocodeStatus, Store
from matrix.stores.values import StoreValues, clean_store, keep_untouched_point
from matrix.transaction import transactional

AUDITED_FIELDS = ["code", "name", "brand_id", "city_code", "district_code", "address", "lon", "lat",
                  "service_radius_km", "status", "opened_on", "phone", "opening_hours", "geocode_status"]


@dataclass
class StoreEdit:
    """What a saved store form changed, and the values worth a second look."""

    changes: dict
    warnings: list[str]


class InvalidStore(FieldErrors):
    """A record's cleaned values with errors: every field's message, so a form shows them all at once."""

    def __init__(self, cleaned: StoreValues):
        super().__init__(cleaned.errors)
        self.cleaned = cleaned


def address_query(city_code: str, district_code: str | None, address: str) -> str:
    """The text sent to the geocoder; one builder, so every caller shares the cache."""
    return regions.region_name(city_code) + regions.region_name(district_code) + address


def locate(values: dict, geocoder: "geo.Geocoder | None") -> None:
    """Fill coordinates from the address when none were given; never fail the save."""
    values["geocode_error"] = None
    if values.get("lon") is not None:
        values["geocode_status"] = GeocodeStatus.MANUAL
        return
    if geocoder is None or not values.get("address"):
        values["geocode_status"] = GeocodeStatus.MISSING
        return
    query = address_query(values["city_code"], values.get("district_code"), values["address"])
    try:
        point = geocoder.geocode(query)
    except geo.GeocodeError as e:
        values.update(geocode_status=GeocodeStatus.FAILED, geocode_error=str(e)[:255])
        return
    if point is None:
        values.update(geocode_status=GeocodeStatus.FAILED, geocode_error=_("The geocoder found no place for this address."))
        return
    values.update(lon=point.lon, lat=point.lat, geocode_status=GeocodeStatus.GEOCODED)


@transactional
def create_store(cleaned: StoreValues, *, actor: User, brand_id: int | None = None,
                 manager_ids: list[int] | None = None, geocoder: "geo.Geocoder | None" = None) -> Store:
    """Add a store from cleaned values, with its managers; the code must be new."""
    if cleaned.errors:
        raise InvalidStore(cleaned)
    values = dict(cleaned.values)
    if db.session.scalar(select(Store.id).where(Store.code == values["code"])):
        raise DomainError(_("Store code %(code)s is already used.", code=values["code"]), field="code")
    locate(values, geocoder)
    store = Store(brand_id=brand_id, **values)
    db.session.add(store)
    db.session.flush()
    audit.record(actor, "create", "store", entity_id=store.id, store_id=store.id,
                 summary=f"{store.code} {store.name}", changes=audit.snapshot(store, AUDITED_FIELDS))
    if manager_ids:
        _assign_managers(store, manager_ids, actor=actor)
    db.session.commit()
    return store


@transactional
def update_store(store: Store, cleaned: StoreValues, *, actor: User, brand_id: int | None = None,
                 manager_ids: list[int] | None = None, geocoder: "geo.Geocoder | None" = None) -> dict:
    """Change a store (and its managers, unless `manager_ids` is None); returns what changed (field -> [old, new])."""
    changes = _apply(store, cleaned, actor=actor, brand_id=brand_id, geocoder=geocoder)
    if manager_ids is not None:
        _assign_managers(store, manager_ids, actor=actor)
    db.session.commit()
    return changes


@transactional
def edit_store(store: Store, raw: dict, *, actor: User, brand_id: int | None = None,
               manager_ids: list[int] | None = None, geocoder: "geo.Geocoder | None" = None) -> StoreEdit:
    """Save the store form. HQ may change everything; a store's manager neither its code, city, brand nor managers."""
    if not actor.is_hq:
        raw = {**raw, "code": store.code, "city": store.city_code}
        brand_id, manager_ids = store.brand_id, None
    cleaned = clean_store(raw)
    keep_untouched_point(store, cleaned.values)
    changes = _apply(store, cleaned, actor=actor, brand_id=brand_id, geocoder=geocoder)
    if manager_ids is not None:
        changes |= _assign_managers(store, manager_ids, actor=actor)
    db.session.commit()
    return StoreEdit(changes=changes, warnings=list(cleaned.warnings.values()))


def _apply(store: Store, cleaned: StoreValues, *, actor: User, brand_id: int | None,
           geocoder: "geo.Geocoder | None") -> dict:
    if cleaned.errors:
        raise InvalidStore(cleaned)
    values = dict(cleaned.values)
    if values["code"] != store.code and db.session.scalar(select(Store.id).where(Store.code == values["code"])):
        raise DomainError(_("Store code %(code)s is already used.", code=values["code"]), field="code")
    address_changed = (values.get("address"), values.get("city_code")) != (store.address, store.city_code)
    if values.get("lon") is None and store.has_point and not address_changed:
        values.update(lon=store.lon, lat=store.lat)  # keep a geocoded point when the address stays
        values["geocode_status"] = store.geocode_status
        values["geocode_error"] = store.geocode_error
    else:
        locate(values, geocoder)
    before = audit.snapshot(store, AUDITED_FIELDS)
    for name, value in values.items():
        setattr(store, name, value)
    if brand_id is not None or store.brand_id is not None:
        store.brand_id = brand_id
    changes = audit.diff(before, audit.snapshot(store, AUDITED_FIELDS))
    if changes:
        audit.record(actor, "update", "store", entity_id=store.id, store_id=store.id,
                     summary=f"{store.code} {store.name}", changes=changes)
    return changes


def store_has_history(store: Store) -> bool:
    """Anything that points at the store: accounts, groups, leads, lead sources, content, sessions ..."""
    return any(db.session.scalar(select(exists().where(column == store.id))) for column in _store_references())


def _store_references() -> list:
    """Every column that holds a store id, read from the schema so a new feature's table counts too.

    Rows deleted with the store (ON DELETE CASCADE: its managers, its tags) are memberships, not history.
    """
    return [fk.parent for table in Base.metadata.sorted_tables for fk in table.foreign_keys
            if fk.column.table.name == "stores" and fk.column.name == "id" and fk.ondelete != "CASCADE"]


@transactional
def delete_store(store: Store, *, actor: User, confirm_history: bool = False) -> str:
    """Delete a store without history; archive one with history once confirmed.

    Returns "deleted" or "archived". Archived stores leave every list but keep their
    accounts, communities and audit trail, and their code stays taken.
    """
    if store_has_history(store):
        if not confirm_history:
            raise DomainError(_("This store has accounts or communities. Confirm to archive it; its history is kept."))
        store.archived_at = utcnow()
        audit.record(actor, "archive", "store", entity_id=store.id, store_id=store.id,
                     summary=f"{store.code} {store.name}")
        db.session.commit()
        return "archived"
    audit.record(actor, "delete", "store", entity_id=store.id, store_id=store.id,
                 summary=f"{store.code} {store.name}", changes=audit.snapshot(store, AUDITED_FIELDS))
    store.managers.clear()
    db.session.delete(store)
    db.session.commit()
    return "deleted"


@transactional
def restore_store(store: Store, *, actor: User) -> None:
    """Bring an archived store back into the lists."""
    store.archived_at = None
    audit.record(actor, "restore", "store", entity_id=store.id, store_id=store.id, summary=f"{store.code} {store.name}")
    db.session.commit()


@transactional
def set_managers(store: Store, user_ids: list[int], *, actor: User) -> None:
    """Replace the store's managers; only store-manager accounts qualify."""
    _assign_managers(store, user_ids, actor=actor)
    db.session.commit()


def _assign_managers(store: Store, user_ids: list[int], *, actor: User) -> dict:
    users = db.session.scalars(select(User).where(User.id.in_(user_ids), User.role == Role.STORE_MANAGER)).all() if user_ids else []
    before = sorted(u.username for u in store.managers)
    store.managers = list(users)
    after = sorted(u.username for u in users)
    if before == after:
        return {}
    audit.record(actor, "update", "store", entity_id=store.id, store_id=store.id,
                 summary=f"{store.code} managers", changes={"managers": [before, after]})
    return {"managers": [before, after]}


def count_stores() -> int:
    return db.session.scalar(select(func.count()).select_from(Store).where(Store.archived_at.is_(None)))


# --- Queries for the store screens (lists and counts; no per-row queries) ---

PROBLEMS = ("no_point", "geocode_failed", "no_community", "no_account")


def filter_stores(query, *, q: str = "", city_code: str = "", district_code: str = "",
                  status: str = "", problem: str = ""):
    """Narrow a store query (from permissions.visible_stores) by search text and filters."""
    if q:
        # "%" and "_" are literal here: codes may hold "_", and "%" alone must not match every store.
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Store.code.ilike(like, escape="\\") | Store.name.ilike(like, escape="\\")
                            | Store.address.ilike(like, escape="\\"))
    if city_code:
        query = query.where(Store.city_code == city_code)
    if district_code:
        query = query.where(Store.district_code == district_code)
    if status:
        query = query.where(Store.status == status)
    if problem == "no_point":
        query = query.where(Store.lon.is_(None))
    elif problem == "geocode_failed":
        query = query.where(Store.geocode_status == GeocodeStatus.FAILED)
    elif problem == "no_community":  # as the overview counts it: no active group (inactive ones take no one)
        query = query.where(~exists().where(Community.store_id == Store.id, Community.active.is_(True)))
    elif problem == "no_account":
        query = query.where(~exists().where(Account.store_id == Store.id))
    return query


def link_counts(store_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Store id -> (accounts, communities), two grouped queries for the whole page."""
    if not store_ids:
        return {}
    accounts = dict(db.session.execute(select(Account.store_id, func.count()).where(
        Account.store_id.in_(store_ids)).group_by(Account.store_id)).all())
    groups = dict(db.session.execute(select(Community.store_id, func.count()).where(
        Community.store_id.in_(store_ids)).group_by(Community.store_id)).all())
    return {i: (accounts.get(i, 0), groups.get(i, 0)) for i in store_ids}


def used_regions(query) -> tuple[list[str], list[tuple[str, str]]]:
    """City codes, and (city, district) code pairs, that the stores of `query` are in."""
    stores = query.subquery()
    cities = db.session.scalars(select(stores.c.city_code).distinct()).all()
    pairs = db.session.execute(select(stores.c.city_code, stores.c.district_code).distinct()
                               .where(stores.c.district_code.is_not(None))).all()
    return sorted(cities), sorted((c, d) for c, d in pairs)
