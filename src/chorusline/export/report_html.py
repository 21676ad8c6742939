"""The report's HTML pieces: its stylesheet, tables, chart containers and the one-file page.

Shared with the web app (``chorusline serve``): a figure is a ``<div class='chart'>`` holding its
Plotly JSON as a data block, drawn by ``report_assets/render.js`` — no inline script, so a page
under a strict Content-Security-Policy can show the same figures by loading ``render.js`` and
plotly.js (``asset_path``) as files. The single-file report inlines both, plotly.js gzipped.

Layout: every table scrolls inside its own box, pairs of charts sit side by side where there is
room and stack on a phone (390 px), and charts take their container's width (plotly's
``responsive``), so the page itself never scrolls sideways."""

from __future__ import annotations

import base64
import html
import json
import re
from contextvars import ContextVar
from importlib import resources
from pathlib import Path

import plotly.graph_objects as go

ASSETS = "report_assets"
PLOTLY_GZ = "plotly-cartesian.min.js.gz"
RENDER_JS = "render.js"
# system fonts first, then fonts that cover CJK on each platform (Debian: fonts-noto-cjk; macOS:
# PingFang; Windows: Microsoft YaHei) so Chinese and Japanese text never falls back to boxes; then
# colour emoji (generated posts end with one; Debian: fonts-noto-color-emoji)
FONT_STACK = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans CJK SC', 'Noto Sans SC', "
              "'Source Han Sans SC', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'WenQuanYi Micro Hei', "
              "sans-serif, 'Noto Color Emoji', 'Apple Color Emoji', 'Segoe UI Emoji'")
CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{font-family:FONTS;margin:0;background:#f6f7f9;color:#1d2430;line-height:1.45}
header{background:#1d2430;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
main{padding:16px 32px;max-width:1400px}
section,article>.campaign-head{background:#fff;border-radius:8px;padding:14px 18px;margin:14px 0;
box-shadow:0 1px 3px rgba(0,0,0,.08);min-width:0}
h2{margin:4px 0 10px;font-size:19px}h3{margin:4px 0 8px;font-size:16px}
p{margin:6px 0}code{background:#f0f2f5;padding:0 3px;border-radius:3px;overflow-wrap:anywhere}
.table-box{overflow:auto;max-width:100%;margin:6px 0;border:1px solid #e3e6ea;border-radius:6px}
.table-box.tall{max-height:520px}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border-bottom:1px solid #e3e6ea;padding:4px 8px;text-align:left;vertical-align:top}
td{overflow-wrap:break-word;min-width:4em}
th{background:#f0f2f5;position:sticky;top:0;z-index:1}
.num{text-align:right;white-space:nowrap}td.id{white-space:nowrap;overflow-wrap:normal}
td.text{min-width:16em}
.pair{display:flex;flex-wrap:wrap;gap:12px}.pair>div{flex:1 1 460px;min-width:0}
.chart{width:100%;min-width:0}
.muted{color:#667}.tag{display:inline-block;background:#eef;border-radius:4px;padding:1px 6px;margin:1px;font-size:12px}
.translit{display:block;color:#556;font-size:12px;font-style:italic}
.translit::before{content:"\\21b3  pinyin/latin: ";font-style:normal;color:#889}
.summary ul{margin:6px 0;padding-left:20px}.summary li{margin:3px 0}
.figures{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
.figure{flex:1 1 150px;background:#f0f2f5;border-radius:6px;padding:8px 10px}
.figure b{display:block;font-size:22px}
.tier-inauthentic{color:#a61b1b;font-weight:600}.tier-coordinated{color:#a65b00;font-weight:600}
dl.terms{display:grid;grid-template-columns:minmax(8em,max-content) 1fr;gap:4px 14px;margin:6px 0}
dl.terms dt{font-weight:600}dl.terms dd{margin:0}
@media (max-width:640px){
 table.cards thead{display:none}table.cards tr{display:block;border-bottom:2px solid #d0d4da;padding:4px 0}
 table.cards td{display:flex;gap:8px;border:0;padding:2px 8px;text-align:left;white-space:normal;min-width:0}
 table.cards td::before{content:attr(data-label);flex:0 0 7.5em;font-weight:600;color:#556}
 table.cards td.id{overflow-wrap:anywhere}
 header{padding:12px 14px}main{padding:8px 8px}section,article>.campaign-head{padding:10px 10px}
 dl.terms{grid-template-columns:1fr}dl.terms dd{margin:0 0 6px}
}
""".replace("FONTS", FONT_STACK)


def scoped_css(scope: str) -> str:
    """``CSS`` for the report's fragments inside another page (the web app's campaign page): every
    selector is put under ``scope`` (``html`` and ``body`` become ``scope`` itself), so the look
    stays the report's within it and nothing of the host page changes; each selector gains the
    same weight, so which rule wins among the report's own stays as in the report."""

    def under(selectors: str) -> str:
        if selectors.lstrip().startswith("@"):
            return selectors
        parts = [sel.strip() for sel in selectors.split(",")]
        return ",".join(scope if sel in ("html", "body") else f"{scope} {sel}" for sel in parts)

    # a selector list is whatever precedes a "{" since the last "{" or "}" (rules hold no braces)
    return re.sub(r"(?<=[{}])([^{}]+)(?=\{)|^([^{}]+)(?=\{)", lambda m: under(m.group(0)), CSS.strip())


# what every table name starts with while one campaign's fragments are written ("campaign 3: ")
TABLE_CONTEXT: ContextVar[str] = ContextVar("TABLE_CONTEXT", default="")


def e(value) -> str:
    """Escaped text; a dash for a missing value."""
    return html.escape("–" if value is None else str(value))


def table(columns: list[str], rows: list[list], numeric: set[int] = frozenset(), tall: bool = False,
          raw: set[int] = frozenset(), label: str | None = None, ids: set[int] = frozenset(),
          wide: set[int] = frozenset(), cards: bool = False) -> str:
    """A table in its own scrolling box. ``raw``: columns whose cells are HTML already (e.g.
    ``report_text.readable``); ``ids``: account ids and such, never broken over lines; ``wide``: running text, kept
    readable on a phone (the table scrolls sideways in its box instead); ``tall``: a
    long list, scrolled inside a box of fixed height; ``cards``: on a phone each row becomes a card of
    label: value lines (a long list with one wide column reads better so than scrolled sideways)."""
    head = "".join(f"<th scope='col'{' class=num' if i in numeric else ''}>{e(c)}</th>" for i, c in enumerate(columns))

    def cell(i: int, v) -> str:
        body = v if i in raw else e(v)
        css = "num" if i in numeric else "id" if i in ids else "text" if i in wide else ""
        cell_label = f" data-label='{e(columns[i])}'" if cards else ""
        return f"<td class='{css}'{cell_label}>{body}</td>" if css else f"<td{cell_label}>{body}</td>"

    body = "".join("<tr>" + "".join(cell(i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    # a box that may scroll must be reachable by keyboard, and a region needs a name (axe-core's
    # scrollable-region-focusable and region rules); unnamed, it is named by its columns and first
    # cell, prefixed by TABLE_CONTEXT (the campaign), so that no two regions share a name (landmark-unique)
    first = re.sub(r"<[^>]+>", "", str(rows[0][0]))[:40] if rows and rows[0] else "empty"
    name = TABLE_CONTEXT.get() + (label or f"table of {', '.join(columns[:3])}: {first}")
    aria = f" role='region' aria-label='{e(name)}' tabindex='0'"
    kind = " class=cards" if cards else ""
    return (f"<div class='table-box{' tall' if tall else ''}'{aria}><table{kind}><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def base_layout(fig: go.Figure, height: int) -> None:
    """The figures' common look, set per figure rather than through a plotly template (a template
    is some 10 kB of JSON repeated in every figure)."""
    grid = dict(gridcolor="#e5e8ee", zerolinecolor="#d0d4da", automargin=True, title_standoff=8)
    fig.update_layout(template=None, height=height, autosize=True, margin=dict(l=10, r=10, t=72, b=10),
                      paper_bgcolor="#fff", plot_bgcolor="#fff", font=dict(family=FONT_STACK, size=12, color="#1d2430"),
                      title=dict(font=dict(size=14), x=0, xanchor="left", y=1, yref="container", yanchor="top",
                                 pad=dict(t=8)),
                      hoverlabel=dict(font_family=FONT_STACK),
                      # the legend above the plot, under the title: below it, it ran into the x-axis title
                      legend=dict(orientation="h", yanchor="bottom", y=1.01, x=0, xanchor="left"))
    fig.update_xaxes(**grid)
    fig.update_yaxes(**grid)


def figure_json(fig: go.Figure) -> str:
    """The figure as JSON without its template, safe inside a <script> data block."""
    spec = fig.to_plotly_json()
    spec.get("layout", {}).pop("template", None)
    text = json.dumps(spec, separators=(",", ":"), default=_plain, ensure_ascii=False)
    return text.replace("</", "<\\/")


def _plain(value):
    """numpy arrays and numbers, dates: what plotly's own encoder would write, without typed-array
    packing (the JSON stays readable and diffable)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} into a figure")


def figure_div(fig: go.Figure, name: str, height: int = 320) -> str:
    """A chart container: drawn by render.js from the JSON inside it."""
    base_layout(fig, height)
    # no role or aria-label on the container: plotly puts focusable controls inside it, and its
    # title is drawn as text in the chart. The height to keep free until it is drawn goes in
    # data-height, which render.js turns into min-height: a style attribute would be refused by a
    # Content-Security-Policy without 'unsafe-inline' for styles (the web app's)
    return (f"<div class='chart' id='chart-{e(name)}' data-chart='{e(name)}' data-height='{int(height)}'>"
            f"<script type='application/json' class='figure'>{figure_json(fig)}</script></div>")


def asset_path(name: str) -> Path:
    """A file of report_assets (``PLOTLY_GZ``, ``RENDER_JS``): for a web app to serve as is."""
    return Path(str(resources.files("chorusline.export").joinpath(ASSETS, name)))


def page(title: str, subtitle: str, body: str) -> str:
    """The whole report: one file, plotly.js inlined gzipped and unpacked when opened; no network."""
    packed = base64.b64encode(asset_path(PLOTLY_GZ).read_bytes()).decode("ascii")
    render = asset_path(RENDER_JS).read_text(encoding="utf-8")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{e(title)}</title>"
            f"<style>{CSS}</style></head><body><header><h1>{e(title)}</h1><div>{subtitle}</div></header>"
            f"<main>{body}</main><script type='application/gzip' id='plotly-js-gz'>{packed}</script>"
            f"<script>{render}</script></body></html>")
