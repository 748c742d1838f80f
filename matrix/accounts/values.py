"""Clean account fields from a form or a sheet row; shared by both."""
import re
from urllib.parse import urlsplit

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from matrix.accounts.labels import ACCOUNT_STATUS_LABELS, SCOPE_LABELS
from matrix.accounts.models import AccountScope, AccountStatus, Platform
from matrix.choices import Choices
from matrix.cleaning import CleanedValues
from matrix.errors import DomainError
from matrix.extensions import db

STATUS_WORDS = {
    "incubating": AccountStatus.INCUBATING, "孵化": AccountStatus.INCUBATING, "孵化中": AccountStatus.INCUBATING,
    "新号": AccountStatus.INCUBATING, "养号": AccountStatus.INCUBATING, "养号中": AccountStatus.INCUBATING,
    "active": AccountStatus.ACTIVE, "正常": AccountStatus.ACTIVE, "活跃": AccountStatus.ACTIVE, "运营中": AccountStatus.ACTIVE,
    "restricted": AccountStatus.RESTRICTED, "限流": AccountStatus.RESTRICTED, "受限": AccountStatus.RESTRICTED,
    "banned": AccountStatus.BANNED, "封禁": AccountStatus.BANNED, "封号": AccountStatus.BANNED, "被封": AccountStatus.BANNED,
    "retired": AccountStatus.RETIRED, "停用": AccountStatus.RETIRED, "注销": AccountStatus.RETIRED, "已停用": AccountStatus.RETIRED,
}
SCOPE_WORDS = {"brand": AccountScope.BRAND, "品牌主号": AccountScope.BRAND, "品牌号": AccountScope.BRAND,
               "主号": AccountScope.BRAND, "官方号": AccountScope.BRAND, "官号": AccountScope.BRAND,
               "store": AccountScope.STORE, "门店号": AccountScope.STORE, "矩阵号": AccountScope.STORE,
               "门店": AccountScope.STORE}
# What the status and type columns may hold: the UI's words in both languages, the codes, the words above.
STATUS_CHOICES = Choices({s.value: s for s in AccountStatus}, labels=ACCOUNT_STATUS_LABELS, aliases=STATUS_WORDS)
SCOPE_CHOICES = Choices({s.value: s for s in AccountScope}, labels=SCOPE_LABELS, aliases=SCOPE_WORDS)
HANDLE_PATTERN = re.compile(r"^[\w.\-@]{1,80}$")


class AccountValues(CleanedValues):
    """Clean values, errors and warnings keyed by field."""


def platform_choices() -> Choices:
    """Every platform by its code and both its names (抖音, Douyin, douyin), as sheets and forms write them."""
    platforms = db.session.scalars(select(Platform).order_by(Platform.sort_order, Platform.id))
    words = {}
    for platform in platforms:
        words.update({platform.code: platform, platform.name_zh: platform, platform.name_en: platform})
    return Choices({}, aliases=words, strict=False)  # names are HQ's data: the first platform keeps a shared one


def find_platform(text, choices: Choices | None = None) -> Platform:
    """A platform by code, Chinese or English name (抖音, douyin, Douyin); `choices` saves the query per row."""
    if isinstance(text, Platform):
        return text
    if not str(text or "").strip():
        raise DomainError(_("The platform is required."))
    found = (choices or platform_choices()).find(text)
    if found is None:
        raise DomainError(_("Unknown platform “%(value)s”.", value=text))
    return found


def parse_status(text) -> AccountStatus:
    if isinstance(text, AccountStatus):
        return text
    if not str(text or "").strip():
        return AccountStatus.INCUBATING
    found = STATUS_CHOICES.find(text)
    if found is not None:
        return found
    raise DomainError(_("Unknown account status “%(value)s”: use incubating, active, restricted, banned or retired.", value=text))


def parse_scope(text) -> AccountScope:
    if isinstance(text, AccountScope):
        return text
    found = SCOPE_CHOICES.find(text)
    if found is not None:
        return found
    raise DomainError(_("Unknown account scope “%(value)s”: use brand or store (品牌主号, 门店号).", value=text))


def parse_count(text, label: str) -> int:
    """Whole numbers as sheets hold them: 12000, 12,000, 1.2万, 1.2w."""
    if text in (None, ""):
        return 0
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        raw = str(text).strip().replace(",", "").replace("，", "").lower()
        factor = 1
        if raw.endswith(("万", "w")):
            factor, raw = 10000, raw[:-1]
        elif raw.endswith("k"):
            factor, raw = 1000, raw[:-1]
        try:
            value = float(raw) * factor
        except ValueError:
            raise DomainError(_("%(field)s “%(value)s” is not a number.", field=label, value=text)) from None
    if value < 0 or value != value or value > 2_000_000_000:
        raise DomainError(_("%(field)s must be a whole number of zero or more.", field=label))
    return int(round(value))


def check_platform_url(url: str, platform: Platform) -> str:
    """A web URL on one of the platform's hosts (a profile or a post)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError(_("“%(value)s” is not a web address (it must start with https://).", value=url))
    hosts = [h.strip().lower() for h in platform.url_hosts.split(",") if h.strip()]
    host = parts.hostname.lower()
    if hosts and not any(host == h or host.endswith("." + h) for h in hosts):
        raise DomainError(_("“%(value)s” is not a %(platform)s address (expected %(hosts)s).",
                            value=url, platform=platform.label(str(get_locale())), hosts=", ".join(hosts)))
    return url


def clean_account(raw: dict) -> AccountValues:
    """Validate raw account fields; `store_id` is resolved by the caller (form or sheet)."""
    out = AccountValues()
    v, err = out.values, out.errors

    attempt = out.attempt

    attempt("platform", lambda: find_platform(raw.get("platform")))
    attempt("scope", lambda: parse_scope(raw.get("scope") or ("store" if raw.get("store_id") else "brand")))
    handle = str(raw.get("handle") or "").strip().lstrip("@")
    if not handle:
        err["handle"] = _("The handle (account id on the platform) is required.")
    elif not HANDLE_PATTERN.match(handle):
        err["handle"] = _("Handle “%(value)s” may hold letters, digits, “_”, “-”, “.” and “@”, up to 80.", value=handle)
    v["handle"] = handle
    v["display_name"] = str(raw.get("display_name") or "").strip()[:160]
    url = str(raw.get("profile_url") or "").strip()
    v["profile_url"] = None
    if url and "platform" in v:
        attempt("profile_url", lambda: check_platform_url(url, v["platform"]))
    v["poi_id"] = str(raw.get("poi_id") or "").strip()[:80] or None
    attempt("followers", lambda: parse_count(raw.get("followers"), _("Followers")))
    attempt("status", lambda: parse_status(raw.get("status")))
    v["run_by"] = str(raw.get("run_by") or "").strip()[:120] or None
    v["store_id"] = raw.get("store_id")
    v["brand_id"] = raw.get("brand_id")
    if v.get("scope") == AccountScope.STORE and not v["store_id"]:
        err.setdefault("store_id", _("A store account needs its store."))
    if v.get("scope") == AccountScope.BRAND:
        v["store_id"] = None
        if not v["brand_id"]:
            err.setdefault("brand_id", _("A brand main account needs its brand."))
    return out
