"""A realistic demo chain (`flask demo`) and large chains for benchmarks (`flask seed`).

Both are deterministic (one random.Random(seed)); demo_chain.py draws the stores, accounts and groups.
The demo then gets live sessions with trailers (live/demo.py), a campaign with three generated weeks
(campaigns/demo.py) and leads in every state (leads/demo.py), so every page has something to show,
and the first manager's Today page is full: posts and trailers to do, a live session, leads, a gap.
"""
import random

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select

from matrix.accounts.models import Account, Platform
from matrix.accounts.platforms import ensure_default_platforms
from matrix.audit import services as audit
from matrix.auth.models import Role, User
from matrix.broadcasts.demo import add_demo_channels
from matrix.campaigns.demo import add_demo_campaign
from matrix.chain import chain_language
from matrix.demo_chain import BRAND, ChainSummary, build_chain, demo_plans, seed_plans
from matrix.extensions import db
from matrix.leads.demo import add_demo_leads
from matrix.leads.models import Lead, LeadSource, SourceKind
from matrix.leads.phones import encrypt_text
from matrix.live.demo import add_demo_sessions, book_for_today
from matrix.live.models import LiveSession
from matrix.onboarding.demo import hand_demo_gaps_to_managers
from matrix.storefront.demo import add_storefront_demo
from matrix.stores.models import Store, StoreStatus, store_managers

DEMO_USERS = [("admin", "demo-admin-2026", Role.ADMIN, "总部管理员", 0),
              ("operator", "demo-operator-2026", Role.OPERATOR, "运营 林晓", 0),
              ("manager1", "demo-manager-2026", Role.STORE_MANAGER, "店长 王芳", 1),
              ("manager2", "demo-manager-2026", Role.STORE_MANAGER, "店长 李强", 2),
              ("manager3", "demo-manager-2026", Role.STORE_MANAGER, "店长 陈静", 3)]


def ensure_platforms() -> list[Platform]:
    """The four usual platforms exist; returns the enabled ones in display order."""
    ensure_default_platforms()
    return list(db.session.scalars(select(Platform).where(Platform.enabled.is_(True))
                                   .order_by(Platform.sort_order, Platform.id)))


def _has_stores() -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(Store)))


def _demo_users(open_ids: list[int], codes: dict[int, str]) -> list[tuple[str, str, str, list[str]]]:
    """The demo's users; store managers take the next 1, 2 and 3 open stores."""
    users, start = [], 0
    for username, password, role, display_name, n in DEMO_USERS:
        mine, start = open_ids[start:start + n], start + n
        if db.session.scalar(select(User.id).where(User.username == username)):
            users.append((username, "(unchanged: the user existed)", role.value, []))
            continue
        user = User(username=username, display_name=display_name, role=role)
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        if mine:
            db.session.execute(insert(store_managers), [{"user_id": user.id, "store_id": sid} for sid in mine])
        users.append((username, password, role.value, [codes[sid] for sid in mine]))
    return users


def _managed_stores() -> dict[int, User]:
    """Store id -> the demo manager who runs it, in the managers' order (manager1's store first)."""
    rows = db.session.execute(select(store_managers.c.store_id, User).join(User, User.id == store_managers.c.user_id)
                              .order_by(User.username, store_managers.c.store_id)).all()
    return {store_id: user for store_id, user in rows}


def _leave_a_gap(store_id: int | None) -> None:
    """The first demo manager's store has not opened its Xiaohongshu account yet: a set-up gap on its Today page."""
    if store_id is None:
        return
    db.session.execute(delete(Account).where(Account.store_id == store_id, Account.platform_id.in_(
        select(Platform.id).where(Platform.code == "xiaohongshu"))))
    db.session.commit()


# The demo's generic lead webhook, with a secret everyone knows: the README's curl example uses it.
DEMO_LEAD_SOURCE = ("demo-generic", "demo-webhook-secret-2026")


def _demo_lead_source() -> tuple[str, str]:
    """A generic signed-JSON lead source with a known secret (never do this outside a demo)."""

    slug, secret = DEMO_LEAD_SOURCE
    if not db.session.scalar(select(LeadSource.id).where(LeadSource.slug == slug)):
        db.session.add(LeadSource(name="演示线索源（通用 JSON）", slug=slug, kind=SourceKind.GENERIC,
                                  secret_encrypted=encrypt_text(secret), signature_scheme="", field_map={},
                                  active=True))
    return DEMO_LEAD_SOURCE


def build_demo(rng_seed: int = 2026, stores: int = 300) -> ChainSummary | None:
    """Create the 栖木家居 demo chain with users; None when the database already has stores."""
    platforms = ensure_platforms()
    if _has_stores():
        return None
    rng = random.Random(rng_seed)
    summary, rows, ids = build_chain(rng, demo_plans(stores), platforms, None)
    # Managers run open stores of the first city (Hangzhou), then of the others when it has too few.
    open_ids = [ids[s["code"]] for s in sorted(rows, key=lambda s: s["city_code"] != rows[0]["city_code"])
                if s["status"] == StoreStatus.OPEN]
    summary.users = _demo_users(open_ids, {v: k for k, v in ids.items()})
    managers = _managed_stores()
    _leave_a_gap(next(iter(managers), None))
    summary.sessions = add_demo_sessions(rng) or 0  # needs an HQ user: after the users
    if summary.sessions and managers:
        store_id, manager = next(iter(managers.items()))
        summary.sessions += book_for_today(store_id, anchor=manager.display_name) is not None
    summary.lead_source = _demo_lead_source()
    hq = db.session.scalar(select(User).where(User.username == "operator"))
    if hq is not None:
        first_manager = next(iter(managers.values()), None)
        summary.items = add_demo_campaign(rng, actor=hq, manager=first_manager, focus_store_ids=list(managers)) or 0
        source = db.session.scalar(select(LeadSource).where(LeadSource.slug == DEMO_LEAD_SOURCE[0]))
        summary.leads = add_demo_leads(rng, source=source, actor=hq, managers=managers) or 0
    hand_demo_gaps_to_managers()  # the managers' Store setup lists show what their stores still lack
    add_storefront_demo(rng)  # store pages: settings, opening hours, counts, a few page leads
    add_demo_channels(summary.lead_source[0])  # staff channels (one confirmed, one not) and community posts
    # Store pages and channels add leads and a session of their own: count what is there.
    summary.sessions = db.session.scalar(select(func.count()).select_from(LiveSession))
    summary.leads = db.session.scalar(select(func.count()).select_from(Lead))
    with chain_language():  # stored: the chain's language
        text = _("Demo chain %(brand)s: %(stores)d stores, %(accounts)d store accounts, %(groups)d communities",
                 brand=BRAND, stores=summary.stores, accounts=summary.accounts, groups=summary.communities)
    audit.record(None, "create", "demo", summary=text)
    db.session.commit()
    return summary


def build_seed(stores: int = 10_000, accounts_per_store: int = 3, rng_seed: int = 1) -> ChainSummary | None:
    """A large chain (S00001...) for benchmarks; None when the database already has stores."""
    platforms = ensure_platforms()
    if _has_stores():
        return None
    rng = random.Random(rng_seed)
    summary, _rows, _ids = build_chain(rng, seed_plans(rng, stores), platforms, accounts_per_store)
    with chain_language():
        text = _("Generated %(stores)d stores and %(accounts)d accounts", stores=summary.stores,
                 accounts=summary.accounts)
    audit.record(None, "create", "seed", summary=text)
    db.session.commit()
    return summary
