"""The limits of the content-template sandbox: a shared step budget, capped sizes, safe filters.

A template that loops hugely, builds a giant string or prints an object stops here with an
error the operator can read, long before it costs time or memory.
"""
import contextvars
from contextlib import contextmanager
from datetime import date, timedelta

from flask_babel import gettext as _
from jinja2 import TemplateError
from jinja2.runtime import Undefined

MAX_OUTPUT = 20_000      # characters of one rendered field (and of any string built on the way)
MAX_RANGE = 1_000        # items of one range()
MAX_ITERATIONS = 10_000  # loop turns and calls of one render, all loops together


class LimitError(TemplateError):
    """The template tried to do more work or make more text than a caption needs."""


_budget: contextvars.ContextVar[list[int]] = contextvars.ContextVar("sandbox_budget")


@contextmanager
def step_budget():
    """One render's shared budget of loop turns and calls."""
    token = _budget.set([MAX_ITERATIONS])
    try:
        yield
    finally:
        _budget.reset(token)


def spend(n: int = 1) -> None:
    left = _budget.get(None)
    if left is None:
        raise LimitError("no render budget")  # only at compile time: keeps the node from being folded
    left[0] -= n
    if left[0] < 0:
        raise LimitError(_("The template loops too much (more than %(n)d steps).", n=MAX_ITERATIONS))


def check_size(value):
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_OUTPUT:
        raise LimitError(_("The text grows longer than %(n)d characters.", n=MAX_OUTPUT))
    return value


def guard_iter(value):
    """Every for loop walks its iterable through here, so all loops share one budget."""
    for item in value:
        spend()
        yield item


def cap(value):
    return check_size(value)


def capped_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise LimitError(_("range() may give up to %(n)d numbers.", n=MAX_RANGE))
    return rng


def safe_replace(value, old, new, count=None):
    """str.replace that refuses to blow a string up (replacing "" inserts between every character)."""
    value, old, new = str(value), str(old), str(new)
    hits = value.count(old) if count is None else min(int(count), value.count(old))
    if len(value) + hits * (len(new) - len(old)) > MAX_OUTPUT:
        raise LimitError(_("The text grows longer than %(n)d characters.", n=MAX_OUTPUT))
    return value.replace(old, new) if count is None else value.replace(old, new, int(count))


def safe_join(value, separator=""):
    out, size = [], 0
    for item in value:
        spend()
        text = str(item)
        size += len(text) + len(separator)
        if size > MAX_OUTPUT:
            raise LimitError(_("The text grows longer than %(n)d characters.", n=MAX_OUTPUT))
        out.append(text)
    return str(separator).join(out)


def format_date(value, pattern="%Y-%m-%d"):
    """Format a date; `week_start|date("%m月%d日")`."""
    if not isinstance(value, date):
        raise TemplateError(_("The date filter needs a date such as week_start."))
    return value.strftime(str(pattern)[:100])


def repeat_size(left, right) -> int:
    """The length `left * right` would have when one side is a sequence and the other a count."""
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
            return len(seq) * count
    return 0


def finalize(value):
    """Only plain values are printed: never an object's repr (a method, a loop, ...)."""
    if value is None:
        return ""
    if isinstance(value, Undefined):
        str(value)  # raises the UndefinedError that names the variable
    if isinstance(value, (str, int, float, date, timedelta)) or (
            isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, date)) for v in value)):
        return value
    raise TemplateError(_("This expression is not a text or a number and cannot be printed."))
