"""The web app: FastAPI over one store, with pages, the REST API and TAXII 2.1 (docs/WEB.md).

The app is a shell: every figure comes from ``chorusline.api`` (the functions the CLI's ``--json``
prints), the exports from ``chorusline.export``. One DuckDB connection serves the process; a lock
lets one request use it at a time (DuckDB's connection is not meant for concurrent use from many
threads, and the requests are short)."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from chorusline.web.auth import PUBLIC_PATHS, NotAuthenticated, principal, security_headers
from chorusline.web.users import UserStore, users_file


def to_json(value) -> bytes:
    """The CLI's ``--json`` encoding (times as ISO 8601), so both print the same thing."""
    return json.dumps(value, ensure_ascii=False,
                      default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)).encode()


class Json(JSONResponse):
    def render(self, content) -> bytes:
        return to_json(content)


class WebState:
    """What every request shares: the store (behind its lock), the users file, settings."""

    def __init__(self, db: str, users_path: Path | None = None, secure_cookies: bool = True,
                 producer: str = "chorusline"):
        from chorusline.api import open_store

        self.db = db
        self.store = open_store(db)
        self.lock = threading.Lock()
        self.users = UserStore(users_path or users_file(db))
        self.secure_cookies = secure_cookies
        self.producer = producer
        self.cache: dict = {}  # built STIX objects per (campaign, decision, TLP): see taxii.py

    @contextmanager
    def using_store(self):
        with self.lock:
            yield self.store

    def explanation(self, store, campaign_id: int) -> dict:
        """``api.explain_campaign``, kept per detection run (a few seconds each on a small store; it
        changes only when ``detect`` writes new campaigns, which changes their list)."""
        from chorusline.api import explain_campaign, list_campaigns

        run = to_json(list_campaigns(store))
        key = ("explain", int(campaign_id))
        if key not in self.cache or self.cache[key][0] != run:
            self.cache[key] = (run, explain_campaign(store, campaign_id))
        return self.cache[key][1]


def create_app(db: str, users_path: Path | None = None, secure_cookies: bool = True,
               allowed_hosts: list[str] | None = None) -> FastAPI:
    """The app over store ``db``. ``allowed_hosts``: the names the server answers to (any when
    None); ``chorusline serve`` on a loopback address allows only loopback names, so a web page
    that rebinds its own name to 127.0.0.1 (DNS rebinding) is refused before it reaches sign-in."""
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    from chorusline.web import api_routes, pages, report_view, taxii

    state = WebState(db, users_path, secure_cookies)
    app = FastAPI(title="chorusline", version=_version(), docs_url=None, redoc_url=None, openapi_url=None,
                  description="Coordinated influence operations found in LLM API logs and social-media data: "
                              "campaigns, their evidence, decisions, the enforcement list, the watchlist. "
                              "Authenticate with `Authorization: Bearer TOKEN` (`chorusline users add`).")
    app.state.web = state
    app.state.users = state.users
    app.include_router(report_view.router)  # /static/report/…: before the mount that takes /static
    app.mount("/static", StaticFiles(directory=str(files("chorusline.web").joinpath("static"))), name="static")
    app.include_router(api_routes.router)
    app.include_router(taxii.router)
    app.include_router(pages.router)
    app.add_middleware(BodyLimit)
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts, www_redirect=False)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        security_headers(request, response)
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if request.url.path.startswith("/taxii2"):
            return taxii.error_response(exc)
        if _wants_html(request):
            return pages.error_page(request, exc)
        return Json({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        # FastAPI parses a JSON body before it runs the route's dependencies, so a malformed body
        # got a 422 (with the parser's words) before anyone asked who was sending it
        if principal(request) is None and request.url.path not in PUBLIC_PATHS:
            return await http_error(request, NotAuthenticated())
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return await http_error(request, HTTPException(422, detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        # Starlette answers these outside every middleware: without this, a 500 went out as plain
        # text without the CSP and the other headers. The details stay in the server's log.
        response = await http_error(request, HTTPException(500, "internal error: the server's log says more"))
        security_headers(request, response)
        return response

    return app


MAX_BODY = 1024 * 1024  # a decision, a user, a sign-in: a few hundred bytes; nothing here takes files


class BodyLimit:
    """413 for a request body over ``MAX_BODY``, declared or streamed. FastAPI reads a JSON body
    into memory before the route's dependencies ask for credentials, so without a bound anyone
    could make the server hold gigabytes. Raised from ``receive``: inside the app, so the answer
    goes through the error handlers and gets the security headers."""

    def __init__(self, app, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        seen = 0

        async def bounded():
            nonlocal seen
            if not declared.isdigit() or int(declared) > self.limit:
                raise HTTPException(413, f"the request body is over {self.limit} bytes")
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, f"the request body is over {self.limit} bytes")
            return message

        return await self.app(scope, bounded, send)


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return not path.startswith("/api/") and "text/html" in request.headers.get("accept", "text/html")


def _version() -> str:
    from chorusline import __version__

    return __version__


def download(content: bytes, filename: str, media_type: str) -> Response:
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
