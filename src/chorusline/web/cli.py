"""`chorusline serve` and `chorusline users add|list|revoke|token`: the web app's verbs.

Registered on the main app by one line in chorusline/cli.py; they fail the way every verb does
(one ``error:`` line, exit 2)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from chorusline.cli import DEFAULT_DB, DbOption, JsonOption, app, emit_json, fail, show_table

UsersOption = Annotated[Path | None, typer.Option("--users", metavar="FILE",
                                                  help="users file (default: STORE.users.sqlite beside the store)")]
users_app = typer.Typer(no_args_is_help=True, help="Accounts of the web app: add, list, revoke, new token.")


def _users(db: str, users: Path | None):
    from chorusline.api import store_location
    from chorusline.web.users import UserStore, users_file

    location = store_location(db)
    if users is None and location is None:
        fail("--users FILE is needed for a store that is not a DuckDB file")
    if users is None and not location.exists():
        fail(f"no store at {location}: the users file lives beside it (or name one with --users)")
    return UserStore(users or users_file(location))


def _read_password(name: str) -> str:
    """From the terminal (asked twice, not echoed) or the first line of stdin when piped."""
    if sys.stdin.isatty():
        return typer.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="user name (one word)")],
    role: Annotated[Literal["viewer", "analyst", "admin", "partner"], typer.Option(
        help="viewer reads; analyst also decides; admin also manages users; partner reads TAXII only")],
    no_password: Annotated[bool, typer.Option("--no-password", help="API token only (no browser sign-in)")] = False,
    tlp: Annotated[Literal["clear", "green", "amber", "red"] | None, typer.Option(
        help="a partner's ceiling: the TAXII collections it reads go up to this level [default: amber]")] = None,
    db: DbOption = DEFAULT_DB,
    users: UsersOption = None,
) -> None:
    """Add a user; prints its API token once. The browser password is asked for (or read from stdin)."""
    from chorusline.web.users import UserError

    store = _users(db, users)
    password = None if no_password else _read_password(name)
    try:
        token = store.add_user(name, role, password, by="cli", tlp=tlp)
    except UserError as exc:
        fail(str(exc))
    typer.echo(f"added {name} ({role}); API token (shown once, keep it secret):", err=True)
    typer.echo(token)


@users_app.command("list")
def users_list(db: DbOption = DEFAULT_DB, users: UsersOption = None, as_json: JsonOption = False) -> None:
    """List the users with their roles and state."""
    rows = _users(db, users).list_users()
    if as_json:
        return emit_json(rows)
    show_table(f"{len(rows)} user(s)", ["name", "role", "created", "password", "tokens", "state"],
               [[r["name"], r["role"] + (f" (up to TLP:{r['tlp'].upper()})" if r["tlp"] else ""), r["created"][:16],
                 "set" if r["has_password"] else "none",
                 str(r["active_tokens"]), f"revoked {r['revoked'][:16]}" if r["revoked"] else "active"] for r in rows])


@users_app.command("revoke")
def users_revoke(name: Annotated[str, typer.Argument(metavar="NAME")], db: DbOption = DEFAULT_DB,
                 users: UsersOption = None) -> None:
    """Revoke a user: its tokens and browser sessions stop working at once."""
    from chorusline.web.users import UserError

    try:
        _users(db, users).revoke_user(name, by="cli")
    except UserError as exc:
        fail(str(exc))
    typer.echo(f"revoked {name}")


@users_app.command("token")
def users_token(name: Annotated[str, typer.Argument(metavar="NAME")], db: DbOption = DEFAULT_DB,
                users: UsersOption = None) -> None:
    """Issue another API token for a user (printed once)."""
    from chorusline.web.users import UserError

    try:
        token = _users(db, users).new_token(name, by="cli")
    except UserError as exc:
        fail(str(exc))
    typer.echo(token)


def register() -> None:
    app.add_typer(users_app, name="users")
    app.command("serve")(serve)


LOOPBACK = ("127.0.0.1", "localhost", "::1")
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]  # as the Host header writes them


def allowed_hosts(listen: str, given: list[str] | None) -> list[str] | None:
    """The Host names to answer: those given; on a loopback address the loopback names (a page
    elsewhere that rebinds its name to 127.0.0.1 gets 400); else any (None)."""
    if given:
        return list(given)
    return list(LOOPBACK_HOSTS) if listen in LOOPBACK or listen.startswith("127.") else None


def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(metavar="ADDRESS", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT")] = 8080,
    users: UsersOption = None,
    tls_cert: Annotated[Path | None, typer.Option(metavar="FILE", help="TLS certificate (PEM) to serve HTTPS")] = None,
    tls_key: Annotated[Path | None, typer.Option(metavar="FILE", help="TLS private key (PEM)")] = None,
    insecure_cookies: Annotated[bool, typer.Option(
        "--insecure-cookies", help="session cookies without Secure (plain HTTP to a host other than localhost)")
    ] = False,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", metavar="NAME", help="a host name clients reach the server by (repeat; default: the "
        "loopback names when listening on loopback, else any)")] = None,
) -> None:
    """The analyst's web app: campaigns, evidence, network, decisions, enforcement, watchlist, REST API, TAXII 2.1."""
    import uvicorn

    from chorusline.api import StoreNotFound
    from chorusline.engine import EngineError
    from chorusline.web.app import create_app

    if (tls_cert is None) != (tls_key is None):
        fail("--tls-cert and --tls-key go together")
    user_store = _users(db, users)
    if not user_store.list_users():
        fail(f"no users yet: add one with `chorusline users add NAME --role admin --db {db}`")
    try:
        web = create_app(db, user_store.path, secure_cookies=not insecure_cookies,
                         allowed_hosts=allowed_hosts(host, allowed_host))
    except (StoreNotFound, EngineError) as exc:
        fail(str(exc))
    scheme = "https" if tls_cert else "http"
    typer.echo(f"chorusline serving {db} at {scheme}://{host}:{port}/ (API /api/v1/, TAXII /taxii2/)", err=True)
    uvicorn.run(web, host=host, port=port, log_level="info", proxy_headers=False,
                ssl_certfile=str(tls_cert) if tls_cert else None, ssl_keyfile=str(tls_key) if tls_key else None)
