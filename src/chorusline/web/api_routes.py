"""The REST API under /api/v1/: what ``chorusline.api`` returns, as JSON (the CLI's ``--json`` shape).

Reads need the viewer role or above; decisions and the watchlist the analyst role; users and the
audit log the admin role. Errors are ``{"detail": "one line"}`` with 400, 401, 403, 404, 409 or
422."""

from __future__ import annotations

import io
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from chorusline import api
from chorusline.web.app import Json, download
from chorusline.web.auth import ADMIN, DECIDE, READ, Principal, requires

router = APIRouter(prefix="/api/v1", default_response_class=Json)
Reader = Annotated[Principal, Depends(requires(READ))]
Decider = Annotated[Principal, Depends(requires(DECIDE))]
Admin = Annotated[Principal, Depends(requires(ADMIN))]
Tlp = Literal["clear", "green", "amber", "red"]
Choice = Literal["confirm", "dismiss", "needs-more"]
# offsets past any list, yet far inside DuckDB's BIGINT (a larger one made the query fail with a 500)
MAX_OFFSET = 10**12


@contextmanager
def answering():
    """The library's one-line errors as HTTP answers."""
    from chorusline.act.decisions import DecisionError
    from chorusline.campaigns.explain import CampaignNotFound
    from chorusline.export.shared import ExportError
    from chorusline.web.users import UserError

    try:
        yield
    except CampaignNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except (DecisionError, UserError) as exc:
        raise HTTPException(422, str(exc)) from None
    except ExportError as exc:
        raise HTTPException(409, str(exc)) from None
    except LookupError as exc:  # no watchlist yet
        raise HTTPException(409, str(exc).strip("'\"")) from None


@contextmanager
def store_for(request: Request):
    with answering(), request.app.state.web.using_store() as store:
        yield store


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, who: Reader):
    return request.app.openapi()


@router.get("/campaigns", summary="The last detection run's campaigns, best first (chorusline campaigns --json)")
def campaigns(request: Request, who: Reader) -> list[dict]:
    with store_for(request) as store:
        return api.list_campaigns(store)


@router.get("/campaigns/{campaign_id}", summary="One campaign with its explanation (campaigns --campaign N --json)")
def campaign(request: Request, who: Reader, campaign_id: int) -> dict:
    with store_for(request) as store:
        return request.app.state.web.explanation(store, campaign_id)


