"""`chorusline report`: one self-contained HTML file an analyst would rather look at than read.

Plotly draws the charts (its JavaScript inlined once, so the file needs no network when opened);
tables are plain HTML. Sections: an overview of every cluster, then per reported campaign its time
line with news events, the operator clock (UTC hour × weekday) beside the clock its personas'
claimed places would give, the member network coloured by the strongest tie, shared
infrastructure, API accounts ↔ personas, prompt templates with their filled variants, representative
texts, the lifecycle pivots, DISARM techniques, the Breakout estimate and the enforcement list.
Every section is a ``<section id=…>`` so tests and readers can address it."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import ibis
import numpy as np
import plotly.graph_objects as go

from chorusline.campaigns.explain import explain, with_account_columns
from chorusline.export.shared import campaigns_to_export, members_to_export
from chorusline.progress import stage
from chorusline.signals.circadian import CircadianParams, clock_templates

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
FAMILY_COLOURS = {"provenance": "#d62728", "infrastructure": "#1f77b4", "prompt_template": "#9467bd",
                  "near_duplicate": "#ff7f0e", "synchrony": "#2ca02c", "coshare": "#8c564b", "fast_share": "#e377c2",
                  "hashtag_sequence": "#17becf"}
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
header{background:#1d2430;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
main{padding:16px 32px;max-width:1400px}section{background:#fff;border-radius:8px;padding:14px 18px;margin:14px 0;
box-shadow:0 1px 3px rgba(0,0,0,.08)}h2{margin:4px 0 10px;font-size:19px}h3{margin:4px 0 8px;font-size:16px}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{border-bottom:1px solid #e3e6ea;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f0f2f5}.num{text-align:right}.pair{display:flex;gap:12px}
.pair>div{flex:1;min-width:0}.muted{color:#667}.tag{display:inline-block;background:#eef;border-radius:4px;padding:1px 6px;
margin:1px;font-size:12px}
"""


def _e(value) -> str:
    return html.escape("–" if value is None else str(value))


def _table(columns: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td class='num'>{_e(v)}</td>" if i in numeric else f"<td>{_e(v)}</td>"
                                     for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Figures:
    """Plotly figures as HTML divs; the first carries plotly.js inline, the rest reuse it."""

    def __init__(self):
        self.first = True

    def html(self, fig: go.Figure, name: str, height: int = 320, width: int | None = None) -> str:
        fig.update_layout(height=height, width=width, margin=dict(l=50, r=20, t=40, b=40), template="plotly_white")
        out = fig.to_html(full_html=False, include_plotlyjs=self.first, div_id=f"chart-{name}",
                          config={"displaylogo": False, "responsive": True})
        self.first = False
        return f"<div class='chart' data-chart='{name}'>{out}</div>"


def _timeline(store, cid: int, x: dict, figs: _Figures) -> str:
    days = [d["day"] for d in x["timeline"]]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=days, y=[d["posts"] for d in x["timeline"]], name="posts", mode="lines"))
    fig.add_trace(go.Scatter(x=days, y=[d["calls"] for d in x["timeline"]], name="API calls", mode="lines"))
    news = store.table("news_events")
    if days:
        lo = dt.datetime.fromisoformat(days[0]).replace(tzinfo=dt.UTC)
        hi = dt.datetime.fromisoformat(days[-1]).replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
        events = news.filter((news.ts >= lo) & (news.ts < hi)).order_by("ts").to_pyarrow().to_pylist()
        if events:
            top = max([d["posts"] for d in x["timeline"]] + [d["calls"] for d in x["timeline"]] + [1])
            fig.add_trace(go.Scatter(x=[e["ts"] for e in events], y=[top * 1.05] * len(events), mode="markers",
                                     marker=dict(symbol="triangle-down", size=10, color="#444"), name="news events",
                                     text=[f"{e['topic']}: {e['label']}" for e in events], hoverinfo="text+x"))
    fig.update_layout(title="activity per day (UTC), news events marked", xaxis_title="day", yaxis_title="count")
    return figs.html(fig, f"timeline-{cid}")


