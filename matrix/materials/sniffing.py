"""What an uploaded file really is, read from its bytes: an image (PNG, JPEG, GIF, WebP) or a short MP4/MOV.

The name and the browser's content type are never trusted; a file that is neither is refused.
A video's length comes from its movie header (ISO base media 'moov/mvhd'), which phones and
editing apps always write.
"""
import struct
from dataclasses import dataclass

VIDEO_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"mmp4", b"dash",
                b"qt  ", b"3gp4", b"3gp5", b"3g2a", b"MSNV"}


@dataclass(frozen=True)
class Sniffed:
    kind: str          # "image" or "video"
    mime: str
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


def sniff(data: bytes) -> Sniffed | None:
    """The file's kind and MIME type from its first bytes, or None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return Sniffed("image", "image/png", width, height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return Sniffed("image", "image/gif", width, height)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return Sniffed("image", "image/webp")
    if data.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "image/jpeg")
    if data[4:8] == b"ftyp" and data[8:12] in VIDEO_BRANDS:
        mime = "video/quicktime" if data[8:12] == b"qt  " else "video/mp4"
        return Sniffed("video", mime, duration_s=movie_seconds(data))
    return None


def _boxes(data: bytes, start: int, end: int):
    """(type, body start, body end) of the ISO boxes between start and end."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        header = 8
        if size == 1 and at + 16 <= end:
            size, header = struct.unpack(">Q", data[at + 8:at + 16])[0], 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            return
        yield kind, at + header, at + size
        at += size


def movie_seconds(data: bytes) -> float | None:
    """The movie's duration from moov/mvhd, or None when the file has no readable header."""
    for kind, body, end in _boxes(data, 0, len(data)):
        if kind != b"moov":
            continue
        for inner, start, _stop in _boxes(data, body, end):
            if inner != b"mvhd" or start + 32 > len(data):
                continue
            if data[start] == 1:   # version 1: 64-bit times
                timescale, duration = struct.unpack(">IQ", data[start + 20:start + 32])
            else:
                timescale, duration = struct.unpack(">II", data[start + 12:start + 20])
            return round(duration / timescale, 2) if timescale else None
    return None
