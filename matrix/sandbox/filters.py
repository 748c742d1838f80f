"""The filters and methods a content template may use, each charging what it builds before building it.

Jinja's own filters turn any value into text or lists without a second thought (`|upper` of a
list prints the whole list first); here each one asks the render's budget (limits.build) for
the size of its result first, so `|string`, `|sum(start=[])` or `|join` of a nested list stop
with a message instead of taking a worker's memory.
"""
from datetime import date, timedelta

from flask_babel import gettext as _
from jinja2 import TemplateError, pass_environment
from jinja2.filters import FILTERS, make_attrgetter
from jinja2.runtime import Undefined

from matrix.sandbox.limits import MAX_OUTPUT, LimitError, build, check_clock, check_size, remaining, spend, weight

_SAFE = ("default", "d", "length", "count", "first", "last", "int", "float", "round", "abs", "min", "max",
         "unique")
# Filters that make text of their input: (factor over the input's size, extra characters).
_TEXT = {"upper": 3, "lower": 3, "title": 3, "capitalize": 3, "trim": 1, "string": 1, "wordcount": 2,
         "urlencode": 12, "reverse": 1}  # ß.upper() is SS; a 4-byte character is %XX four times


def _text_filter(name: str, factor: int):
    jinja_filter = FILTERS[name]

    def guarded(value, *args, **kwargs):
        build(factor * weight(value))
        return jinja_filter(value, *args, **kwargs)
    guarded.__name__ = f"safe_{name}"
    return guarded


def safe_list(value):
    """list(value), charging every item as it comes (the input may be a generator)."""
    if isinstance(value, str):
        build((6 if value.isprintable() else 14) * len(value) + 2)  # "['a', 'b']"
        return list(value)
    if hasattr(value, "__len__"):
        build(weight(value))
        return list(value)
    out = []
    for item in value:
        spend()
        build(weight(item) + 2)
        out.append(item)
    return out


@pass_environment
def safe_sort(environment, value, *args, **kwargs):
    build(weight(value))
    return FILTERS["sort"](environment, value, *args, **kwargs)


@pass_environment
def safe_truncate(environment, s, length=255, killwords=False, end="...", leeway=None):
    build(weight(s) + weight(end))
    return FILTERS["truncate"](environment, s, length, killwords, end, leeway)


@pass_environment
def safe_sum(environment, iterable, attribute=None, start=0):
    """sum(), with every intermediate list or string charged: `|sum(start=[])` is quadratic otherwise."""
    if attribute is not None:
        iterable = map(make_attrgetter(environment, attribute), iterable)
    total, size = start, weight(start)
    for item in iterable:
        spend()
        if isinstance(total, (str, list, tuple)) or isinstance(item, (str, list, tuple)):
            size += weight(item)
            build(size)  # the new total is a full copy of the old one plus the item
        total = total + item
    return total


def safe_slice(value, start=None, stop=None, step=None):
    """value[start:stop:step], charged by the length of the copy."""
    part = slice(start, stop, step)
    if isinstance(value, (str, list, tuple)):
        build(len(range(*part.indices(len(value)))))
    return value[part]


def safe_replace(value, old, new, count=None):
    """str.replace that refuses to blow a string up (replacing "" inserts between every character)."""
    build(weight(value) + weight(old) + weight(new))
    value, old, new = str(value), str(old), str(new)
    hits = value.count(old) if count is None else min(int(count), value.count(old))
    grown = len(value) + hits * (len(new) - len(old))
    if grown > MAX_OUTPUT:
        raise LimitError(_("The text grows longer than %(n)d characters.", n=MAX_OUTPUT))
    build(grown)
    return value.replace(old, new) if count is None else value.replace(old, new, int(count))


def safe_join(value, separator=""):
    separator = str(separator)
    out, size = [], 0
    for item in value:
        spend()
        item_size = weight(item, min(remaining(), MAX_OUTPUT))
        size += item_size + len(separator)
        if size > MAX_OUTPUT:
            raise LimitError(_("The text grows longer than %(n)d characters.", n=MAX_OUTPUT))
        build(item_size + len(separator))
        out.append(str(item))
    build(size)
    return separator.join(out)


def concat(parts):
    """The `~` operator: every part becomes text, so each is measured first."""
    size = sum(weight(part, min(remaining(), MAX_OUTPUT + 1)) for part in parts)
    if size > MAX_OUTPUT:
        raise LimitError(_("The text grows longer than %(n)d characters.", n=MAX_OUTPUT))
    build(size)
    return check_size("".join(map(str, parts)))


def format_date(value, pattern="%Y-%m-%d"):
    """Format a date; `week_start|date("%m月%d日")`."""
    if not isinstance(value, date):
        raise TemplateError(_("The date filter needs a date such as week_start."))
    pattern = str(pattern)[:100]
    build(20 * len(pattern))  # %c writes 24 characters for 2
    return value.strftime(pattern)


def finalize(value):
    """Only plain values are printed: never an object's repr (a method, a loop, ...)."""
    check_clock()
    if value is None:
        return ""
    if isinstance(value, Undefined):
        str(value)  # raises the UndefinedError that names the variable
    if isinstance(value, (str, int, float, date, timedelta)) or (
            isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, date)) for v in value)):
        if not isinstance(value, str):
            build(weight(value))  # printing writes it out as text
        return value
    raise TemplateError(_("This expression is not a text or a number and cannot be printed."))


def sandbox_filters() -> dict:
    """Name -> filter for the content sandbox: the whitelist, every builder guarded."""
    filters = {name: FILTERS[name] for name in _SAFE}
    filters.update({name: _text_filter(name, factor) for name, factor in _TEXT.items()})
    filters.update(list=safe_list, sort=safe_sort, truncate=safe_truncate, sum=safe_sum, replace=safe_replace,
                   join=safe_join, date=format_date)
    return filters


# What a whitelisted method may build, as a multiple of its string's length (split: a list of parts).
METHOD_GROWTH = {"upper": 3, "lower": 3, "title": 3, "capitalize": 3, "strip": 1, "lstrip": 1, "rstrip": 1,
                 "split": 6}


def charge_method(obj, name: str, args: tuple) -> None:
    """Charge what a whitelisted method call is about to build."""
    if isinstance(obj, str) and name in METHOD_GROWTH:
        build(METHOD_GROWTH[name] * len(obj) + 2)
    elif name == "strftime" and args:
        build(20 * weight(args[0]))
