"""What a store still lacks to take part in the matrix: an account per platform, a customer group.

One function on purpose: the onboarding hand-off (another part of the product) will replace it
with its own checklist, and the Today page only needs the list of gaps per store.
"""
from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from matrix.accounts.models import Account, AccountScope, AccountStatus, Platform
from matrix.communities.models import Community
from matrix.extensions import db

LIVING = (AccountStatus.ACTIVE, AccountStatus.INCUBATING)


@dataclass(frozen=True)
class Gap:
    text: str
    endpoint: str      # the form that fills it, with `args` prefilled
    args: tuple[tuple[str, object], ...] = ()


def onboarding_gaps(store_ids: list[int]) -> dict[int, list[Gap]]:
    """Store id -> its gaps: an enabled platform without a live store account, no active community."""
    if not store_ids:
        return {}
    platforms = db.session.scalars(select(Platform).where(Platform.enabled.is_(True))
                                   .order_by(Platform.sort_order, Platform.id)).all()
    covered = set(db.session.execute(select(Account.store_id, Account.platform_id).where(
        Account.store_id.in_(store_ids), Account.scope == AccountScope.STORE, Account.status.in_(LIVING))).tuples())
    grouped = set(db.session.scalars(select(Community.store_id).where(Community.store_id.in_(store_ids),
                                                                      Community.active.is_(True))))
    locale = str(get_locale())
    gaps: dict[int, list[Gap]] = {}
    for store_id in store_ids:
        mine = [Gap(_("No %(platform)s account yet", platform=p.label(locale)), "accounts.new",
                    (("store_id", store_id), ("platform", p.code)))
                for p in platforms if (store_id, p.id) not in covered]
        if store_id not in grouped:
            mine.append(Gap(_("No customer group yet: leads have nowhere to join"), "communities.new",
                            (("store_id", store_id),)))
        if mine:
            gaps[store_id] = mine
    return gaps
