"""What a password may not be: too short, one of the commonest passwords, or the user's own name.

zxcvbn (Dropbox's estimator) knows the tens of thousands of passwords leaked most often and the
patterns people use (keyboard rows, sequences, l33t, years); a few Chinese favourites it rates too
highly are listed here. Sign-in is throttled, so "guessable in under a million tries" is the bar.
"""
import re

from flask_babel import gettext as _
from zxcvbn import zxcvbn

from matrix.errors import DomainError

MIN_LENGTH = 10
MIN_SCORE = 2            # zxcvbn 0-4; below 2 means fewer than 10^6 guesses
CHECKED_LENGTH = 72      # zxcvbn's own limit; a longer password is judged by its start
# Common in Chinese leaks, rated "somewhat guessable" by zxcvbn's mostly English lists.
CHINESE_COMMON = {"woaini1314", "woaini520", "woaini5201314", "5201314520", "1314520520", "5201314521",
                  "woaini123456", "wo5201314", "iloveyou1314", "aini1314520", "1314woaini", "woaiwojia",
                  "qq1234567890", "1234567890qq", "caonima123", "zhang123456", "wang123456", "li1234567890",
                  "asd123456789", "a1234567890", "1234567890a", "147258369a", "qwe123456789"}


def check_password(password: str, *, username: str = "", display_name: str = "") -> None:
    """Raise a DomainError on the password field unless the password is long and hard enough to guess."""
    if len(password) < MIN_LENGTH:
        raise DomainError(_("The password must have at least 10 characters."), field="password")
    folded = password.casefold()
    for name in _names(username, display_name):
        if name in folded:
            raise DomainError(_("The password must not contain the user's name."), field="password")
    names = [n for n in (username, display_name) if n]
    weak = folded in CHINESE_COMMON or zxcvbn(password[:CHECKED_LENGTH], user_inputs=names)["score"] < MIN_SCORE
    if weak:
        raise DomainError(_("This password is among the most common ones or easy to guess: choose a longer, "
                            "less predictable one (several unrelated words work well)."), field="password")


def _names(username: str, display_name: str) -> set[str]:
    """The user's name and its parts, long enough to mean something (3 letters, or 2 Chinese characters)."""
    parts = {username, display_name, *re.split(r"[\s·._\-@]+", f"{username} {display_name}")}
    return {p.casefold() for p in parts if len(p) >= 3 or (len(p) >= 2 and not p.isascii())}
