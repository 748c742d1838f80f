"""Community rows: matched by store code and group name, checked by clean_community, written in bulk."""
from flask_babel import gettext as _
from sqlalchemy import insert, select

from matrix.communities.models import Community, mask_secret_url
from matrix.communities.values import clean_community
from matrix.extensions import db
from matrix.imports.rows import BLANK, CHANGED, NEW, UNCHANGED, RowReport, left_blank, load_in, overlay, same, text
from matrix.stores.models import Store

TEXT_FIELDS = ("name", "kind", "invite_link", "capacity", "members", "robot_webhook_url", "active", "rotation_order")
# Exports leave the webhook out (it is a secret), so an absent or empty webhook keeps the stored one.
KEEP_WHEN_EMPTY = ("kind", "capacity", "members", "robot_webhook_url", "active", "rotation_order")
COMPARED = ("kind", "invite_link", "capacity", "members", "robot_webhook_url", "active", "rotation_order")


def _code(raw: dict) -> str:
    return str(raw.get("store_code") or "").strip()


def _name(raw: dict) -> str:
    return str(raw.get("name") or "").strip()[:120]


class CommunityRows:
    """Plans and writes the rows of a community sheet."""

    def __init__(self, raws: list[dict], mapped: set[str], options: dict | None = None):
        self.mapped = mapped
        self.stores = {code: (id_, archived) for id_, code, archived in
                       load_in(select(Store.id, Store.code, Store.archived_at), Store.code, {_code(r) for r in raws})}
        ids = [id_ for id_, _archived in self.stores.values()]
        self.communities = {(c.store_id, c.name): c for (c,) in load_in(select(Community), Community.store_id, ids)}

    @staticmethod
    def key(raw: dict) -> tuple | None:
        code, name = _code(raw), _name(raw)
        return (code, name) if code and name else None

    @staticmethod
    def key_label() -> str:
        return _("store code and group name")

    def check(self, raw: dict, report: RowReport) -> RowReport:
        """Clean the row, resolve its store, and compare it with the stored group."""
        code = _code(raw)
        report.key = f"{code} {_name(raw)}".strip()
        if left_blank(raw, self.mapped, "invite_link"):
            report.status = BLANK  # the group's QR code may come with the QR upload instead
            return report
        store_id = self._store(code, report)
        community = self.communities.get((store_id, _name(raw))) if store_id else None
        merged = {name: getattr(community, name) for name in COMPARED} if community else {}
        overlay(merged, raw, self.mapped, TEXT_FIELDS, keep_when_empty=KEEP_WHEN_EMPTY, updating=community is not None)
        merged["store_id"] = store_id
        cleaned = clean_community(merged)
        report.warnings.update(cleaned.warnings)
        for name, message in cleaned.errors.items():
            report.errors.setdefault(name, message)  # "no such store" says more than "needs a store"
        if report.errors:
            return report
        report.values, report.target = cleaned.values, community
        if community is None:
            report.status = NEW
            return report
        report.changes = {name: (_show(name, getattr(community, name)), _show(name, cleaned.values.get(name)))
                          for name in COMPARED if not same(getattr(community, name), cleaned.values.get(name))}
        report.status = CHANGED if report.changes else UNCHANGED
        return report

    def _store(self, code: str, report: RowReport) -> int | None:
        if not code:
            return None
        if code not in self.stores:
            report.errors["store_id"] = _("No store has the code %(code)s: import the stores first.", code=code)
            return None
        store_id, archived_at = self.stores[code]
        if archived_at is not None:
            report.warnings["store_id"] = _("Store %(code)s is archived.", code=code)
        return store_id

    @staticmethod
    def write(rows: list[RowReport], *, geocoder=None) -> None:
        """Insert the new groups and update the changed ones."""
        inserts = [r.values for r in rows if r.status == NEW]
        if inserts:
            db.session.execute(insert(Community), inserts)
        for row in (r for r in rows if r.status == CHANGED):
            if not same(row.target.robot_webhook_url, row.values["robot_webhook_url"]):
                # A sheet does not say which group a robot sits in: a new robot waits for someone to confirm it.
                row.target.robot_confirmed_at = row.target.robot_confirmed_by_id = None
            for name in COMPARED:
                setattr(row.target, name, row.values[name])
        db.session.flush()


def _show(name: str, value) -> str:
    """The preview never shows a webhook in full: it is a secret."""
    if name == "robot_webhook_url":
        return mask_secret_url(value)
    return text(value)
