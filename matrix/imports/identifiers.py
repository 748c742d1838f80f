"""Long identifiers (a POI id: 16 digits and more) that a spreadsheet turned into a number on the way back.

A spreadsheet number holds 15 significant digits: 9786693996606481 comes back as 9.78669399660648E+015 (a CSV
opened and saved), as the number 9786693996606480 (an XLSX saved), or as a float cell. Such a value is never
written over the stored identifier: when it is the stored one rounded, the stored one is kept and the row says
so; when nothing stored matches, the row is refused with a message saying how to fix the sheet.
"""
import re
from dataclasses import dataclass

from flask_babel import gettext as _

SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$")
EXACT_DIGITS = 15   # significant digits a spreadsheet (IEEE double) keeps


@dataclass
class Checked:
    """The identifier to use, and a warning or an error for the row."""
    value: object
    warning: str | None = None
    error: str | None = None


def check_long_identifier(value, stored: str | None) -> Checked:
    """Notice a long identifier a spreadsheet rounded or wrote as a number; `stored` is the current one."""
    if value is None or isinstance(value, bool) or str(value).strip() == "":
        return Checked(value)
    shown = _shown(value)
    if isinstance(value, str) and not SCIENTIFIC.match(shown):
        if shown.isdigit() and len(shown) > EXACT_DIGITS and shown != stored and _rounded_from(stored, shown):
            return _kept(stored, shown)
        return Checked(value)
    if isinstance(value, int) and len(str(abs(value))) <= EXACT_DIGITS:
        return Checked(str(value))       # a number, but every digit of it is exact
    number = float(shown) if isinstance(value, str) else value
    if isinstance(number, float) and number.is_integer() and abs(number) < 10 ** EXACT_DIGITS:
        return Checked(str(int(number)))
    if stored and stored.isdigit() and _same_number(float(stored), float(number)):
        return _kept(stored, shown)
    return Checked(None, error=_("The id %(value)s lost digits in a spreadsheet (a number keeps 15): format the "
                                 "column as text, type the id again, and upload the sheet again.", value=shown))


def _shown(value) -> str:
    """The value as the spreadsheet showed it."""
    return f"{value:.15G}" if isinstance(value, float) else str(value).strip()


def _kept(stored: str, shown: str) -> Checked:
    return Checked(stored, warning=_("The id %(value)s is %(stored)s rounded by a spreadsheet: the stored id is "
                                     "kept.", value=shown, stored=stored))


def _rounded_from(stored: str | None, digits: str) -> bool:
    """`digits` is `stored` cut or rounded to 15 significant digits (the rest zeros)."""
    if not stored or not stored.isdigit() or len(stored) != len(digits):
        return False
    scale = 10 ** (len(stored) - EXACT_DIGITS)
    whole = int(stored)
    return int(digits) in (whole // scale * scale, (whole + scale // 2) // scale * scale)


def _same_number(stored: float, number: float) -> bool:
    return abs(stored - number) <= abs(stored) * 1e-14
