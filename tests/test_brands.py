"""Brands: services (name, logo checks, audit) and the HQ-only screens."""
import io
import struct

import pytest
from flask import url_for
from flask_babel import force_locale
from sqlalchemy import func, select

from matrix.accounts.models import AccountScope
from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.brands import services
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.brands.models import Brand


def png(width: int = 64, height: int = 64, padding: int = 0) -> bytes:
    """Enough of a PNG for the type and size check: signature and IHDR."""
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + struct.pack(">II", width, height) + b"\x08\x06\x00\x00\x00" + b"\x00" * padding


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN)


def brand_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Brand))


def test_create_and_update_brand_with_audit(admin):
    brand = services.create_brand(name=" 宜家家居 ", logo=png(), actor=admin)
    assert (brand.name, brand.logo_mime) == ("宜家家居", "image/png")
    changes = services.update_brand(brand, name="宜家", logo=png(128, 128), actor=admin)
    assert changes["name"] == ["宜家家居", "宜家"] and "logo" in changes
    assert services.update_brand(brand, name="宜家", remove_logo=True, actor=admin)["logo_mime"] == ["image/png", None]
    assert brand.logo is None
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "brand").order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["create", "update", "update"]
    assert all("PNG" not in str(e.changes) for e in entries)  # sizes and hashes, never the bytes


@pytest.mark.parametrize("logo, message", [
    (b"", "empty"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a PNG"),
    (png(8, 8), "between 16 and 4000 pixels"),
    (png(padding=2 * 1024 * 1024), "larger than 2 MB"),
])
def test_bad_logos_are_refused(admin, logo, message):
    with pytest.raises(DomainError) as error:
        services.create_brand(name="品牌", logo=logo, actor=admin)
    assert message in error.value.message and error.value.field == "logo"
    assert brand_count() == 0


def test_duplicate_and_empty_names_are_refused(admin):
    services.create_brand(name="品牌", actor=admin)
    for name in ("品牌", "  "):
        with pytest.raises(DomainError):
            services.create_brand(name=name, actor=admin)
    assert brand_count() == 1


def test_hq_creates_a_brand_with_a_logo_and_it_is_served(make_user, login, post, client):
    login(make_user(Role.OPERATOR))
    response = post(url_for("brands.new"), {"name": "品牌甲", "logo": (io.BytesIO(png()), "logo.png")},
                    content_type="multipart/form-data")
    assert response.status_code == 302
    brand = db.session.scalar(select(Brand))
    logo = client.get(url_for("brands.logo", brand_id=brand.id))
    assert logo.status_code == 200 and logo.mimetype == "image/png" and logo.data == png()
    assert logo.headers["X-Content-Type-Options"] == "nosniff"


def test_bad_upload_rerenders_with_422(make_user, login, post):
    login(make_user(Role.OPERATOR))
    response = post(url_for("brands.new"), {"name": "品牌甲", "logo": (io.BytesIO(b"GIF? no"), "logo.gif")},
                    content_type="multipart/form-data")
    assert response.status_code == 422 and "not a PNG" in response.get_data(as_text=True)
    assert brand_count() == 0


def test_edit_keeps_the_logo_and_lists_main_accounts(admin, make_user, login, post, client, make_account):
    brand = services.create_brand(name="品牌乙", logo=png(), actor=admin)
    make_account(scope=AccountScope.BRAND, brand_id=brand.id, platform="kuaishou", handle="brand_ks")
    login(make_user(Role.OPERATOR))
    page = client.get(url_for("brands.edit", brand_id=brand.id)).get_data(as_text=True)
    assert "brand_ks" in page and "Kuaishou" in page
    assert "brand_ks" in client.get(url_for("brands.index")).get_data(as_text=True)
    assert post(url_for("brands.edit", brand_id=brand.id), {"name": "品牌丙"}).status_code == 302
    db.session.refresh(brand)
    assert (brand.name, brand.logo) == ("品牌丙", png())


def test_brand_pages_are_hq_only(admin, make_user, login, client, post):
    brand = services.create_brand(name="品牌丁", logo=png(), actor=admin)
    login(make_user(Role.STORE_MANAGER))
    for url in (url_for("brands.index"), url_for("brands.new"), url_for("brands.edit", brand_id=brand.id),
                url_for("brands.logo", brand_id=brand.id)):
        assert client.get(url).status_code == 403
    assert post(url_for("brands.edit", brand_id=brand.id), {"name": "改名"}).status_code == 403
