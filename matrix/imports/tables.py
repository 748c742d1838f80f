"""A sheet read from an upload, and the error that says it could not be read."""
from dataclasses import dataclass, field

from flask_babel import gettext as _

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
    titles: list[tuple[int, str]] = field(default_factory=list)  # (line, text) of title rows above the header

    def __post_init__(self):
        if not self.lines:
            self.lines = list(range(2, len(self.rows) + 2))

    def notes(self) -> list[str]:
        """Say which lines above the header the reader took for a title and skipped."""
        return [_("Line %(line)d (“%(text)s”) was read as a title above the column names and skipped.",
                  line=line, text=text[:60]) for line, text in self.titles]
