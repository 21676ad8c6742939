"""TAXII 2.1 (read-only) at /taxii2/: the STIX 2.1 objects of confirmed campaigns for partners.

One API root (``/taxii2/api/``) with one collection per TLP level (clear, green, amber, red). A
campaign whose current decision is ``confirm`` is shared in the collection of the TLP chosen when it
was confirmed (when a confirmation chose none, as from ``chorusline decide``, the campaign's last
chosen TLP, else amber: a re-confirmation never moves a RED campaign to AMBER); its objects are what
``chorusline export stix --campaign N --tlp T`` writes (export/stix.py), and their ``date_added``
is the time of the confirmation, so ``added_after`` gives a partner what was confirmed since its
last pull. Objects shared by several campaigns (the producer identity, the TLP marking, DISARM
attack-patterns) appear once, with the earliest time. Paging: ``limit`` and the ``next`` cursor
of the envelope (``more``); filters ``match[id]``, ``match[type]``, ``match[spec_version]``.

Every endpoint needs credentials (a partner's API token as Bearer, or Basic with the user name
and the token as password); every role may read, the ``partner`` role reads nothing else, and a
partner sees the collections up to its TLP ceiling only (``users add --role partner --tlp green``;
amber by default): the others do not exist for it (404)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from chorusline.web.app import to_json
from chorusline.web.auth import TAXII, Principal, requires

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
LEVELS = ("clear", "green", "amber", "red")
COLLECTIONS = {str(uuid.uuid5(uuid.NAMESPACE_URL, f"chorusline:taxii:tlp:{tlp}")): tlp for tlp in LEVELS}
PAGE_MAX = 1000
DEFAULT_TLP = "amber"

router = APIRouter(prefix="/taxii2", include_in_schema=False)  # TAXII 2.1 is its own specification
Reader = Annotated[Principal, Depends(requires(TAXII))]


class Taxii(JSONResponse):
    media_type = TAXII_MEDIA

    def render(self, content) -> bytes:
        return to_json(content)


def error_response(exc: HTTPException) -> Taxii:
    """A TAXII error message (section 3.6.1)."""
    return Taxii({"title": {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 406: "Not Acceptable"}.get(
        exc.status_code, "Error"), "description": str(exc.detail), "http_status": str(exc.status_code)},
        status_code=exc.status_code, headers=exc.headers)


def acceptable(request: Request) -> None:
    """406 unless the client takes TAXII 2.1 JSON (or anything)."""
    accept = request.headers.get("accept", "*/*").replace(" ", "").lower()
    if "*/*" in accept or "application/*" in accept:
        return
    for part in accept.split(","):
        kind, _, params = part.partition(";")
        if kind == "application/taxii+json" and (not params or "version=2.1" in params):
            return
    raise HTTPException(406, f"this server answers {TAXII_MEDIA}")


Negotiated = Depends(acceptable)


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@router.get("/", dependencies=[Negotiated])
def discovery(request: Request, who: Reader):
    root = str(request.url_for("api_root"))
    return Taxii({"title": "chorusline", "description": "Coordinated influence campaigns confirmed by analysts, "
                  "as STIX 2.1, one collection per TLP level.", "default": root, "api_roots": [root]})


@router.get("/api/", name="api_root", dependencies=[Negotiated])
def api_root(request: Request, who: Reader):
    return Taxii({"title": "chorusline campaigns", "versions": [TAXII_MEDIA], "max_content_length": 0})


def _collection(cid: str) -> dict:
    tlp = COLLECTIONS[cid]
    return {"id": cid, "title": f"Confirmed campaigns, TLP:{tlp.upper()}",
            "description": f"STIX 2.1 objects of the campaigns confirmed and shared at TLP:{tlp.upper()}",
            "can_read": True, "can_write": False, "media_types": [STIX_MEDIA]}


def _visible(request: Request, who: Principal) -> list[str]:
    levels = request.app.state.users.tlp_levels(who.user)
    return [cid for cid, tlp in COLLECTIONS.items() if tlp in levels]


def _known(request: Request, who: Principal, cid: str) -> str:
    if cid not in _visible(request, who):
        raise HTTPException(404, f"no collection {cid}")
    return COLLECTIONS[cid]


@router.get("/api/collections/", dependencies=[Negotiated])
def collections(request: Request, who: Reader):
    return Taxii({"collections": [_collection(cid) for cid in _visible(request, who)]})


@router.get("/api/collections/{cid}/", dependencies=[Negotiated])
def collection(request: Request, who: Reader, cid: str):
    _known(request, who, cid)
    return Taxii(_collection(cid))


def shared_objects(request: Request, tlp: str) -> list[tuple[dt.datetime, dict]]:
    """(date added, STIX object) of every campaign confirmed at ``tlp``, oldest first, each object once."""
    from chorusline.act.decisions import current_decisions
    from chorusline.export.stix import stix_bundle

    web = request.app.state.web
    chosen = web.users.tlps()
    kept = web.users.campaign_tlps()  # a confirmation without a TLP keeps the campaign's last one
    with web.using_store() as store:
        d = current_decisions(store)
        confirmed = d.filter(d.decision == "confirm").select("campaign_id", "decision_id", "ts")
        confirmed = confirmed.to_pyarrow().to_pylist()
        known = set(store.table("campaigns").campaign_id.execute().tolist()) if confirmed else set()
        first: dict[str, tuple[dt.datetime, dict]] = {}
        for c in sorted(confirmed, key=lambda r: (r["ts"], r["campaign_id"])):
            level = chosen.get(c["decision_id"]) or kept.get(c["campaign_id"], DEFAULT_TLP)
            if level != tlp or c["campaign_id"] not in known:
                continue  # another level, or a campaign id the latest detection run no longer has
            key = ("stix", c["campaign_id"], c["decision_id"], tlp)
            if key not in web.cache:
                bundle = stix_bundle(store, [int(c["campaign_id"])], web.producer, tlp)
                web.cache[key] = [dict(o) for o in _serialisable(bundle)]
            for obj in web.cache[key]:
                first.setdefault(obj["id"], (c["ts"], obj))
    return sorted(first.values(), key=lambda pair: (pair[0], pair[1]["id"]))


def _serialisable(bundle) -> list[dict]:
    import json

    return json.loads(bundle.serialize())["objects"]


def _filtered(request: Request, rows: list[tuple[dt.datetime, dict]], added_after: str | None) -> list:
    if added_after:
        try:
            after = dt.datetime.fromisoformat(added_after)
        except ValueError:
            raise HTTPException(400, f"added_after {added_after!r} is not an RFC 3339 time") from None
        after = after if after.tzinfo else after.replace(tzinfo=dt.UTC)
        rows = [r for r in rows if r[0] > after]
    q = request.query_params
    if q.get("match[id]"):
        ids = set(q["match[id]"].split(","))
        rows = [r for r in rows if r[1]["id"] in ids]
    if q.get("match[type]"):
        types = set(q["match[type]"].split(","))
        rows = [r for r in rows if r[1]["type"] in types]
    if q.get("match[spec_version]"):
        versions = set(q["match[spec_version]"].split(","))
        rows = [r for r in rows if r[1].get("spec_version", "2.1") in versions]
    return rows


def _page(rows: list, limit: int | None, next_: str | None) -> tuple[list, dict]:
    start = 0
    if next_:
        # ASCII digits, a few of them: str.isdigit() also takes '²' and '١', and int() of thousands
        # of digits raises, either a 500
        if not (next_.isascii() and next_.isdigit() and len(next_) <= 18):
            raise HTTPException(400, f"next {next_[:40]!r} is not a cursor this server gave")
        start = int(next_)
    size = min(limit or PAGE_MAX, PAGE_MAX)
    page = rows[start:start + size]
    more = start + size < len(rows)
    envelope = {"more": more}
    if more:
        envelope["next"] = str(start + size)
    return page, envelope


def _dated(page: list, body: dict) -> Taxii:
    headers = {}
    if page:
        headers = {"X-TAXII-Date-Added-First": _when(page[0][0]), "X-TAXII-Date-Added-Last": _when(page[-1][0])}
    return Taxii(body, headers=headers)


def _version(obj: dict, added: dt.datetime) -> str:
    return obj.get("modified") or obj.get("created") or _when(added)


Limit = Annotated[int | None, Query(ge=1)]


@router.get("/api/collections/{cid}/objects/", dependencies=[Negotiated])
def objects(request: Request, who: Reader, cid: str, added_after: str | None = None, limit: Limit = None,
            next: str | None = None):  # noqa: A002 (TAXII's parameter name)
    rows = _filtered(request, shared_objects(request, _known(request, who, cid)), added_after)
    page, envelope = _page(rows, limit, next)
    if page:
        envelope["objects"] = [obj for _, obj in page]
    return _dated(page, envelope)


@router.get("/api/collections/{cid}/manifest/", dependencies=[Negotiated])
def manifest(request: Request, who: Reader, cid: str, added_after: str | None = None, limit: Limit = None,
             next: str | None = None):  # noqa: A002
    rows = _filtered(request, shared_objects(request, _known(request, who, cid)), added_after)
    page, envelope = _page(rows, limit, next)
    if page:
        envelope["objects"] = [{"id": obj["id"], "date_added": _when(added), "version": _version(obj, added),
                                "media_type": STIX_MEDIA} for added, obj in page]
    return _dated(page, envelope)


@router.get("/api/collections/{cid}/objects/{object_id}/", dependencies=[Negotiated])
def one_object(request: Request, who: Reader, cid: str, object_id: str):
    rows = [r for r in shared_objects(request, _known(request, who, cid)) if r[1]["id"] == object_id]
    if not rows:
        raise HTTPException(404, f"no object {object_id} in collection {cid}")
    return _dated(rows, {"more": False, "objects": [obj for _, obj in rows]})


@router.get("/api/collections/{cid}/objects/{object_id}/versions/", dependencies=[Negotiated])
def versions(request: Request, who: Reader, cid: str, object_id: str):
    rows = [r for r in shared_objects(request, _known(request, who, cid)) if r[1]["id"] == object_id]
    if not rows:
        raise HTTPException(404, f"no object {object_id} in collection {cid}")
    return _dated(rows, {"more": False, "versions": [_version(obj, added) for added, obj in rows]})
