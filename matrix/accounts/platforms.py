"""The platforms accounts live on. The list is data: HQ adds or renames one without a release."""
import re

from flask_babel import gettext as _
from sqlalchemy import select

from matrix.accounts.models import Platform
from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.errors import DomainError
from matrix.extensions import db

AUDITED_FIELDS = ["code", "name_zh", "name_en", "url_hosts", "sort_order", "enabled"]
# The four platforms every chain in China starts with (code, Chinese, English, hosts).
DEFAULT_PLATFORMS = [
    ("douyin", "抖音", "Douyin", "douyin.com,iesdouyin.com"),
    ("kuaishou", "快手", "Kuaishou", "kuaishou.com,gifshow.com"),
    ("channels", "视频号", "WeChat Channels", "channels.weixin.qq.com,weixin.qq.com"),
    ("xiaohongshu", "小红书", "Xiaohongshu", "xiaohongshu.com,xhslink.com"),
]
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,29}$")
HOST_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOST_SEPARATORS = re.compile(r"[\s,;，；、]+")


def ordered_platforms(*, enabled_only: bool = False) -> list[Platform]:
    """Platforms in the order HQ chose for menus and tables."""
    query = select(Platform).order_by(Platform.sort_order, Platform.id)
    if enabled_only:
        query = query.where(Platform.enabled.is_(True))
    return list(db.session.scalars(query))


def parse_hosts(text: str | None) -> str:
    """Hosts as people paste them (with https://, spaces or Chinese commas) -> "a.com,b.com"."""
    hosts = []
    for item in _HOST_SEPARATORS.split((text or "").strip().lower()):
        host = re.sub(r"^[a-z]+://", "", item).split("/")[0].removeprefix("www.")
        if not host:
            continue
        if not HOST_PATTERN.match(host):
            raise DomainError(_("“%(value)s” is not a host name such as douyin.com.", value=item), field="url_hosts")
        hosts.append(host)
    joined = ",".join(dict.fromkeys(hosts))
    if len(joined) > 255:
        raise DomainError(_("The list of hosts is too long (255 characters at most)."), field="url_hosts")
    return joined


def _clean(code: str, name_zh: str, name_en: str, url_hosts: str, sort_order: int, enabled: bool,
           platform_id: int | None = None) -> dict:
    code = (code or "").strip().lower()
    if not CODE_PATTERN.match(code):
        raise DomainError(_("The code must start with a letter and hold lowercase letters, digits, “_” or “-” "
                            "(30 at most)."), field="code")
    same = select(Platform.id).where(Platform.code == code)
    if platform_id:
        same = same.where(Platform.id != platform_id)
    if db.session.scalar(same):
        raise DomainError(_("Another platform already has the code %(code)s.", code=code), field="code")
    values = {"code": code, "name_zh": (name_zh or "").strip(), "name_en": (name_en or "").strip(),
              "url_hosts": parse_hosts(url_hosts), "sort_order": int(sort_order or 0), "enabled": bool(enabled)}
    for name in ("name_zh", "name_en"):
        if not values[name]:
            raise DomainError(_("Both the Chinese and the English name are required."), field=name)
        if len(values[name]) > 60:
            raise DomainError(_("A name may have 60 characters at most."), field=name)
    return values


def create_platform(*, code: str, name_zh: str, name_en: str, url_hosts: str = "", sort_order: int = 0,
                    enabled: bool = True, actor: User | None) -> Platform:
    """Add a platform accounts can be registered on."""
    platform = Platform(**_clean(code, name_zh, name_en, url_hosts, sort_order, enabled))
    db.session.add(platform)
    db.session.flush()
    audit.record(actor, "create", "platform", entity_id=platform.id, summary=platform.code,
                 changes=audit.snapshot(platform, AUDITED_FIELDS))
    db.session.commit()
    return platform


def update_platform(platform: Platform, *, code: str, name_zh: str, name_en: str, url_hosts: str = "",
                    sort_order: int = 0, enabled: bool = True, actor: User | None) -> dict:
    """Rename, reorder, enable or disable a platform; returns what changed."""
    values = _clean(code, name_zh, name_en, url_hosts, sort_order, enabled, platform_id=platform.id)
    before = audit.snapshot(platform, AUDITED_FIELDS)
    for name, value in values.items():
        setattr(platform, name, value)
    changes = audit.diff(before, audit.snapshot(platform, AUDITED_FIELDS))
    if changes:
        audit.record(actor, "update", "platform", entity_id=platform.id, summary=platform.code, changes=changes)
    db.session.commit()
    return changes


def ensure_default_platforms(actor: User | None = None) -> list[Platform]:
    """Insert the four usual platforms that are missing (by code); returns the ones added."""
    existing = set(db.session.scalars(select(Platform.code)))
    added = []
    for order, (code, name_zh, name_en, hosts) in enumerate(DEFAULT_PLATFORMS):
        if code in existing:
            continue
        platform = Platform(code=code, name_zh=name_zh, name_en=name_en, url_hosts=hosts,
                            sort_order=(order + 1) * 10, enabled=True)
        db.session.add(platform)
        db.session.flush()
        audit.record(actor, "create", "platform", entity_id=platform.id, summary=code,
                     changes=audit.snapshot(platform, AUDITED_FIELDS))
        added.append(platform)
    db.session.commit()
    return added
