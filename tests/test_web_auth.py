"""The web app's doors: users and tokens, sign-in, sessions, CSRF, rate limits, the audit log,
security headers, and 401/403 on every route for every role."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from web_support import PASSWORDS, page_csrf, signed_in, store_copy

PUBLIC, ANY, READ, DECIDE, ADMIN = "public", "any", "read", "decide", "admin"
# who may call each route; a route missing here fails test_every_route_is_listed
ACCESS = {
    ("GET", "/login"): PUBLIC, ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): ANY, ("GET", "/partner"): ANY,
    ("GET", "/"): READ, ("GET", "/campaigns"): READ, ("GET", "/campaigns/{campaign_id}"): READ,
    ("GET", "/accounts/{actor}"): READ, ("GET", "/decisions"): READ, ("GET", "/enforcement"): READ,
    ("GET", "/watchlist"): READ,
    ("POST", "/campaigns/{campaign_id}/decide"): DECIDE, ("POST", "/accounts/{actor}/decide"): DECIDE,
    ("POST", "/watchlist"): DECIDE,
    ("GET", "/users"): ADMIN, ("POST", "/users"): ADMIN, ("POST", "/users/{name}/revoke"): ADMIN,
    ("GET", "/api/v1/openapi.json"): READ, ("GET", "/api/v1/campaigns"): READ,
    ("GET", "/api/v1/campaigns/{campaign_id}"): READ, ("GET", "/api/v1/campaigns/{campaign_id}/members"): READ,
    ("GET", "/api/v1/campaigns/{campaign_id}/network"): READ, ("GET", "/api/v1/accounts/{actor}"): READ,
    ("GET", "/api/v1/decisions"): READ, ("GET", "/api/v1/enforcement"): READ,
    ("GET", "/api/v1/enforcement.csv"): READ, ("GET", "/api/v1/watchlist/matches"): READ,
    ("GET", "/api/v1/campaigns/{campaign_id}/export/{fmt}"): READ,
    ("POST", "/api/v1/campaigns/{campaign_id}/decisions"): DECIDE,
    ("POST", "/api/v1/accounts/{actor}/decisions"): DECIDE, ("POST", "/api/v1/watchlist"): DECIDE,
    ("GET", "/api/v1/users"): ADMIN, ("POST", "/api/v1/users"): ADMIN, ("DELETE", "/api/v1/users/{name}"): ADMIN,
    ("GET", "/api/v1/audit"): ADMIN,
    ("GET", "/taxii2/"): ANY, ("GET", "/taxii2/api/"): ANY, ("GET", "/taxii2/api/collections/"): ANY,
    ("GET", "/taxii2/api/collections/{cid}/"): ANY, ("GET", "/taxii2/api/collections/{cid}/objects/"): ANY,
    ("GET", "/taxii2/api/collections/{cid}/manifest/"): ANY,
    ("GET", "/taxii2/api/collections/{cid}/objects/{object_id}/"): ANY,
    ("GET", "/taxii2/api/collections/{cid}/objects/{object_id}/versions/"): ANY,
}
ALLOWED = {PUBLIC: {"pat", "vic", "ana", "adam"}, ANY: {"pat", "vic", "ana", "adam"}, READ: {"vic", "ana", "adam"},
           DECIDE: {"ana", "adam"}, ADMIN: {"adam"}}
LEAST = {ANY: "pat", READ: "vic", DECIDE: "ana", ADMIN: "adam"}


@pytest.fixture(scope="module")
def web(request, tmp_path_factory):
    from chorusline.web.app import create_app

    db, tokens = store_copy(request, tmp_path_factory.mktemp("web-auth"))
    app = create_app(db)
    return app, db, tokens


def client(app, follow_redirects: bool = True) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=follow_redirects)


def concrete(path: str, smoke_actor: str) -> str:
    from chorusline.web.taxii import COLLECTIONS

    amber = next(cid for cid, tlp in COLLECTIONS.items() if tlp == "amber")
    return (path.replace("{campaign_id}", "0").replace("{actor}", smoke_actor).replace("{fmt}", "indicators")
            .replace("{name}", "nobody").replace("{cid}", amber).replace("{object_id}", "campaign--0"))


def routes(app):
    """(method, path) of every route of the app's routers (FastAPI wraps included routers)."""
    from chorusline.web import api_routes, pages, taxii

    return [(m, r.path) for router in (api_routes.router, pages.router, taxii.router) for r in router.routes
            if isinstance(r, APIRoute) for m in r.methods if m != "HEAD"]


