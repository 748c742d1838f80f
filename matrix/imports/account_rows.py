"""Account rows: matched by platform and handle, checked by clean_account, written in bulk."""
from flask_babel import gettext as _
from sqlalchemy import insert, select

from matrix.accounts.models import Account, AccountScope, Platform
from matrix.accounts.values import clean_account, platform_choices
from matrix.brands.models import Brand
from matrix.choices import normalise_choice
from matrix.extensions import db
from matrix.imports.identifiers import check_long_identifier
from matrix.imports.rows import BLANK, CHANGED, NEW, UNCHANGED, RowReport, left_blank, load_in, overlay, same, text
from matrix.stores.models import Store

TEXT_FIELDS = ("scope", "handle", "display_name", "profile_url", "poi_id", "followers", "status", "run_by")
KEEP_WHEN_EMPTY = ("scope", "followers", "status")
COMPARED = ("scope", "brand_id", "store_id", "display_name", "profile_url", "poi_id", "followers", "status", "run_by")


def _handle(raw: dict) -> str:
    return str(raw.get("handle") or "").strip().lstrip("@")


def _code(raw: dict) -> str:
    return str(raw.get("store_code") or "").strip()


class AccountRows:
    """Plans and writes the rows of an account sheet."""

    def __init__(self, raws: list[dict], mapped: set[str], options: dict | None = None):
        self.mapped = mapped
        self.platforms = platform_choices()
        self.accounts = {(a.platform_id, a.handle): a
                         for (a,) in load_in(select(Account), Account.handle, {_handle(r) for r in raws})}
        self.stores = {code: (id_, archived) for id_, code, archived in
                       load_in(select(Store.id, Store.code, Store.archived_at), Store.code, {_code(r) for r in raws})}
        self.store_codes = {id_: code for code, (id_, _archived) in self.stores.items()}
        missing = {a.store_id for a in self.accounts.values() if a.store_id and a.store_id not in self.store_codes}
        self.store_codes.update(load_in(select(Store.id, Store.code), Store.id, missing))
        brands = db.session.execute(select(Brand.id, Brand.name)).all()
        self.brand_ids = {normalise_choice(name): id_ for id_, name in brands}
        self.brand_names = dict(brands)
        # One brand main account per platform: who holds each (brand, platform) slot now, and in the file.
        mains = select(Account.brand_id, Account.platform_id, Account.id).where(Account.scope == AccountScope.BRAND)
        self.mains = {(b, p): id_ for b, p, id_ in db.session.execute(mains)}
        self.claimed: dict[tuple, int] = {}

    def platform(self, raw: dict) -> Platform | None:
        return self.platforms.find(raw.get("platform"))

    def key(self, raw: dict) -> tuple | None:
        platform, handle = self.platform(raw), _handle(raw)
        return (platform.id, handle) if platform and handle else None

    @staticmethod
    def key_label() -> str:
        return _("platform and handle")

    def check(self, raw: dict, report: RowReport) -> RowReport:
        """Clean the row, resolve store and brand, and compare it with the stored account."""
        platform = self.platform(raw)
        report.key = f"{platform.name_zh if platform else raw.get('platform') or ''} {_handle(raw)}".strip()
        if left_blank(raw, self.mapped, "handle"):
            report.key = f"{report.key} {_code(raw)}".strip()
            report.status = BLANK
            return report
        account = self.accounts.get((platform.id, _handle(raw))) if platform else None
        raw = self._poi(raw, account, report)
        merged = self._merge(account, raw, report)
        merged["platform"] = platform or ""
        cleaned = clean_account(merged)
        report.errors.update(cleaned.errors)
        report.warnings.update(cleaned.warnings)
        if platform is None and str(raw.get("platform") or "").strip():
            report.errors["platform"] = _("Unknown platform “%(value)s”.", value=raw.get("platform"))
        values = cleaned.values
        if not report.errors:
            self._check_main(values, account, report)
        if report.errors:
            return report
        values["platform_id"] = values.pop("platform").id
        report.values, report.target = values, account
        if account is None:
            report.status = NEW
            return report
        report.changes = {name: (self._show(name, getattr(account, name)), self._show(name, values.get(name)))
                          for name in COMPARED if not same(getattr(account, name), values.get(name))}
        report.status = CHANGED if report.changes else UNCHANGED
        return report

    def _poi(self, raw: dict, account: Account | None, report: RowReport) -> dict:
        """A POI id a spreadsheet rounded is refused, or the stored one kept: never marked as a change."""
        if "poi_id" not in self.mapped:
            return raw
        checked = check_long_identifier(raw.get("poi_id"), account.poi_id if account else None)
        if checked.error:
            report.errors["poi_id"] = checked.error
        elif checked.warning:
            report.warnings["poi_id"] = checked.warning
        return {**raw, "poi_id": checked.value}

    def _merge(self, account: Account | None, raw: dict, report: RowReport) -> dict:
        merged = {}
        if account is not None:
            merged = {name: getattr(account, name) for name in COMPARED}
            merged["handle"] = account.handle
        overlay(merged, raw, self.mapped, TEXT_FIELDS, keep_when_empty=KEEP_WHEN_EMPTY, updating=account is not None)
        if "store_code" in self.mapped:
            merged["store_id"] = self._store(_code(raw), report)
        if "brand" in self.mapped:
            name = str(raw.get("brand") or "").strip()
            merged["brand_id"] = self.brand_ids.get(normalise_choice(name)) if name else None
            if name and merged["brand_id"] is None:
                report.errors["brand"] = _("Unknown brand “%(name)s”: add it under Brands first.", name=name)
        return merged

    def _store(self, code: str, report: RowReport) -> int | None:
        if not code:
            return None
        if code not in self.stores:
            report.errors["store_code"] = _("No store has the code %(code)s: import the stores first.", code=code)
            return None
        store_id, archived_at = self.stores[code]
        if archived_at is not None:
            report.warnings["store_code"] = _("Store %(code)s is archived.", code=code)
        return store_id

    def _check_main(self, values: dict, account: Account | None, report: RowReport) -> None:
        if values.get("scope") != AccountScope.BRAND:
            return
        slot = (values["brand_id"], values["platform"].id)
        holder = self.mains.get(slot)
        if holder is not None and (account is None or holder != account.id):
            report.errors["scope"] = _("This brand already has a main account on %(platform)s.",
                                       platform=values["platform"].name_zh)
        elif slot in self.claimed:
            report.errors["scope"] = _("Line %(line)d already holds this brand's main account on %(platform)s.",
                                       line=self.claimed[slot], platform=values["platform"].name_zh)
        else:
            self.claimed[slot] = report.line

    def _show(self, name: str, value) -> str:
        if name == "store_id":
            return self.store_codes.get(value, "") if value else ""
        if name == "brand_id":
            return self.brand_names.get(value, "") if value else ""
        return text(value)

    @staticmethod
    def write(rows: list[RowReport], *, geocoder=None) -> None:
        """Insert the new accounts and update the changed ones."""
        inserts = [r.values for r in rows if r.status == NEW]
        if inserts:
            db.session.execute(insert(Account), inserts)
        for row in (r for r in rows if r.status == CHANGED):
            for name in COMPARED:
                setattr(row.target, name, row.values[name])
        db.session.flush()
