"""Build the preview of an import: what each row would do, without writing anything."""
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from matrix.imports import headers as cols
from matrix.imports.account_rows import AccountRows
from matrix.imports.community_rows import CommunityRows
from matrix.imports.readers import Table
from matrix.imports.rows import BLANK, CHANGED, ERROR, NEW, UNCHANGED, RowReport
from matrix.imports.store_rows import StoreRows


@dataclass
class ImportPreview:
    kind: str
    headers: list[str]
    mapping: dict[int, str]
    rows: list[RowReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # file-level: nothing can be imported until fixed
    encoding: str = ""
    filename: str = ""
    options: dict = field(default_factory=dict)    # the operator's answers (brand_id), sent with the mapping
    questions: dict = field(default_factory=dict)  # what still needs an answer: option name -> rows and choices
    notes: list[str] = field(default_factory=list)  # what the reader did on its own (a title row skipped)

    @property
    def counts(self) -> dict[str, int]:
        out = {NEW: 0, CHANGED: 0, UNCHANGED: 0, ERROR: 0, BLANK: 0, "warning": 0, "total": len(self.rows)}
        for row in self.rows:
            out[row.status] += 1
            out["warning"] += bool(row.warnings)
        return out

    @property
    def ok(self) -> bool:
        """Nothing stands in the way of writing every row."""
        return (not self.problems and not self.questions and bool(self.rows)
                and all(r.status != ERROR for r in self.rows))

    @property
    def has_writes(self) -> bool:
        return any(r.status in (NEW, CHANGED) for r in self.rows)

    def fingerprint(self) -> str:
        """Changes when anything the operator saw in the preview would come out differently."""
        shown = [self.kind, sorted(self.mapping.items()), self.problems, sorted(self.options.items()),
                 [(r.line, r.key, r.status, sorted(r.changes.items()), sorted(r.errors)) for r in self.rows]]
        return hashlib.sha256(json.dumps(shown, default=str, ensure_ascii=False).encode()).hexdigest()[:32]


def check_mapping(kind: str, headers: list[str], mapping: dict[int, str]) -> list[str]:
    """File-level problems: unknown fields, a field on two columns, a key field missing."""
    known = cols.field_names(kind)
    labels = dict(cols.field_choices(kind))
    problems = []
    seen: dict[str, int] = {}
    for index, name in sorted(mapping.items()):
        if name not in known or not 0 <= index < len(headers):
            problems.append(_("Column %(n)d cannot be read as “%(field)s”.", n=index + 1, field=name))
        elif name in seen:
            problems.append(_("Columns “%(a)s” and “%(b)s” are both read as %(field)s; ignore one of them.",
                              a=headers[seen[name]], b=headers[index], field=labels[name]))
        else:
            seen[name] = index
    for name in cols.KEY_FIELDS[kind]:
        if name not in seen:
            problems.append(_("No column is read as %(field)s; choose it for one of the columns.", field=labels[name]))
    return problems


def preview_import(kind: str, table: Table, mapping: dict[int, str] | None = None, *,
                   filename: str = "", options: dict | None = None) -> ImportPreview:
    """Check every row of `table` against the database; `mapping` (column index -> field) defaults to the guess.

    `options` holds the operator's answers to the preview's questions (the brand of stores naming none).
    """
    if kind not in cols.KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    if mapping is None:
        mapping = cols.guess_mapping(kind, table.headers)
    preview = ImportPreview(kind=kind, headers=table.headers, mapping=dict(mapping), encoding=table.encoding,
                            filename=filename, options={k: v for k, v in (options or {}).items() if v is not None},
                            notes=table.notes())
    preview.problems = check_mapping(kind, table.headers, preview.mapping)
    if preview.problems:
        return preview
    raws = [{name: (row[i] if i < len(row) else "") for i, name in preview.mapping.items()} for row in table.rows]
    planner = row_kind(kind)(raws, set(preview.mapping.values()), preview.options)
    first_line: dict[Any, int] = {}
    for line, raw in zip(table.lines, raws):
        report = planner.check(raw, RowReport(line=line))
        key = planner.key(raw)
        if key is not None and key in first_line:
            report.errors.setdefault("key", _("The same %(what)s is already on line %(line)d.",
                                              what=planner.key_label(), line=first_line[key]))
        elif key is not None:
            first_line[key] = line
        if report.errors:
            report.status, report.changes = ERROR, {}
        preview.rows.append(report)
    preview.questions = planner.questions() if hasattr(planner, "questions") else {}
    return preview


def parse_options(args) -> dict:
    """The preview's answers from form or query arguments: brand=<id>."""
    brand = str(args.get("brand") or "").strip()
    return {"brand_id": int(brand)} if brand.isdigit() and len(brand) < 10 else {}

def parse_mapping(kind: str, width: int, args) -> dict[int, str] | None:
    """A mapping from form or query arguments col-0, col-1, ...; None when none was sent."""
    if not any(f"col-{i}" in args for i in range(width)):
        return None
    known = cols.field_names(kind)
    mapping = {}
    for i in range(width):
        name = (args.get(f"col-{i}") or "").strip()
        if name in known:
            mapping[i] = name
    return mapping


def row_kind(kind: str):
    """The class that checks and writes rows of one kind."""
    return {"stores": StoreRows, "accounts": AccountRows, "communities": CommunityRows}[kind]
