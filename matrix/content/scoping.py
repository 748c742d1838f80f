"""Which content items a user may see: every store's for HQ; a manager those of the stores they run."""
from sqlalchemy import Select

from matrix.auth.models import User
from matrix.content.models import ContentItem
from matrix.permissions import one_or_404, visible_store_rows


def visible_items(user: User) -> Select[tuple[ContentItem]]:
    return visible_store_rows(user, ContentItem)


def get_item_or_404(user: User, item_id: int) -> ContentItem:
    return one_or_404(visible_items(user), ContentItem, item_id)
