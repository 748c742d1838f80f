"""Outside text made safe for a robot's markdown, and messages cut to WeCom's size limits."""
import re

# WeCom's limits: markdown content up to 4096 bytes, text content up to 2048 bytes (UTF-8).
MARKDOWN_MAX_BYTES = 4096
TEXT_MAX_BYTES = 2048
FIELD_MAX_CHARS = 200
_UNSAFE = re.compile(r"[<>\[\]()`*#_~|\\\r\n\t]+")

def plain(text: str | None, limit: int = FIELD_MAX_CHARS) -> str:
    """One line of outside text, safe inside robot markdown."""
    cleaned = _UNSAFE.sub(" ", str(text or "")).replace("@", "＠")
    return " ".join(cleaned.split())[:limit]


def fit(content: str, max_bytes: int) -> str:
    data = content.encode("utf-8")
    if len(data) <= max_bytes:
        return content
    return data[:max_bytes - 3].decode("utf-8", errors="ignore") + "…"
