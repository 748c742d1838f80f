"""Sign-in throttle per address and per name with back-off (no lock-out), constant-time answers, and
sessions that end: sign-out and new passwords end every earlier session; sign-in starts a fresh one."""
import time
from datetime import timedelta

import pytest

from matrix.auth import services, throttle
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.models import utcnow
from conftest import PASSWORD, PASSWORD_HASH, csrf_token

ATTACKER, OFFICE = "203.0.113.66", "127.0.0.1"  # the test client browses from 127.0.0.1


def sign_in(app, username, password=PASSWORD, *, address=OFFICE, client=None):
    client = client or app.test_client()
    with app.app_context():  # its own `g`, as a separate request would have
        token = csrf_token(client)
        return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                           environ_base={"REMOTE_ADDR": address})


def test_an_attacker_cannot_lock_the_admin_out(app, make_user):
    admin = make_user(Role.ADMIN, username="admin")
    for _ in range(12):
        sign_in(app, "admin", "guess-guess-guess", address=ATTACKER)
    assert sign_in(app, "admin", address=ATTACKER).status_code == 429  # the attacker's address waits
    assert sign_in(app, "admin", address=OFFICE).status_code == 302      # the admin, elsewhere, does not
    assert admin.active


def test_one_address_cannot_try_name_after_name(app, make_user, monkeypatch):
    monkeypatch.setattr(services, "_dummy_hash", lambda: PASSWORD_HASH)  # the suite's cheap hash: timing is below
    make_user(Role.OPERATOR, username="real-user")
    answers = [sign_in(app, f"name{n}", "guess-guess-guess", address=ATTACKER).status_code
               for n in range(throttle.ADDRESS.free + 2)]
    assert answers[:throttle.ADDRESS.free] == [401] * throttle.ADDRESS.free and answers[-1] == 429
    assert sign_in(app, "real-user", address=ATTACKER).status_code == 429  # even a right password waits
    assert sign_in(app, "real-user", address=OFFICE).status_code == 302


def test_the_wait_doubles_and_then_lets_the_next_try_through(app, make_user):
    user = make_user(Role.OPERATOR)
    start = utcnow()

    def attempt(seconds, password="wrong-wrong-wrong"):
        return services.authenticate(user.username, password, remote_addr=ATTACKER,
                                     now=start + timedelta(seconds=seconds))

    for n in range(throttle.PAIR.free + 1):
        assert attempt(n * 0.01) is None
    t = throttle.PAIR.free * 0.01
    with pytest.raises(services.TooManyAttempts) as waited:
        attempt(t + 0.5)
    assert waited.value.retry_after == 1
    assert attempt(t + 1.1) is None                 # one more try after the wait ...
    with pytest.raises(services.TooManyAttempts) as waited:
        attempt(t + 2.0)                            # ... and the next wait is 2 s
    assert waited.value.retry_after == 2
    assert attempt(t + 3.2, PASSWORD) == user       # no lock-out: the right password works after the wait


def test_an_unknown_name_takes_as_long_as_a_wrong_password(app, make_user):
    user = make_user(Role.OPERATOR)
    user.set_password("velvet-lantern-orbit")  # the hashing real passwords get (scrypt), not the suite's fast one
    db.session.commit()

    def timed(name, n):
        started = time.perf_counter()
        assert services.authenticate(name, "wrong-wrong-wrong", remote_addr=f"192.0.2.{n}") is None
        return time.perf_counter() - started

    known, unknown = [], []
    for n in range(4):  # interleaved, and the fastest of each: other work on the machine only adds time
        known.append(timed(user.username, n))
        unknown.append(timed(f"nobody{n}", 10 + n))
    assert 0.6 < min(unknown) / min(known) < 1.7, (known, unknown)


def _copy_cookie(source, target):
    target.set_cookie("session", source.get_cookie("session").value, domain="localhost")


def _signed_in(app, client) -> bool:
    with app.app_context():
        return client.get("/users/me").status_code == 200


def test_a_cookie_from_before_sign_out_stops_working(app, make_user):
    user = make_user(Role.OPERATOR)
    browser, thief = app.test_client(), app.test_client()
    assert sign_in(app, user.username, client=browser).status_code == 302
    _copy_cookie(browser, thief)
    assert _signed_in(app, thief)
    with app.app_context():
        assert browser.post("/logout", data={"csrf_token": csrf_token(browser)}).status_code == 302
    assert not _signed_in(app, thief) and not _signed_in(app, browser)


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(app, make_user):
    user = make_user(Role.OPERATOR)
    here, there = app.test_client(), app.test_client()
    sign_in(app, user.username, client=here)
    sign_in(app, user.username, client=there)
    with app.app_context():
        response = here.post("/users/me", data={
            "csrf_token": csrf_token(here), "display_name": "测试用户", "locale": "en", "current_password": PASSWORD,
            "new_password": "velvet-lantern-orbit", "confirm_password": "velvet-lantern-orbit"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert _signed_in(app, here) and not _signed_in(app, there)


def test_an_admin_setting_a_password_ends_the_users_sessions(app, make_user):
    user = make_user(Role.OPERATOR)
    browser = app.test_client()
    sign_in(app, user.username, client=browser)
    services.update_user(user, actor=make_user(Role.ADMIN), display_name="", role=Role.OPERATOR, active=True,
                         mobile=None, store_ids=[], password="velvet-lantern-orbit")
    assert not _signed_in(app, browser)


def test_sign_in_starts_a_fresh_session(app, make_user):
    user = make_user(Role.OPERATOR)
    browser = app.test_client()
    with app.app_context():
        before = csrf_token(browser)
    with browser.session_transaction() as planted:
        planted["planted"] = "by someone else"
    sign_in(app, user.username, client=browser)
    with browser.session_transaction() as after:
        assert "planted" not in after and after.get("csrf_token") != before


def test_a_deactivated_users_session_ends(app, make_user):
    user = make_user(Role.OPERATOR)
    browser = app.test_client()
    sign_in(app, user.username, client=browser)
    services.update_user(user, actor=make_user(Role.ADMIN), display_name="", role=Role.OPERATOR, active=False,
                         mobile=None, store_ids=[])
    assert not _signed_in(app, browser)
