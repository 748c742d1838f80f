"""The example values a trailer rule's help and preview show: the chain's own first store, never sample data."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from matrix.accounts.models import Account
from matrix.content.variables import first_store, placeholder_variables, store_variables
from matrix.extensions import db
from matrix.live.trailer_texts import TRAILER_VARIABLES

STORE_NAMES = ("brand", "store_name", "store_code", "city", "district", "address", "phone", "community_name",
               "community_link")


def example_trailer_variables(week_monday: date) -> dict:
    """What the rule form's help and preview show: the chain's first store (or placeholders), not sample data."""
    store = first_store()
    values = store_variables(store, week_monday) if store is not None else placeholder_variables(week_monday)
    handle = store and db.session.scalar(select(Account.handle).where(Account.store_id == store.id)
                                         .order_by(Account.id).limit(1))
    return {**TRAILER_VARIABLES, **{name: values[name] for name in STORE_NAMES},
            "host_account": "@" + handle if handle else _("the store's account")}

