"""What a store still lacks, as the Today page lists it: read from the onboarding checklist, one source of truth."""
from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import gettext as _

from matrix.auth.models import User
from matrix.onboarding.gaps import chain_gaps


@dataclass(frozen=True)
class Gap:
    text: str
    endpoint: str      # the page that fills it, with `args`
    args: tuple[tuple[str, object], ...] = ()


def onboarding_gaps(user: User, store_ids: list[int]) -> dict[int, list[Gap]]:
    """Store id -> its gaps (a platform without an account, no group customers can join), each linking to the
    store's setup page, where the manager fills it in on the phone."""
    if not store_ids:
        return {}
    locale = str(get_locale())
    gaps: dict[int, list[Gap]] = {}
    for store in chain_gaps(user, store_ids=store_ids):
        target = ("onboarding.store", (("store_id", store.id),))
        mine = [Gap(_("No %(platform)s account yet", platform=p.label(locale)), *target) for p in store.missing]
        if store.needs_group:
            mine.append(Gap(_("No customer group yet: leads have nowhere to join"), *target))
        elif store.group_gap:
            mine.append(Gap(_("No group customers can join yet: add its QR code or invite link"), *target))
        if mine:
            gaps[store.id] = mine
    return gaps
