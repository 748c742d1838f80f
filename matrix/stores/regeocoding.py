"""Ask the geocoder again for stores it could not place (flagged FAILED or MISSING)."""
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from matrix import geo, geocoding
from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.stores.services import address_query
from matrix.stores.models import GeocodeStatus, Store

GEOCODE_FIELDS = ["lon", "lat", "geocode_status", "geocode_error"]
FLAGGED = (GeocodeStatus.FAILED, GeocodeStatus.MISSING)


def flagged_stores(limit: int = 100) -> list[Store]:
    """Live stores without coordinates whose address the geocoder has not placed yet, oldest first."""
    query = (select(Store).where(Store.geocode_status.in_(FLAGGED), Store.lon.is_(None),
                                 Store.archived_at.is_(None), Store.address != "")
             .order_by(Store.id).limit(limit))
    return list(db.session.scalars(query))


def regeocode_flagged(*, actor: User | None, geocoder: "geo.Geocoder | None", limit: int = 100) -> tuple[int, int]:
    """Geocode flagged stores again; returns (fixed, still flagged).

    Each store is its own transaction, so a long run keeps what it fixed. A provider
    failure (down, over quota, key refused) stops the run: the remaining stores would
    fail the same way, and stay flagged for the next run.
    """
    if geocoder is None:
        raise DomainError(_("No geocoder is configured: set GEOCODER to nominatim or baidu."))
    stores = flagged_stores(limit)
    fixed = 0
    for store in stores:
        try:
            point = geocoder.geocode(address_query(store.city_code, store.district_code, store.address))
        except geo.GeocodeError as e:
            _save(store, actor, None, str(e)[:255])
            break
        if _save(store, actor, point, None if point else _("The geocoder found no place for this address.")):
            fixed += point is not None
    return fixed, len(stores) - fixed


def _save(store: Store, actor: User | None, point: geo.Point | None, error: str | None) -> bool:
    """Write one store's outcome with its audit entry and commit; False if someone changed it meanwhile."""
    before = audit.snapshot(store, GEOCODE_FIELDS)
    if point is not None:
        store.lon, store.lat = point.lon, point.lat
        store.geocode_status, store.geocode_error = GeocodeStatus.GEOCODED, None
    else:
        store.geocode_status, store.geocode_error = GeocodeStatus.FAILED, error
    changes = audit.diff(before, audit.snapshot(store, GEOCODE_FIELDS))
    if changes:
        audit.record(actor, "update", "store", entity_id=store.id, store_id=store.id,
                     summary=f"{store.code} {store.name}", changes=changes)
    try:
        db.session.commit()
    except StaleDataError:  # edited by someone else since we loaded it: their version wins
        db.session.rollback()
        return False
    return True


def regeocode_for_cli(*, limit: int = 100) -> str:
    """Run regeocode_flagged with the app's geocoder and no acting user; returns a line to print."""
    fixed, still = regeocode_flagged(actor=None, geocoder=geocoding.app_geocoder(), limit=limit)
    return ngettext("%(num)s store placed, %(still)s still without coordinates.",
                    "%(num)s stores placed, %(still)s still without coordinates.", fixed, still=still)
