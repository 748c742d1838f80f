"""Security headers on every response: a strict Content Security Policy, no framing, no sniffing, HSTS.

Nothing is loaded from elsewhere, no page runs inline script, and the few computed layouts (the week
grid, the day view's bars) sit in one <style> element carrying this request's nonce; so the policy
can forbid everything else, and injected markup can neither run nor restyle the page.
"""
import secrets

from flask import Flask, request

# WeCom serves the QR image of a channel join code from its own image host; nothing else comes from elsewhere.
WECOM_QR_HOST = "https://wework.qpic.cn"
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; "
          f"img-src 'self' data: {WECOM_QR_HOST}; "
          "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
FLAT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"  # JSON, files: nothing to load


def csp_nonce() -> str:
    """This request's nonce for a <style> element (created on first use, kept in the request's environ)."""
    environ = request.environ
    if "matrix.csp_nonce" not in environ:
        environ["matrix.csp_nonce"] = secrets.token_urlsafe(18)
    return environ["matrix.csp_nonce"]


def add_headers(response, *, hsts_seconds: int):
    """The headers every answer carries; HTML gets the full policy with its nonce."""
    headers = response.headers
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", POLICY.format(nonce=csp_nonce()))
    else:
        headers.setdefault("Content-Security-Policy", FLAT_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Same-origin: an iCal feed URL or a lead's page never leaks to a site a link leads to.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if hsts_seconds:
        headers.setdefault("Strict-Transport-Security", f"max-age={hsts_seconds}; includeSubDomains")
    return response


def register(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    hsts = int(app.config.get("HSTS_SECONDS") or 0)
    app.after_request(lambda response: add_headers(response, hsts_seconds=hsts))
