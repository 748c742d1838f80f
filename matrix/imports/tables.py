"""A sheet read from an upload, and the error that says it could not be read."""
from dataclasses import dataclass, field

from matrix.errors import DomainError


class BadFile(DomainError):
    """The file cannot be read as a table; nothing was stored."""


@dataclass
class Table:
    """A header row and the data rows under it, with each row's line number in the file."""

    headers: list[str]
    rows: list[list] = field(default_factory=list)
    encoding: str = ""
    lines: list[int] = field(default_factory=list)

    def __post_init__(self):
        if not self.lines:
            self.lines = list(range(2, len(self.rows) + 2))
