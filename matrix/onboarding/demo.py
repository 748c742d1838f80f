"""The demo's first hour: its store managers find their stores' gaps on their task list (Store setup)."""
from flask_babel import gettext as _
from sqlalchemy import select

from matrix.audit import services as audit
from matrix.auth.models import Role, User
from matrix.chain import chain_language
from matrix.extensions import db
from matrix.onboarding.gaps import chain_gaps
from matrix.onboarding.models import Handover
from matrix.stores.models import store_managers


def hand_demo_gaps_to_managers() -> int:
    """Hand the managed demo stores that lack something to their managers, in the caller's transaction."""
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1))
    managed = list(db.session.scalars(select(store_managers.c.store_id).distinct()))
    if admin is None or not managed:
        return 0
    stores = [s for s in chain_gaps(admin, store_ids=managed) if not s.complete]
    with chain_language():
        note = _("Please add the store's missing accounts and group QR codes.")
    for store in stores:
        db.session.add(Handover(store_id=store.id, handed_by_id=admin.id, note=note))
        audit.record(None, "hand_over", "store", entity_id=store.id, store_id=store.id, summary=store.code)
    db.session.flush()
    return len(stores)
