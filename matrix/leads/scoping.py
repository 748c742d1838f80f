"""Which leads a user may see: every lead for HQ, unrouted ones included; a manager those routed to their stores."""
from sqlalchemy import Select

from matrix.auth.models import User
from matrix.leads.models import Lead
from matrix.permissions import one_or_404, visible_store_rows


def visible_leads(user: User) -> Select[tuple[Lead]]:
    return visible_store_rows(user, Lead)


def get_lead_or_404(user: User, lead_id: int) -> Lead:
    return one_or_404(visible_leads(user), Lead, lead_id)
