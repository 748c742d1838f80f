"""Campaigns, their content templates and store tags (HQ). Each public call is one transaction."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select, update

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.campaigns import values as clean
from matrix.content.models import Approval, Campaign, ContentItem, ContentKind, ContentTemplate, ItemStatus, store_tags
from matrix.content.variables import CONTENT_ENV
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.materials.services import delete_template_materials
from matrix.sandbox.engine import compile_text
from matrix.stores.models import Store
from matrix.transaction import transactional

CAMPAIGN_FIELDS = ["name", "starts_on", "ends_on", "store_scope", "scope_values", "platform_ids", "cadence",
                   "slots", "spacing_km", "requires_approval", "active"]
TEMPLATE_FIELDS = ["kind", "topic", "caption", "script", "hashtags", "location_tag"]
TEXT_LIMITS = {"topic": 200, "hashtags": 500, "location_tag": 200}


def campaign_values(*, name: str, starts_on: date | None, ends_on: date | None, store_scope: str,
                    cities: list[str] | None = None, store_codes: str | None = None, tags: str | None = None,
                    platform_ids: list[int] | None = None, cadence: dict, slots: str | list,
                    spacing_km=0, requires_approval: bool = False, active: bool = True) -> dict:
    """Checked column values of a campaign; raises DomainError naming the field."""
    name = (name or "").strip()
    if not name or len(name) > 160:
        raise DomainError(_("The campaign name has 1 to 160 characters."), field="name")
    starts_on, ends_on = clean.clean_dates(starts_on, ends_on)
    scope, scope_values = clean.clean_scope(store_scope, cities=cities, store_codes=store_codes, tags=tags)
    slot_list = clean.clean_slots(slots)
    return {"name": name, "starts_on": starts_on, "ends_on": ends_on, "store_scope": scope,
            "scope_values": scope_values, "platform_ids": clean.clean_platforms(platform_ids),
            "cadence": clean.clean_cadence(cadence, slot_list), "slots": slot_list,
            "spacing_km": clean.clean_spacing(spacing_km), "requires_approval": bool(requires_approval),
            "active": bool(active)}


@transactional
def create_campaign(*, actor: User, **raw) -> Campaign:
    """Add a campaign (the keyword arguments are those of campaign_values)."""
    campaign = Campaign(**campaign_values(**raw), created_by_id=actor.id if actor else None)
    db.session.add(campaign)
    db.session.flush()
    audit.record(actor, "create", "campaign", entity_id=campaign.id, summary=campaign.name,
                 changes=audit.snapshot(campaign, CAMPAIGN_FIELDS))
    db.session.commit()
    return campaign


@transactional
def update_campaign(campaign: Campaign, *, actor: User, **raw) -> dict:
    """Change a campaign; returns what changed (field -> [old, new])."""
    values = campaign_values(**raw)
    before = audit.snapshot(campaign, CAMPAIGN_FIELDS)
    for key, value in values.items():
        setattr(campaign, key, value)
    changes = audit.diff(before, audit.snapshot(campaign, CAMPAIGN_FIELDS))
    if changes:
        audit.record(actor, "update", "campaign", entity_id=campaign.id, summary=campaign.name, changes=changes)
    db.session.commit()
    return changes


@transactional
def delete_campaign(campaign: Campaign, *, actor: User) -> int:
    """Delete a campaign and its templates; its untouched planned items go, worked-on items stay. Returns removed."""
    items = ContentItem.__table__
    untouched = (items.c.campaign_id == campaign.id, items.c.status == ItemStatus.PLANNED,
                 items.c.edited_by_store.is_(False), items.c.approval == Approval.NOT_NEEDED)
    removed = db.session.execute(delete(items).where(*untouched)).rowcount
    # Kept items lose the link explicitly: SQLite does not enforce ON DELETE SET NULL unless asked to.
    db.session.execute(update(items).where(items.c.campaign_id == campaign.id).values(campaign_id=None,
                                                                                     template_id=None))
    delete_template_materials(select(ContentTemplate.id).where(ContentTemplate.campaign_id == campaign.id))
    db.session.execute(delete(ContentTemplate).where(ContentTemplate.campaign_id == campaign.id))
    audit.record(actor, "delete", "campaign", entity_id=campaign.id, summary=campaign.name,
                 changes={**audit.snapshot(campaign, CAMPAIGN_FIELDS), "removed_items": removed})
    db.session.delete(campaign)
    db.session.commit()
    return removed


def template_values(*, kind: str, topic: str, caption: str = "", script: str = "", hashtags: str = "",
                    location_tag: str = "") -> dict:
    """Checked template fields: every text must compile in the sandbox (errors name the line)."""
    try:
        kind = ContentKind(kind)
    except ValueError:
        raise DomainError(_("Choose the kind of content."), field="kind") from None
    out = {"kind": kind}
    for name, text in (("topic", topic), ("caption", caption), ("script", script), ("hashtags", hashtags),
                       ("location_tag", location_tag)):
        text = (text or "").replace("\r\n", "\n").strip()
        if name in TEXT_LIMITS and len(text) > TEXT_LIMITS[name]:
            raise DomainError(_("Up to %(n)d characters.", n=TEXT_LIMITS[name]), field=name)
        compiled = compile_text(text, CONTENT_ENV)
        if compiled.errors:
            line, message = compiled.errors[0]
            raise DomainError(_("Line %(line)s: %(message)s", line=line, message=message) if line else message,
                              field=name)
        out[name] = text
    if not out["topic"]:
        raise DomainError(_("Give the template a topic."), field="topic")
    return out


@transactional
def add_template(campaign: Campaign, *, actor: User, **raw) -> ContentTemplate:
    """Add a content template at the end of the campaign's list."""
    last = db.session.scalar(select(func.max(ContentTemplate.sort_order))
                             .where(ContentTemplate.campaign_id == campaign.id))
    template = ContentTemplate(campaign_id=campaign.id, sort_order=(last or 0) + 1, **template_values(**raw))
    db.session.add(template)
    db.session.flush()
    audit.record(actor, "create", "content_template", entity_id=template.id,
                 summary=f"{campaign.name}: {template.topic}", changes=audit.snapshot(template, TEMPLATE_FIELDS))
    db.session.commit()
    return template


