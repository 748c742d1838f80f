"""Forms of the store screens. Validation of the values is stores.values.clean_store's job."""
import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length

from matrix import geo
from matrix.auth.models import Role, User
from matrix.brands.models import Brand
from matrix.extensions import db
from matrix.regions import services as regions
from matrix.stores.labels import STORE_STATUS_LABELS
from matrix.stores.models import Store, StoreStatus

# clean_store's error keys that are named differently on the form.
ERROR_FIELDS = {"city_code": "city", "district_code": "district"}
# AMap's and Baidu's point pickers copy "lon,lat" as one string.
PASTED_PAIR = re.compile(r"^(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)$")


class StoreForm(FlaskForm):
    code = StringField(_l("Store code"), validators=[Length(max=40)])
    name = StringField(_l("Store name"), validators=[Length(max=160)])
    brand_id = SelectField(_l("Brand"), coerce=int, default=0)
    # A select of the region table, but a typed name (杭州, 330100) is accepted too.
    city = SelectField(_l("City"), validate_choice=False)
    district = StringField(_l("District"), validators=[Length(max=40)], render_kw={"list": "district-options"})
    address = StringField(_l("Address"), validators=[Length(max=500)])
    lon = StringField(_l("Longitude"), validators=[Length(max=30)], render_kw={"inputmode": "decimal"})
    lat = StringField(_l("Latitude"), validators=[Length(max=30)], render_kw={"inputmode": "decimal"})
    coord_system = SelectField(_l("Coordinate system"), default=geo.CoordSystem.GCJ02.value,
                               choices=[(s.value, label) for s, label in geo.COORD_SYSTEM_LABELS.items()])
    service_radius_km = StringField(_l("Service radius (km)"), default="3",
                                    validators=[Length(max=10)], render_kw={"inputmode": "decimal"})
    status = SelectField(_l("Status"), default=StoreStatus.OPEN.value,
                         choices=[(s.value, STORE_STATUS_LABELS[s.value]) for s in StoreStatus])
    opened_on = StringField(_l("Opening date"), validators=[Length(max=20)], render_kw={"type": "date"})
    phone = StringField(_l("Phone"), validators=[Length(max=40)])
    opening_hours = StringField(_l("Opening hours"), validators=[Length(max=120)])
    managers = SelectMultipleField(_l("Store managers"), coerce=int)

    def fill_choices(self) -> None:
        """Brands, cities grouped by province, and the store-manager accounts."""
        if "brand_id" in self:
            brands = db.session.execute(select(Brand.id, Brand.name).order_by(Brand.name)).all()
            self.brand_id.choices = [(0, _l("— no brand —"))] + [(b.id, b.name) for b in brands]
        groups: dict[str, list[tuple[str, str]]] = {"": [("", _l("— choose a city —"))]}
        for code, name in regions.cities():
            groups.setdefault(regions.region_name(code[:2] + "0000"), []).append((code, name))
        self.city.choices = groups
        if "managers" in self:
            users = db.session.execute(select(User.id, User.display_name, User.username).where(
                User.role == Role.STORE_MANAGER, User.active.is_(True)).order_by(User.username)).all()
            self.managers.choices = [(u.id, f"{u.display_name or u.username} ({u.username})") for u in users]

    def raw(self) -> dict:
        """The typed values, in the shape clean_store and the import share."""
        names = ("code", "name", "city", "district", "address", "lon", "lat", "coord_system",
                 "service_radius_km", "status", "opened_on", "phone", "opening_hours")
        raw = {name: (self[name].data or "").strip() for name in names}
        if not raw["lat"] and (pair := PASTED_PAIR.match(raw["lon"])):
            raw["lon"], raw["lat"] = pair.groups()  # both pasted into the longitude box
        return raw


def store_form_data(store: Store, system: geo.CoordSystem) -> dict:
    """Form values of a saved store, its point shown in `system`."""
    data = {"code": store.code, "name": store.name, "brand_id": store.brand_id or 0, "city": store.city_code,
            "district": regions.region_name(store.district_code), "address": store.address,
            "coord_system": system.value, "service_radius_km": f"{store.service_radius_km:g}",
            "status": store.status.value, "opened_on": store.opened_on.isoformat() if store.opened_on else "",
            "phone": store.phone or "", "opening_hours": store.opening_hours or "", "managers": [u.id for u in store.managers]}
    if store.has_point:
        point = geo.from_wgs84(store.lon, store.lat, system)
        data.update(lon=f"{point.lon:.6f}", lat=f"{point.lat:.6f}")
    return data


class DeleteStoreForm(FlaskForm):
    confirm_history = BooleanField(_l("Archive it: keep its accounts, communities and history."))


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token (restore)."""
