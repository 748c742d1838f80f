"""User administration (services and pages) and the "my account" page."""
import pytest
from sqlalchemy import select

from conftest import PASSWORD
from matrix.audit.models import AuditEntry
from matrix.auth import services
from matrix.auth.models import Role, User
from matrix.errors import DomainError
from matrix.extensions import db

NEW_PASSWORD = "another-long-password"


def user_named(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def form(**values) -> dict:
    data = {"username": "mgr_west", "display_name": "West Lake manager", "role": "store_manager",
            "mobile": "138 0013 8000", "active": "y", "password": "", "store_codes": ""}
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin(make_user, login):
    user = make_user(Role.ADMIN, username="boss")
    login(user)
    return user


# --- services -------------------------------------------------------------------------------

def test_store_codes_are_parsed_from_pasted_text():
    assert services.parse_store_codes(" HZ-001, HZ-002\nHZ-003\tHZ-001；SH-9，BJ-1、 ") == \
        ["HZ-001", "HZ-002", "HZ-003", "SH-9", "BJ-1"]


def test_unknown_store_codes_are_named(make_store):
    store = make_store(code="HZ-001")
    assert services.resolve_store_codes("HZ-001") == [store.id]
    with pytest.raises(DomainError) as error:
        services.resolve_store_codes("HZ-001 NOPE-1 NOPE-2")
    assert "NOPE-1" in error.value.message and "NOPE-2" in error.value.message
    assert "HZ-001" not in error.value.message


def test_last_active_admin_cannot_be_demoted_or_deactivated(make_user):
    admin, operator = make_user(Role.ADMIN), make_user(Role.OPERATOR)
    fields = {"display_name": "x", "mobile": None, "store_ids": []}
    with pytest.raises(DomainError, match="last active admin"):
        services.update_user(admin, actor=operator, role=Role.OPERATOR, active=True, **fields)
    db.session.rollback()
    with pytest.raises(DomainError, match="last active admin"):
        services.update_user(admin, actor=operator, role=Role.ADMIN, active=False, **fields)
    db.session.rollback()
    assert db.session.get(User, admin.id).role == Role.ADMIN and admin.active


def test_an_admin_can_be_demoted_while_another_remains(make_user):
    first, second = make_user(Role.ADMIN), make_user(Role.ADMIN)
    services.update_user(second, actor=first, display_name="ex admin", role=Role.OPERATOR, active=True,
                         mobile=None, store_ids=[])
    assert second.role == Role.OPERATOR
    with pytest.raises(DomainError):
        services.update_user(first, actor=second, display_name="x", role=Role.OPERATOR, active=True,
                             mobile=None, store_ids=[])


def test_inactive_admins_do_not_count(make_user):
    admin, operator = make_user(Role.ADMIN), make_user(Role.OPERATOR)
    make_user(Role.ADMIN, active=False)
    with pytest.raises(DomainError, match="last active admin"):
        services.update_user(admin, actor=operator, display_name="x", role=Role.OPERATOR, active=True,
                             mobile=None, store_ids=[])


def test_refused_update_changes_nothing(make_user):
    admin, other = make_user(Role.ADMIN), make_user(Role.OPERATOR)
    with pytest.raises(DomainError):
        services.update_user(other, actor=admin, display_name="renamed", role=Role.OPERATOR, active=True,
                             mobile=None, store_ids=[], password="short")
    assert other.display_name != "renamed"
    assert not db.session.dirty


# --- admin pages: who may use them -------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.OPERATOR, Role.STORE_MANAGER])
def test_only_admins_manage_users(client, make_user, make_store, login, post, role):
    other = make_user(Role.OPERATOR)
    login(make_user(role, stores=[make_store()] if role == Role.STORE_MANAGER else []))
    for url in ("/users/", "/users/?q=a&role=admin", "/users/new", f"/users/{other.id}/edit"):
        assert client.get(url).status_code == 403, url
    assert post("/users/new", form(password=NEW_PASSWORD)).status_code == 403
    assert post(f"/users/{other.id}/edit", form(username=other.username, role="admin")).status_code == 403
    assert user_named("mgr_west") is None
    assert db.session.get(User, other.id).role == Role.OPERATOR
    assert client.get("/users/me").status_code == 200


def test_users_need_sign_in(client):
    assert client.get("/users/").status_code == 302


# --- admin pages: list, create, edit -------------------------------------------------------

def test_list_searches_and_filters_by_role(client, admin, make_user, make_store):
    make_user(Role.STORE_MANAGER, username="west_manager", stores=[make_store(code="HZ-777")])
    make_user(Role.OPERATOR, username="east_operator")
    html = client.get("/users/?q=west").get_data(as_text=True)
    assert "west_manager" in html and "HZ-777" in html and "east_operator" not in html
    html = client.get("/users/?role=operator").get_data(as_text=True)
    assert "east_operator" in html and "west_manager" not in html


def test_new_user_form_starts_with_the_least_access(client, admin):
    html = client.get("/users/new").get_data(as_text=True)
    assert '<option selected value="store_manager">' in html


def test_admin_creates_a_store_manager_with_store_codes(client, admin, make_store, post):
    stores = [make_store(code=c) for c in ("HZ-001", "HZ-002", "HZ-003")]
    response = post("/users/new", form(password=NEW_PASSWORD, store_codes="HZ-001, HZ-002\nHZ-003"))
    assert response.status_code == 302
    user = user_named("mgr_west")
    assert user.role == Role.STORE_MANAGER and user.mobile == "13800138000"
    assert {s.id for s in user.stores} == {s.id for s in stores}
    assert user.check_password(NEW_PASSWORD)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "user", AuditEntry.action == "create"))
    assert entry.actor_id == admin.id and sorted(entry.changes["stores"]) == ["HZ-001", "HZ-002", "HZ-003"]
    assert NEW_PASSWORD not in repr(entry.changes)


