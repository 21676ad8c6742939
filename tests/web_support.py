"""What the web app's tests share: a writable copy of the detected smoke store with users, a
signed-in TestClient, and a uvicorn server on a free loopback port (TAXII and browser tests)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

def _cheap_hashes() -> None:
    """Argon2id still, with the smallest costs: the tests sign in often and test behaviour, not strength."""
    from chorusline.web import users

    users.HASH_PARAMETERS.update(time_cost=1, memory_cost=1024, parallelism=1)


_cheap_hashes()
PASSWORDS = {"ana": "analyst-pass-1", "vic": "viewer-pass-1", "adam": "admin-pass-1", "pat": "partner-pass-1"}
ROLES = {"ana": "analyst", "vic": "viewer", "adam": "admin", "pat": "partner"}


def store_copy(request, folder: Path) -> tuple[str, dict[str, str]]:
    """A copy of the detected smoke store (conftest's ``smoke_run``) in ``folder`` with one user per
    role: (db, tokens by user). CHORUSLINE_WEB_TEST_STORE names an already detected smoke store
    to copy instead (a shortcut while working on the web app: building one takes about a minute)."""
    from chorusline.web.users import UserStore, users_file

    source = os.environ.get("CHORUSLINE_WEB_TEST_STORE") or request.getfixturevalue("smoke_run")[1]
    db = folder / "web.duckdb"
    shutil.copy(source, db)
    users = UserStore(users_file(db))
    tokens = {name: users.add_user(name, ROLES[name], PASSWORDS[name], by="test") for name in ROLES}
    return str(db), tokens


def signed_in(client, name: str):
    """Sign ``client`` in through the login form; returns the client."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/login", data={"username": name, "password": PASSWORDS[name], "csrf_token": token,
                                         "next": "/campaigns"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def page_csrf(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(app):
    """uvicorn serving ``app`` on a free loopback port in a thread: yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
