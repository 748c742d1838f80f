"""Read QR codes back as a phone would, with zxing-cpp: from a page's inline SVG, or from pixels of a printed PDF."""
import re

import numpy as np
import zxingcpp

_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_VIEWBOX = re.compile(r'viewBox="0 0 (\d+) (\d+)"')
_LINES = re.compile(r'class="qrline"[^>]*\sd="([^"]+)"')
_STEP = re.compile(r"([Mmh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?")


def svg_pixels(svg: str, scale: int = 8) -> np.ndarray:
    """Draw a segno SVG (dark runs as `M x y h n m dx dy ...`) into a grey image, independently of segno."""
    width, height = (int(n) for n in _VIEWBOX.search(svg).groups())
    grid = np.full((height, width), 255, dtype=np.uint8)
    x = y = 0.0
    for command, a, b in _STEP.findall(_LINES.search(svg).group(1)):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:  # h: a dark run along the row
            grid[int(y), int(x):int(x + float(a))] = 0
            x += float(a)
    return np.kron(grid, np.ones((scale, scale), dtype=np.uint8))


def decode_pixels(pixels: np.ndarray) -> list[str]:
    """Every QR code's text found in an image (grey or RGB array)."""
    return [r.text for r in zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode)]


def decode_svgs(html: str) -> list[str]:
    """The text of every inline SVG QR code of a page, in document order."""
    out = []
    for svg in _SVG.findall(html):
        if 'class="qrline"' in svg:
            texts = decode_pixels(svg_pixels(svg))
            assert len(texts) == 1, f"an SVG QR code that does not read: {svg[:120]}"
            out.append(texts[0])
    return out
