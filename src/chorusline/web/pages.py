"""The analyst's pages: server-rendered Jinja2 templates over ``chorusline.api``; the one script
(static/network.js, the network view) reads the same JSON API. Forms post with the session's CSRF
token; unauthenticated page requests get the login form with 401."""

from __future__ import annotations

import math
import secrets
from importlib.resources import files
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from chorusline import api
from chorusline.web.api_routes import MAX_OFFSET, answering, store_for
from chorusline.web.auth import (ADMIN, DECIDE, LOGIN_CSRF_COOKIE, READ, SESSION_COOKIE, TAXII, Principal,
                                 client_address, principal, requires, same_secret)
from chorusline.web.users import MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, SESSION_HOURS

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
templates = Jinja2Templates(directory=str(files("chorusline.web").joinpath("templates")))
templates.env.filters["path"] = lambda value: quote(str(value), safe=":@")  # one path segment: x:123 stays readable
Reader = Annotated[Principal, Depends(requires(READ))]
Decider = Annotated[Principal, Depends(requires(DECIDE))]
Admin = Annotated[Principal, Depends(requires(ADMIN))]
Anyone = Annotated[Principal, Depends(requires(TAXII))]
PAGE = 50
# the sign-in form's fields are bounded (as users.add_user bounds them): a failed sign-in is audited
# under the name given, by anyone
MAX_NAME, MAX_PASSWORD = MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH
CHOICES = ("confirm", "dismiss", "needs-more")
TLPS = ("clear", "green", "amber", "red")


def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    who = getattr(request.state, "principal", None)
    return templates.TemplateResponse(request, name, {"who": who, "csrf": who.csrf if who else None, **context},
                                      status_code=status_code)


