"""The robot messages that tell a store about a new lead.

Messages go to a group chat of store staff, so they carry the masked phone only, never the
number or the person's name; the link opens the lead for those allowed to see it. Text from
the public (an address) is stripped of markdown and mention syntax so it cannot add links
or @-mention people.
"""
import re
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from werkzeug.routing import BuildError

from matrix.chain import chain_language, chain_zone
from matrix.leads.models import Lead
from matrix.notifications.markdown import MARKDOWN_MAX_BYTES, TEXT_MAX_BYTES, fit, plain
from matrix.regions.services import region_name

ROUTING_LABELS = {"coordinates": _l("nearest store by location"), "district": _l("store of the district"),
                  "city": _l("store of the city"), "source": _l("the store's own account or form"),
                  "manual": _l("assigned by hand"), "unrouted": _l("not routed")}


def lead_link(lead: Lead) -> str:
    """An absolute link to the lead: BASE_URL when set, else the current request's host."""
    endpoint = "leads.detail"
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    if endpoint not in current_app.view_functions:
        return f"{base}/leads/{lead.id}" if base else ""
    try:
        if base:
            adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT"))
            return base + adapter.build(endpoint, {"lead_id": lead.id})
        return url_for(endpoint, lead_id=lead.id, _external=True)
    except (BuildError, RuntimeError):
        return ""  # no request and no BASE_URL: the message goes without a link


def place_text(lead: Lead) -> str:
    """Where the lead is, as they wrote it, or the city and district routing found."""
    written = [lead.province_text, lead.city_text, lead.address_text]
    parts = [p for i, p in enumerate(written) if p and p not in written[:i]]
    if not parts:
        parts = [region_name(lead.city_code), region_name(lead.district_code)]
    return plain(" ".join(p for p in parts if p))


def distance_text(metres: float | None) -> str:
    if metres is None:
        return ""
    if metres < 1000:
        return _("%(m)d m", m=round(metres))
    return _("%(km).1f km", km=metres / 1000)


def _received(lead: Lead) -> str:
    zone = ZoneInfo(chain_zone())
    return lead.received_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if lead.received_at else ""


def _rule(lead: Lead) -> str:
    rule = lead.routing_rule.value if lead.routing_rule else "unrouted"
    label = str(ROUTING_LABELS.get(rule, rule))
    distance = distance_text(lead.distance_m)
    return _("%(rule)s, %(distance)s", rule=label, distance=distance) if distance else label


def _masked_phone(lead: Lead) -> str:
    # Inline code keeps the asterisks of 138****5678 from reading as bold markup.
    masked = re.sub(r"[^0-9*]", "", lead.phone_masked or "")
    return f"`{masked}`" if masked else _("none")


def _source(lead: Lead) -> str:
    return plain(lead.source.name) if lead.source else _("entered by staff")


def lead_markdown(lead: Lead, *, store_name: str, link: str) -> dict:
    """The markdown message for the store's group: who, from where, how routed, and a link."""
    with chain_language():
        lines = [
            "### " + _("New lead for %(store)s", store=plain(store_name)),
            "> " + _("Phone: %(phone)s", phone=_masked_phone(lead)),
            "> " + _("Source: %(source)s", source=_source(lead)),
            "> " + _("Place: %(place)s", place=place_text(lead) or _("unknown")),
            "> " + _("Routed to this store: %(rule)s", rule=_rule(lead)),
            "> " + _("Received: %(time)s", time=_received(lead)),
        ]
        if link:
            lines.append("[" + _("Open the lead") + f"]({link})")
        return {"msgtype": "markdown", "markdown": {"content": fit("\n".join(lines), MARKDOWN_MAX_BYTES)}}


def lead_mention(lead: Lead, *, store_name: str, mobiles: list[str]) -> dict:
    """A text message that @-mentions the store's staff by mobile number (markdown cannot)."""
    with chain_language():
        content = _("New lead for %(store)s (%(phone)s): please contact them soon.",
                    store=plain(store_name), phone=re.sub(r"[^0-9*]", "", lead.phone_masked or "") or _("no phone"))
    return {"msgtype": "text", "text": {"content": fit(content, TEXT_MAX_BYTES),
                                        "mentioned_mobile_list": list(mobiles)}}
