"""Handing a store's gaps to its managers, and the managers filling them in (their handles, links, group QR codes)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from matrix.accounts.models import Account, AccountScope, Platform
from matrix.accounts.services import create_account
from matrix.accounts.values import clean_account
from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.communities.models import Community
from matrix.communities.services import create_community, next_rotation_order, update_community
from matrix.communities.values import clean_community
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.models import utcnow
from matrix.onboarding.gaps import chain_gaps
from matrix.onboarding.models import Handover
from matrix.permissions import visible_stores
from matrix.stores.models import Store
from matrix.transaction import transactional

MAX_NOTE = 300


@transactional
def hand_over(store_ids: list[int], *, actor: User, note: str = "") -> int:
    """Put these stores' gaps on their managers' task lists (again: the date moves); returns how many stores."""
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE:
        raise DomainError(_("The note has %(n)d characters at most.", n=MAX_NOTE), field="note")
    stores = list(db.session.scalars(visible_stores(actor).where(Store.id.in_(store_ids))))
    if not stores:
        raise DomainError(_("Choose the stores to hand over."), field="store_ids")
    existing = {h.store_id: h for h in db.session.scalars(select(Handover).where(
        Handover.store_id.in_([s.id for s in stores])))}
    now = utcnow()
    for store in stores:
        handover = existing.get(store.id) or Handover(store_id=store.id)
        handover.handed_by_id, handover.handed_at, handover.note = actor.id, now, note
        db.session.add(handover)
        audit.record(actor, "hand_over", "store", entity_id=store.id, store_id=store.id,
                     summary=_l("%(code)s: missing accounts and groups handed to the store's managers",
                                code=store.code), changes={"note": note} if note else None)
    db.session.commit()
    return len(stores)


@transactional
def add_store_account(store: Store, *, platform: Platform, handle: str, profile_url: str, display_name: str,
                      actor: User) -> Account:
    """A manager (or HQ) records the store's account on a platform it lacks; one commit, audited."""
    raw = {"platform": platform, "scope": AccountScope.STORE, "store_id": store.id, "brand_id": store.brand_id,
           "handle": handle, "profile_url": profile_url, "display_name": display_name}
    return create_account(clean_account(raw), actor=actor)


@transactional
def fill_store_group(store: Store, *, name: str, invite_link: str, qr_image: bytes | None, actor: User,
                     group: Community | None = None) -> Community:
    """Record the store's new group, or the QR code and link of one customers cannot join yet; one commit."""
    if not (invite_link or "").strip() and not qr_image:
        raise DomainError(_("Add the group's QR code or its invite link: customers join with one of them."),
                          field="qr_image")
    if group is not None:
        if group.store_id != store.id:
            raise DomainError(_("This group belongs to another store."))
        raw = {**{k: getattr(group, k) for k in ("kind", "capacity", "members", "robot_webhook_url",
                                                 "wecom_chat_id", "active", "rotation_order")},
               "store_id": store.id, "name": name or group.name, "invite_link": invite_link or group.invite_link}
        update_community(group, clean_community(raw), actor=actor, qr_image=qr_image)
        return group
    raw = {"store_id": store.id, "name": name, "invite_link": invite_link,
           "rotation_order": next_rotation_order(store.id)}
    return create_community(clean_community(raw), actor=actor, qr_image=qr_image)


def open_handover_tasks(user: User) -> int:
    """How many things the stores handed to this user still lack (0 for HQ, who hands over)."""
    if user.is_hq:
        return 0
    ids = [h.store_id for h in handovers_of(user)]
    return sum(store.open_tasks for store in chain_gaps(user, store_ids=ids)) if ids else 0


def handovers_of(user: User) -> list[Handover]:
    """The handovers of the stores a manager runs (HQ: all), newest first."""
    return list(db.session.scalars(select(Handover).join(Store, Store.id == Handover.store_id)
                                   .where(Store.id.in_(visible_stores(user).with_only_columns(Store.id)))
                                   .order_by(Handover.handed_at.desc())))