def _clock_matrices(store, m: ibis.Table, x: dict) -> tuple[np.ndarray, np.ndarray]:
    """Members' actions by UTC weekday × hour, and what their claimed places' clocks would give."""
    counts = np.zeros((7, 24))
    for name in ("posts", "llm_calls"):
        t = store.table(name)
        j = t.join(with_account_columns(m).select("platform", "account_id"), ["platform", "account_id"])
        g = j.group_by(dow=j.ts.day_of_week.index(), hour=j.ts.hour()).aggregate(n=j.count())
        for r in g.to_pyarrow().to_pylist():
            counts[r["dow"], r["hour"]] += r["n"]
    local = clock_templates(CircadianParams())["diurnal"].reshape(7, 24)
    expected = np.zeros((7, 24))
    f = store.table("account_features").join(m.select("actor"), "actor")
    offsets = f.filter(f.feature == "circadian:claimed_offset").value.execute().tolist()
    for offset in offsets:  # a person's waking day where they say they live, seen in UTC
        expected += np.roll(local.reshape(-1), -int(round(offset))).reshape(7, 24)
    if expected.sum():
        expected *= counts.sum() / expected.sum()
    return counts, expected


def _clock(store, cid: int, m: ibis.Table, x: dict, figs: _Figures) -> str:
    counts, expected = _clock_matrices(store, m, x)
    hours = [f"{h:02d}" for h in range(24)]
    c = x["clock"]
    left = go.Figure(go.Heatmap(z=counts, x=hours, y=DAYS, colorscale="Reds", colorbar=dict(title="actions")))
    left.update_layout(title=f"operator clock: what the members did (UTC); fits UTC{c['operator_offset']:+.0f}"
                       if c["operator_offset"] is not None else "what the members did (UTC)",
                       xaxis_title="hour (UTC)", yaxis=dict(autorange="reversed"))
    right = go.Figure(go.Heatmap(z=expected, x=hours, y=DAYS, colorscale="Blues", colorbar=dict(title="expected")))
    right.update_layout(title="the clock their claimed places would give (UTC)", xaxis_title="hour (UTC)",
                        yaxis=dict(autorange="reversed"))
    note = ""
    if c.get("mean_offset_conflict_hours") is not None:
        note = (f"<p>Office hours for {c['office_clock_share']:.0%} of members; their claimed places are "
                f"{c['mean_offset_conflict_hours']:.1f} h from the operator clock on average.</p>")
    return (f"<div class='pair'><div>{figs.html(left, f'clock-{cid}', width=660)}</div>"
            f"<div>{figs.html(right, f'claimed-clock-{cid}', width=660)}</div></div>{note}")


