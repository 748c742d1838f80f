"""The audit log as people read it: summaries in the reader's language, field changes with labels, old → new,
names instead of ids and codes, and every time in the chain's zone."""
import ast
import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import gettext as translate_stored  # message ids read from the database, not from the source
from sqlalchemy import select

from matrix.accounts.models import Platform
from matrix.audit.labels import FIELD_LABELS
from matrix.audit.models import AuditEntry
from matrix.brands.models import Brand
from matrix.extensions import db
from matrix.regions.services import region_name
from matrix.stores.models import Store

# A time as services snapshot it: "2026-11-28 11:00:00+00:00" or ISO with a T; times without a zone are UTC.
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$")
MAX_TEXT = 120   # a long text is cut in the list; the entry page shows it whole
MAX_ITEMS = 10   # list items in the list, likewise


@dataclass
class ChangeRow:
    """One line of an entry's changes: a field, its old and new value (or one value), and nested lines."""

    label: str
    new: str = ""
    old: str | None = None  # None: a single value, not a change
    children: list["ChangeRow"] = field(default_factory=list)

    @property
    def is_change(self) -> bool:
        return self.old is not None


def summary_text(entry: AuditEntry) -> str:
    """The summary in the reader's language when it was recorded as a message; else the stored text."""
    if not entry.message:
        return entry.summary
    try:
        return translate_stored(entry.message, **_params(entry.params or {}))
    except (KeyError, TypeError, ValueError):
        return entry.summary  # a message whose parameters changed since: the text stored with it


def _params(params: dict) -> dict:
    return {name: translate_stored(value["msgid"], **_params(value.get("params") or {}))
            if isinstance(value, dict) and value.get("msgid") else value for name, value in params.items()}


class ChangeReader:
    """Turns the `changes` of a page of entries into ChangeRows; names of stores, brands and platforms in bulk."""

    def __init__(self, entries: list[AuditEntry], *, zone: str, value_labels: dict, full: bool = False):
        self.zone, self.value_labels, self.full = ZoneInfo(zone), value_labels, full
        ids = {"store_id": set(), "brand_id": set()}
        for entry in entries:
            _collect_ids(entry.changes, ids)
        self.names = {
            "store_id": _names(select(Store.id, Store.code, Store.name), Store.id, ids["store_id"]),
            "brand_id": _names(select(Brand.id, Brand.name), Brand.id, ids["brand_id"]),
            "platform_id": {p.id: p.label(str(get_locale())) for p in db.session.scalars(select(Platform))},
        }

    def rows(self, entry: AuditEntry) -> list[ChangeRow]:
        changes = entry.changes or {}
        if not isinstance(changes, dict):
            return [ChangeRow(_("Changes"), self.value(entry.entity, "", changes))]
        if set(changes) >= {"before", "after"} and isinstance(changes.get("after"), dict):
            rows = self._before_after(entry.entity, changes.get("before") or {}, changes["after"])
            rest = {k: v for k, v in changes.items() if k not in ("before", "after")}
            return rows + self._rows(entry.entity, rest, pairs=False)
        return self._rows(entry.entity, changes, pairs=entry.action in ("update", "move", "status", "reassign"))

    def _rows(self, entity: str, changes: dict, *, pairs: bool) -> list[ChangeRow]:
        rows = []
        for name, value in changes.items():
            label = str(FIELD_LABELS.get(name, name))
            if isinstance(value, dict):
                rows.append(ChangeRow(label, children=self._rows(entity, value, pairs=False)))
            elif pairs and isinstance(value, list) and len(value) == 2:
                rows.append(ChangeRow(label, self.value(entity, name, value[1]), self.value(entity, name, value[0])))
            else:
                rows.append(ChangeRow(label, self.value(entity, name, value)))
        return rows

    def _before_after(self, entity: str, before: dict, after: dict) -> list[ChangeRow]:
        """A snapshot before and after: the fields that changed, old → new (all of them when there was no before)."""
        rows = []
        for name, new in after.items():
            old = before.get(name)
            if before and old == new:
                continue
            label = str(FIELD_LABELS.get(name, name))
            rows.append(ChangeRow(label, self.value(entity, name, new),
                                  self.value(entity, name, old) if before else None))
        return rows

    def value(self, entity: str, name: str, value) -> str:
        """One stored value as the reader knows it."""
        if value is None or value == "" or value == [] or value == {}:
            return ""
        if isinstance(value, str) and value[:1] in "[{" and value[-1:] in "]}":
            value = _literal(value)  # older entries kept lists and mappings as Python's text of them
            if value in ([], {}):
                return ""
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if isinstance(value, list):
            shown = [self.value(entity, name, item) for item in value]
            if not self.full and len(shown) > MAX_ITEMS:
                return ", ".join(shown[:MAX_ITEMS]) + " " + _("and %(count)d more", count=len(shown) - MAX_ITEMS)
            return ", ".join(shown)
        if isinstance(value, dict):
            return "; ".join(f"{FIELD_LABELS.get(k, k)}: {self.value(entity, k, v)}" for k, v in value.items())
        return self._scalar(entity, name, value)

    def _scalar(self, entity: str, name: str, value) -> str:
        labels = self.value_labels.get((entity, name)) or self.value_labels.get(name)
        if labels and str(value) in labels:
            return str(labels[str(value)])
        if name in ("city_code", "district_code") or (name == "scope_values" and str(value).isdigit()):
            return region_name(str(value)) or str(value)
        if name in self.names and isinstance(value, int):
            return self.names[name].get(value, f"#{value}")
        text = str(value)
        if _TIME.match(text):
            return self._time(text)
        if not self.full and len(text) > MAX_TEXT:
            return text[:MAX_TEXT] + "…"
        return text

    def _time(self, text: str) -> str:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        return format_datetime(moment.astimezone(self.zone).replace(tzinfo=None), "yyyy-MM-dd HH:mm", rebase=False)


def _literal(text: str):
    """['12:00', '18:00'] or {'short_video': 7} as the list or mapping it was; other text as it is."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    return value if isinstance(value, (list, dict)) else text


def _collect_ids(changes, ids: dict) -> None:
    if isinstance(changes, dict):
        for name, value in changes.items():
            if name in ids:
                ids[name].update(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, int))
            else:
                _collect_ids(value, ids)


def _names(query, column, ids: set) -> dict:
    if not ids:
        return {}
    return {row[0]: " ".join(str(part) for part in row[1:]) for row in db.session.execute(query.where(column.in_(ids)))}
