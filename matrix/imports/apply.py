"""Write a checked import: every row or none, in one transaction, with one audit entry."""
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from matrix import geo
from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.imports.preview import ImportPreview, row_kind
from matrix.imports.rows import CHANGED, NEW


# Geocoding runs inside the confirm request, so it is capped; stores beyond the cap are saved
# flagged (FAILED) for the re-geocoding run instead of holding the request for minutes.
GEOCODE_LIMIT = 200
ENTITIES = {"stores": "store", "accounts": "account", "communities": "community"}  # the audit log's names


class _ImportGeocoder(geo.Geocoder):
    """Asks at most `limit` addresses, and none after the provider failed once (it would fail again)."""

    def __init__(self, inner: geo.Geocoder, limit: int):
        self.inner, self.left, self.failure = inner, limit, None
        self.provider = inner.provider

    def geocode(self, query: str):
        if self.failure is not None:
            raise geo.GeocodeError(self.failure)
        if self.left <= 0:
            raise geo.GeocodeError(_("Not geocoded during the import (too many addresses at once); "
                                     "re-geocode the flagged stores."))
        self.left -= 1
        try:
            return self.inner.geocode(query)
        except geo.GeocodeError as e:
            self.failure = str(e)
            raise


def apply_import(preview: ImportPreview, actor: User, *, geocoder: "geo.Geocoder | None" = None,
                 geocode_limit: int = GEOCODE_LIMIT) -> dict[str, int]:
    """Write every new and changed row of `preview`, or nothing; returns the counts."""
    if not preview.ok:
        raise DomainError(_("The file still has errors: fix them and upload it again. Nothing was imported."))
    rows = [r for r in preview.rows if r.status in (NEW, CHANGED)]
    counts = preview.counts
    summary = {NEW: counts[NEW], CHANGED: counts[CHANGED], "unchanged": counts["unchanged"], "total": counts["total"]}
    if not rows:
        return summary  # a file read back as it is changes nothing, not even the audit log
    try:
        limited = _ImportGeocoder(geocoder, geocode_limit) if geocoder is not None else None
        row_kind(preview.kind).write(rows, geocoder=limited)
        audit.record(actor, "import", ENTITIES[preview.kind], summary=preview.filename or preview.kind,
                     changes={"file": preview.filename, **summary})
        db.session.commit()
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        raise DomainError(_("Someone changed the same records while the import ran. Nothing was imported; "
                            "preview the file again.")) from None
    except Exception:
        db.session.rollback()
        raise
    return summary
