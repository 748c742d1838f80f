"""Import live sessions from a sheet (CSV/XLSX): check every row, then schedule all of them or none.

A row names its host account by two columns, 平台 (platform: 抖音, Douyin or douyin) and 账号
(the handle, with or without “@”), like the account import. Each row goes through the same
cleaning as the session form (services.clean_session), and the rows are checked for double
bookings and nearby overlaps against the stored sessions and against each other in one pass
(conflicts.check), so the report can name the other session or the other line of the file.
Scheduling is batch.schedule_many: all rows, or none.
"""
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from matrix.accounts.models import Account
from matrix.accounts.values import platform_choices
from matrix.auth.models import User
from matrix.choices import normalise_choice
from matrix.errors import DomainError, field_errors
from matrix.extensions import db
from matrix.imports.readers import BadFile, Table
from matrix.imports.rows import load_in
from matrix.live import batch, conflicts, services
from matrix.live.models import TrailerRule
from matrix.live.session_sheet import REQUIRED, check_table, clock_cell, day_cell, handle_cell, text_cell
from matrix.live.session_values import SessionValues
from matrix.live.settings import live_settings
from matrix.permissions import visible_accounts
from matrix.stores.models import Store

OK, ERROR, WARNING = "ok", "error", "warning"


@dataclass
class SessionRow:
    """One data row of the file and what the check found; `errors` and `warnings` are (field, message)."""

    line: int
    cells: dict[str, str]
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    values: SessionValues | None = None
    store_label: str = ""

    @property
    def status(self) -> str:
        return ERROR if self.errors else WARNING if self.warnings else OK

    @property
    def account_label(self) -> str:
        handle = handle_cell(self.cells.get("handle"))
        return " ".join(filter(None, [self.cells.get("platform", ""), "@" + handle if handle else ""]))

    @property
    def when(self) -> str:
        """The session's local day and times as cleaned, or the cells as written when they could not be read."""
        if self.values is not None:
            return conflicts.span_label(self.values.starts_at, self.values.ends_at)
        times = "–".join(filter(None, [self.cells.get("start", ""), self.cells.get("end", "")]))
        return " ".join(filter(None, [self.cells.get("day", ""), times]))


