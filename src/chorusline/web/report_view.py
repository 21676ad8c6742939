"""The report's evidence on the campaign page: the same fragments and figures as ``chorusline
report`` (``export.report.campaign_sections``), not a second implementation. Its charts are drawn
by the report's ``render.js`` with plotly.js, both served here as files (the CSP allows scripts from
'self' only), plotly.js as the gzipped bundle the report ships, sent as it is with
``Content-Encoding: gzip``; the report's stylesheet is served scoped to ``.report``."""

from __future__ import annotations

import gzip
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from markupsafe import Markup

from chorusline.export.report import SECTION_TITLES, campaign_sections
from chorusline.export.report_html import PLOTLY_GZ, RENDER_JS, asset_path, scoped_css

# the report's sections the page shows: all but its network figure (a fixed layout of up to 4,000
# ties), which the page replaces with the filterable network view; its signals table is the page's
SECTIONS = tuple(name for name in SECTION_TITLES if name != "network")
SCOPE = ".report"
JAVASCRIPT = "text/javascript; charset=utf-8"

# public like the rest of /static/ (library code, no data); registered before the /static mount,
# which would otherwise answer these paths with 404
router = APIRouter(include_in_schema=False)


@router.get("/static/report/render.js")
def render_js() -> FileResponse:
    return FileResponse(asset_path(RENDER_JS), media_type=JAVASCRIPT)


@router.get("/static/report/plotly.min.js")
def plotly_js(request: Request) -> Response:
    """The bundle as stored (0.5 MB gzipped, 1.4 MB unpacked), unpacked only for a client that
    does not accept gzip."""
    path = asset_path(PLOTLY_GZ)
    if _accepts_gzip(request.headers.get("accept-encoding", "")):
        return FileResponse(path, media_type=JAVASCRIPT,
                            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(_unpacked(), media_type=JAVASCRIPT, headers={"Vary": "Accept-Encoding"})


@router.get("/static/report/report.css")
def report_css() -> Response:
    return Response(_css(), media_type="text/css; charset=utf-8")


def report_parts(store, campaign_id: int, explanation: dict) -> tuple[list[dict], str | None]:
    """The page's report sections (id, title, html) and, when there are none, why: the report
    covers a campaign's flagged members, and a cluster below the threshold may have none."""
    from chorusline.export.shared import ExportError

    try:
        fragments = campaign_sections(store, campaign_id, explanation, SECTIONS)
    except ExportError as exc:
        return [], str(exc)
    return [{"id": f"report-{name}", "title": SECTION_TITLES[name], "html": Markup(fragments[name])}
            for name in SECTIONS], None


def _accepts_gzip(header: str) -> bool:
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


@cache
def _unpacked() -> bytes:
    return gzip.decompress(asset_path(PLOTLY_GZ).read_bytes())


@cache
def _css() -> str:
    return scoped_css(SCOPE)