def _network(store, cid: int, m: ibis.Table, figs: _Figures, max_edges: int = 4000) -> str:
    import igraph as ig

    nodes = m.select("actor", "platform", "member_score").order_by("actor").to_pyarrow().to_pylist()
    f = store.table("fused_edges")
    inside = f.semi_join(m.select(a_actor=m.actor), "a_actor").semi_join(m.select(b_actor=m.actor), "b_actor")
    inside = inside.order_by([ibis.desc("weight"), "a_actor", "b_actor"]).limit(max_edges)
    edges = inside.select("a_actor", "b_actor", "families").to_pyarrow().to_pylist()
    index = {n["actor"]: i for i, n in enumerate(nodes)}
    g = ig.Graph(n=len(nodes), edges=[(index[e["a_actor"]], index[e["b_actor"]]) for e in edges])
    np.random.seed(7)
    xy = np.array(g.layout_fruchterman_reingold(niter=300).coords) if len(nodes) > 1 else np.zeros((len(nodes), 2))
    strongest: dict[str, tuple[float, str]] = {}
    fig = go.Figure()
    by_family: dict[str, list] = {}
    for e in edges:
        fam, pct = max(((s.split("=")[0], float(s.split("=")[1].rstrip("%"))) for s in
                        e["families"].strip('[]"').split('","')), key=lambda t: t[1])
        by_family.setdefault(fam, []).append(e)
        for a in (e["a_actor"], e["b_actor"]):
            if pct > strongest.get(a, (-1, ""))[0]:
                strongest[a] = (pct, fam)
    for fam, rows in sorted(by_family.items()):
        xs, ys = [], []
        for e in rows:
            (x0, y0), (x1, y1) = xy[index[e["a_actor"]]], xy[index[e["b_actor"]]]
            xs += [x0, x1, None]
            ys += [y0, y1, None]
        fig.add_trace(go.Scattergl(x=xs, y=ys, mode="lines", line=dict(width=0.6, color=FAMILY_COLOURS.get(fam, "#999")),
                                   opacity=0.35, name=f"tie: {fam}", hoverinfo="skip"))
    for platform, symbol in (("llm-api", "diamond"), ("other", "circle")):
        pick = [i for i, n in enumerate(nodes) if (n["platform"] == "llm-api") == (platform == "llm-api")]
        if not pick:
            continue
        fig.add_trace(go.Scattergl(
            x=xy[pick, 0], y=xy[pick, 1], mode="markers", name="API accounts" if platform == "llm-api" else "personas",
            marker=dict(symbol=symbol, size=8, line=dict(width=0.5, color="#333"),
                        color=[FAMILY_COLOURS.get(strongest.get(nodes[i]["actor"], (0, ""))[1], "#bbb") for i in pick]),
            text=[f"{nodes[i]['actor']} score {nodes[i]['member_score']:.2f}" for i in pick], hoverinfo="text"))
    fig.update_layout(title=f"members and their ties ({len(edges):,} strongest shown), coloured by strongest signal",
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return figs.html(fig, f"network-{cid}", height=520)


def _infrastructure(x: dict, cid: int, figs: _Figures) -> str:
    infra = x["infrastructure"]
    if not infra.get("network_classes"):
        return f"<p class='muted'>{_e(infra.get('calls', 0))} API calls; no network enrichment in the store.</p>"
    fig = go.Figure(go.Bar(x=[r["value"] for r in infra["network_classes"]], y=[r["calls"] for r in infra["network_classes"]]))
    fig.update_layout(title="API calls by network class", yaxis_title="calls")
    tables = "".join(
        f"<div><h3>{title}</h3>" + _table(["value", "calls", "accounts"],
                                           [[r["value"], f"{r['calls']:,}", r["accounts"]] for r in infra[key][:8]], {1, 2})
        + "</div>" for key, title in (("prefixes", "prefixes"), ("asns", "AS organisations"),
                                      ("countries", "located in"), ("registered_countries", "registered in")))
    return f"{figs.html(fig, f'network-classes-{cid}', 260)}<div class='pair'>{tables}</div>"


def _lifecycle(store, m: ibis.Table, cid: int, x: dict, figs: _Figures) -> str:
    life = x["lifecycle"]
    f = store.table("account_features").join(m.select("actor"), "actor")
    before = f.filter(f.feature == "lifecycle:political_before").value.execute().tolist()
    after = f.filter(f.feature == "lifecycle:political_after").value.execute().tolist()
    fig = go.Figure()
    fig.add_trace(go.Bar(x=[p["day"] for p in life["pivot_days"]], y=[p["accounts"] for p in life["pivot_days"]],
                         name="personas pivoting that day"))
    fig.update_layout(title=f"pivot days: {life['pivoted']} of {life['accounts_with_lifecycle']} personas turned political",
                      yaxis_title="personas")
    box = go.Figure()
    box.add_trace(go.Box(y=before, name="political share before the pivot"))
    box.add_trace(go.Box(y=after, name="after"))
    box.update_layout(title="neutral first, then politics")
    return (f"<div class='pair'><div>{figs.html(fig, f'pivots-{cid}', width=660)}</div>"
            f"<div>{figs.html(box, f'pivot-shares-{cid}', width=660)}</div></div>")


def _enforcement(store, cid: int, m: ibis.Table) -> str:
    from chorusline.act.enforcement import enforcement_list

    confirmed = []
    if "decisions" in store.backend.list_tables():
        rows = enforcement_list(store).to_pyarrow().to_pylist()
        confirmed = [r for r in rows if r["campaign_id"] == cid]
    if confirmed:
        return ("<p>Confirmed by an analyst: accounts to suspend.</p>"
                + _table(["platform", "account", "confidence", "reasons"],
                         [[r["platform"], r["account_id"], f"{r['confidence']:.2f}", r["reasons"]] for r in confirmed[:200]],
                         {2}))
    rows = m.order_by([ibis.desc("member_score"), "actor"]).select("actor", "member_score", "suspicion").to_pyarrow().to_pylist()
    return ("<p class='muted'>Not confirmed yet (<code>chorusline decide " + str(cid) + " confirm --analyst ID</code>); "
            "proposed list, highest score first.</p>"
            + _table(["account", "member score", "suspicion"],
                     [[r["actor"], f"{r['member_score']:.2f}", f"{r['suspicion']:.2f}"] for r in rows[:200]], {1, 2}))


def _machine_text(mt: dict) -> str:
    if not mt["members"]["accounts"]:
        return (f"<p class='muted'>No member has {mt['min_posts']} posts to score (the detector is read per "
                "account, never per post).</p>")
    rows = [[name, r["accounts"], f"{r['p10']:.2f}", f"{r['median']:.2f}", f"{r['p90']:.2f}", f"{r['share_above']:.0%}"]
            for name, r in (("campaign members", mt["members"]), ("everyone scored", mt["population"]))]
    return (f"<p>Each account's posts pooled (mean log-odds, accounts with at least {mt['min_posts']} posts); "
            f"above {mt['threshold']:.2f} its posts read as machine-written — one piece of evidence, never a verdict "
            "(a person writing some posts with an assistant can pass it; docs/AI_TEXT.md).</p>"
            + _table(["accounts", "scored", "10th pct", "median", "90th pct", f"above {mt['threshold']:.2f}"], rows,
                     {1, 2, 3, 4, 5}))


def _paraphrase_ties(ties: dict) -> str:
    if not ties.get("posts"):
        return "<p class='muted'>No member post is tied to a member's API call by meaning.</p>"
    head = (f"<p>{ties['posts']:,} posts of {ties['personas']:,} personas say what one of the campaign's API calls "
            f"produced (or was asked for); {ties['paraphrased']:,} of them in other words (cosine below 0.95), which "
            "word matching alone would miss.")
    if ties.get("cross_language_examples"):
        head += f" {ties['cross_language_examples']} of the examples below cross languages."
    rows = [[r["source"], r["post"], f"{r['similarity']:.2f}", f"{r['lag_minutes']:,.0f}",
             f"{r['source_language'] or '?'} → {r['post_language'] or '?'}", r["source_kind"]] for r in ties["examples"]]
    return head + "</p>" + _table(["API call's text", "post", "cosine", "minutes after", "languages", "from"],
                                   rows, {2, 3})


def _campaign(store, cid: int, figs: _Figures) -> str:
    m = members_to_export(store, cid)
    x = explain(store, cid)
    c = x["campaign"]
    parts = [f"<h2>Campaign {cid} — score {c['score']:.2f} ({_e(c['tier'])})</h2><p>{_e(c['verdict'])}.</p>"
             f"<p>{c['flagged']:,} flagged accounts ({c['api_accounts']} API accounts, {c['social_accounts']} social "
             f"accounts); coordination {c['coordination']:.2f}, inauthenticity {c['inauthenticity']:.2f} "
             f"(measured on {c['coverage']:.0%} of the core).</p>"]

    def section(name: str, title: str, body: str) -> None:
        parts.append(f"<section id='{name}-{cid}' class='report-section'><h3>{_e(title)}</h3>{body}</section>")

    section("timeline", "Time line", _timeline(store, cid, x, figs))
    section("clock", "Operator clock against the claimed personas' clock", _clock(store, cid, m, x, figs))
    section("network", "Members and their ties", _network(store, cid, m, figs)
            + _table(["signal", "pairs", "accounts", "mean evidence"],
                     [[s["signal"], f"{s['edges']:,}", s["accounts"], f"{s['mean_evidence']:.2f}"] for s in x["signals"]],
                     {1, 2, 3}))
    section("infrastructure", "Shared infrastructure", _infrastructure(x, cid, figs))
    links = x["links"]
    section("links", "API accounts ↔ personas",
            f"<p>{links['links']:,} links: {links.get('api_accounts', 0)} API accounts write for "
            f"{links.get('personas', 0)} personas.</p>"
            + (f"<p>{links['recruited_personas']} persona(s) joined the campaign through these links alone: "
               "most of what they wrote is its generated text.</p>" if links.get("recruited_personas") else "")
            + "".join(f"<p>{o['links']:,} of them reach campaign {o['campaign_id']}: likely the same operation.</p>"
                      for o in links.get("linked_campaigns", []))
            + _table(["API account", "persona", "posts carried"],
                     [[r["api_actor"], r["persona_actor"], r["posts"]] for r in links["examples"]], {2}))
    section("meaning", "Texts tied by meaning", _paraphrase_ties(x["text_ties"]))
    section("machine-text", "Machine-written text (AI-text detector, pooled per account)",
            _machine_text(x["machine_text"]))
    templates = "".join(
        f"<h3>{_e(t['skeleton'])} <span class='muted'>({t['calls']:,} calls, {t['accounts']} accounts)</span></h3>"
        + _table(["prompt (filled)", "output"], [[v["prompt"], v["output"]] for v in t["variants"]])
        for t in x["templates"])
    section("templates", "Prompt templates and their filled variants", templates or "<p class='muted'>none</p>")
    n = x["narratives"]
    section("texts", "Narratives and representative texts",
            "<p>" + "".join(f"<span class='tag'>{_e(t['word'])}</span>" for t in n["top_terms"]) + "</p>"
            + _table(["text", "accounts", "posts"], [[t["text"], t["accounts"], t["posts"]] for t in n["representative_texts"]],
                     {1, 2})
            + (f"<h3>{len(x['narrative_groups'])} narratives inside the campaign</h3>"
               + _table(["narrative", "members", "what it pushes", "example"],
                        [[g["narrative_id"], g["members"], ", ".join(g["top_terms"][:10]),
                          g["example_texts"][0] if g["example_texts"] else ""] for g in x["narrative_groups"]], {1})
               if len(x["narrative_groups"]) > 1 else ""))
    section("lifecycle", "Lifecycle: the pivot to politics", _lifecycle(store, m, cid, x, figs))
    section("disarm", "DISARM techniques (Red Framework v1.6)",
            _table(["id", "technique", "tactic", "evidence"],
                   [[d["external_id"], d["name"], ", ".join(d["tactics"]), d["evidence"]] for d in x["disarm"]]))
    b = x["breakout"]
    section("breakout", "Breakout Scale estimate",
            f"<p><b>Category {b['category']}</b> — platforms: {_e(', '.join(b['platforms']))}. {_e(b['note'])}.</p>"
            + _table(["platform", "outside accounts engaging", "actions"],
                     [[r["platform"], r["accounts"], r["actions"]] for r in b["outside_engagement"]], {1, 2}))
    section("enforcement", "Enforcement list", _enforcement(store, cid, m))
    return f"<article id='campaign-{cid}'>{''.join(parts)}</article>"


def write_report(store, out: Path, campaign_ids: list[int] | None = None, title: str = "chorusline report") -> int:
    """Write the report; returns the number of campaigns in it."""
    campaign_ids = campaigns_to_export(store, campaign_ids)
    rows = store.table("campaigns").order_by([ibis.desc("score"), "campaign_id"]).to_pyarrow().to_pylist()
    figs = _Figures()
    overview = _table(["campaign", "score", "members", "flagged", "API", "social", "coordination", "inauthenticity",
                       "tier", "why"],
                      [[r["campaign_id"], f"{r['score']:.2f}", r["size"], r["flagged"], r["api_accounts"],
                        r["social_accounts"], f"{r['coordination']:.2f}", f"{r['inauthenticity']:.2f}",
                        r["tier"], r["verdict"]] for r in rows], {1, 2, 3, 4, 5, 6, 7})
    body = [f"<section id='overview' class='report-section'><h2>Campaigns</h2>{overview}</section>"]
    with stage("report: campaigns", total=len(campaign_ids)) as written:
        for cid in campaign_ids:
            body.append(_campaign(store, int(cid), figs))
            written.advance()
    made = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<style>{CSS}</style></head><body><header><h1>{_e(title)}</h1><div>generated {made}; "
            f"{len(campaign_ids)} campaign(s) reported</div></header><main>{''.join(body)}</main></body></html>")
    Path(out).write_text(page, encoding="utf-8")
    return len(campaign_ids)