@router.get("/campaigns/{campaign_id}/members", summary="A campaign's members, strongest first")
def members(request: Request, who: Reader, campaign_id: int, offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
            limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> dict:
    with store_for(request) as store:
        return api.campaign_members(store, campaign_id, offset, limit)


@router.get("/campaigns/{campaign_id}/network",
            summary="The fused ties among a campaign's members, filtered by signal family, weight and role")
def network(request: Request, who: Reader, campaign_id: int,
            family: Annotated[list[str] | None, Query(description="signal families to keep (repeat)")] = None,
            min_weight: Annotated[float, Query(ge=0)] = 0.0,
            role: Annotated[Literal[api.NETWORK_ROLES] | None, Query()] = None,  # type: ignore[valid-type]
            max_edges: Annotated[int, Query(ge=1, le=20000)] = 2000) -> dict:
    with store_for(request) as store:
        return api.campaign_network(store, campaign_id, family, min_weight, role, max_edges)


@router.get("/accounts/{actor}", summary="One account: profile, campaigns, posts, calls, time line, ties, decisions")
def account(request: Request, who: Reader, actor: str, limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> dict:
    with store_for(request) as store:
        return api.account_detail(store, actor, limit)


class DecisionIn(BaseModel):
    decision: Choice
    reason: str = Field(min_length=1, description="why (required; kept with the decision)")
    tlp: Tlp | None = Field(default=None, description="campaigns, confirm: the TLP to share it at over TAXII "
                            "(default: the campaign's last chosen TLP, else amber)")


def _decided(request: Request, who: Principal, body: DecisionIn, **target) -> dict:
    with store_for(request) as store:
        row = api.decide(store, body.decision, who.user.name, body.reason, **target)
    what = f"campaign {target['campaign_id']}" if "campaign_id" in target else f"account {target['actor']}"
    users = request.app.state.users
    users.audit(who.user.name, f"decision.{body.decision}", what, body.reason)
    if body.tlp and body.decision == "confirm" and "campaign_id" in target:
        users.set_tlp(row["decision_id"], target["campaign_id"], body.tlp, who.user.name)
    return row


@router.post("/campaigns/{campaign_id}/decisions", status_code=201,
             summary="Confirm, dismiss or ask for more on a campaign, with a reason (append-only)")
def decide_campaign(request: Request, who: Decider, campaign_id: int, body: DecisionIn) -> dict:
    return _decided(request, who, body, campaign_id=campaign_id)


@router.post("/accounts/{actor}/decisions", status_code=201,
             summary="Confirm, dismiss or ask for more on one account, with a reason (append-only)")
def decide_account(request: Request, who: Decider, actor: str, body: DecisionIn) -> dict:
    return _decided(request, who, body, actor=actor)


@router.get("/decisions", summary="Every decision, newest first, with who and when")
def decisions(request: Request, who: Reader, limit: Annotated[int, Query(ge=1, le=10000)] = 200) -> list[dict]:
    with store_for(request) as store:
        return api.decision_history(store, limit)


@router.get("/enforcement", summary="The enforcement list (accounts of confirmed campaigns), one page")
def enforcement(request: Request, who: Reader, offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
                limit: Annotated[int, Query(ge=1, le=10000)] = 100) -> dict:
    with store_for(request) as store:
        return api.enforcement(store, offset, limit)


@router.get("/enforcement.csv", summary="The whole enforcement list as CSV (as `chorusline enforce`)",
            response_class=Json)
def enforcement_csv(request: Request, who: Reader):
    from chorusline.act.enforcement import enforcement_list
    from chorusline.export.safe_csv import write_csv

    with store_for(request) as store, tempfile.TemporaryDirectory(prefix="chorusline-web-") as folder:
        path = Path(folder) / "enforcement.csv"
        write_csv(enforcement_list(store).to_pyarrow(), path)
        return download(path.read_bytes(), "enforcement.csv", "text/csv; charset=utf-8")


@router.get("/watchlist/matches", summary="Accounts outside confirmed campaigns matching the watchlist (match --json)")
def watchlist_matches(request: Request, who: Reader, top: Annotated[int, Query(ge=1, le=10000)] = 100) -> list[dict]:
    with store_for(request) as store:
        return api.watchlist_matches(store, top)


@router.post("/watchlist", status_code=201, summary="Rebuild the watchlist from the confirmed campaigns")
def rebuild_watchlist(request: Request, who: Decider) -> dict:
    from chorusline.act.watchlist import save_watchlist

    with store_for(request) as store:
        if not api.enforcement(store, 0, 1)["total"]:
            raise HTTPException(409, "no confirmed campaign: confirm one first")
        count = save_watchlist(store)
    request.app.state.users.audit(who.user.name, "watchlist.rebuild", "watchlist", f"{count} fingerprints")
    return {"fingerprints": count}


EXPORTS = ("stix", "misp", "indicators", "gexf")


@router.get("/campaigns/{campaign_id}/export/{fmt}", summary="One campaign as STIX 2.1, MISP, indicator CSV or GEXF",
            response_class=Json)
def export(request: Request, who: Reader, campaign_id: int, fmt: Literal[EXPORTS],  # type: ignore[valid-type]
           tlp: Tlp = "amber"):
    with store_for(request) as store:
        content, name, media = export_campaign(store, campaign_id, fmt, tlp, request.app.state.web.producer)
    return download(content, name, media)


def export_campaign(store, campaign_id: int, fmt: str, tlp: str, producer: str) -> tuple[bytes, str, str]:
    """(file content, file name, media type) of one campaign's export, by the export modules."""
    base = f"chorusline-campaign-{campaign_id}"
    if fmt == "stix":
        from chorusline.export.stix import stix_bundle

        return (stix_bundle(store, [campaign_id], producer, tlp).serialize(pretty=True).encode(), f"{base}.stix.json",
                "application/stix+json;version=2.1")
    if fmt == "misp":
        from chorusline.export.misp import misp_event

        return misp_event(store, [campaign_id], tlp).to_json(indent=1).encode(), f"{base}.misp.json", "application/json"
    if fmt == "indicators":
        from chorusline.export.indicators import indicator_table
        from chorusline.export.safe_csv import write_csv

        with tempfile.TemporaryDirectory(prefix="chorusline-web-") as folder:
            path = Path(folder) / "indicators.csv"
            write_csv(indicator_table(store, [campaign_id]), path)
            return path.read_bytes(), f"{base}.indicators.csv", "text/csv; charset=utf-8"
    from chorusline.export.graph_formats import member_graph, write_graph

    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="chorusline-web-") as folder:
        path = Path(folder) / "graph.gexf"
        write_graph(member_graph(store, [campaign_id]), path, "gexf")
        buffer.write(path.read_bytes())
    return buffer.getvalue(), f"{base}.gexf", "application/gexf+xml"


class UserIn(BaseModel):
    name: str = Field(min_length=1)
    role: Literal["viewer", "analyst", "admin", "partner"]
    password: str | None = Field(default=None, description="for the browser; none: API token only")
    tlp: Literal["clear", "green", "amber", "red"] | None = Field(
        default=None, description="a partner's TAXII ceiling (default amber); only for partners")


@router.get("/users", summary="Users (admin)")
def users(request: Request, who: Admin) -> list[dict]:
    return request.app.state.users.list_users()


@router.post("/users", status_code=201, summary="Add a user (admin); the answer holds its API token, shown once")
def add_user(request: Request, who: Admin, body: UserIn) -> dict:
    with answering():
        token = request.app.state.users.add_user(body.name, body.role, body.password, who.user.name, body.tlp)
    return {"name": body.name, "role": body.role, "token": token}


@router.delete("/users/{name}", summary="Revoke a user, its tokens and sessions (admin)")
def revoke_user(request: Request, who: Admin, name: str) -> dict:
    with answering():
        request.app.state.users.revoke_user(name, who.user.name)
    return {"name": name, "revoked": True}


@router.get("/audit", summary="The audit log, newest first (admin)")
def audit(request: Request, who: Admin, limit: Annotated[int, Query(ge=1, le=10000)] = 200) -> list[dict]:
    return request.app.state.users.audit_log(limit)