@dataclass
class SessionImportPreview:
    filename: str = ""
    rows: list[SessionRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader did on its own (a title row skipped)

    @property
    def counts(self) -> dict[str, int]:
        out = {OK: 0, ERROR: 0, WARNING: 0, "total": len(self.rows)}
        for row in self.rows:
            out[row.status] += 1
        return out

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def needs_acceptance(self) -> bool:
        return any(r.warnings for r in self.rows)

    @property
    def batch(self) -> list[SessionValues]:
        return [r.values for r in self.rows if r.values is not None]

    def fingerprint(self) -> str:
        """Changes when anything the preview showed would come out differently."""
        shown = [self.problems, [(r.line, r.errors, r.warnings) for r in self.rows]]
        return hashlib.sha256(json.dumps(shown, default=str).encode()).hexdigest()[:32]


def preview_session_import(table: Table, *, actor: User, filename: str = "") -> SessionImportPreview:
    """Check every row without writing anything (HQ may book any account; others only their own)."""
    preview = SessionImportPreview(filename=filename, notes=table.notes())
    try:
        mapping = check_table(table)
    except BadFile as e:
        preview.problems.append(e.message)
        return preview
    raws = [{name: (row[i] if i < len(row) else "") for i, name in mapping.items()} for row in table.rows]
    known = _Known(raws, actor)
    for line, raw in zip(table.lines, raws):
        preview.rows.append(_check_row(line, raw, known, actor))
    _check_conflicts(preview.rows)
    return preview


class _Known:
    """What the database holds for these rows, fetched in a few queries."""

    def __init__(self, raws: list[dict], actor: User):
        self.platforms = platform_choices()
        handles = {handle_cell(r.get("handle")) for r in raws} - {""}
        # Handles are matched ignoring case: people retype them from the app, where case is not shown reliably.
        rows = load_in(select(Account.platform_id, Account.handle, Account.id, Account.store_id),
                       func.lower(Account.handle), sorted({h.lower() for h in handles}))
        self.accounts = {(r.platform_id, r.handle.casefold()): r.id for r in rows}
        # Whole accounts (with their stores) for the rows' session checks: no query per row.
        self.visible = {row[0].id: row[0] for row in load_in(
            visible_accounts(actor).options(joinedload(Account.store)), Account.id, [r.id for r in rows])}
        # Rule names are not unique: a name two rules share cannot pick one (None here).
        self.rules: dict[str, int | None] = {}
        for rule in db.session.scalars(select(TrailerRule).order_by(TrailerRule.id)):
            key = normalise_choice(rule.name)
            self.rules[key] = None if key in self.rules else rule.id
        store_ids = {r.store_id for r in rows if r.store_id}
        self.stores = {r.id: f"{r.code} {r.name}" for r in load_in(select(Store.id, Store.code, Store.name),
                                                                    Store.id, sorted(store_ids))}
        self.store_of = {r.id: r.store_id for r in rows}


def _check_row(line: int, raw: dict, known: _Known, actor: User) -> SessionRow:
    row = SessionRow(line=line, cells={name: text_cell(value) for name, value in raw.items()})
    account_id = _account(row, known)
    for name in REQUIRED[2:]:
        if not row.cells.get(name):
            row.errors.append((name, _("This cell is empty.")))
    rule_id = None
    rule_name = " ".join(row.cells.get("rule", "").split())
    if rule_name:
        key = normalise_choice(rule_name)
        rule_id = known.rules.get(key)
        if key not in known.rules:
            row.errors.append(("rule", _("No trailer rule is named “%(name)s”.", name=rule_name)))
        elif rule_id is None:
            row.errors.append(("rule", _("Several trailer rules are named “%(name)s”: rename them so the file can "
                                         "tell them apart.", name=rule_name)))
    if account_id is None or any(name in REQUIRED for name, _message in row.errors):
        return row  # the session form's checks need the account and every required cell
    values = {"account_id": account_id, "day": day_cell(raw.get("day")), "start": clock_cell(raw.get("start")),
              "end": clock_cell(raw.get("end")), "title": row.cells.get("title", ""),
              "theme": row.cells.get("theme", ""), "anchor": row.cells.get("anchor", ""), "rule_id": rule_id}
    try:
        cleaned = services.clean_session(values, actor=actor, account=known.visible[account_id])
    except DomainError as e:
        row.errors.extend((field or "", message) for field, message in field_errors(e).items())
        return row
    if row.errors:  # a bad rule name: the rest of the row was still checked
        return row
    row.values, cleaned.key = cleaned, line
    row.store_label = known.stores.get(known.store_of.get(account_id), "") or _("brand main account")
    return row


def _account(row: SessionRow, known: _Known) -> int | None:
    platform, handle = row.cells.get("platform", ""), handle_cell(row.cells.get("handle"))
    if not platform:
        row.errors.append(("platform", _("The platform is required (抖音, 快手, 视频号, 小红书).")))
        return None
    found = known.platforms.find(platform)
    platform_id = found.id if found is not None else None
    if platform_id is None:
        row.errors.append(("platform", _("“%(value)s” is not a platform of the matrix.", value=platform)))
        return None
    if not handle:
        row.errors.append(("handle", _("The account's handle is required.")))
        return None
    account_id = known.accounts.get((platform_id, handle.casefold()))
    if account_id is None:
        row.errors.append(("handle", _("No account @%(handle)s on %(platform)s.", handle=handle, platform=platform)))
        return None
    if account_id not in known.visible:
        row.errors.append(("handle", _("The account @%(handle)s is not one of your stores' accounts.",
                                       handle=handle)))
        return None
    return account_id


def _check_conflicts(rows: list[SessionRow]) -> None:
    """Double bookings (errors) and nearby overlaps (warnings), against stored sessions and the other lines."""
    clean = [r for r in rows if r.values is not None and not r.errors]
    if not clean:
        return
    # A file row is named by its title and line in the other rows' messages.
    bookings = [dataclasses.replace(services.booking(r.values, key=r.line),
                                    title=_("%(title)s · line %(line)d", title=r.values.title, line=r.line))
                for r in clean]
    found = conflicts.check(bookings, nearby_km=live_settings().nearby_km)
    for row in clean:
        findings = found[row.line]
        row.errors.extend(("conflict", message) for message in findings.errors)
        row.warnings.extend(("nearby", overlap.message) for overlap in findings.nearby)
        if row.errors:
            row.values = None


def schedule_preview(preview: SessionImportPreview, *, actor: User, accept_nearby: bool) -> batch.BatchReport:
    """Schedule every row of a clean preview in one transaction; refused (nothing written) otherwise."""
    if not preview.ok:
        raise DomainError(_("The file still has errors: fix them and upload it again. Nothing was scheduled."))
    if preview.needs_acceptance and not accept_nearby:
        raise DomainError(_("Some sessions overlap with nearby stores: accept the overlaps to schedule anyway."),
                          field="accept_nearby")
    return batch.schedule_many(preview.batch, actor=actor, accept_nearby=accept_nearby)