def test_unknown_store_codes_are_reported_and_nothing_is_saved(client, admin, make_store, post):
    make_store(code="HZ-001")
    response = post("/users/new", form(password=NEW_PASSWORD, store_codes="HZ-001 XX-404 YY-405"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "XX-404" in html and "YY-405" in html
    assert "HZ-001 XX-404 YY-405" in html  # what was typed stays in the form
    assert user_named("mgr_west") is None


def test_store_codes_are_ignored_for_hq_roles(client, admin, post):
    response = post("/users/new", form(role="operator", password=NEW_PASSWORD, store_codes="XX-404"))
    assert response.status_code == 302
    assert user_named("mgr_west").stores == []


@pytest.mark.parametrize("password", ["", "short-pw"])
def test_new_user_needs_a_long_password(client, admin, post, password):
    response = post("/users/new", form(role="operator", password=password))
    assert response.status_code == 422
    assert user_named("mgr_west") is None
    if password:
        assert "at least 10 characters" in response.get_data(as_text=True)


def test_taken_username_is_refused(client, admin, make_user, post):
    make_user(Role.OPERATOR, username="mgr_west")
    response = post("/users/new", form(role="operator", password=NEW_PASSWORD))
    assert response.status_code == 422
    assert "is taken" in response.get_data(as_text=True)


def test_edit_keeps_the_password_when_left_empty(client, admin, make_user, make_store, post):
    store = make_store(code="HZ-010")
    user = make_user(Role.OPERATOR, username="op1", mobile="13900000000")
    page = client.get(f"/users/{user.id}/edit").get_data(as_text=True)
    assert "op1" in page and user.password_hash not in page
    response = post(f"/users/{user.id}/edit", form(username="op1", role="store_manager", store_codes="HZ-010"))
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.role == Role.STORE_MANAGER and [s.id for s in user.stores] == [store.id]
    assert user.check_password(PASSWORD)
    assert "HZ-010" in client.get(f"/users/{user.id}/edit").get_data(as_text=True)


def test_edit_with_a_short_password_is_refused(client, admin, make_user, post):
    user = make_user(Role.OPERATOR, username="op1")
    response = post(f"/users/{user.id}/edit", form(username="op1", role="operator", password="tooshort"))
    assert response.status_code == 422
    assert "at least 10 characters" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_deactivating_keeps_the_user(client, admin, make_user, post):
    user = make_user(Role.OPERATOR, username="op1")
    response = post(f"/users/{user.id}/edit", form(username="op1", role="operator", active=None))
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.active is False


def test_admin_cannot_demote_or_deactivate_themself(client, admin, post):
    for change in ({"role": "operator"}, {"role": "admin", "active": None}):
        response = post(f"/users/{admin.id}/edit", form(username="boss", **change))
        assert response.status_code == 422
        assert "cannot change your own role" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role == Role.ADMIN and admin.active


def test_user_changes_are_audited(client, admin, make_user, post):
    user = make_user(Role.OPERATOR, username="op1")
    post(f"/users/{user.id}/edit", form(username="op1", display_name="Renamed", role="operator",
                                        password=NEW_PASSWORD))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.entity_id == user.id))
    assert entry.changes["display_name"][1] == "Renamed"
    assert "password" in entry.changes and NEW_PASSWORD not in repr(entry.changes)


# --- my account -------------------------------------------------------------------------------

def test_my_account_changes_name_and_language(client, make_user, make_store, login, post):
    user = make_user(Role.STORE_MANAGER, stores=[make_store()])
    login(user)
    response = post("/users/me", {"display_name": "Ms. Wang", "locale": "en"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.display_name, user.locale) == ("Ms. Wang", "en")
    assert user.check_password(PASSWORD)


def test_new_password_needs_the_current_one(client, make_user, login, post):
    user = make_user(Role.OPERATOR)
    login(user)
    base = {"display_name": "x", "locale": "zh", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert post("/users/me", base).status_code == 422
    assert post("/users/me", {**base, "current_password": "wrong-password"}).status_code == 422
    assert post("/users/me", {**base, "current_password": PASSWORD, "confirm_password": "different-pw1"}).status_code == 422
    db.session.refresh(user)
    assert user.check_password(PASSWORD)
    assert post("/users/me", {**base, "current_password": PASSWORD}).status_code == 302
    db.session.refresh(user)
    assert user.check_password(NEW_PASSWORD)


def test_my_new_password_must_be_long(client, make_user, login, post):
    login(make_user(Role.OPERATOR))
    response = post("/users/me", {"display_name": "x", "locale": "zh", "current_password": PASSWORD,
                                  "new_password": "short", "confirm_password": "short"})
    assert response.status_code == 422
    assert "at least 10 characters" in response.get_data(as_text=True)
