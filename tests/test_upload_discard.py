"""A pending import is discarded only by its uploader, or by an admin (audited): never by another HQ user."""
import pytest
from sqlalchemy import func, select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.imports.models import ImportUpload
from matrix.imports.uploads import save_upload

URLS = {"stores": "/imports/{}/discard", "leads": "/sources/import/{}/discard",
        "live_sessions": "/live/import/{}/discard"}


def pending() -> int:
    return db.session.scalar(select(func.count()).select_from(ImportUpload))


def discards() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "discard")))


@pytest.fixture
def upload_of(make_user):
    def build(kind: str, owner=None):
        owner = owner or make_user(Role.OPERATOR)
        return save_upload(b"code,name\nA1,x\n", filename="stores.csv", kind=kind, user_id=owner.id)
    return build


@pytest.mark.parametrize("kind", list(URLS))
def test_another_operator_cannot_discard_it(app, client, login, post, make_user, upload_of, kind):
    upload = upload_of(kind)
    login(make_user(Role.OPERATOR))
    assert post(URLS[kind].format(upload.token)).status_code == 404
    assert pending() == 1


@pytest.mark.parametrize("kind", list(URLS))
def test_its_owner_discards_it(app, client, login, post, make_user, upload_of, kind):
    owner = make_user(Role.OPERATOR)
    upload = upload_of(kind, owner)
    login(owner)
    assert post(URLS[kind].format(upload.token)).status_code == 302
    assert pending() == 0
    assert discards() == []


@pytest.mark.parametrize("kind", list(URLS))
def test_an_admin_discards_it_and_that_is_audited(app, client, login, post, make_user, upload_of, kind):
    upload = upload_of(kind)
    admin = make_user(Role.ADMIN)
    login(admin)
    assert post(URLS[kind].format(upload.token)).status_code == 302
    assert pending() == 0
    [entry] = discards()
    assert (entry.actor_id, entry.action, entry.entity) == (admin.id, "discard", "import_upload")
    assert "stores.csv" in entry.summary and str(upload.user_id) in entry.summary


def test_an_unknown_token_is_404(app, client, login, post, make_user):
    login(make_user(Role.ADMIN))
    assert post(URLS["stores"].format("x" * 32)).status_code == 404
