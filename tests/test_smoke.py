from matrix.auth.models import Role


def test_login_and_overview(client, make_user, login):
    user = make_user(Role.OPERATOR)
    login(user)
    assert client.get("/").status_code == 200
