"""A page of a list already in memory (a report's rows), read like Flask-SQLAlchemy's Pagination by the pager macro."""
from dataclasses import dataclass


@dataclass
class ListPage:
    page: int
    per_page: int
    total: int

    @classmethod
    def of(cls, total: int, page: int | None, per_page: int) -> "ListPage":
        """Page `page` (1-based), kept within the list: a page past the end shows the last one."""
        pages = max(1, -(-total // per_page))
        return cls(min(max(page or 1, 1), pages), per_page, total)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def first(self) -> int:
        """Index of the page's first item in the list."""
        return (self.page - 1) * self.per_page

    def slice(self, items: list) -> list:
        return items[self.first:self.first + self.per_page]
