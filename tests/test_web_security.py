"""The web app under attack: what a security review found, each kept fixed by a test here.

- concurrent sign-ins must not outrun the rate limit (each attempt is counted before the password
  is checked, not after);
- HTTP Basic (for TAXII clients) never changes anything: a browser replays cached Basic credentials
  on cross-site requests just as it sends a cookie, and Basic requests carry no CSRF token;
- odd credentials (non-ASCII CSRF tokens, Basic user names) and out-of-range paging get a clear 4xx,
  not a 500;
- an unexpected error answers with the security headers and without its details;
- the sign-in form's fields are bounded (they go to the audit log before anyone is signed in);
- after signing in, redirects stay on the site whatever ``next`` holds."""

from __future__ import annotations

import base64
import re
import threading
import time

import pytest
from fastapi.testclient import TestClient

from web_support import PASSWORDS, page_csrf, running, signed_in, store_copy


@pytest.fixture(scope="module")
def web(request, tmp_path_factory):
    from chorusline.web.app import create_app

    db, tokens = store_copy(request, tmp_path_factory.mktemp("web-security"))
    return create_app(db), tokens


def client(app, **headers) -> TestClient:
    # raise_server_exceptions=False: a 500 is an answer to look at here, not a test crash
    return TestClient(app, base_url="https://testserver", follow_redirects=False, raise_server_exceptions=False,
                      headers=headers)


