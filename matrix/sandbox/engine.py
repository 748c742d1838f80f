"""Operator-written Jinja2 text rendered per store in a sandbox.

Operators write content templates, so a template may only read a whitelist of plain
values (str, int, date) and use a few filters. Walking attributes, reaching globals,
huge loops and huge strings end in an error message with its line, never in data,
a hang or a 500. Compile once with `compile_text`, render per store with `render_compiled`.
"""
import re
import traceback
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from matrix.sandbox import filters, limits
from matrix.sandbox.guard import Guard
from matrix.sandbox.limits import MAX_ITERATIONS, MAX_OUTPUT, LimitError  # noqa: F401 - used by callers

MAX_SOURCE = 20_000      # characters of one template field
FILENAME = "<content>"

# Methods a template may call on its values; none of them can grow a string much.
_METHODS = {str: {"upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "startswith",
                  "endswith", "split", "count", "find", "isdigit"},
            date: {"strftime", "isoformat", "weekday", "isoweekday"},
            LoopContext: {"cycle", "changed"}}


class NotAllowed(SecurityError):
    """A call outside the whitelist; the message is already for the user."""


@dataclass
class Rendered:
    text: str
    errors: list[tuple[int | None, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ContentEnvironment(ImmutableSandboxedEnvironment):
    """A sandbox with no globals but a capped range(), whitelisted filters and methods, guarded operators."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def __init__(self, names):
        self.names = frozenset(names) | {"range", "loop"}  # what a template of this kind may read
        super().__init__(autoescape=False, undefined=StrictUndefined, auto_reload=False, cache_size=0,
                         keep_trailing_newline=False, finalize=filters.finalize)
        self.globals.clear()  # no lipsum, cycler, joiner, namespace, dict
        self.globals["range"] = limits.capped_range
        self.filters = filters.sandbox_filters()
        self.filters.update(_guard_iter=limits.guard_iter, _concat=filters.concat, _slice=filters.safe_slice, _charge=limits.charge,
                            _tick=limits.tick)

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
        return Guard(set(self.names) | assigned, FILENAME).visit(tree)

    def is_safe_callable(self, obj) -> bool:
        if obj is limits.capped_range:
            return True
        owner = getattr(obj, "__self__", None)
        allowed = next((names for kind, names in _METHODS.items() if isinstance(owner, kind)), ())
        return getattr(obj, "__name__", None) in allowed and super().is_safe_callable(obj)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's signature
        limits.spend()
        if not __self.is_safe_callable(__obj):
            raise NotAllowed(_("Calling “%(name)s” is not allowed.", name=getattr(__obj, "__name__", "?")))
        filters.charge_method(getattr(__obj, "__self__", None), getattr(__obj, "__name__", ""), args)
        return __context.call(__obj, *args, **kwargs)

    def call_binop(self, context, operator, left, right):
        """Operators that can grow a value are measured, and charged, before they run."""
        limits.spend()
        if operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 \
                    and abs(left).bit_length() * right > 256:
                raise LimitError(_("The number is too large."))
        elif operator == "*":
            if isinstance(left, int) and isinstance(right, int):
                if abs(left).bit_length() + abs(right).bit_length() > 256:
                    raise LimitError(_("The number is too large."))
            else:
                _check_repeat(left, right)
        elif operator == "+" and (isinstance(left, _SEQUENCES) or isinstance(right, _SEQUENCES)):
            limits.build(limits.weight(left) + limits.weight(right))
        elif operator == "%" and isinstance(left, str):
            # "%9999999s" pads to its width; "%*s" takes the width from the arguments: refuse both.
            widths = sum(int(n) for n in re.findall(r"\d+", left))
            if widths + len(left) > MAX_OUTPUT or "*" in left:
                raise LimitError(_("The text grows longer than %(n)d characters.", n=MAX_OUTPUT))
            limits.build(widths + len(left) + limits.weight(right))  # %r and %s write out whatever is given
        return limits.check_size(super().call_binop(context, operator, left, right))


_SEQUENCES = (str, list, tuple)


def _check_repeat(left, right) -> None:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, _SEQUENCES) and isinstance(count, int):
            if len(seq) * count > MAX_OUTPUT:
                raise LimitError(_("The text grows longer than %(n)d characters.", n=MAX_OUTPUT))
            limits.build(limits.repeat_size(seq, count))
            return



@dataclass
class Compiled:
    """A template field compiled once; `template` is None for plain text or when `errors` is set."""

    source: str
    template: object = None
    errors: list[tuple[int | None, str]] = field(default_factory=list)


def compile_text(source: str, environment: ContentEnvironment) -> Compiled:
    """Compile one template field; syntax and whitelist errors come back as (line, message)."""
    source = source or ""
    if len(source) > MAX_SOURCE:
        return Compiled(source, errors=[(None, _("The template is longer than %(n)d characters.", n=MAX_SOURCE))])
    if "{" not in source:  # plain text: nothing to render (most hashtags and location tags)
        return Compiled(source)
    try:
        code = environment.compile(source, filename=FILENAME)
        # A plain dict of globals, not the environment's ChainMap: a new context per render stays cheap.
        return Compiled(source, environment.template_class.from_code(environment, code, {"range": limits.capped_range}, None))
    except TemplateSyntaxError as e:
        return Compiled(source, errors=[(e.lineno, e.message or str(e))])
    except TemplateError as e:  # pragma: no cover - the parser raises syntax errors only
        return Compiled(source, errors=[(None, str(e))])


def render_compiled(compiled: Compiled, variables: dict) -> Rendered:
    """Render a compiled field with whitelisted variables; never raises."""
    if compiled.errors:
        return Rendered("", list(compiled.errors))
    if compiled.template is None:
        return Rendered(compiled.source)
    try:
        with limits.step_budget():
            parts, size = [], 0
            for chunk in compiled.template.generate(**variables):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise LimitError(_("The text grows longer than %(n)d characters.", n=MAX_OUTPUT))
                parts.append(chunk)
        return Rendered("".join(parts))
    except Exception as e:  # noqa: BLE001 - any failure of operator-written text is reported, not raised
        return Rendered("", [(_error_line(e), _describe(e))])


def render_text(source: str, variables: dict, environment: ContentEnvironment) -> Rendered:
    """Compile and render one template field (the preview; generation compiles once per template)."""
    return render_compiled(compile_text(source, environment), variables)


# Generation renders all fields of all templates in one pass (one Jinja context per store, not 25);
# each field sits in its own {% with %} scope so a {% set %} in one cannot leak into the next.
_SEPARATOR = "\x1e"  # ASCII record separator: never typed in a caption


@dataclass
class CompiledFields:
    fields: dict[object, Compiled]
    combined: Compiled | None = None


def compile_fields(sources: dict, environment: ContentEnvironment) -> CompiledFields:
    """Compile texts once, each alone (for errors) and all together (for speed); keys are the caller's."""
    fields = {key: compile_text(text, environment) for key, text in sources.items()}
    good = [c for c in fields.values() if not c.errors]
    out = CompiledFields(fields)
    if good and not any(_SEPARATOR in c.source for c in good):
        combined = compile_text(_SEPARATOR.join("{% with %}" + c.source + "{% endwith %}" for c in good), environment)
        out.combined = None if combined.errors else combined  # over MAX_SOURCE: fields render one by one
    return out


def render_fields(compiled: CompiledFields, variables: dict) -> dict[object, Rendered]:
    """Render every text; on any trouble fall back to one render per text for exact errors and lines."""
    good = [key for key, c in compiled.fields.items() if not c.errors]
    texts = _render_combined(compiled.combined, variables, len(good)) if compiled.combined else None
    if texts is None:
        return {key: render_compiled(c, variables) for key, c in compiled.fields.items()}
    out = {key: Rendered("", list(c.errors)) for key, c in compiled.fields.items() if c.errors}
    out.update({key: Rendered(text) for key, text in zip(good, texts)})
    return out


def _render_combined(compiled: Compiled, variables: dict, count: int) -> list[str] | None:
    parts, size, template = [], 0, compiled.template
    try:
        with limits.step_budget():
            for chunk in template.root_render_func(template.new_context(variables)):
                size += len(chunk)
                if size > MAX_OUTPUT * count:
                    return None
                parts.append(chunk)
    except Exception:  # noqa: BLE001 - the per-field render says what went wrong and where
        return None
    texts = "".join(parts).split(_SEPARATOR)
    if len(texts) != count or any(len(t) > MAX_OUTPUT for t in texts):
        return None
    return texts


def _error_line(error: Exception) -> int | None:
    if isinstance(error, TemplateSyntaxError):
        return error.lineno
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == FILENAME]
    return lines[-1] if lines else None


def _describe(error: Exception) -> str:
    if isinstance(error, NotAllowed):
        return str(error)
    if isinstance(error, SecurityError):
        return _("Not allowed: %(detail)s", detail=str(error))
    if isinstance(error, UndefinedError):
        match = re.match(r"'([^']+)' is undefined", str(error))
        if match:
            return _("Unknown variable “%(name)s”.", name=match.group(1))
        return _("Undefined value: %(detail)s", detail=str(error))
    if isinstance(error, (LimitError, TemplateError)):
        return str(error)
    if isinstance(error, RecursionError):
        return _("The template nests too deeply.")
    return _("The template failed: %(detail)s", detail=f"{type(error).__name__}: {error}")

