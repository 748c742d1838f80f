"""Many group QR images at once: a zip or several files, each matched to a group by its file name.

A file is named after the group (杭州西湖店1群.png), its store code (HZ-001.png: the store's first group without a
QR code, or a new group named by HQ's rule when the store has none) or the code and the group's place in the
rotation (HZ-001-2.png). Each file is judged on its own: every file that matches and is a sane image is saved,
every other one is reported with its reason; all in one transaction with an audit entry per group.

Zips are read in memory, never unpacked to disk: names are only used to match, and sizes are checked against
the central directory and again while reading, so a zip bomb or a lying header stops at the caps.
"""
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.brands.models import Brand
from matrix.communities.models import Community
from matrix.communities.values import MAX_QR_BYTES, check_qr_image
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.onboarding.naming import group_name, naming_rules, naming_values
from matrix.permissions import visible_communities, visible_stores
from matrix.stores.models import Store
from matrix.transaction import transactional

MAX_FILES = 500                    # files in one upload (zip members and loose files together)
MAX_TOTAL_BYTES = 100 * 1024 * 1024  # images unpacked from one upload
MAX_RATIO = 50                     # a PNG or JPEG barely compresses; far more than this is a bomb
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_NUMBERED = re.compile(r"^(.+?)[-_#·](\d{1,2})$")
SAVED, CREATED, REFUSED = "saved", "created", "refused"


@dataclass
class QrFile:
    name: str                    # the name shown in the report: the member's path inside its zip
    data: bytes | None = None
    problem: str | None = None   # why it cannot be used, decided while reading


@dataclass
class FileResult:
    name: str
    status: str                  # saved, created or refused
    message: str
    store: str = ""
    group: str = ""


@dataclass
class QrReport:
    files: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)


def read_files(uploads: list[tuple[str, bytes]]) -> list[QrFile]:
    """The images of the uploaded files; a zip's members count as files of their own."""
    found: list[QrFile] = []
    budget = [MAX_TOTAL_BYTES]
    for filename, data in uploads:
        if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".zip"):
            found.extend(_read_zip(filename, data, budget))
        else:
            found.append(_loose(filename, data, budget))
        if len(found) > MAX_FILES:
            raise DomainError(_("At most %(n)d images at once: split them into several uploads.", n=MAX_FILES))
    return found


def _loose(filename: str, data: bytes, budget: list[int]) -> QrFile:
    name = _basename(filename)
    if len(data) > MAX_QR_BYTES:
        return QrFile(name, problem=_("The image is larger than 2 MB."))
    budget[0] -= len(data)
    return QrFile(name, data)


def _read_zip(filename: str, data: bytes, budget: list[int]) -> list[QrFile]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir() and not _is_noise(m.filename)]
    except (zipfile.BadZipFile, ValueError, OSError):
        raise DomainError(_("%(file)s is not a zip file that can be read.", file=_basename(filename))) from None
    if len(members) > MAX_FILES:
        raise DomainError(_("At most %(n)d images at once: split them into several uploads.", n=MAX_FILES))
    return [_member(archive, member, budget) for member in members]


def _member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: list[int]) -> QrFile:
    name = member.filename.replace("\\", "/")
    if member.flag_bits & 0x1:
        return QrFile(name, problem=_("The file is encrypted in the zip."))
    if not name.lower().endswith(IMAGE_SUFFIXES):
        return QrFile(name, problem=_("Not an image file (PNG, JPEG, GIF or WebP)."))
    if member.file_size > MAX_QR_BYTES:
        return QrFile(name, problem=_("The image is larger than 2 MB."))
    if member.file_size > MAX_RATIO * max(member.compress_size, 1) or member.file_size > budget[0]:
        return QrFile(name, problem=_("The file unpacks to far more than it holds: not read."))
    try:
        with archive.open(member) as stream:
            content = stream.read(MAX_QR_BYTES + 1)  # the header may lie: never read past the cap
    except (zipfile.BadZipFile, RuntimeError, OSError, ValueError, NotImplementedError):
        return QrFile(name, problem=_("The file could not be read from the zip."))
    if len(content) > MAX_QR_BYTES:
        return QrFile(name, problem=_("The image is larger than 2 MB."))
    budget[0] -= len(content)
    return QrFile(name, content)


def _is_noise(path: str) -> bool:
    """Folders and files a Mac or Windows adds to a zip: not images anyone chose."""
    base = _basename(path)
    return path.startswith("__MACOSX/") or base.startswith(".") or base.lower() in ("thumbs.db", "desktop.ini")


def _basename(path: str) -> str:
    return (path or "").replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().casefold()


def _stem(path: str) -> str:
    base = _basename(path)
    return _key(base.rsplit(".", 1)[0] if "." in base else base)


@dataclass
class _Group:
    """A group as matching needs it: light rows, not whole records (a chain has tens of thousands)."""

    id: int
    store_id: int
    name: str
    active: bool
    has_qr: bool
    rotation_order: int