def basic(name: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()


def clear_failures(app) -> None:
    import sqlite3

    with sqlite3.connect(app.state.users.path) as con:
        con.execute("DELETE FROM login_failures")


def test_concurrent_sign_ins_cannot_outrun_the_rate_limit(request, tmp_path, monkeypatch):
    """Twelve wrong passwords at once for one user: at most MAX_FAILURES_PER_USER are checked, the
    rest are refused (429) without hashing. Checking the count first and recording the failure only
    after the (slow, ~0.3 s) Argon2 check let every concurrent attempt through."""
    import httpx

    from chorusline.web.app import create_app
    from chorusline.web.users import MAX_FAILURES_PER_USER

    db, _ = store_copy(request, tmp_path)
    app = create_app(db, secure_cookies=False)  # plain HTTP on loopback: the login cookie must come back
    users = app.state.users
    slow_check = users.check_password

    def check_password(name, password):
        time.sleep(0.3)  # what Argon2id at its real cost takes: the window concurrent attempts slip through
        return slow_check(name, password)

    monkeypatch.setattr(users, "check_password", check_password)
    attempts = 12
    gate = threading.Barrier(attempts)
    answers: list[int] = []

    def attempt(base: str) -> None:
        with httpx.Client(base_url=base) as c:
            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
            gate.wait()
            answers.append(c.post("/login", data={"username": "adam", "password": "wrong-password",
                                                  "csrf_token": token}).status_code)

    with running(app) as base:
        threads = [threading.Thread(target=attempt, args=(base,)) for _ in range(attempts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert len(answers) == attempts
    assert answers.count(401) <= MAX_FAILURES_PER_USER, sorted(answers)
    assert answers.count(429) >= attempts - MAX_FAILURES_PER_USER, sorted(answers)


def test_a_right_password_is_not_counted_as_a_failure(web):
    app, _ = web
    clear_failures(app)
    from chorusline.web.users import MAX_FAILURES_PER_USER

    for _ in range(MAX_FAILURES_PER_USER + 2):  # more sign-ins than the failure limit, all right
        signed_in(client(app), "vic")
    clear_failures(app)


def test_basic_auth_reads_but_never_changes_anything(web):
    app, tokens = web
    c = client(app)
    assert c.get("/api/v1/campaigns", headers={"Authorization": basic("vic", tokens["vic"])}).status_code == 200
    assert c.get("/taxii2/", headers={"Authorization": basic("pat", tokens["pat"])}).status_code == 200
    rebuild = c.post("/api/v1/watchlist", headers={"Authorization": basic("ana", tokens["ana"])})
    assert rebuild.status_code == 403, rebuild.text
    decide = c.post("/api/v1/campaigns/0/decisions", json={"decision": "dismiss", "reason": "forged"},
                    headers={"Authorization": basic("ana", tokens["ana"])})
    assert decide.status_code == 403, decide.text
    revoke = c.delete("/api/v1/users/vic", headers={"Authorization": basic("adam", tokens["adam"])})
    assert revoke.status_code == 403, revoke.text
    assert app.state.users.user_for_token(tokens["vic"]) is not None  # still there
    # the same requests with a bearer token are what scripts use
    bearer = c.post("/api/v1/campaigns/0/decisions", json={"decision": "needs-more", "reason": "a script"},
                    headers={"Authorization": f"Bearer {tokens['ana']}"})
    assert bearer.status_code == 201


def test_odd_credentials_get_a_clear_refusal_not_a_500(web):
    app, tokens = web
    clear_failures(app)
    c = signed_in(client(app), "ana")
    odd = "é".encode("latin-1")  # a header byte outside ASCII: Starlette hands it on as 'é'
    header = c.post("/api/v1/campaigns/0/decisions", json={"decision": "needs-more", "reason": "x"},
                    headers={"X-CSRF-Token": odd})
    assert header.status_code == 403, header.text
    form = c.post("/campaigns/0/decide", data={"decision": "needs-more", "reason": "x", "csrf_token": "é"})
    assert form.status_code == 403, form.text
    login = client(app).post("/login", data={"username": "vic", "password": PASSWORDS["vic"], "csrf_token": "é"},
                             cookies={"chorusline_login_csrf": "abc"})
    assert login.status_code == 403, login.text
    name = base64.b64encode(f"vïc:{tokens['vic']}".encode()).decode()
    assert client(app).get("/taxii2/", headers={"Authorization": f"Basic {name}"}).status_code == 401
    assert client(app).get("/api/v1/campaigns", headers={"Authorization": f"Basic {name}"}).status_code == 401


@pytest.mark.parametrize("path", [
    "/api/v1/enforcement?offset=100000000000000000000000",
    "/api/v1/campaigns/0/members?offset=100000000000000000000000",
    "/enforcement?page=100000000000000000000000",
])
def test_out_of_range_offsets_are_refused(web, path):
    app, tokens = web
    answer = client(app, Authorization=f"Bearer {tokens['vic']}", Accept="application/json").get(path)
    assert answer.status_code == 422, (answer.status_code, answer.text)


@pytest.mark.parametrize("cursor", ["²", "١", "9" * 5000, "-1", "1e3"])
def test_taxii_refuses_a_cursor_it_did_not_give(web, cursor):
    from chorusline.web.taxii import COLLECTIONS

    app, tokens = web
    amber = next(cid for cid, tlp in COLLECTIONS.items() if tlp == "amber")
    answer = client(app, Authorization=f"Bearer {tokens['pat']}").get(
        f"/taxii2/api/collections/{amber}/objects/", params={"next": cursor})
    assert answer.status_code == 400, (answer.status_code, answer.text)
    assert answer.json()["http_status"] == "400"


def test_an_unexpected_error_keeps_the_headers_and_hides_its_details(web, monkeypatch):
    app, tokens = web
    users = app.state.users

    def broken(limit=200):
        raise RuntimeError("secret-detail /srv/private/path")

    monkeypatch.setattr(users, "audit_log", broken)
    for accept in ("application/json", "text/html"):
        answer = client(app, Authorization=f"Bearer {tokens['adam']}", Accept=accept).get(
            "/api/v1/audit" if accept == "application/json" else "/users")
        assert answer.status_code == 500
        assert "secret-detail" not in answer.text and "Traceback" not in answer.text
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store"


def test_sign_in_fields_are_bounded(web):
    """Failed sign-ins go to the audit log under the name given: an unbounded name let anyone
    without an account write megabytes into it."""
    app, _ = web
    clear_failures(app)
    c = client(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    huge = "n" * 100_000
    answer = c.post("/login", data={"username": huge, "password": "whatever-1", "csrf_token": token})
    assert answer.status_code in (401, 422)
    assert not any(len(r["target"]) > 1000 or len(r["actor"]) > 1000 for r in app.state.users.audit_log(20))
    from chorusline.web.users import MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, UserError

    with pytest.raises(UserError):  # no user the form could not sign in
        app.state.users.add_user("n" * (MAX_NAME_LENGTH + 1), "viewer", "long-enough", by="test")
    with pytest.raises(UserError):
        app.state.users.add_user("longpw", "viewer", "p" * (MAX_PASSWORD_LENGTH + 1), by="test")
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    long_next = c.post("/login", data={"username": "vic", "password": PASSWORDS["vic"], "csrf_token": token,
                                       "next": "/campaigns?x=" + "y" * 5000})
    assert long_next.status_code == 303 and long_next.headers["location"] == "/campaigns"  # not a refusal
    clear_failures(app)


@pytest.mark.parametrize("next_path", ["//evil.example/", "/\\evil.example", "https://evil.example/",
                                       "/\t/evil.example", "\\\\evil.example", "javascript:alert(1)",
                                       " //evil.example"])
def test_sign_in_redirects_stay_on_the_site(web, next_path):
    from urllib.parse import urlsplit

    app, _ = web
    clear_failures(app)
    c = client(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    answer = c.post("/login", data={"username": "vic", "password": PASSWORDS["vic"], "csrf_token": token,
                                    "next": next_path})
    assert answer.status_code == 303
    where = urlsplit(answer.headers["location"])
    assert not where.scheme and not where.netloc and where.path.startswith("/")
    assert not where.path.startswith("//") and "\\" not in where.path and "\t" not in where.path


def test_logout_needs_the_csrf_token_and_ends_the_session(web):
    app, _ = web
    clear_failures(app)
    c = signed_in(client(app), "vic")
    sid = c.cookies.get("chorusline_session")
    assert c.post("/logout").status_code == 403  # a cross-site form cannot sign someone out
    assert c.post("/logout", data={"csrf_token": page_csrf(c, "/campaigns")}).status_code == 303
    assert client(app).get("/api/v1/campaigns", cookies={"chorusline_session": sid}).status_code == 401


def test_a_malformed_body_without_credentials_is_still_a_401(web):
    """FastAPI reads a JSON body before the route's dependencies: a malformed one got a 422 from
    every POST route without any credentials."""
    app, tokens = web
    c = client(app, Accept="application/json")
    for path in ("/api/v1/users", "/api/v1/campaigns/0/decisions", "/api/v1/watchlist"):
        answer = c.post(path, content=b"{not json", headers={"Content-Type": "application/json"})
        assert answer.status_code == 401, (path, answer.status_code, answer.text)
    signed = client(app, Authorization=f"Bearer {tokens['adam']}")
    known = signed.post("/api/v1/users", content=b"{not json", headers={"Content-Type": "application/json"})
    assert known.status_code == 422  # a caller who is known hears what is wrong
    form = c.post("/login", data={"username": "vic"})  # the sign-in form stays public: its own 422
    assert form.status_code == 422


def test_a_huge_body_is_refused_before_it_is_read(web):
    """FastAPI reads a JSON body into memory before it asks who is sending it: a bound keeps an
    anonymous client from making the server hold gigabytes."""
    from chorusline.web.app import MAX_BODY

    app, tokens = web
    c = client(app, Accept="application/json")
    big = b'{"name": "' + b"x" * (MAX_BODY + 10) + b'", "role": "viewer"}'
    answer = c.post("/api/v1/users", content=big, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413, (answer.status_code, answer.text[:200])
    assert "script-src 'self'" in answer.headers["content-security-policy"]

    def chunks():  # no Content-Length: sent in pieces
        yield b'{"name": "'
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"x" * 65536
        yield b'", "role": "viewer"}'

    streamed = c.post("/api/v1/users", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413, (streamed.status_code, streamed.text[:200])
    ok = client(app, Authorization=f"Bearer {tokens['ana']}").post(
        "/api/v1/campaigns/0/decisions", json={"decision": "needs-more", "reason": "r" * 5000})
    assert ok.status_code == 201  # ordinary bodies pass


def test_a_reconfirmation_never_moves_a_campaign_to_a_wider_tlp(request, tmp_path):
    """Shared at TLP:RED, then needs-more, then confirmed again through the API (which could not
    say a TLP) or `chorusline decide`: it went to the AMBER collection, to every amber partner."""
    from chorusline.web.app import create_app
    from chorusline.web.taxii import COLLECTIONS

    db, tokens = store_copy(request, tmp_path)
    app = create_app(db)
    ana = client(app, Authorization=f"Bearer {tokens['ana']}")
    staff = client(app, Authorization=f"Bearer {tokens['adam']}")
    by_tlp = {tlp: cid for cid, tlp in COLLECTIONS.items()}

    def campaigns_in(tlp: str) -> int:
        answer = staff.get(f"/taxii2/api/collections/{by_tlp[tlp]}/objects/", params={"match[type]": "campaign"})
        assert answer.status_code == 200, answer.text
        return len(answer.json().get("objects", []))

    def decide(decision: str, **extra) -> None:
        answer = ana.post("/api/v1/campaigns/0/decisions", json={"decision": decision, "reason": "review", **extra})
        assert answer.status_code == 201, answer.text

    decide("confirm", tlp="red")  # the API takes the TLP now, as the form does
    assert (campaigns_in("red"), campaigns_in("amber")) == (1, 0)
    decide("needs-more")
    assert (campaigns_in("red"), campaigns_in("amber")) == (0, 0)
    decide("confirm")  # no TLP said: it keeps RED
    assert (campaigns_in("red"), campaigns_in("amber")) == (1, 0)
    page = signed_in(client(app), "ana").get("/campaigns/0")
    assert re.search(r'<option value="red"\s+selected>', page.text)  # the form offers the level it has
    decide("confirm", tlp="green")  # widening is a choice someone makes, and then it is made
    assert (campaigns_in("red"), campaigns_in("green")) == (0, 1)


def test_a_loopback_server_answers_only_to_loopback_names(web):
    """DNS rebinding: a page at evil.example that points its name at 127.0.0.1 reaches a loopback
    server as a same-origin client (sign-in guesses, locking out the local address)."""
    import chorusline.cli  # noqa: F401 - web/cli.py registers itself on it: import it first
    from chorusline.web.app import create_app
    from chorusline.web.cli import allowed_hosts

    app, _ = web
    assert allowed_hosts("127.0.0.1", None) == ["127.0.0.1", "localhost", "[::1]"] == allowed_hosts("::1", None)
    assert allowed_hosts("0.0.0.0", None) is None and allowed_hosts("0.0.0.0", ["intel.example"]) == ["intel.example"]
    guarded = create_app(app.state.web.db, app.state.users.path, allowed_hosts=allowed_hosts("127.0.0.1", None))
    for host, status in (("evil.example", 400), ("127.0.0.1:8080", 200), ("localhost:8080", 200), ("[::1]:8080", 200)):
        answer = TestClient(guarded, base_url=f"http://{host}").get("/login")
        assert answer.status_code == status, (host, answer.status_code)
        assert "script-src 'self'" in answer.headers["content-security-policy"]
    guarded.state.web.store.backend.disconnect()
