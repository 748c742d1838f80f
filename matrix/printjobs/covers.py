"""What a document's cover lists: its cities, each with its stores' codes and the pages they are on."""
from dataclasses import dataclass

from matrix.regions.services import region_name
from matrix.stores.models import Store


@dataclass
class CityRow:
    name: str
    stores: int
    first_code: str
    last_code: str
    pages: list[tuple[int, int]]   # runs of consecutive pages


def cover_rows(stores: list[Store]) -> list[CityRow]:
    """One row per city, in the order cities first appear; store n is on page n + 1 (after the cover)."""
    rows: dict[str, CityRow] = {}
    for page, store in enumerate(stores, start=2):
        row = rows.get(store.city_code)
        if row is None:
            rows[store.city_code] = CityRow(region_name(store.city_code), 1, store.code, store.code, [(page, page)])
            continue
        row.stores, row.last_code = row.stores + 1, store.code
        first, last = row.pages[-1]
        row.pages[-1:] = [(first, page)] if last == page - 1 else [(first, last), (page, page)]
    return list(rows.values())
