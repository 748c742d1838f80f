"""What a store's status and the origin of its coordinates are called, in the reader's language."""
from flask_babel import lazy_gettext as _l

STORE_STATUS_LABELS = {"planned": _l("Planned"), "open": _l("Open"),
                       "closed_temporarily": _l("Closed temporarily"), "closed": _l("Closed")}
GEOCODE_LABELS = {"manual": _l("Entered"), "imported": _l("From the imported sheet"), "geocoded": _l("Geocoded"), "missing": _l("No coordinates"),
                  "failed": _l("Geocoding failed")}
