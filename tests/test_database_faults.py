"""While PostgreSQL restarts: the webhook answers JSON 503 with Retry-After (the platform retries) and
never 200 for a lead it did not store; pages answer a 503 page that reads nothing from the database."""
import pytest
from fixtures_hooks import body_of, deliver
from sqlalchemy import func, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from matrix.auth.models import Role
from matrix.extensions import db
from matrix.leads import signatures
from matrix.leads.models import Lead
from matrix.leads.sources import create_source

LEAD = {"id": "L-1", "name": "王小明", "phone": "13912345678", "city": "杭州"}


def down(*_args, **_kwargs):
    raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def gone(*_args, **_kwargs):
    raise InterfaceError("COMMIT", {}, Exception("connection already closed"))


def leads() -> int:
    return db.session.scalar(select(func.count()).select_from(Lead))


@pytest.fixture
def generic(app, make_user):
    return create_source(name="官网表单", kind="generic", slug="site-form", actor=make_user())


def signed(source, secret) -> dict:
    """The request a platform sends, signed before the database goes away (signing reads the source)."""
    body = body_of(LEAD)
    return {"path": f"/hooks/{source.slug}", "data": body, "content_type": "application/json",
            "headers": signatures.sign(source, secret, body)}


def test_the_webhook_answers_json_503_while_the_database_is_down(client, generic, monkeypatch):
    source, secret = generic
    request = signed(source, secret)
    monkeypatch.setattr(Session, "execute", down)
    response = client.post(**request)
    monkeypatch.undo()
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.get_json() == {"error": "the database is unavailable, retry later", "code": "unavailable"}
    assert leads() == 0
    assert deliver(client, source, secret, LEAD).status_code == 200 and leads() == 1  # the retry stores it


def test_a_commit_that_fails_is_never_answered_200(client, generic, monkeypatch):
    source, secret = generic
    request = signed(source, secret)
    monkeypatch.setattr(Session, "commit", gone)
    response = client.post(**request)
    monkeypatch.undo()
    assert response.status_code == 503 and response.is_json
    db.session.rollback()
    assert leads() == 0


def test_pages_answer_a_503_page_that_needs_no_database(app, client, login, make_user, monkeypatch):
    with app.app_context():  # each request its own context, as in a real process
        login(make_user(Role.OPERATOR))
    monkeypatch.setattr(Session, "execute", down)
    monkeypatch.setattr(Session, "get", down)
    with app.app_context():
        response = client.get("/stores/")
    with app.app_context():
        json_response = client.get("/stores/", headers={"Accept": "application/json"})
    monkeypatch.undo()
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "cannot reach its database" in response.get_data(as_text=True)
    assert json_response.status_code == 503 and json_response.get_json()["code"] == "unavailable"
    with app.app_context():
        assert client.get("/stores/").status_code == 200  # a fresh connection once it is back
