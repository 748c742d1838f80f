"""The chain's live settings and its trailer rules: read with defaults, changed by HQ with an audit entry."""
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.chain import chain_language
from matrix.errors import Collector, DomainError
from matrix.extensions import db
from matrix.live.models import DEFAULT_STEPS, LiveSettings, TrailerRule
from matrix.live.timing import clock, in_quiet_hours, parse_clock, parse_offset
from matrix.live.trailer_texts import TRAILER_ENV
from matrix.sandbox.engine import compile_text
from matrix.transaction import transactional

SETTINGS_FIELDS = ["nearby_km", "quiet_start", "quiet_end", "evening_slot"]
RULE_FIELDS = ["name", "is_default", "steps", "sibling_km", "max_siblings", "other_platforms", "topic", "caption",
               "hashtags"]
MAX_STEPS = 8
TEXT_LIMITS = {"topic": 500, "caption": 5000, "hashtags": 500}


def live_settings() -> LiveSettings:
    """The settings row, created with the defaults the first time anyone reads it."""
    row = db.session.scalar(select(LiveSettings).order_by(LiveSettings.id).limit(1))
    if row is None:
        row = LiveSettings(nearby_km=0.0, quiet_start="22:00", quiet_end="08:00", evening_slot="20:00")
        db.session.add(row)
        db.session.flush()
    return row


def _km(value, *, field: str, limit: float = 100.0) -> float:
    try:
        km = float(value or 0)
    except (TypeError, ValueError):
        raise DomainError(_("Write a distance in kilometres, like 3 or 0.5."), field=field) from None
    if not 0 <= km <= limit:
        raise DomainError(_("The distance must be between 0 and %(n)d km.", n=int(limit)), field=field)
    return km


@transactional
def update_settings(values: dict, *, actor: User) -> LiveSettings:
    """Change the nearby distance and quiet hours; the evening slot must lie outside the quiet hours."""
    row = live_settings()
    before = audit.snapshot(row, SETTINGS_FIELDS)
    collect = Collector()  # every mistake at once
    parsed = {}
    with collect.field("nearby_km"):
        nearby = _km(values.get("nearby_km"), field="nearby_km")
    for name in ("quiet_start", "quiet_end", "evening_slot"):
        with collect.field(name):
            parsed[name] = parse_clock(values.get(name), field=name)
    collect.check()
    quiet_start, quiet_end, evening = parsed["quiet_start"], parsed["quiet_end"], parsed["evening_slot"]
    if in_quiet_hours(evening, quiet_start, quiet_end):
        raise DomainError(_("The evening slot falls inside the quiet hours: night trailers would have nowhere to go."),
                          field="evening_slot")
    row.nearby_km, row.quiet_start, row.quiet_end, row.evening_slot = (nearby, clock(quiet_start), clock(quiet_end),
                                                                       clock(evening))
    audit.record(actor, "update", "live_settings", entity_id=row.id, summary=_l("Live settings changed."),
                 changes={"before": before, "after": audit.snapshot(row, SETTINGS_FIELDS)})
    db.session.commit()
    return row


def default_rule() -> TrailerRule:
    """The rule new sessions use; created with the default steps when the chain has none."""
    rule = db.session.scalar(select(TrailerRule).where(TrailerRule.is_default.is_(True)).order_by(TrailerRule.id))
    if rule is None:
        rule = db.session.scalar(select(TrailerRule).order_by(TrailerRule.id).limit(1))
    if rule is None:
        with chain_language():  # stored: the chain's language
            name = _("Standard trailers")
        rule = TrailerRule(name=name, is_default=True, steps=[dict(s) for s in DEFAULT_STEPS])
        db.session.add(rule)
        db.session.flush()
    return rule


@dataclass
class StepValues:
    minutes: int
    brand: bool
    siblings: bool
    community: bool = False  # the host store's customer groups get this trailer too

    def as_dict(self) -> dict:
        return {"minutes": self.minutes, "brand": self.brand, "siblings": self.siblings, "community": self.community}


