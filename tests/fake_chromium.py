#!/usr/bin/env python3
"""A stand-in for headless Chromium's --print-to-pdf: one blank A4 landscape page per printed sheet.

It reads the local HTML file it is given, counts `<section class="sheet` and writes that many pages
(FAKE_CHROMIUM_EXTRA adds pages, FAKE_CHROMIUM_FAIL=1 exits with an error), so the print worker's
batching, checks and merge run without a browser.
"""
import os
import sys
from urllib.parse import unquote, urlsplit

from pypdf import PdfWriter


def main(argv: list[str]) -> int:
    target = next(a.split("=", 1)[1] for a in argv if a.startswith("--print-to-pdf="))
    page = unquote(urlsplit(argv[-1]).path)
    if os.environ.get("FAKE_CHROMIUM_FAIL") == "1":
        print("[1202/100000.000:ERROR:headless_shell.cc] print failed", file=sys.stderr)
        return 21
    with open(page, encoding="utf-8") as f:
        sheets = f.read().count('<section class="sheet')
    writer = PdfWriter()
    for _ in range(sheets + int(os.environ.get("FAKE_CHROMIUM_EXTRA", "0"))):
        writer.add_blank_page(width=841.89, height=595.28)
    with open(target, "wb") as out:
        writer.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
