"""Who may use the web app: users, API tokens, browser sessions, failed logins and the audit log.

They live in a small SQLite file beside the store (``STORE.duckdb`` → ``STORE.duckdb.users.sqlite``),
not in the store itself: DuckDB lets one process hold a file for writing, so with the server
running `chorusline users add` could not open the store; SQLite takes short write locks and lets the
CLI and the server share the file. Secrets are never kept: passwords as Argon2id hashes
(argon2-cffi), API tokens and session ids (256 random bits each) as SHA-256 digests, which is
enough for values with that much entropy and cheap to check on every request. The audit table is
append-only: triggers refuse UPDATE and DELETE on it."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("viewer", "analyst", "admin", "partner")
TLP_LEVELS = ("clear", "green", "amber", "red")  # in order: a partner reads up to its ceiling
DEFAULT_PARTNER_TLP = "amber"
SESSION_HOURS = 8
# failed logins allowed within the window, per user name and per client address
LOGIN_WINDOW_S = 15 * 60
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20
MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH = 200, 1024  # the sign-in form takes no more
# argon2-cffi's defaults (RFC 9106's low-memory profile: Argon2id, 3 passes, 64 MiB, 4 lanes): about
# 0.3 s a hash on the shared 2-core machine, paid once per sign-in
HASH_PARAMETERS: dict = {}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT,
    created TEXT NOT NULL, revoked TEXT);
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name), created TEXT NOT NULL, revoked TEXT);
CREATE TABLE IF NOT EXISTS sessions (
    digest TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name), csrf TEXT NOT NULL,
    created TEXT NOT NULL, expires TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures (user TEXT NOT NULL, address TEXT NOT NULL, ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_ts ON login_failures(ts);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS tlp_ceilings (user TEXT PRIMARY KEY REFERENCES users(name), tlp TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sharing (
    decision_id TEXT PRIMARY KEY, campaign_id INTEGER NOT NULL, tlp TEXT NOT NULL, ts TEXT NOT NULL, by TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


class UserError(ValueError):
    """An unknown role, a user that exists already or does not exist, an empty password."""


@dataclass(frozen=True)
class User:
    name: str
    role: str


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


def users_file(db: str | os.PathLike) -> Path:
    """The users file that goes with a store."""
    return Path(f"{db}.users.sqlite")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UserStore:
    """Users, tokens, sessions, failed logins and the audit log in one SQLite file. Every call
    opens its own connection, so one instance serves the server's threads."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.hasher = PasswordHasher(**HASH_PARAMETERS)
        with closing(self._connect()) as con, con:
            con.executescript(_SCHEMA)
        try:
            os.chmod(self.path, 0o600)  # hashes only, but nobody else's business
        except OSError:
            pass

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=10)
        con.execute("PRAGMA foreign_keys = ON")
        return con

    # -- users ------------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str | None, by: str, tlp: str | None = None) -> str:
        """Create a user; returns its first API token (shown once, kept only as a digest). A partner
        reads TAXII collections up to ``tlp`` (default amber); other roles read all of them."""
        name = name.strip()
        if not name or any(c.isspace() for c in name) or ":" in name:
            raise UserError(f"a user name is one word without ':' (got {name!r})")
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if tlp is not None and role != "partner":
            raise UserError("a TLP ceiling is for partners (other roles read every collection)")
        if role == "partner":
            tlp = tlp or DEFAULT_PARTNER_TLP
            if tlp not in TLP_LEVELS:
                raise UserError(f"TLP must be one of {', '.join(TLP_LEVELS)}, got {tlp!r}")
        if len(name) > MAX_NAME_LENGTH:
            raise UserError(f"a user name has at most {MAX_NAME_LENGTH} characters")
        if password is not None and len(password) < 8:
            raise UserError("a password has at least 8 characters")
        if password is not None and len(password) > MAX_PASSWORD_LENGTH:
            raise UserError(f"a password has at most {MAX_PASSWORD_LENGTH} characters (the sign-in form's limit)")
        hashed = self.hasher.hash(password) if password else None
        token = secrets.token_urlsafe(32)
        with closing(self._connect()) as con, con:
            if con.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise UserError(f"user {name!r} exists already")
            con.execute("INSERT INTO users VALUES (?, ?, ?, ?, NULL)", (name, role, hashed, _now().isoformat()))
            con.execute("INSERT INTO tokens VALUES (?, ?, ?, NULL)", (digest(token), name, _now().isoformat()))
            if tlp is not None:
                con.execute("INSERT INTO tlp_ceilings VALUES (?, ?)", (name, tlp))
            self._audit(con, by, "user.add", name, f"role={role}" + (f" tlp={tlp}" if tlp else ""))
        return token

    def new_token(self, name: str, by: str) -> str:
        """Another API token for an active user (the old ones stay valid until revoked)."""
        token = secrets.token_urlsafe(32)
        with closing(self._connect()) as con, con:
            self._active(con, name)
            con.execute("INSERT INTO tokens VALUES (?, ?, ?, NULL)", (digest(token), name, _now().isoformat()))
            self._audit(con, by, "token.issue", name, "")
        return token

    def revoke_user(self, name: str, by: str) -> None:
        """Revoke a user: its tokens and sessions stop working at once; the row stays for the audit."""
        now = _now().isoformat()
        with closing(self._connect()) as con, con:
            self._active(con, name)
            con.execute("UPDATE users SET revoked = ? WHERE name = ?", (now, name))
            con.execute("UPDATE tokens SET revoked = ? WHERE user = ? AND revoked IS NULL", (now, name))
            con.execute("DELETE FROM sessions WHERE user = ?", (name,))
            self._audit(con, by, "user.revoke", name, "")

    def list_users(self) -> list[dict]:
        with closing(self._connect()) as con:
            rows = con.execute(
                "SELECT u.name, u.role, u.created, u.revoked, u.password_hash IS NOT NULL, "
                "(SELECT count(*) FROM tokens t WHERE t.user = u.name AND t.revoked IS NULL), "
                "(SELECT c.tlp FROM tlp_ceilings c WHERE c.user = u.name) "
                "FROM users u ORDER BY u.name").fetchall()
        return [{"name": r[0], "role": r[1], "created": r[2], "revoked": r[3], "has_password": bool(r[4]),
                 "active_tokens": r[5], "tlp": r[6]} for r in rows]

    def tlp_levels(self, user: User) -> tuple[str, ...]:
        """The TLP levels a user may read over TAXII: a partner's up to its ceiling, others all."""
        if user.role != "partner":
            return TLP_LEVELS
        with closing(self._connect()) as con:
            row = con.execute("SELECT tlp FROM tlp_ceilings WHERE user = ?", (user.name,)).fetchone()
        ceiling = row[0] if row else DEFAULT_PARTNER_TLP
        return TLP_LEVELS[:TLP_LEVELS.index(ceiling) + 1]

    def _active(self, con, name: str) -> None:
        row = con.execute("SELECT revoked FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise UserError(f"no user {name!r}")
        if row[0] is not None:
            raise UserError(f"user {name!r} is revoked already")

    # -- credentials ------------------------------------------------------------------------------

    def user_for_token(self, token: str) -> User | None:
        with closing(self._connect()) as con:
            row = con.execute("SELECT u.name, u.role FROM tokens t JOIN users u ON u.name = t.user "
                              "WHERE t.digest = ? AND t.revoked IS NULL AND u.revoked IS NULL",
                              (digest(token),)).fetchone()
        return User(*row) if row else None

    def check_password(self, name: str, password: str) -> User | None:
        with closing(self._connect()) as con:
            row = con.execute("SELECT role, password_hash FROM users WHERE name = ? AND revoked IS NULL",
                              (name,)).fetchone()
        if row is None or row[1] is None:
            self.hasher.hash(password)  # same work either way: the answer's time does not tell who exists
            return None
        try:
            self.hasher.verify(row[1], password)
        except (VerificationError, InvalidHashError):
            return None
        return User(name, row[0])

    def begin_login(self, name: str, address: str) -> int | None:
        """Count a sign-in attempt before its password is checked: None when too many failed lately
        for this user name or from this address, else the attempt's id, recorded as a failure until
        ``login_succeeded`` clears it. Counting and recording in one write transaction keeps
        concurrent attempts from all passing the check while the slow Argon2 checks run."""
        now = _now().timestamp()
        since = now - LOGIN_WINDOW_S
        with closing(self._connect()) as con:
            con.isolation_level = None  # explicit transactions: BEGIN IMMEDIATE takes the write lock first
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute("DELETE FROM login_failures WHERE ts < ?", (since,))
                by_user = con.execute("SELECT count(*) FROM login_failures WHERE user = ? AND ts > ?",
                                      (name, since)).fetchone()[0]
                by_address = con.execute("SELECT count(*) FROM login_failures WHERE address = ? AND ts > ?",
                                         (address, since)).fetchone()[0]
                attempt = None
                if by_user < MAX_FAILURES_PER_USER and by_address < MAX_FAILURES_PER_ADDRESS:
                    attempt = con.execute("INSERT INTO login_failures VALUES (?, ?, ?)",
                                          (name, address, now)).lastrowid
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return attempt

    def login_succeeded(self, attempt: int) -> None:
        with closing(self._connect()) as con, con:
            con.execute("DELETE FROM login_failures WHERE rowid = ?", (attempt,))

    def login_failed(self, name: str, address: str) -> None:
        """The attempt stays counted (``begin_login`` recorded it); the audit log says so."""
        self.audit(name, "login.fail", name, f"address={address}")

    # -- sessions ---------------------------------------------------------------------------------

    def open_session(self, user: User, address: str) -> tuple[str, Session]:
        """A new browser session: (the cookie's value, the session with its CSRF token)."""
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = _now()
        with closing(self._connect()) as con, con:
            con.execute("DELETE FROM sessions WHERE expires < ?", (now.isoformat(),))
            con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                        (digest(sid), user.name, csrf, now.isoformat(),
                         (now + dt.timedelta(hours=SESSION_HOURS)).isoformat()))
            self._audit(con, user.name, "login", user.name, f"address={address}")
        return sid, Session(user, csrf)

    def session(self, sid: str) -> Session | None:
        with closing(self._connect()) as con:
            row = con.execute("SELECT u.name, u.role, s.csrf FROM sessions s JOIN users u ON u.name = s.user "
                              "WHERE s.digest = ? AND s.expires > ? AND u.revoked IS NULL",
                              (digest(sid), _now().isoformat())).fetchone()
        return Session(User(row[0], row[1]), row[2]) if row else None

    def close_session(self, sid: str) -> None:
        with closing(self._connect()) as con, con:
            con.execute("DELETE FROM sessions WHERE digest = ?", (digest(sid),))

    # -- sharing ----------------------------------------------------------------------------------

    def set_tlp(self, decision_id: str, campaign_id: int, tlp: str, by: str) -> None:
        """The TLP a confirmation shares its campaign under (TAXII serves it in that collection)."""
        with closing(self._connect()) as con, con:
            con.execute("INSERT INTO sharing VALUES (?, ?, ?, ?, ?)",
                        (decision_id, int(campaign_id), tlp, _now().isoformat(), by))
            self._audit(con, by, "sharing.tlp", f"campaign {campaign_id}", f"tlp={tlp} decision={decision_id}")

    def tlps(self) -> dict[str, str]:
        """decision_id → TLP for every confirmation made with one."""
        with closing(self._connect()) as con:
            return dict(con.execute("SELECT decision_id, tlp FROM sharing").fetchall())

    def campaign_tlps(self) -> dict[int, str]:
        """campaign_id → the TLP its latest confirmation with one chose: what a later confirmation
        made without one (``chorusline decide``, the API without ``tlp``) keeps."""
        with closing(self._connect()) as con:
            rows = con.execute("SELECT campaign_id, tlp FROM sharing ORDER BY ts, rowid").fetchall()
        return dict(rows)  # the latest wins

    # -- audit ------------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, target: str, detail: str = "") -> None:
        with closing(self._connect()) as con, con:
            self._audit(con, actor, action, target, detail)

    @staticmethod
    def _audit(con, actor: str, action: str, target: str, detail: str) -> None:
        con.execute("INSERT INTO audit (ts, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                    (_now().isoformat(), actor, action, target, detail))

    def audit_log(self, limit: int = 200) -> list[dict]:
        with closing(self._connect()) as con:
            rows = con.execute("SELECT id, ts, actor, action, target, detail FROM audit ORDER BY id DESC LIMIT ?",
                               (limit,)).fetchall()
        return [dict(zip(("id", "ts", "actor", "action", "target", "detail"), r)) for r in rows]