def clean_steps(rows: list[dict]) -> list[dict]:
    """Offsets with who posts each: blank offsets are dropped, duplicates refused, longest first."""
    steps: dict[int, StepValues] = {}
    for row in rows:
        text = str(row.get("offset") or "").strip()
        if not text:
            continue
        minutes = parse_offset(text)
        if minutes in steps:
            raise DomainError(_("The offset %(offset)s appears twice.", offset=text), field="offsets")
        steps[minutes] = StepValues(minutes, bool(row.get("brand")), bool(row.get("siblings")),
                                    bool(row.get("community")))
    if not steps:
        raise DomainError(_("A rule needs at least one offset."), field="offsets")
    if len(steps) > MAX_STEPS:
        raise DomainError(_("A rule has at most %(n)d offsets.", n=MAX_STEPS), field="offsets")
    return [steps[m].as_dict() for m in sorted(steps, reverse=True)]


def clean_rule(values: dict) -> dict:
    """Checked rule values; the texts must compile in the trailer sandbox. Raises DomainError."""
    name = (values.get("name") or "").strip()
    if not name:
        raise DomainError(_("The name is required."), field="name")
    if len(name) > 120:
        raise DomainError(_("This text is too long: at most %(n)d characters.", n=120), field="name")
    try:
        max_siblings = int(values.get("max_siblings") or 0)
    except (TypeError, ValueError):
        raise DomainError(_("Write a whole number."), field="max_siblings") from None
    if not 0 <= max_siblings <= 50:
        raise DomainError(_("Between 0 and 50 sibling stores."), field="max_siblings")
    cleaned = {"name": name, "is_default": bool(values.get("is_default")), "steps": clean_steps(values.get("steps") or []),
               "sibling_km": _km(values.get("sibling_km"), field="sibling_km"), "max_siblings": max_siblings,
               "other_platforms": bool(values.get("other_platforms"))}
    for field, limit in TEXT_LIMITS.items():
        text = (values.get(field) or "").strip().replace("\r\n", "\n")
        if len(text) > limit:
            raise DomainError(_("This text is too long: at most %(n)d characters.", n=limit), field=field)
        compiled = compile_text(text, TRAILER_ENV)
        if compiled.errors:
            line, message = compiled.errors[0]
            where = _("line %(line)s", line=line) if line else ""
            raise DomainError(f"{where} {message}".strip(), field=field)
        cleaned[field] = text
    if not cleaned["topic"]:
        raise DomainError(_("The topic is required."), field="topic")
    return cleaned


@transactional
def save_rule(rule: TrailerRule | None, values: dict, *, actor: User) -> TrailerRule:
    """Create or change a rule. Sessions already scheduled keep their trailers until they are moved."""
    cleaned = clean_rule(values)
    folded = "".join(cleaned["name"].split()).casefold()
    for other_id, other_name in db.session.execute(select(TrailerRule.id, TrailerRule.name)):
        if (rule is None or other_id != rule.id) and "".join(other_name.split()).casefold() == folded:
            raise DomainError(_("Another trailer rule is already named “%(name)s”: the import finds rules by name.",
                                name=other_name), field="name")
    creating = rule is None
    rule = rule or TrailerRule()
    before = None if creating else audit.snapshot(rule, RULE_FIELDS)
    for name, value in cleaned.items():
        setattr(rule, name, value)
    if creating:
        db.session.add(rule)
    db.session.flush()
    if rule.is_default:
        db.session.execute(update(TrailerRule).where(TrailerRule.id != rule.id).values(is_default=False))
    elif db.session.scalar(select(TrailerRule.id).where(TrailerRule.is_default.is_(True))) is None:
        rule.is_default = True  # the chain always has a default rule
    audit.record(actor, "create" if creating else "update", "trailer_rule", entity_id=rule.id, summary=rule.name,
                 changes={"before": before, "after": audit.snapshot(rule, RULE_FIELDS)})
    db.session.commit()
    return rule
