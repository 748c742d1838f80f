"""Clean community fields from a form or a sheet row, and check uploaded QR images."""
import re
import struct
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matrix.accounts.values import parse_count
from matrix.choices import Choices
from matrix.cleaning import CleanedValues
from matrix.communities.labels import KIND_LABELS
from matrix.communities.models import DEFAULT_CAPACITY, CommunityKind
from matrix.errors import DomainError

# Only the real WeCom robot host: anything else would let a form field make us call
# an arbitrary (possibly internal) address (SSRF).
ROBOT_HOST = "qyapi.weixin.qq.com"
ROBOT_PATH = "/cgi-bin/webhook/send"
MAX_GROUP_SIZE = 500  # a WeChat group's hard limit
MAX_QR_BYTES = 2 * 1024 * 1024
CHAT_ID = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")  # WeCom customer group ids look like "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"
KIND_WORDS = {"wecom": CommunityKind.WECOM, "企业微信": CommunityKind.WECOM, "企业微信群": CommunityKind.WECOM,
              "企微": CommunityKind.WECOM, "企微群": CommunityKind.WECOM,
              "wechat": CommunityKind.WECHAT, "微信": CommunityKind.WECHAT, "微信群": CommunityKind.WECHAT}
TRUE_WORDS = {"1", "true", "yes", "y", "是", "启用", "有效", "active", "on"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "停用", "无效", "inactive", "off"}
# What the kind and active columns may hold: the UI's words in both languages, the codes, the words above.
KIND_CHOICES = Choices({k.value: k for k in CommunityKind}, labels=KIND_LABELS, aliases=KIND_WORDS)
ACTIVE_CHOICES = Choices({"true": True, "false": False},
                         labels={"true": (_l("Yes"), _l("Active")), "false": (_l("No"), _l("Inactive"))},
                         aliases={**{w: True for w in TRUE_WORDS}, **{w: False for w in FALSE_WORDS}})


class CommunityValues(CleanedValues):
    """Clean values, errors and warnings keyed by field."""


def parse_kind(text) -> CommunityKind:
    if isinstance(text, CommunityKind):
        return text
    if not str(text or "").strip():
        return CommunityKind.WECOM
    found = KIND_CHOICES.find(text)
    if found is not None:
        return found
    raise DomainError(_("Unknown group kind “%(value)s”: use wecom or wechat (企业微信群, 微信群).", value=text))


def parse_bool(text, default: bool = True) -> bool:
    if isinstance(text, bool):
        return text
    if not str(text if text is not None else "").strip():
        return default
    found = ACTIVE_CHOICES.find(text)
    if found is not None:
        return found
    raise DomainError(_("“%(value)s” is not yes or no.", value=text))


def check_robot_url(url: str) -> str:
    """A WeCom group-robot webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."""
    parts = urlsplit(url.strip())
    if (parts.scheme != "https" or parts.hostname != ROBOT_HOST or parts.port not in (None, 443)
            or parts.path != ROBOT_PATH or not parts.query.startswith("key=") or len(parts.query) < 12
            or parts.username or parts.password):
        raise DomainError(_("The robot webhook must be a WeCom address: https://%(host)s%(path)s?key=…",
                            host=ROBOT_HOST, path=ROBOT_PATH))
    return url.strip()


def check_chat_id(chat_id: str) -> str:
    """A WeCom customer group id (chat_id), as the WeCom app lists it."""
    if not CHAT_ID.match(chat_id):
        raise DomainError(_("A WeCom chat id is 8 to 64 letters, digits, “-” or “_” (such as wrOgQhDgAA…)."))
    return chat_id


def check_invite_link(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError(_("The invite link must be a web address starting with https://."))
    return url.strip()


def clean_community(raw: dict) -> CommunityValues:
    """Validate raw community fields; `store_id` is resolved by the caller."""
    out = CommunityValues()
    v, err = out.values, out.errors

    attempt = out.attempt

    v["store_id"] = raw.get("store_id")
    if not v["store_id"]:
        err["store_id"] = _("A community belongs to a store.")
    v["name"] = str(raw.get("name") or "").strip()[:120]
    if not v["name"]:
        err["name"] = _("The group name is required.")
    attempt("kind", lambda: parse_kind(raw.get("kind")))
    link = str(raw.get("invite_link") or "").strip()
    v["invite_link"] = None
    if link:
        attempt("invite_link", lambda: check_invite_link(link))
    attempt("capacity", lambda: parse_count(raw.get("capacity") or DEFAULT_CAPACITY, _("Capacity")))
    attempt("members", lambda: parse_count(raw.get("members"), _("Members")))
    if v.get("capacity") is not None and not 1 <= v["capacity"] <= MAX_GROUP_SIZE:
        err["capacity"] = _("The capacity must be between 1 and %(max)d (a WeChat group's limit).", max=MAX_GROUP_SIZE)
    if v.get("members", 0) > MAX_GROUP_SIZE:
        err["members"] = _("A group cannot hold more than %(max)d members.", max=MAX_GROUP_SIZE)
    elif "capacity" in v and v.get("members", 0) > v["capacity"]:
        out.warnings["members"] = _("More members than capacity: the group counts as full.")
    robot = str(raw.get("robot_webhook_url") or "").strip()
    v["robot_webhook_url"] = None
    if robot:
        attempt("robot_webhook_url", lambda: check_robot_url(robot))
    chat_id = str(raw.get("wecom_chat_id") or "").strip()
    v["wecom_chat_id"] = None
    if chat_id:
        attempt("wecom_chat_id", lambda: check_chat_id(chat_id))
    attempt("active", lambda: parse_bool(raw.get("active"), default=True))
    attempt("rotation_order", lambda: parse_count(raw.get("rotation_order"), _("Rotation order")))
    return out


def check_qr_image(data: bytes) -> str:
    """The MIME type of a sane QR image (PNG, JPEG, GIF or WebP, 80–4000 px, up to 2 MB)."""
    if not data:
        raise DomainError(_("The uploaded file is empty."))
    if len(data) > MAX_QR_BYTES:
        raise DomainError(_("The image is larger than 2 MB."))
    mime, size = _image_type_and_size(data)
    if mime is None:
        raise DomainError(_("The file is not a PNG, JPEG, GIF or WebP image."))
    if size is None or not (80 <= size[0] <= 4000 and 80 <= size[1] <= 4000):
        raise DomainError(_("The image must be between 80 and 4000 pixels on each side to be scannable."))
    return mime


def _image_type_and_size(data: bytes) -> tuple[str | None, tuple[int, int] | None]:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return "image/png", struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return "image/gif", struct.unpack("<HH", data[6:10])
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp", _webp_size(data)
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg", _jpeg_size(data)
    return None, None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8 " and len(data) >= 30:
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None
