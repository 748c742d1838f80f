"""What happened to a session's trailers when it was booked, moved or cancelled: counts for the user and the audit."""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l


@dataclass
class TrailerReport:
    added: int = 0
    moved: int = 0
    cancelled: int = 0
    flagged: int = 0
    revived: int = 0
    too_late: int = 0      # wanted, but their time has passed: not created
    failures: list[str] = field(default_factory=list)  # templates that failed for a session
    posts: dict = field(default_factory=dict)  # the customer groups' posts: added, moved, withdrawn

    def as_dict(self) -> dict:
        return {"added": self.added, "moved": self.moved, "cancelled": self.cancelled, "flagged": self.flagged,
                "revived": self.revived, "too_late": self.too_late, "failures": self.failures[:20], "posts": self.posts}

    def summary(self) -> str:
        return str(self.summary_message())

    def summary_message(self):
        """The summary as a translatable message (the audit log shows it in each reader's language)."""
        return _l("Trailers: %(added)d added, %(moved)d moved, %(cancelled)d cancelled, %(flagged)d flagged.",
                  added=self.added, moved=self.moved, cancelled=self.cancelled, flagged=self.flagged)
