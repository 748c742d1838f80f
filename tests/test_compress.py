"""Gzip: pages and JSON leave compressed when the client accepts it, never when they set a cookie or another site asked."""
import gzip

import pytest

from matrix.auth.models import Role
from matrix.ops.compress import GzipMiddleware, accepts_gzip

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def test_a_page_is_compressed_for_a_client_that_accepts_gzip(client, login, make_user, make_store):
    for _ in range(5):
        make_store()
    login(make_user(Role.OPERATOR))
    plain = client.get("/stores/")
    packed = client.get("/stores/", headers=GZIP)
    assert "Content-Encoding" not in plain.headers and "Accept-Encoding" in plain.headers["Vary"]
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) / 3
    html = gzip.decompress(packed.data).decode()
    assert html.startswith("<!doctype html>") and "T-" in html and html.count("<tr") == plain.text.count("<tr")
    assert packed.headers["Content-Security-Policy"]  # the other headers are kept


def test_answers_that_set_a_cookie_are_never_compressed(client):
    first = client.get("/login", headers=GZIP)  # the first visit stores the CSRF secret in the session
    assert "Set-Cookie" in first.headers and "Content-Encoding" not in first.headers
    again = client.get("/login", headers=GZIP)
    assert "Set-Cookie" not in again.headers and again.headers["Content-Encoding"] == "gzip"


@pytest.mark.parametrize("headers", [{"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip;q=0"},
                                     {"Accept-Encoding": "gzip", "Sec-Fetch-Site": "cross-site"},
                                     {"Accept-Encoding": "gzip", "Sec-Fetch-Site": "same-site"}])
def test_no_gzip_when_refused_or_when_another_site_started_the_request(client, headers):
    client.get("/login")
    response = client.get("/login", headers=headers)
    assert "Content-Encoding" not in response.headers and response.text.startswith("<!doctype html>")


def test_head_and_small_answers_stay_as_they_are(client):
    client.get("/login")
    assert "Content-Encoding" not in client.head("/login", headers=GZIP).headers
    small = client.get("/healthz", headers=GZIP)
    assert small.status_code == 200 and "Content-Encoding" not in small.headers


def _wsgi(body: bytes | list, headers: list[tuple[str, str]]):
    def app(environ, start_response):
        start_response("200 OK", headers)
        return body
    return app


def _call(app, **environ):
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen.update(status=status, headers=dict(headers))
    body = b"".join(app({"REQUEST_METHOD": "GET", "HTTP_ACCEPT_ENCODING": "gzip", **environ}, start_response))
    return seen["headers"], body


def test_json_is_compressed_and_streams_files_and_encoded_answers_are_not():
    data = b'{"rows": [' + b",".join(b'{"id": %d}' % i for i in range(300)) + b"]}"
    headers, body = _call(GzipMiddleware(_wsgi([data], [("Content-Type", "application/json"),
                                                         ("Content-Length", str(len(data)))])))
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == data
    streamed = GzipMiddleware(_wsgi(iter([b"<p>" * 800]), [("Content-Type", "text/html; charset=utf-8")]))
    headers, body = _call(streamed)  # no Content-Length: a stream is passed through as it comes
    assert "Content-Encoding" not in headers and body == b"<p>" * 800 and headers["Vary"] == "Accept-Encoding"
    encoded = gzip.compress(b"<p>" * 800)
    headers, body = _call(GzipMiddleware(_wsgi([encoded], [("Content-Type", "text/html"), ("Content-Encoding", "gzip"),
                                                           ("Content-Length", str(len(encoded)))])))
    assert body == encoded and headers["Content-Encoding"] == "gzip"
    csv = b"a,b\n" * 800
    headers, body = _call(GzipMiddleware(_wsgi([csv], [("Content-Type", "text/csv"), ("Content-Length", "3200"),
                                                       ("Vary", "Cookie")])))
    assert body == csv and headers["Vary"] == "Cookie"  # downloads keep their bytes


def test_accept_encoding_parsing():
    assert accepts_gzip("gzip") and accepts_gzip("deflate, gzip;q=0.5") and accepts_gzip("GZIP, br")
    assert not accepts_gzip("") and not accepts_gzip("identity") and not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("x-gzip-not") and not accepts_gzip("gzip;q=abc")