@transactional
def update_template(template: ContentTemplate, *, actor: User, **raw) -> dict:
    """Change a template's texts; regenerate the week to update untouched items."""
    values = template_values(**raw)
    before = audit.snapshot(template, TEMPLATE_FIELDS)
    for key, value in values.items():
        setattr(template, key, value)
    changes = audit.diff(before, audit.snapshot(template, TEMPLATE_FIELDS))
    if changes:
        audit.record(actor, "update", "content_template", entity_id=template.id, summary=template.topic,
                     changes=changes)
    db.session.commit()
    return changes


@transactional
def delete_template(template: ContentTemplate, *, actor: User) -> None:
    """Delete a template; items made from it keep their text."""
    db.session.execute(update(ContentItem).where(ContentItem.template_id == template.id).values(template_id=None))
    delete_template_materials([template.id])
    audit.record(actor, "delete", "content_template", entity_id=template.id, summary=template.topic,
                 changes=audit.snapshot(template, TEMPLATE_FIELDS))
    db.session.delete(template)
    db.session.commit()


@transactional
def move_template(template: ContentTemplate, *, direction: int, actor: User) -> None:
    """Move a template one place up (-1) or down (+1) in its campaign's order."""
    siblings = list(db.session.scalars(select(ContentTemplate).where(
        ContentTemplate.campaign_id == template.campaign_id).order_by(ContentTemplate.sort_order, ContentTemplate.id)))
    i = siblings.index(template)
    j = i + (1 if direction > 0 else -1)
    if not 0 <= j < len(siblings):
        return
    siblings[i], siblings[j] = siblings[j], siblings[i]
    for order, sibling in enumerate(siblings, start=1):
        sibling.sort_order = order
    audit.record(actor, "update", "content_template", entity_id=template.id, summary=template.topic,
                 changes={"sort_order": [i + 1, j + 1]})
    db.session.commit()


@transactional
def set_store_tags(store: Store, tags: str | list, *, actor: User) -> list[str]:
    """Replace a store's tags (campaigns can target stores by tag); returns the tags."""
    new = sorted({clean.clean_tag(t) for t in clean.split_list(tags)})
    old = store_tags_of([store.id]).get(store.id, [])
    if new == old:
        return new
    db.session.execute(delete(store_tags).where(store_tags.c.store_id == store.id))
    if new:
        db.session.execute(insert(store_tags), [{"store_id": store.id, "tag": t} for t in new])
    audit.record(actor, "update", "store", entity_id=store.id, store_id=store.id, summary=store.code,
                 changes={"tags": [old, new]})
    db.session.commit()
    return new


def store_tags_of(store_ids: list[int]) -> dict[int, list[str]]:
    """Store id -> its tags, sorted."""
    out: dict[int, list[str]] = {}
    rows = db.session.execute(select(store_tags.c.store_id, store_tags.c.tag)
                              .where(store_tags.c.store_id.in_(store_ids)).order_by(store_tags.c.tag))
    for store_id, tag in rows:
        out.setdefault(store_id, []).append(tag)
    return out


def known_tags() -> list[tuple[str, int]]:
    """Every tag in use with its number of stores."""
    return db.session.execute(select(store_tags.c.tag, func.count()).group_by(store_tags.c.tag)
                              .order_by(store_tags.c.tag)).tuples().all()
