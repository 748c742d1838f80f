"""What happened to a session's trailers when it was booked, moved or cancelled: counts for the user and the audit."""
from dataclasses import dataclass, field

from flask_babel import gettext as _
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
        text = str(self.summary_message())
        if self.too_late:
            text += " " + _("%(n)d not made: their time has passed.", n=self.too_late)
        return text

    def summary_message(self):
        """Every count the user should know of, as a translatable message (the audit log shows it in each
        reader's language); a revived trailer is back on a plan, so it is never left out."""
        return _l("Trailers: %(added)d added, %(moved)d moved, %(revived)d brought back, %(cancelled)d cancelled, "
                  "%(flagged)d flagged.", added=self.added, moved=self.moved, revived=self.revived,
                  cancelled=self.cancelled, flagged=self.flagged)