def error_page(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 401:
        return _login_form(request, "Sign in to continue.", status_code=401, next_path=_next_of(request))
    return render(request, "error.html", status_code=exc.status_code, status=exc.status_code, detail=exc.detail)


def _next_of(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _safe_next(value: str | None) -> str:
    """Only a path of this site (no //host, no scheme): the login form must not redirect elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 2000:
        return "/campaigns"
    return value


# -- signing in and out ---------------------------------------------------------------------------

def _login_form(request: Request, message: str | None = None, status_code: int = 200,
                next_path: str | None = None) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", status_code=status_code, message=message, login_csrf=token,
                      next_path=_safe_next(next_path))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
                        secure=request.app.state.web.secure_cookies, max_age=3600)
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None):  # noqa: A002
    who = principal(request)
    if who is not None:
        return RedirectResponse("/partner" if who.user.role == "partner" else _safe_next(next), status_code=303)
    return _login_form(request, next_path=next)


@router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=MAX_NAME)],
          password: Annotated[str, Form(max_length=MAX_PASSWORD)], csrf_token: Annotated[str, Form(max_length=200)],
          next: Annotated[str, Form()] = "/campaigns"):  # noqa: A002
    users = request.app.state.users
    sent = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not same_secret(sent, csrf_token):
        return _login_form(request, "The form expired: sign in again.", 403, next)
    address = client_address(request)
    attempt = users.begin_login(username, address)  # counted before the password is checked
    if attempt is None:
        response = _login_form(request, "Too many failed sign-ins: wait 15 minutes.", 429, next)
        response.headers["Retry-After"] = "900"
        return response
    user = users.check_password(username, password)
    if user is None:
        users.login_failed(username, address)
        return _login_form(request, "Wrong user name or password.", 401, next)
    users.login_succeeded(attempt)
    sid, _ = users.open_session(user, address)
    response = RedirectResponse(_safe_next(next) if user.role != "partner" else "/partner", status_code=303)
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="strict", path="/",
                        secure=request.app.state.web.secure_cookies, max_age=SESSION_HOURS * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, who: Anyone):
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        request.app.state.users.close_session(sid)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/partner")
def partner_home(request: Request, who: Anyone):
    return render(request, "partner.html")


# -- campaigns ------------------------------------------------------------------------------------

@router.get("/")
def home(request: Request, who: Reader):
    return RedirectResponse("/campaigns", status_code=303)


def _statuses(store) -> dict[int, dict]:
    from chorusline.act.decisions import current_decisions

    rows = current_decisions(store).select("campaign_id", "decision", "analyst", "ts").to_pyarrow().to_pylist()
    return {r["campaign_id"]: r for r in rows}


@router.get("/campaigns")
def campaigns_page(request: Request, who: Reader,
                   tier: Literal["", "inauthentic", "coordinated", "not reported"] = "",
                   status: Literal["", "undecided", "confirm", "dismiss", "needs-more"] = "",
                   reported: bool = False, min_size: Annotated[int, Query(ge=0)] = 0,
                   min_score: Annotated[float, Query(ge=0, le=1)] = 0.0, page: Annotated[int, Query(ge=1)] = 1):
    from chorusline.campaigns.explain import CampaignNotFound

    with request.app.state.web.using_store() as store:
        try:
            rows = api.list_campaigns(store)
        except CampaignNotFound as exc:
            return render(request, "campaigns.html", rows=[], total=0, message=str(exc), filters={}, pages=1, page=1)
        statuses = _statuses(store)
    for r in rows:
        r["status"] = statuses.get(r["campaign_id"], {}).get("decision", "undecided")
    shown = [r for r in rows if (not tier or r["tier"] == tier) and (not status or r["status"] == status)
             and (not reported or r["above_threshold"]) and r["size"] >= min_size and r["score"] >= min_score]
    pages = max(1, math.ceil(len(shown) / PAGE))
    filters = {"tier": tier, "status": status, "reported": reported, "min_size": min_size, "min_score": min_score}
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "campaigns.html", rows=shown[(page - 1) * PAGE:page * PAGE], total=len(shown),
                  all_total=len(rows), filters=filters, page=page, pages=pages, query=query, message=None)


@router.get("/campaigns/{campaign_id}")
def campaign_page(request: Request, who: Reader, campaign_id: int):
    from chorusline.web.report_view import report_parts

    with store_for(request) as store:
        x = request.app.state.web.explanation(store, campaign_id)
        members = api.campaign_members(store, campaign_id, 0, 25)
        network = api.campaign_network(store, campaign_id, max_edges=50)
        history = [d for d in api.decision_history(store, 10000)
                   if d["target"] == "campaign" and d["campaign_id"] == campaign_id]
        report, no_report = report_parts(store, campaign_id, x)  # the explanation above, not a second one
    return render(request, "campaign.html", x=x, c=x["campaign"], members=members, network=network,
                  history=history, status=history[0]["decision"] if history else "undecided",
                  report=report, no_report=no_report, choices=CHOICES, tlps=TLPS, exports=("stix", "misp", "indicators", "gexf"),
                  shared_tlp=request.app.state.users.campaign_tlps().get(campaign_id, "amber"))


@router.post("/campaigns/{campaign_id}/decide")
def decide_campaign(request: Request, who: Decider, campaign_id: int,
                    decision: Annotated[Literal[CHOICES], Form()],  # type: ignore[valid-type]
                    reason: Annotated[str, Form()] = "",
                    tlp: Annotated[Literal[TLPS], Form()] = "amber"):  # type: ignore[valid-type]
    if not reason.strip():
        raise HTTPException(422, "a reason is required")
    with store_for(request) as store:
        row = api.decide(store, decision, who.user.name, reason, campaign_id=campaign_id)
    users = request.app.state.users
    users.audit(who.user.name, f"decision.{decision}", f"campaign {campaign_id}", reason)
    if decision == "confirm":
        users.set_tlp(row["decision_id"], campaign_id, tlp, who.user.name)
    return RedirectResponse(f"/campaigns/{campaign_id}?decided={quote(decision)}#decide", status_code=303)


# -- accounts -------------------------------------------------------------------------------------

@router.get("/accounts/{actor}")
def account_page(request: Request, who: Reader, actor: str):
    with store_for(request) as store:
        a = api.account_detail(store, actor, limit=200)
    return render(request, "account.html", a=a, choices=CHOICES,
                  timeline=timeline_svg(a["timeline"], f"Posts and LLM calls per day, {actor}"))


@router.post("/accounts/{actor}/decide")
def decide_account(request: Request, who: Decider, actor: str,
                   decision: Annotated[Literal[CHOICES], Form()],  # type: ignore[valid-type]
                   reason: Annotated[str, Form()] = ""):
    if not reason.strip():
        raise HTTPException(422, "a reason is required")
    with store_for(request) as store:
        api.decide(store, decision, who.user.name, reason, actor=actor)
    request.app.state.users.audit(who.user.name, f"decision.{decision}", f"account {actor}", reason)
    return RedirectResponse(f"/accounts/{quote(actor, safe=':@')}?decided={quote(decision)}#decide", status_code=303)


# -- decisions, enforcement, watchlist ------------------------------------------------------------

@router.get("/decisions")
def decisions_page(request: Request, who: Reader):
    with store_for(request) as store:
        rows = api.decision_history(store, 1000)
    return render(request, "decisions.html", rows=rows)


@router.get("/enforcement")
def enforcement_page(request: Request, who: Reader, page: Annotated[int, Query(ge=1, le=MAX_OFFSET // 1000)] = 1,
                     per_page: Annotated[int, Query(ge=10, le=1000)] = 100):
    with store_for(request) as store:
        e = api.enforcement(store, (page - 1) * per_page, per_page)
    pages = max(1, math.ceil(e["total"] / per_page))
    return render(request, "enforcement.html", e=e, page=page, pages=pages, per_page=per_page)


@router.get("/watchlist")
def watchlist_page(request: Request, who: Reader, top: Annotated[int, Query(ge=1, le=5000)] = 100):
    message, rows = None, []
    with request.app.state.web.using_store() as store:
        try:
            rows = api.watchlist_matches(store, top)
        except LookupError as exc:
            message = str(exc).strip("'\"")
    return render(request, "watchlist.html", rows=rows, message=message, top=top)


@router.post("/watchlist")
def rebuild_watchlist(request: Request, who: Decider):
    from chorusline.act.watchlist import save_watchlist

    with store_for(request) as store:
        if not api.enforcement(store, 0, 1)["total"]:
            raise HTTPException(409, "no confirmed campaign: confirm one first")
        count = save_watchlist(store)
    request.app.state.users.audit(who.user.name, "watchlist.rebuild", "watchlist", f"{count} fingerprints")
    return RedirectResponse("/watchlist", status_code=303)


# -- users (admin) --------------------------------------------------------------------------------

@router.get("/users")
def users_page(request: Request, who: Admin):
    users = request.app.state.users
    return render(request, "users.html", users=users.list_users(), audit=users.audit_log(100), token=None, roles=(
        "viewer", "analyst", "admin", "partner"))


@router.post("/users")
def add_user(request: Request, who: Admin, name: Annotated[str, Form()], role: Annotated[str, Form()],
             password: Annotated[str, Form()] = "", tlp: Annotated[str, Form()] = ""):
    users = request.app.state.users
    with answering():
        ceiling = (tlp or None) if role == "partner" else None
        token = users.add_user(name, role, password or None, who.user.name, ceiling)
    return render(request, "users.html", users=users.list_users(), audit=users.audit_log(100), token=token,
                  new_user=name, roles=("viewer", "analyst", "admin", "partner"))


@router.post("/users/{name}/revoke")
def revoke_user(request: Request, who: Admin, name: str):
    with answering():
        request.app.state.users.revoke_user(name, who.user.name)
    return RedirectResponse("/users", status_code=303)


# -- figures --------------------------------------------------------------------------------------

def timeline_svg(days: list[dict], title: str, width: int = 720, height: int = 140) -> Markup:
    """Posts and LLM calls per day as an inline SVG bar chart (no script), labelled axes."""
    if not days:
        return Markup("<p>No activity on record.</p>")
    top = max(max(d["posts"], d["calls"]) for d in days) or 1
    left, bottom, plot_h = 40, 28, height - 38
    step = (width - left - 10) / len(days)
    bar = max(1.0, step / 2 - 0.5)
    parts = [f'<svg class="timeline" viewBox="0 0 {width} {height}" role="img" aria-labelledby="tl-title">',
             f'<title id="tl-title">{escape(title)}</title>',
             f'<line x1="{left}" y1="{10 + plot_h}" x2="{width - 5}" y2="{10 + plot_h}" stroke="#555"/>',
             f'<line x1="{left}" y1="10" x2="{left}" y2="{10 + plot_h}" stroke="#555"/>',
             f'<text x="{left - 4}" y="16" text-anchor="end" font-size="10">{top}</text>',
             f'<text x="{left - 4}" y="{10 + plot_h}" text-anchor="end" font-size="10">0</text>',
             f'<text x="10" y="{10 + plot_h / 2}" font-size="10" transform="rotate(-90 10 {10 + plot_h / 2})" '
             f'text-anchor="middle">per day</text>']
    for i, d in enumerate(days):
        x = left + i * step
        for j, (kind, colour) in enumerate((("posts", "#1f5fa8"), ("calls", "#b8500f"))):
            h = plot_h * d[kind] / top
            parts.append(f'<rect x="{x + j * bar:.1f}" y="{10 + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{escape(d["day"])}: {d[kind]} {kind}</title></rect>')
    parts.append(f'<text x="{left}" y="{height - 4}" font-size="10">{escape(days[0]["day"])}</text>')
    parts.append(f'<text x="{width - 5}" y="{height - 4}" font-size="10" text-anchor="end">'
                 f'{escape(days[-1]["day"])}</text>')
    parts.append(f'<text x="{(left + width) / 2}" y="{height - 4}" font-size="10" text-anchor="middle">day (UTC)'
                 '</text></svg>')
    legend = ('<p class="legend"><span class="swatch posts"></span> posts <span class="swatch calls"></span> '
              'LLM API calls</p>')
    return Markup("".join(parts) + legend)