def test_every_route_is_listed(web):
    app, _, _ = web
    assert set(routes(app)) == set(ACCESS), "a route was added or removed: say who may call it in ACCESS"


def test_every_route_refuses_the_wrong_people(web):
    """No credentials: 401 (every route but sign-in); a role that may not: 403; the least role that
    may: neither (its answer is whatever the route says, e.g. 422 for a missing body)."""
    app, _, tokens = web
    c = client(app, follow_redirects=False)
    actor = "x:1876603769898202600"
    for (method, path), who in sorted(ACCESS.items()):
        url = concrete(path, actor)
        if who != PUBLIC:
            answer = c.request(method, url)
            assert answer.status_code == 401, (method, url, answer.status_code)
            assert "Bearer" in answer.headers["www-authenticate"]
            bad = c.request(method, url, headers={"Authorization": "Bearer not-a-token"})
            assert bad.status_code == 401, (method, url)
        for name, token in tokens.items():
            if name in ALLOWED[who]:
                continue
            answer = c.request(method, url, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 403, (method, url, name, answer.status_code)
        if who in LEAST:
            answer = c.request(method, url, headers={"Authorization": f"Bearer {tokens[LEAST[who]]}",
                                                     "Accept": "application/json"})
            assert answer.status_code not in (401, 403), (method, url, LEAST[who], answer.status_code, answer.text)


def test_users_cli_adds_lists_and_revokes(tmp_path, request):
    from chorusline.cli import app
    from chorusline.web.users import UserStore, users_file

    db, _ = store_copy(request, tmp_path)
    run = CliRunner().invoke
    added = run(app, ["users", "add", "zoe", "--role", "analyst", "--db", db], input="zoe-password\n")
    assert added.exit_code == 0, added.output
    token = added.stdout.strip().splitlines()[-1]
    users = UserStore(users_file(db))
    assert users.user_for_token(token).role == "analyst"
    assert users.check_password("zoe", "zoe-password").name == "zoe"
    assert users.check_password("zoe", "wrong-password") is None
    listed = run(app, ["users", "list", "--db", db, "--json"])
    assert any(u["name"] == "zoe" and u["role"] == "analyst" for u in __import__("json").loads(listed.stdout))
    twice = run(app, ["users", "add", "zoe", "--role", "viewer", "--db", db], input="another-pw\n")
    assert twice.exit_code == 2 and "exists already" in twice.output
    short = run(app, ["users", "add", "yan", "--role", "viewer", "--db", db], input="short\n")
    assert short.exit_code == 2 and "8 characters" in short.output
    bad_role = run(app, ["users", "add", "yan", "--role", "boss", "--db", db], input="long-enough\n")
    assert bad_role.exit_code == 2
    revoked = run(app, ["users", "revoke", "zoe", "--db", db])
    assert revoked.exit_code == 0
    assert users.user_for_token(token) is None and users.check_password("zoe", "zoe-password") is None
    nowhere = run(app, ["users", "list", "--db", str(tmp_path / "missing.duckdb")])
    assert nowhere.exit_code == 2 and "no store" in nowhere.output


def test_secrets_are_stored_hashed_and_the_audit_log_is_append_only(web):
    app, db, tokens = web
    path = app.state.users.path
    with sqlite3.connect(path) as con:
        hashes = [r[0] for r in con.execute("SELECT password_hash FROM users")]
        digests = [r[0] for r in con.execute("SELECT digest FROM tokens")]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not set(tokens.values()) & set(digests)
    assert not any(p in h for p in PASSWORDS.values() for h in hashes)
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM audit WHERE action = 'user.add'").fetchone()[0] >= 4
        for statement in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                con.execute(statement)


def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_the_session(web):
    app, _, _ = web
    c = signed_in(client(app), "vic")
    cookie = next(h for h in c.cookies.jar if h.name == "chorusline_session")
    assert cookie.secure and cookie.has_nonstandard_attr("HttpOnly")
    assert c.get("/campaigns").status_code == 200
    sid = cookie.value
    answer = c.post("/logout", data={"csrf_token": page_csrf(c, "/campaigns")}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    other = client(app)
    other.cookies.set("chorusline_session", sid, domain="testserver.local")
    assert other.get("/api/v1/campaigns").status_code == 401  # the old session id is dead


def test_set_cookie_attributes(web):
    app, _, _ = web
    c = client(app)
    form = c.get("/login")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = c.post("/login", data={"username": "vic", "password": PASSWORDS["vic"], "csrf_token": token},
                    follow_redirects=False)
    header = answer.headers["set-cookie"]
    assert "chorusline_session=" in header and "HttpOnly" in header and "Secure" in header
    assert "SameSite=strict" in header


def test_forms_need_the_session_csrf_token(web):
    app, _, _ = web
    c = signed_in(client(app), "ana")
    without = c.post("/campaigns/0/decide", data={"decision": "needs-more", "reason": "check"}, follow_redirects=False)
    assert without.status_code == 403
    wrong = c.post("/campaigns/0/decide", data={"decision": "needs-more", "reason": "check", "csrf_token": "x"},
                   follow_redirects=False)
    assert wrong.status_code == 403
    api_post = c.post("/api/v1/campaigns/0/decisions", json={"decision": "needs-more", "reason": "check"})
    assert api_post.status_code == 403  # the API with the cookie needs X-CSRF-Token too
    csrf = page_csrf(c, "/campaigns/0")
    ok = c.post("/api/v1/campaigns/0/decisions", json={"decision": "needs-more", "reason": "check"},
                headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    login = client(app).post("/login", data={"username": "vic", "password": PASSWORDS["vic"], "csrf_token": "forged"},
                             follow_redirects=False)
    assert login.status_code == 403


def test_sign_in_is_rate_limited_per_user_and_per_address(web):
    from chorusline.web.users import MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_USER

    app, _, _ = web
    c = client(app)

    def attempt(name, password):
        page = c.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        return c.post("/login", data={"username": name, "password": password, "csrf_token": token},
                      follow_redirects=False)

    for _ in range(MAX_FAILURES_PER_USER):
        assert attempt("adam", "wrong-password").status_code == 401
    blocked = attempt("adam", PASSWORDS["adam"])  # even the right password waits now
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "900"
    for i in range(MAX_FAILURES_PER_ADDRESS - MAX_FAILURES_PER_USER - 1):
        assert attempt(f"ghost{i}", "wrong-password").status_code == 401
    assert attempt("ghost-last", "wrong-password").status_code == 401
    assert attempt("ana", PASSWORDS["ana"]).status_code == 429  # this address has failed too often
    with sqlite3.connect(app.state.users.path) as con:
        con.execute("DELETE FROM login_failures")  # let the other tests sign in


def test_tokens_can_be_revoked_and_basic_auth_takes_a_token(web):
    import base64

    app, _, tokens = web
    users = app.state.users
    extra = users.new_token("vic", by="test")
    c = client(app)
    assert c.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {extra}"}).status_code == 200
    basic = base64.b64encode(f"vic:{extra}".encode()).decode()
    assert c.get("/api/v1/campaigns", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    wrong_name = base64.b64encode(f"ana:{extra}".encode()).decode()
    assert c.get("/api/v1/campaigns", headers={"Authorization": f"Basic {wrong_name}"}).status_code == 401
    password = base64.b64encode(f"vic:{PASSWORDS['vic']}".encode()).decode()  # Basic takes tokens, not passwords
    assert c.get("/api/v1/campaigns", headers={"Authorization": f"Basic {password}"}).status_code == 401
    admin = {"Authorization": f"Bearer {tokens['adam']}"}
    made = c.post("/api/v1/users", json={"name": "tmp", "role": "viewer"}, headers=admin)
    assert made.status_code == 201
    tmp_token = made.json()["token"]
    assert c.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {tmp_token}"}).status_code == 200
    assert c.delete("/api/v1/users/tmp", headers=admin).status_code == 200
    assert c.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {tmp_token}"}).status_code == 401
    actions = [(r["actor"], r["action"], r["target"]) for r in c.get("/api/v1/audit", headers=admin).json()]
    assert ("adam", "user.add", "tmp") in actions and ("adam", "user.revoke", "tmp") in actions


def test_security_headers(web):
    app, _, tokens = web
    c = client(app)
    for path in ("/login", "/api/v1/campaigns", "/static/app.css"):
        answer = c.get(path, headers={"Authorization": f"Bearer {tokens['vic']}"})
        h = answer.headers
        assert "script-src 'self'" in h["content-security-policy"] and "unsafe-inline" not in h[
            "content-security-policy"]
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        if not path.startswith("/static"):
            assert h["cache-control"] == "no-store"
    page = signed_in(client(app), "vic").get("/campaigns/0").text
    assert "<script>" not in page and " on" + "click=" not in page  # scripts come from static files only


def test_login_redirects_only_inside_the_site(web):
    app, _, _ = web
    c = client(app)
    page = c.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = c.post("/login", data={"username": "vic", "password": PASSWORDS["vic"], "csrf_token": token,
                                    "next": "//evil.example/"}, follow_redirects=False)
    assert answer.headers["location"] == "/campaigns"


def test_unauthenticated_pages_show_the_sign_in_form(web):
    app, _, _ = web
    answer = client(app).get("/campaigns/0", headers={"Accept": "text/html"})
    assert answer.status_code == 401 and 'action="/login"' in answer.text and 'value="/campaigns/0"' in answer.text


def test_admin_manages_users_in_the_page(web):
    import re

    app, _, _ = web
    adam = signed_in(client(app), "adam")
    csrf = page_csrf(adam, "/users")
    made = adam.post("/users", data={"name": "page-user", "role": "viewer", "password": "page-user-pass",
                                     "csrf_token": csrf})
    assert made.status_code == 200
    token = re.search(r'<code id="new-token">([^<]+)</code>', made.text).group(1)
    assert app.state.users.user_for_token(token).name == "page-user"
    again = adam.post("/users", data={"name": "page-user", "role": "viewer", "csrf_token": csrf})
    assert again.status_code == 422 and "exists already" in again.text
    gone = adam.post("/users/page-user/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert gone.status_code == 303 and app.state.users.user_for_token(token) is None
    assert "user.revoke" in adam.get("/users").text


def test_users_cli_sets_a_partner_tlp_ceiling(tmp_path, request):
    from chorusline.cli import app

    db, _ = store_copy(request, tmp_path)
    run = CliRunner().invoke
    made = run(app, ["users", "add", "acme", "--role", "partner", "--tlp", "green", "--no-password", "--db", db])
    assert made.exit_code == 0, made.output
    listed = __import__("json").loads(run(app, ["users", "list", "--db", db, "--json"]).stdout)
    assert next(u for u in listed if u["name"] == "acme")["tlp"] == "green"
    assert next(u for u in listed if u["name"] == "pat")["tlp"] == "amber"  # partners' default
    staff = run(app, ["users", "add", "zed", "--role", "viewer", "--tlp", "red", "--no-password", "--db", db])
    assert staff.exit_code == 2 and "for partners" in staff.output


def test_serve_fails_in_one_line_before_starting(tmp_path, request):
    from chorusline.cli import app
    from chorusline.web.users import users_file

    run = CliRunner().invoke
    missing = run(app, ["serve", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and "no store at" in missing.output
    db, _ = store_copy(request, tmp_path)
    users_file(db).unlink()
    empty = run(app, ["serve", "--db", db])
    assert empty.exit_code == 2 and "no users yet" in empty.output and "users add" in empty.output
    half = run(app, ["serve", "--db", db, "--tls-cert", str(tmp_path / "c.pem")])
    assert half.exit_code == 2 and "go together" in half.output
