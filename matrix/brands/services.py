"""Create and change brands. Each public call is one transaction."""
import hashlib

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from matrix.accounts.models import Account, AccountScope, Platform
from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.communities.values import _image_type_and_size
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.stores.models import Store
from matrix.brands.models import Brand
from matrix.transaction import transactional

MAX_LOGO_BYTES = 2 * 1024 * 1024
LOGO_SIDE_PX = (16, 4000)


def check_logo(data: bytes) -> str:
    """The MIME type of an acceptable logo (PNG, JPEG, GIF or WebP, 16–4000 px, up to 2 MB)."""
    if not data:
        raise DomainError(_("The uploaded file is empty."), field="logo")
    if len(data) > MAX_LOGO_BYTES:
        raise DomainError(_("The image is larger than 2 MB."), field="logo")
    mime, size = _image_type_and_size(data)
    if mime is None:  # SVG is refused on purpose: it can carry scripts
        raise DomainError(_("The file is not a PNG, JPEG, GIF or WebP image."), field="logo")
    low, high = LOGO_SIDE_PX
    if size is None or not (low <= size[0] <= high and low <= size[1] <= high):
        raise DomainError(_("The logo must be between %(low)d and %(high)d pixels on each side.",
                            low=low, high=high), field="logo")
    return mime


def _clean_name(name: str, *, brand_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError(_("The brand name is required."), field="name")
    if len(name) > 120:
        raise DomainError(_("The brand name may be up to 120 characters."), field="name")
    same = select(Brand.id).where(Brand.name == name)
    if brand_id is not None:
        same = same.where(Brand.id != brand_id)
    if db.session.scalar(same):
        raise DomainError(_("A brand named %(name)s already exists.", name=name), field="name")
    return name


def _snapshot(brand: Brand) -> dict:
    # Never the image itself; size and hash tell two logos apart.
    logo = f"<{len(brand.logo)} bytes, sha256 {hashlib.sha256(brand.logo).hexdigest()[:12]}>" if brand.logo else None
    return {"name": brand.name, "logo": logo, "logo_mime": brand.logo_mime}


@transactional
def create_brand(*, name: str, actor: User, logo: bytes | None = None) -> Brand:
    """Add a brand, with an optional logo image."""
    brand = Brand(name=_clean_name(name))
    if logo is not None:
        brand.logo_mime = check_logo(logo)
        brand.logo = logo
    db.session.add(brand)
    db.session.flush()
    audit.record(actor, "create", "brand", entity_id=brand.id, summary=brand.name, changes=_snapshot(brand))
    db.session.commit()
    return brand


@transactional
def update_brand(brand: Brand, *, name: str, actor: User, logo: bytes | None = None,
                 remove_logo: bool = False) -> dict:
    """Rename a brand, replace or remove its logo; returns what changed (field -> [old, new])."""
    name = _clean_name(name, brand_id=brand.id)
    mime = check_logo(logo) if logo is not None else None
    before = _snapshot(brand)
    brand.name = name
    if logo is not None:
        brand.logo, brand.logo_mime = logo, mime
    elif remove_logo:
        brand.logo = brand.logo_mime = None
    changes = audit.diff(before, _snapshot(brand))
    if changes:
        audit.record(actor, "update", "brand", entity_id=brand.id, summary=brand.name, changes=changes)
    db.session.commit()
    return changes


def brand_overview() -> list[tuple[Brand, int]]:
    """Every brand with its number of (unarchived) stores."""
    counts = (select(Store.brand_id, func.count().label("n")).where(Store.archived_at.is_(None))
              .group_by(Store.brand_id).subquery())
    rows = db.session.execute(select(Brand, func.coalesce(counts.c.n, 0))
                              .outerjoin(counts, counts.c.brand_id == Brand.id).order_by(Brand.name)).all()
    return [(brand, n) for brand, n in rows]


def main_accounts(brand_ids: list[int]) -> dict[int, list[Account]]:
    """Brand id -> its main accounts, in platform order."""
    if not brand_ids:
        return {}
    accounts = db.session.scalars(
        select(Account).join(Account.platform).where(Account.scope == AccountScope.BRAND,
                                                     Account.brand_id.in_(brand_ids))
        .options(contains_eager(Account.platform)).order_by(Platform.sort_order, Account.handle)).all()
    out: dict[int, list[Account]] = {i: [] for i in brand_ids}
    for account in accounts:
        out[account.brand_id].append(account)
    return out
