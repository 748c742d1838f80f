"""The accounts list page by page in its order, brand main accounts first, then store accounts by store code.

One ORDER BY over accounts, stores and platforms made the database sort every account of the chain
(30,000) for each page of 50. Split in two, each part follows an index: the brand accounts are a
handful; the store accounts are read along the stores' code index, and the reading stops at the page.
"""
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, select

from matrix.accounts.models import Account, AccountScope, Platform
from matrix.extensions import db
from matrix.stores.models import Store


class AccountPages(Pagination):
    """A page of `select` (accounts joined to their platform and outer-joined to their store, not ordered)."""

    def _query_items(self) -> list[Account]:
        query: Select = self._query_args["select"]
        order = (Store.code, Platform.sort_order, Account.handle, Account.id)
        end = self._query_offset + self.per_page
        brand = db.session.scalars(query.where(Account.scope == AccountScope.BRAND).order_by(*order)
                                   .limit(end)).unique().all()
        items = brand[self._query_offset:end]
        if len(items) < self.per_page:
            # NOT NULL on the store's code turns the outer join into an inner one the code index can drive.
            stores = query.where(Account.scope == AccountScope.STORE, Store.code.is_not(None)).order_by(*order)
            items += db.session.scalars(stores.offset(max(0, self._query_offset - len(brand)))
                                        .limit(self.per_page - len(items))).unique().all()
        return items

    def _query_count(self) -> int:
        ids = self._query_args["select"].with_only_columns(Account.id).order_by(None)  # no eager-loaded columns
        return db.session.scalar(select(func.count()).select_from(ids.subquery()))


def account_page(query: Select, *, page: int, per_page: int) -> AccountPages:
    """The page `page` (from 1; past the end: empty) of the accounts `query` selects."""
    return AccountPages(select=query, page=page, per_page=per_page, error_out=False)