class _Targets:
    """The groups and stores a file name can name, among those the user may change."""

    def __init__(self, user: User):
        rows = db.session.execute(visible_communities(user).with_only_columns(
            Community.id, Community.store_id, Community.name, Community.active, Community.qr_mime.is_not(None),
            Community.rotation_order).order_by(Community.store_id, Community.rotation_order, Community.id))
        self.by_store: dict[int, list[_Group]] = {}
        self.by_name: dict[str, list[_Group]] = {}
        for row in rows:
            group = _Group(*row)
            self.by_store.setdefault(group.store_id, []).append(group)
            self.by_name.setdefault(_key(group.name), []).append(group)
        stores = visible_stores(user).outerjoin(Brand, Brand.id == Store.brand_id).with_only_columns(
            Store.id, Store.code, Store.name, Brand.name.label("brand"), Store.city_code, Store.district_code)
        self.stores = {_key(row.code): row for row in db.session.execute(stores)}
        self.store_of = {row.id: row for row in self.stores.values()}
        self.taken: dict[int, str] = {}  # group id -> the file that set it in this upload

    def rotation(self, store) -> list[_Group]:
        return [g for g in self.by_store.get(store.id, []) if g.active]

    def match(self, stem: str) -> tuple:
        """(store, group, problem); a store without a group gets (store, None, None): a new group is made."""
        named = self.by_name.get(stem, [])
        if len(named) == 1:
            return self.store_of[named[0].store_id], named[0], None
        if len(named) > 1:
            return None, None, _("Several stores have a group of this name: name the file by store code.")
        if stem in self.stores:
            store = self.stores[stem]
            groups = self.rotation(store)
            if not groups:
                return store, None, None
            lacking = [g for g in groups if not g.has_qr and g.id not in self.taken]
            return store, (lacking or groups)[0], None
        numbered = _NUMBERED.match(stem)
        if numbered and numbered.group(1) in self.stores:
            store = self.stores[numbered.group(1)]
            groups, place = self.rotation(store), int(numbered.group(2))
            if 1 <= place <= len(groups):
                return store, groups[place - 1], None
            return store, None, _("Store %(code)s has %(n)d active groups, not a group %(place)d.",
                                  code=store.code, n=len(groups), place=place)
        return None, None, _("No group or store code matches this file name.")

    def add(self, group: _Group) -> None:
        self.by_store.setdefault(group.store_id, []).append(group)
        self.by_name.setdefault(_key(group.name), []).append(group)


@transactional
def apply_qr_files(files: list[QrFile], *, actor: User) -> QrReport:
    """Save every file that matches a group and is a sane image; report each file; one commit."""
    targets, report, rules = _Targets(actor), QrReport(), naming_rules()
    for qr in files:
        report.files.append(_apply_one(qr, targets, rules, actor))
    db.session.commit()
    return report


def _apply_one(qr: QrFile, targets: _Targets, rules, actor: User) -> FileResult:
    if qr.problem:
        return FileResult(qr.name, REFUSED, qr.problem)
    try:
        mime = check_qr_image(qr.data)
    except DomainError as e:
        return FileResult(qr.name, REFUSED, e.message)
    store, group, problem = targets.match(_stem(qr.name))
    if problem:
        return FileResult(qr.name, REFUSED, problem, store=store.code if store else "")
    if group is not None and group.id in targets.taken:
        return FileResult(qr.name, REFUSED, _("%(file)s in this upload already set this group's QR code.",
                                              file=targets.taken[group.id]), store=store.code, group=group.name)
    status, before = SAVED, (_("a QR code") if group is not None and group.has_qr else None)
    if group is None:
        group, status = _new_group(store, targets, rules), CREATED
    # A statement, not the record: the group's old image is never loaded just to be replaced.
    db.session.execute(update(Community).where(Community.id == group.id).values(qr_image=qr.data, qr_mime=mime))
    group.has_qr = True
    targets.taken[group.id] = _basename(qr.name)
    audit.record(actor, "create" if status == CREATED else "update", "community", entity_id=group.id,
                 store_id=group.store_id, summary=group.name,
                 changes={"qr_image": [before, f"<{len(qr.data)} bytes>"], "file": _basename(qr.name)})
    message = (_l("New group %(group)s made for it.", group=group.name) if status == CREATED
               else _l("Saved as the QR code of %(group)s.", group=group.name))
    return FileResult(qr.name, status, str(message), store=store.code, group=group.name)


def _new_group(store, targets: _Targets, rules) -> _Group:
    """A group for a store that has none, named by HQ's rule, last in its rotation."""
    groups = targets.by_store.get(store.id, [])
    values = naming_values(brand=store.brand, store_name=store.name, code=store.code, city_code=store.city_code,
                           district_code=store.district_code, n=len(groups) + 1)
    order = max((g.rotation_order for g in groups), default=0) + 1
    row = Community(store_id=store.id, name=group_name(rules, values), rotation_order=order)
    db.session.add(row)
    db.session.flush()
    group = _Group(row.id, store.id, row.name, True, False, order)
    targets.add(group)
    return group
