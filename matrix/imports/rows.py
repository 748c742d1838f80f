"""What one row of an import would do, and the helpers every kind of row uses to decide it."""
from dataclasses import dataclass, field
from typing import Any

from matrix.extensions import db

NEW, CHANGED, UNCHANGED, ERROR = "new", "changed", "unchanged", "error"
BLANK = "blank"  # a gap sheet's row nobody filled in: skipped, not an error


@dataclass
class RowReport:
    """One data row: its line in the file, what it would do and why not."""

    line: int
    key: str = ""
    status: str = UNCHANGED
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (old, new), display text
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # the columns to write
    target: Any = None                          # the existing record, when the row updates one
    extra: dict = field(default_factory=dict)   # kind-specific data for the write (e.g. manager ids)


def same(old, new, *, tolerance: float = 0.0) -> bool:
    """Equal for the purpose of the preview: enums equal their values, floats within `tolerance`."""
    if old is None or new is None or not isinstance(old, (int, float)) or isinstance(old, bool):
        return old == new
    return isinstance(new, (int, float)) and abs(float(old) - float(new)) <= tolerance


def text(value) -> str:
    """A value as the preview shows it."""
    if value is None:
        return ""
    if hasattr(value, "value"):
        return str(value.value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def left_blank(raw: dict, mapped: set[str], filled: str) -> bool:
    """A gap sheet's row (it has the gap column) whose cell to fill is still empty."""
    return "gap" in mapped and not str(raw.get(filled) or "").strip()


def load_in(query, column, keys, *, size: int = 2000) -> list:
    """Rows of `query` whose `column` is one of `keys`, in chunks (SQLite caps bound parameters)."""
    keys = [k for k in keys if k not in (None, "")]
    found = []
    for start in range(0, len(keys), size):
        found.extend(db.session.execute(query.where(column.in_(keys[start:start + size]))).all())
    return found


def overlay(merged: dict, raw: dict, mapped: set[str], names, *, keep_when_empty=(), updating: bool) -> dict:
    """Put the file's cells over a record's current values; absent columns, and some empty cells, keep them."""
    for name in names:
        if name not in mapped:
            continue
        value = raw.get(name)
        if updating and name in keep_when_empty and (value is None or str(value).strip() == ""):
            continue
        merged[name] = value
    return merged
