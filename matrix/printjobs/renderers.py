"""What a print job can print: renderers by name, registered by the features that own the pages.

A renderer turns a job and a batch of stores into HTML: `cover` is one page about the whole
document, `pages` one page per store, in the order given. Both are rendered in the job's locale
in an app context by the worker, and must print one page per store: the worker checks the count.
"""
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import current_app
from markupsafe import Markup

from matrix.printjobs.models import PrintJob
from matrix.stores.models import Store

PAPERS = {"A4-landscape": (841.89, 595.28), "A4": (595.28, 841.89), "A5": (419.53, 595.28)}  # points, as a PDF's media box gives them


@dataclass(frozen=True)
class Renderer:
    cover: Callable[[PrintJob, list[Store]], str]   # all the job's stores, in order
    pages: Callable[[PrintJob, list[Store]], str]   # one batch of them
    paper: str = "A4-landscape"


_RENDERERS: dict[str, Renderer] = {}


def register_renderer(name: str, renderer: Renderer) -> None:
    """Make `name` printable (called at import by the module that owns the pages)."""
    _RENDERERS[name] = renderer


def renderer_for(name: str) -> Renderer | None:
    return _RENDERERS.get(name)


@lru_cache(maxsize=8)
def _stylesheet(path: str) -> Markup:
    # Our own static file, not user input: escaped, its quoted font names would break the CSS.
    return Markup(Path(path).read_text(encoding="utf-8"))


def inline_css(name: str) -> Markup:
    """static/css/<name>, put into the page: the worker prints a local file with no server to fetch it from."""
    return _stylesheet(str(Path(current_app.static_folder) / "css" / name))
