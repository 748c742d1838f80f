"""The colour palette (static/css/palette.css): every text/background pair used together meets WCAG 2.2 AA.

The stylesheets name colours only through the palette, so checking the palette checks the pages. Pairs come from
two places: every rule that sets both a text colour and a background (found by parsing the stylesheets), and the
pairs below that meet across rules (a link on the page, a muted heading in a table header).
"""
import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parent.parent / "static" / "css"
STYLESHEETS = ("app.css", "storefront.css")
TEXT, LARGE_OR_UI = 4.5, 3.0

# (foreground, background, minimum): pairs that meet across rules, by where they show.
PAIRS = [
    *[(fg, bg, TEXT) for fg in ("ink", "ink-soft", "muted", "accent")
      for bg in ("bg", "panel", "subtle-bg", "hover-bg", "head-bg", "group-bg", "neutral-bg", "info-bg",
                 "today-bg", "today-cell-bg")],
    *[(fg, bg, TEXT) for fg in ("ok", "warn", "bad") for bg in ("bg", "panel", "subtle-bg", f"{fg}-bg")],
    ("muted", "ok-bg", TEXT), ("muted", "warn-bg", TEXT), ("ink", "warn-bg", TEXT), ("ink", "ok-bg", TEXT),
    ("accent-ink", "accent", TEXT), ("bad-ink", "bad", TEXT),
    ("bar-ink", "bar", TEXT), ("bar-link", "bar", TEXT), ("bar-muted", "bar", TEXT),
    ("chart-planned-ink", "chart-planned", TEXT), ("chart-planned-ink", "chart-planned-hover", TEXT),
    ("chart-live-ink", "chart-live", TEXT), ("chart-done-ink", "chart-done", TEXT),
    # Edges that are all a control shows of itself, the focus ring and the current-page mark: 3:1 (non-text).
    ("edge", "panel", LARGE_OR_UI), ("edge", "bg", LARGE_OR_UI), ("focus", "panel", LARGE_OR_UI),
    ("focus", "bg", LARGE_OR_UI), ("focus", "head-bg", LARGE_OR_UI), ("bar-mark", "bar", LARGE_OR_UI),
    ("bar-link", "bar", LARGE_OR_UI), ("warn", "warn-bg", LARGE_OR_UI),
    # The public store page.
    *[(fg, bg, TEXT) for fg in ("sf-ink", "sf-soft", "sf-muted", "sf-brand", "sf-red", "sf-error")
      for bg in ("sf-bg", "sf-panel")],
    ("sf-ink", "sf-notice-bg", TEXT), ("sf-red-ink", "sf-red", TEXT),
    ("sf-edge", "sf-panel", LARGE_OR_UI), ("focus", "sf-bg", LARGE_OR_UI), ("focus", "sf-panel", LARGE_OR_UI),
]
# The pairs issue 14 measured below 4.5:1, by what they colour.
MEASURED = {"status badge": ("accent", "info-bg"), "gap marker": ("warn", "warn-bg"),
            "week navigation link": ("accent", "bg"), "muted day heading": ("muted", "head-bg")}


def palette() -> dict[str, str]:
    """The custom properties of palette.css, name (without --) to #rrggbb."""
    text = (CSS / "palette.css").read_text()
    return {name: expand(value) for name, value in re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})\b", text)}


def expand(colour: str) -> str:
    colour = colour.lower().lstrip("#")
    return "#" + ("".join(c * 2 for c in colour) if len(colour) == 3 else colour)


def luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rules(sheet: str) -> list[tuple[str, str]]:
    """(selector, declarations) of every innermost rule, comments removed (media blocks are unwrapped)."""
    text = re.sub(r"/\*.*?\*/", "", (CSS / sheet).read_text(), flags=re.S)
    return [(sel.strip(), body) for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text)]


def same_rule_pairs() -> list[tuple[str, str, str]]:
    """(selector, text colour, background) of every rule that sets both through the palette."""
    found = []
    for sheet in STYLESHEETS:
        for selector, body in rules(sheet):
            fg = re.search(r"(?:^|;)\s*color:\s*var\(--([\w-]+)\)", body)
            bg = re.search(r"background(?:-color)?:\s*var\(--([\w-]+)\)", body)
            if fg and bg:
                found.append((selector, fg.group(1), bg.group(1)))
    return found


def test_the_contrast_formula_matches_wcag():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#1f6feb", "#eaf2fe") == pytest.approx(4.11, abs=0.01)    # the badge issue 14 measured
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)    # the well-known AA grey


def test_stylesheets_name_colours_only_through_the_palette():
    colours = palette()
    for sheet in STYLESHEETS:
        text = re.sub(r"/\*.*?\*/", "", (CSS / sheet).read_text(), flags=re.S)
        assert not re.findall(r"#[0-9a-fA-F]{3,6}\b", text), f"{sheet}: a colour outside palette.css"
        unknown = set(re.findall(r"var\(--([\w-]+)", text)) - set(colours) - {"hours"}
        assert not unknown, f"{sheet} uses colours the palette lacks: {unknown}"


def test_every_rule_that_sets_text_and_background_reads_at_4_5_to_1():
    colours, found = palette(), same_rule_pairs()
    assert len(found) > 20     # the parser sees the badges, flashes, buttons, bars
    weak = [f"{sel}: {fg} on {bg} {contrast(colours[fg], colours[bg]):.2f}" for sel, fg, bg in found
            if contrast(colours[fg], colours[bg]) < TEXT]
    assert not weak, "\n".join(weak)


def test_every_pair_used_across_rules_meets_its_minimum():
    colours = palette()
    weak = [f"{fg} on {bg}: {contrast(colours[fg], colours[bg]):.2f} < {minimum}" for fg, bg, minimum in PAIRS
            if contrast(colours[fg], colours[bg]) < minimum]
    assert not weak, "\n".join(weak)


@pytest.mark.parametrize("what", sorted(MEASURED))
def test_the_pairs_the_audit_measured_now_pass(what):
    colours = palette()
    fg, bg = MEASURED[what]
    assert contrast(colours[fg], colours[bg]) >= TEXT
