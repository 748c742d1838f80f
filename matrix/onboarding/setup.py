"""The guided start: the steps from an empty install to a printed week on every store's wall, each done or not
as the data says."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select

from matrix.accounts.models import Platform
from matrix.audit import services as audit
from matrix.audit.models import AuditEntry
from matrix.auth.models import User
from matrix.brands.models import Brand
from matrix.content.models import ContentItem, ContentTemplate, ItemSource
from matrix.extensions import db
from matrix.leads.models import Lead
from matrix.onboarding.gaps import CityProgress
from matrix.permissions import visible_accounts, visible_communities, visible_store_rows, visible_stores
from matrix.stores.models import Store
from matrix.transaction import transactional


@dataclass
class ChainCounts:
    """How much of the chain the user sees exists at all: what an empty list says to do first."""

    stores: int
    platforms: int
    accounts: int
    groups: int
    leads: int


def chain_counts(user: User) -> ChainCounts:
    """Counts in the user's scope (a few cheap queries; asked only by a page whose list came out empty)."""
    def count(query) -> int:
        return db.session.scalar(select(func.count()).select_from(query.subquery()))
    return ChainCounts(stores=count(visible_stores(user)),
                       platforms=count(select(Platform.id).where(Platform.enabled.is_(True))),
                       accounts=count(visible_accounts(user)), groups=count(visible_communities(user)),
                       leads=count(visible_store_rows(user, Lead)))


@dataclass
class Step:
    key: str
    title: object        # lazy label
    hint: object         # what to do, in a sentence
    done: bool
    detail: str = ""     # progress in numbers ("180 of 224 stores")


def chain_is_empty() -> bool:
    """No store yet: a new install, where HQ starts on the setup checklist."""
    return not db.session.scalar(select(exists().where(Store.archived_at.is_(None))))


def setup_steps(total: CityProgress) -> list[Step]:
    """Brand, stores, accounts, communities, first campaign, first print; `total` is the chain's gap count."""
    brands = db.session.scalar(select(func.count()).select_from(Brand))
    stores = total.stores
    campaign = db.session.scalar(select(exists().where(ContentTemplate.campaign_id.is_not(None))))
    week = db.session.scalar(select(exists().where(ContentItem.source == ItemSource.CAMPAIGN)))
    printed = db.session.scalar(select(exists().where(AuditEntry.action == "print", AuditEntry.entity == "setup")))
    return [
        Step("brand", _l("Your brand"), _l("Name the brand the stores belong to."), brands > 0, str(brands or "")),
        Step("stores", _l("Your stores"), _l("Import your store sheet as it is (Excel or CSV, GBK is fine)."),
             stores > 0, str(stores or "")),
        Step("accounts", _l("Store accounts"),
             _l("Download the gap sheet, fill in the handles, import it; or hand the gaps to the store managers."),
             stores > 0 and total.missing_accounts == 0, f"{total.with_accounts} / {stores}" if stores else ""),
        Step("communities", _l("Store groups"),
             _l("Add each store's customer group with its QR code: the gap sheet, a zip of QR images, or the managers."),
             stores > 0 and total.group_gaps == 0, f"{stores - total.group_gaps} / {stores}" if stores else ""),
        Step("campaign", _l("First campaign"), _l("Create a campaign with its templates and generate a week."),
             bool(campaign and week)),
        Step("print", _l("First print"), _l("Print the week for the stores' walls, city by city."), bool(printed)),
    ]


@transactional
def mark_printed(*, actor: User) -> None:
    """HQ says the first week went up on the walls: the checklist's last step is done."""
    audit.record(actor, "print", "setup", summary=_l("The first week was printed for the stores."))
    db.session.commit()
