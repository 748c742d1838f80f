"""Signing in and out: passwords, the shared throttle, redirects, CSRF and the language choice."""
from urllib.parse import urlsplit

import pytest
from conftest import PASSWORD
from fixtures_auth import sign_in
from sqlalchemy import select

from matrix.auth import throttle
from matrix.auth.models import LoginAttempt, Role
from matrix.extensions import db


def signed_in(client) -> bool:
    with client.session_transaction() as s:
        return "_user_id" in s


def test_right_password_signs_in(client, make_user):
    user = make_user(Role.OPERATOR)
    response = sign_in(client, user.username)
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/"
    assert signed_in(client)


def test_wrong_password_is_refused(client, make_user):
    user = make_user(Role.OPERATOR)
    response = sign_in(client, user.username, "not-the-password")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert not signed_in(client)


def test_unknown_user_gets_the_same_answer(client):
    response = sign_in(client, "nobody", "whatever-password")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_inactive_user_cannot_sign_in(client, make_user):
    user = make_user(Role.OPERATOR, active=False)
    response = sign_in(client, user.username)
    assert response.status_code == 401
    assert not signed_in(client)


def test_throttle_is_shared_between_web_processes(app, make_user):
    """Two clients stand for two processes: failures of both count, so the DB holds the throttle."""
    user = make_user(Role.OPERATOR)
    first, second = app.test_client(), app.test_client()
    for i in range(throttle.PAIR.free):
        assert sign_in(first if i % 2 else second, user.username, "wrong-password-1").status_code == 401
    assert sign_in(first, user.username, "wrong-password-1").status_code == 401  # the failure that starts the wait
    response = sign_in(second, user.username)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert "Too many failed sign-ins. Try again in 1 seconds." in response.get_data(as_text=True)
    assert not signed_in(second)


def test_throttle_counts_per_username(app, make_user):
    target, other = make_user(Role.OPERATOR), make_user(Role.OPERATOR)
    client = app.test_client()
    for _ in range(throttle.PAIR.free + 1):
        sign_in(client, target.username, "wrong-password-1")
    assert sign_in(app.test_client(), other.username).status_code == 302


def test_success_before_the_limit_clears_failures(app, client, make_user):
    user = make_user(Role.OPERATOR)
    for _ in range(throttle.PAIR.free):
        sign_in(client, user.username, "wrong-password-1")
    assert sign_in(client, user.username).status_code == 302
    failures = db.session.scalars(select(LoginAttempt).where(LoginAttempt.username == user.username,
                                                             LoginAttempt.succeeded.is_(False))).all()
    assert failures == []


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "//evil.example/path",
                                    "/\\evil.example", "http:/evil.example", "javascript:alert(1)"])
def test_next_never_leaves_the_site(client, make_user, target):
    user = make_user(Role.OPERATOR)
    response = sign_in(client, user.username, next=target)
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert location.netloc in ("", "localhost")
    assert location.path == "/"


def test_next_to_a_local_page_is_followed(client, make_user):
    user = make_user(Role.OPERATOR)
    response = sign_in(client, user.username, next="/users/me")
    assert urlsplit(response.location).path == "/users/me"


def test_login_without_csrf_token_is_refused(client, make_user):
    user = make_user(Role.OPERATOR)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert not signed_in(client)


def test_logout_needs_post_with_csrf(client, make_user, login, post):
    login(make_user(Role.OPERATOR))
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert signed_in(client)
    response = post("/logout")
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"
    assert not signed_in(client)


def test_language_choice_follows_the_user(app, client, make_user, login, post):
    """English chosen in one session is still English after signing in from another browser.

    Each step runs in its own app context: Flask-Babel caches the locale in `g`, which the
    `app` fixture's long-lived context would otherwise carry from one request to the next.
    """
    user = make_user(Role.OPERATOR, locale="zh")
    with app.app_context():
        login(user)
    with app.app_context():
        assert '<html lang="zh-Hans">' in client.get("/users/me").get_data(as_text=True)
    with app.app_context():
        assert post("/language", {"locale": "en", "next": "/users/me"}).status_code == 302
    with app.app_context():
        assert '<html lang="en">' in client.get("/users/me").get_data(as_text=True)
    with app.app_context():
        assert post("/logout").status_code == 302

    fresh = app.test_client()  # a new browser: nothing shared with the first session but the database
    with app.app_context():
        login(user, fresh)
    with app.app_context():
        assert '<html lang="en">' in fresh.get("/users/me").get_data(as_text=True)


def test_language_switch_rejects_unknown_locales(client, make_user, login, post):
    login(make_user(Role.OPERATOR))
    assert post("/language", {"locale": "xx"}).status_code == 400


def test_pages_need_sign_in(client):
    response = client.get("/users/me")
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"
