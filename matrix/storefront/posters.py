"""In-store posters: per store, the page's QR code, the group's join code, the accounts' QR codes and HQ's words.

Every QR code carries its channel (`?c=poster`, WeCom's `state` of the poster code), so joins from the
window are counted apart. The words are HQ's sandboxed template, rendered per store like trailer texts.
"""
import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import segno
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from matrix.accounts.models import Account, AccountScope
from matrix.brands.models import Brand
from matrix.extensions import db
from matrix.joins.codes import JoinCode, join_code_for
from matrix.live.models import LiveSession, SessionStatus
from matrix.live.trailer_texts import starts_label
from matrix.regions.services import region_name
from matrix.sandbox.engine import Rendered, render_fields
from matrix.storefront.models import StorefrontSettings
from matrix.storefront.page import SHOWN_ACCOUNT_STATUSES, web_url
from matrix.storefront.poster_texts import TEXT_FIELDS, compiled_texts
from matrix.stores.models import Store

CHANNEL = "poster"
CHUNK = 500  # ids per IN (...) query


@dataclass
class PosterAccount:
    platform: str
    name: str
    handle: str
    url: str
    qr: Markup


@dataclass
class Poster:
    store: Store
    brand: Brand | None
    page_url: str
    page_qr: Markup
    join: JoinCode
    join_url: str | None = None      # our join link (counted), when the code is a group's own QR or link
    join_qr: Markup | None = None
    accounts: list[PosterAccount] = field(default_factory=list)
    next_live: str = ""
    texts: dict[str, Rendered] = field(default_factory=dict)

    @property
    def logo_src(self) -> str | None:
        """The brand's logo inlined, so the print needs no signed-in request for it (store managers, the PDF job)."""
        if not (self.brand and self.brand.logo and (self.brand.logo_mime or "").startswith("image/")):
            return None
        return f"data:{self.brand.logo_mime};base64,{base64.b64encode(self.brand.logo).decode()}"

    @property
    def errors(self) -> list[str]:
        return [message for rendered in self.texts.values() for _line, message in rendered.errors]


def qr_svg(text: str) -> Markup:
    """A QR code as inline SVG, sized by the stylesheet (no fixed width or height)."""
    return Markup(segno.make(text, error="m", micro=False).svg_inline(scale=1, border=2, omitsize=True,
                                                                       dark="#000", light="#fff", svgclass="qr-svg"))


def page_link(base_url: str, code: str, channel: str = CHANNEL) -> str:
    return f"{base_url.rstrip('/')}/s/{code}?{urlencode({'c': channel})}"


def join_link(base_url: str, code: str, channel: str = CHANNEL) -> str:
    return f"{base_url.rstrip('/')}/s/{code}/join?{urlencode({'c': channel})}"


def posters_for(stores: Sequence[Store], *, settings: StorefrontSettings, base_url: str, locale: str,
                zone: str, now: datetime) -> list[Poster]:
    """One poster per store, in the order given."""
    ids = [s.id for s in stores]
    accounts, sessions = _accounts(ids, locale), _next_sessions(ids, zone=zone, now=now)
    brands = {b.id: b for b in db.session.scalars(select(Brand).where(Brand.id.in_({s.brand_id for s in stores
                                                                                    if s.brand_id})))}
    compiled = compiled_texts(tuple(getattr(settings, f) or "" for f in TEXT_FIELDS), str(get_locale()))
    posters = []
    for store in stores:
        poster = Poster(store=store, brand=brands.get(store.brand_id), page_url=page_link(base_url, store.code),
                        page_qr=qr_svg(page_link(base_url, store.code)), join=join_code_for(store.id, CHANNEL),
                        accounts=accounts.get(store.id, []), next_live=sessions.get(store.id, ""))
        if poster.join.kind == "group":
            poster.join_url = join_link(base_url, store.code)
            poster.join_qr = qr_svg(poster.join_url)
        poster.texts = render_fields(compiled, _variables(poster))
        posters.append(poster)
    return posters


def _variables(poster: Poster) -> dict:
    store = poster.store
    return {"store_name": store.name, "store_code": store.code, "brand": poster.brand.name if poster.brand else "",
            "city": region_name(store.city_code), "district": region_name(store.district_code),
            "address": store.address or "", "phone": store.phone or "", "opening_hours": store.opening_hours or "",
            "next_live": poster.next_live, "community_name": poster.join.community_name}


def _accounts(store_ids: list[int], locale: str) -> dict[int, list[PosterAccount]]:
    """Store id -> its followable accounts with a profile link, each with its QR code."""
    out: dict[int, list[PosterAccount]] = {}
    for chunk in _chunks(store_ids):
        rows = db.session.scalars(select(Account).options(joinedload(Account.platform))
                                  .where(Account.store_id.in_(chunk), Account.scope == AccountScope.STORE,
                                         Account.status.in_(SHOWN_ACCOUNT_STATUSES)))
        for account in sorted(rows, key=lambda a: (a.platform.sort_order, a.platform.id, a.id)):
            url = web_url(account.profile_url)
            if url:
                out.setdefault(account.store_id, []).append(PosterAccount(
                    account.platform.label(locale), account.display_name or account.handle, account.handle, url,
                    qr_svg(url)))
    return out


def _next_sessions(store_ids: list[int], *, zone: str, now: datetime) -> dict[int, str]:
    """Store id -> "11月28日 19:00 冬季新品直播" of its next scheduled session."""
    tz, found = ZoneInfo(zone), {}
    for chunk in _chunks(store_ids):
        rows = db.session.execute(select(LiveSession.store_id, LiveSession.starts_at, LiveSession.title)
                                  .where(LiveSession.store_id.in_(chunk), LiveSession.starts_at >= now,
                                         LiveSession.status == SessionStatus.SCHEDULED)
                                  .order_by(LiveSession.starts_at))
        for store_id, starts_at, title in rows:
            found.setdefault(store_id, f"{starts_label(starts_at.astimezone(tz))} {title}")
    return found


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]
