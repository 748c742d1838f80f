"""Signing in as a separate web request would."""
from conftest import PASSWORD, csrf_token


def sign_in(client, username, password=PASSWORD, **extra):
    """Post the sign-in form in a fresh app context, as a separate web request would have.

    The `app` fixture keeps one app context open, so without this Flask's `g` (where Flask-WTF
    caches the CSRF token and Flask-Login the user) would leak from one test client to another.
    """
    with client.application.app_context():
        return client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_token(client), **extra})
