from matrix.auth.models import Role


def test_login_and_overview(client, make_user, make_store, login):
    user = make_user(Role.OPERATOR)
    login(user)
    empty = client.get("/")
    assert empty.status_code == 302 and empty.headers["Location"].endswith("/onboarding/")  # a new install: setup
    make_store()
    assert client.get("/").status_code == 200
