"""Who is asking and what they may do: credentials on every request, roles, CSRF and security headers.

A request proves who it is with one of: ``Authorization: Bearer TOKEN`` (the API, scripts);
``Authorization: Basic`` with the user name and an API token as the password (what TAXII clients
such as OpenCTI and taxii2-client send); or the browser session cookie. No credential: 401; a
role that may not: 403. A state-changing request made with the session cookie must carry the
session's CSRF token (the form's ``csrf_token`` field or an ``X-CSRF-Token`` header): a cookie is
sent by the browser whoever built the request, the token only by our own pages. Basic, which a
browser may replay by itself too, only reads."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request

from chorusline.web.users import User

SESSION_COOKIE = "chorusline_session"
LOGIN_CSRF_COOKIE = "chorusline_login_csrf"

READ = ("viewer", "analyst", "admin")  # the pages and the API
DECIDE = ("analyst", "admin")  # decisions, rebuilding the watchlist
ADMIN = ("admin",)  # users and the audit log
TAXII = ("partner", "viewer", "analyst", "admin")  # partners read TAXII only


def _style_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# Inline styles allowed, each by its hash (scripts stay 'self' only: no inline script, no eval):
# the small stylesheet cytoscape.js injects for its container;
CYTOSCAPE_STYLE = "'sha256-pgvDUBa4IjFA2yuSJ2cqcyxmNYJMborsd0ORcRv9vw8='"
# plotly.js (the report's charts, docs/WEB.md): the empty <style> elements it adds its rules to
# through the CSSOM (refused, they have no sheet and the charts lose their modebar and cursor
# rules), the empty style="" it resets colour-bar cells with, and the one fixed declaration it
# puts on a heat map's image so that its cells stay sharp when scaled. 'unsafe-hashes' lets these
# two hashes match style attributes too: markup injected into a page can then carry no style but
# "" and that one image-rendering list.
PLOTLY_EMPTY_STYLE = _style_hash("")
PLOTLY_PIXELATED_STYLE = _style_hash("".join(f"image-rendering: {v}; " for v in (
    "optimizeSpeed", "-moz-crisp-edges", "-o-crisp-edges", "-webkit-optimize-contrast", "optimize-contrast",
    "crisp-edges", "pixelated")))
CSP = (f"default-src 'self'; script-src 'self'; style-src 'self' {CYTOSCAPE_STYLE} 'unsafe-hashes' "
       f"{PLOTLY_EMPTY_STYLE} {PLOTLY_PIXELATED_STYLE}; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PUBLIC_PATHS = ("/login",)  # the one route answered without credentials (besides /static/)


@dataclass(frozen=True)
class Principal:
    user: User
    via: str  # token, basic or session
    csrf: str | None = None  # the session's CSRF token


class NotAuthenticated(HTTPException):
    def __init__(self, detail: str = "authentication required"):
        super().__init__(401, detail, headers={"WWW-Authenticate": 'Bearer realm="chorusline"'})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def principal(request: Request) -> Principal | None:
    """The authenticated caller, or None."""
    users = request.app.state.users
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        user = users.user_for_token(value.strip())
        return Principal(user, "token") if user else None
    if scheme.lower() == "basic" and value.strip():
        try:
            name, _, token = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user = users.user_for_token(token)
        return Principal(user, "basic") if user and same_secret(user.name, name) else None
    if header:
        return None  # an unknown scheme is not silently replaced by the cookie
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        session = users.session(sid)
        if session:
            return Principal(session.user, "session", session.csrf)
    return None


async def check_csrf(request: Request, who: Principal) -> None:
    if request.method in SAFE_METHODS:
        return
    if who.via == "basic":
        # a browser replays Basic credentials it has cached on cross-site requests, as it does a
        # cookie, and such a request carries no CSRF token: Basic (for TAXII clients) only reads
        raise HTTPException(403, "HTTP Basic only reads: send Authorization: Bearer TOKEN to change things")
    if who.via != "session":
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get("csrf_token")
    if not sent or not same_secret(str(sent), who.csrf or ""):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def same_secret(sent: str, kept: str) -> bool:
    """Constant-time equality of two strings of any characters (``secrets.compare_digest`` raises
    TypeError on a str outside ASCII, which a client can send in a header, a form or Basic)."""
    return secrets.compare_digest(sent.encode(), kept.encode())


def requires(roles: tuple[str, ...]):
    """A dependency: the caller, who must hold one of ``roles`` (401 without credentials, 403
    with a role that may not, 403 for a cookie request without its CSRF token)."""

    async def dependency(request: Request) -> Principal:
        who = principal(request)
        if who is None:
            raise NotAuthenticated()
        if who.user.role not in roles:
            raise HTTPException(403, f"the {who.user.role} role may not do this")
        await check_csrf(request, who)
        request.state.principal = who
        return who

    return dependency


def security_headers(request: Request, response) -> None:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h["X-Frame-Options"] = "DENY"
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.url.scheme == "https":
        h["Strict-Transport-Security"] = "max-age=31536000"
    if not request.url.path.startswith("/static/"):  # data pages, the API and TAXII are never cached
        h["Cache-Control"] = "no-store"
