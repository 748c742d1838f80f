"""The result of cleaning one form or sheet row: values, and messages keyed by field."""
from dataclasses import dataclass, field
from typing import Any, Callable

from matrix.errors import DomainError


@dataclass
class CleanedValues:
    values: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)

    def attempt(self, name: str, parse: Callable[[], Any]) -> None:
        """Store `parse()` under `name`, or its DomainError's message as that field's error."""
        try:
            self.values[name] = parse()
        except DomainError as e:
            self.errors[name] = e.message
