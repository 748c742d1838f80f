"""The budget of the content-template sandbox: steps, characters built and seconds, per render and per job.

Every operation that builds a string or a sequence (an operator, a filter, a method, a literal,
a slice, printing) first charges the size of what it is about to build to the render's budget,
so a template that would build gigabytes stops before the first byte. Every charge and every
loop turn also checks the clock. Operator-written text therefore cannot hold a worker or its
memory: the worst a render can do is about MAX_BUILT characters and MAX_RENDER_S seconds.
"""
import contextvars
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from jinja2 import TemplateError

MAX_OUTPUT = 20_000       # characters of one rendered field (and of any string built on the way)
MAX_RANGE = 1_000         # items of one range()
MAX_ITERATIONS = 10_000   # loop turns, calls and comparisons of one render, all together
# Characters (or items) built by all operations of one render together. A caption needs a few
# thousand; a million is at most some tens of MB however the template nests its lists.
MAX_BUILT = 1_000_000
MAX_RENDER_S = 0.5        # wall-clock seconds of one render (a caption renders in well under 1 ms)
MAX_JOB_RENDER_S = 5.0    # seconds of rendering in one job (a week for the chain, a booking's trailers)


class LimitError(TemplateError):
    """The template tried to do more work or make more text than a caption needs."""


class _Budget:
    __slots__ = ("steps", "built", "deadline", "job")

    def __init__(self, deadline: float, job: "_Job | None"):
        self.steps, self.built, self.deadline, self.job = MAX_ITERATIONS, MAX_BUILT, deadline, job


class _Job:
    __slots__ = ("seconds",)

    def __init__(self, seconds: float):
        self.seconds = seconds  # rendering time left to the whole job


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("sandbox_budget", default=None)
_job: contextvars.ContextVar[_Job | None] = contextvars.ContextVar("sandbox_job", default=None)


@contextmanager
def render_job(seconds: float | None = None):
    """Share one rendering time budget among every render of a job (thousands of stores, many trailers)."""
    token = _job.set(_Job(MAX_JOB_RENDER_S if seconds is None else seconds))
    try:
        yield
    finally:
        _job.reset(token)


@contextmanager
def step_budget():
    """One render's budget of steps, characters and seconds (within its job's, when there is one)."""
    job = _job.get()
    if job is not None and job.seconds <= 0:
        raise LimitError(_("Rendering the templates took more than %(n)s seconds in all: simplify them.",
                           n=MAX_JOB_RENDER_S))
    started = time.monotonic()
    seconds = MAX_RENDER_S if job is None else min(MAX_RENDER_S, job.seconds)
    token = _budget.set(_Budget(started + seconds, job))
    try:
        yield
    finally:
        _budget.reset(token)
        if job is not None:
            job.seconds -= time.monotonic() - started


def _current() -> _Budget:
    budget = _budget.get()
    if budget is None:
        raise LimitError("no render budget")  # only at compile time: keeps the node from being folded
    return budget


def _check_clock(budget: _Budget) -> None:
    if time.monotonic() > budget.deadline:
        if budget.job is not None and budget.job.seconds <= MAX_RENDER_S:
            raise LimitError(_("Rendering the templates took more than %(n)s seconds in all: simplify them.",
                               n=MAX_JOB_RENDER_S))
        raise LimitError(_("The template takes too long (more than %(n)s seconds).", n=MAX_RENDER_S))


def check_clock() -> None:
    """Stop a render that has used its seconds."""
    _check_clock(_current())


def spend(n: int = 1) -> None:
    """Charge loop turns, calls or comparisons, and look at the clock."""
    budget = _current()
    budget.steps -= n
    if budget.steps < 0:
        raise LimitError(_("The template loops too much (more than %(n)d steps).", n=MAX_ITERATIONS))
    _check_clock(budget)


def build(size: int) -> None:
    """Charge `size` characters or items about to be built; raises before anything is allocated."""
    budget = _current()
    budget.built -= size
    if budget.built < 0:
        raise LimitError(_("The template builds too much text (more than %(n)d characters in all).", n=MAX_BUILT))
    _check_clock(budget)


def remaining() -> int:
    """What is left of the render's build budget: measuring further than that is never needed."""
    budget = _budget.get()
    return MAX_BUILT if budget is None else max(budget.built, 0)


_SMALL = {bool: 5, type(None): 4, float: 24, date: 10, datetime: 32, timedelta: 30}
_CONTAINERS = (list, tuple, set, frozenset, dict, range)


def weight(value, limit: int | None = None) -> int:
    """An upper bound of len(str(value)), which also bounds the items and memory it holds.

    Nested lists count every item they reach, shared or not, since printing them would write
    each one out. Stops counting past `limit` (the render's remaining budget by default), so
    measuring a huge value costs no more than the budget it may still spend.
    """
    if isinstance(value, str):
        return len(value)
    limit = remaining() if limit is None else limit
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            # repr() inside a list: quotes and escapes (\x00 is 4 characters, \U000e0001 is 10).
            total += 2 * len(item) + 2 if item.isprintable() else 10 * len(item) + 2
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 3 + 2
        elif isinstance(item, range):
            total += 48
        elif isinstance(item, dict):
            total += 4 * len(item) + 2
            if total <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, _CONTAINERS):
            total += 2 * len(item) + 2
            if total <= limit:
                stack.extend(item)
        else:
            total += _SMALL.get(type(item), 64)  # an object's repr, a generator: printing refuses them anyway
    return total


def charge(value):
    """Charge a value built without a guard of its own (a list literal); returns it."""
    build(weight(value))
    return value


def tick(value):
    """One step for a comparison or a test: they walk values and must see the clock."""
    spend()
    return value


def check_size(value):
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_OUTPUT:
        raise LimitError(_("The text grows longer than %(n)d characters.", n=MAX_OUTPUT))
    return value


def guard_iter(value):
    """Every for loop walks its iterable through here, so all loops share one budget."""
    for item in value:
        spend()
        yield item


def capped_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise LimitError(_("range() may give up to %(n)d numbers.", n=MAX_RANGE))
    return rng


def repeat_size(left, right) -> int:
    """The size `left * right` would have when one side is a sequence and the other a count."""
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
            return weight(seq, remaining() // max(count, 1)) * max(count, 0)
    return 0
