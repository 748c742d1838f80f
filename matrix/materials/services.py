"""Reference material of campaign templates: HQ uploads it, the stores whose items use the template download it.

Limits: images up to MATERIAL_MAX_IMAGE_BYTES, videos up to MATERIAL_MAX_VIDEO_BYTES and
MATERIAL_MAX_VIDEO_S seconds, MATERIALS_PER_TEMPLATE files a template. Each upload and delete is
one audited transaction.
"""
import hashlib
import re
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from matrix.audit import services as audit
from matrix.auth.models import User
from matrix.content.models import ContentItem, ContentTemplate
from matrix.errors import DomainError, NotFound
from matrix.extensions import db
from matrix.materials.models import Material
from matrix.materials.sniffing import sniff
from matrix.permissions import managed_store_ids
from matrix.transaction import transactional

_UNSAFE = re.compile(r"[\x00-\x1f\\/:*?\"<>|]+")


def clean_file_name(name: str) -> str:
    """The last part of an uploaded path, without control or path characters, at most 200 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    return base[-200:] or "material"


def _check(data: bytes):
    config = current_app.config
    if not data:
        raise DomainError(_("The uploaded file is empty."), field="file")
    found = sniff(data)
    if found is None:
        raise DomainError(_("Only images (PNG, JPEG, GIF, WebP) and short videos (MP4, MOV) can be uploaded."),
                          field="file")
    most = config["MATERIAL_MAX_IMAGE_BYTES"] if found.kind == "image" else config["MATERIAL_MAX_VIDEO_BYTES"]
    if len(data) > most:
        raise DomainError(_("The file is larger than %(mb)d MB.", mb=most // (1024 * 1024)), field="file")
    if found.kind == "video":
        if found.duration_s is None:
            raise DomainError(_("The video's length cannot be read: export it again as MP4."), field="file")
        if found.duration_s > config["MATERIAL_MAX_VIDEO_S"]:
            raise DomainError(_("A reference video is at most %(n)d seconds long.", n=config["MATERIAL_MAX_VIDEO_S"]),
                              field="file")
    return found


@transactional
def add_material(template: ContentTemplate, *, actor: User, file_name: str, data: bytes) -> Material:
    """Keep an image or short video as reference for the stores that post this template (HQ only)."""
    if not actor.is_hq:
        raise NotFound(_("Not found."))
    found = _check(data)
    count = db.session.scalar(select(func.count(Material.id)).where(Material.template_id == template.id))
    if count >= current_app.config["MATERIALS_PER_TEMPLATE"]:
        raise DomainError(_("A template keeps at most %(n)d files: delete one first.",
                            n=current_app.config["MATERIALS_PER_TEMPLATE"]), field="file")
    material = Material(template_id=template.id, file_name=clean_file_name(file_name), mime=found.mime,
                        kind=found.kind, size=len(data), width=found.width, height=found.height,
                        duration_s=found.duration_s, sha256=hashlib.sha256(data).hexdigest(), data=data,
                        uploaded_by_id=actor.id)
    db.session.add(material)
    db.session.flush()
    audit.record(actor, "create", "material", entity_id=material.id, summary=f"{template.topic}: {material.file_name}",
                 changes={"template_id": template.id, "mime": material.mime, "size": material.size,
                          "sha256": material.sha256})
    db.session.commit()
    return material


@transactional
def delete_material(material: Material, *, actor: User) -> None:
    """Remove a reference file (HQ only)."""
    if not actor.is_hq:
        raise NotFound(_("Not found."))
    audit.record(actor, "delete", "material", entity_id=material.id, summary=material.file_name,
                 changes={"template_id": material.template_id, "sha256": material.sha256})
    db.session.delete(material)
    db.session.commit()


def template_materials(template_id: int | None) -> list[Material]:
    """A template's files, oldest first, without their bytes."""
    if template_id is None:
        return []
    return list(db.session.scalars(select(Material).options(selectinload(Material.uploaded_by))
                                   .where(Material.template_id == template_id).order_by(Material.id)))


def visible_materials(user: User):
    """Every file for HQ; for a manager, the files of templates their stores have items of."""
    query = select(Material)
    if not user.is_hq:
        query = query.where(exists().where(ContentItem.template_id == Material.template_id,
                                           ContentItem.store_id.in_(managed_store_ids(user))))
    return query


def delete_template_materials(template_ids) -> None:
    """In the caller's transaction: a deleted template's files go too (SQLite does not cascade by itself)."""
    db.session.execute(Material.__table__.delete().where(Material.template_id.in_(template_ids)))


def content_disposition(file_name: str, *, inline: bool = False) -> str:
    """A header that keeps a Chinese file name (RFC 6266 filename*) and an ASCII fallback."""
    ascii_name = file_name.encode("ascii", "ignore").decode() or "material"
    return f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"
