"""`chorusline report`: one self-contained HTML file an analyst would rather look at than read.

It opens with a summary (what was found, how sure, what to do next: ``report_summary``) and the
scores explained in plain words, then an overview of every cluster, then per reported campaign its
time line with news events, the operator clock (UTC hour × weekday) beside the clock its personas'
claimed places would give, the member network coloured by the strongest tie, shared
infrastructure, API accounts ↔ personas, prompt templates with their filled variants (non-Latin
text with a machine transliteration: ``report_text``), representative texts, the lifecycle pivots,
DISARM techniques, the Breakout estimate and the enforcement list in full. Every section is a
``<section id=…>`` so tests and readers can address it.

The pieces are reusable (the web app shows the same figures): each ``*_figure`` function returns a
plotly Figure, each ``*_section`` function an HTML fragment, and ``campaign_sections`` all of one
campaign's fragments by name. Charts are drawn by ``report_assets/render.js`` from JSON data blocks
(``report_html``); the report inlines plotly.js's cartesian bundle gzipped (0.5 MB, against 4.8 MB
for the full bundle plotly.py would inline), so the file still opens offline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import numpy as np
import plotly.graph_objects as go

from chorusline.campaigns.explain import explain, with_account_columns
from chorusline.campaigns.score import ScoreParams
from chorusline.export.report_html import TABLE_CONTEXT, e, figure_div, page, table
from chorusline.export.report_summary import scores_explained, summary_section
from chorusline.export.report_text import non_latin_script, readable
from chorusline.export.shared import campaigns_to_export, members_to_export
from chorusline.progress import stage
from chorusline.signals.circadian import CircadianParams, clock_templates

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
FAMILY_COLOURS = {"provenance": "#d62728", "infrastructure": "#1f77b4", "prompt_template": "#9467bd",
                  "near_duplicate": "#ff7f0e", "synchrony": "#2ca02c", "coshare": "#8c564b", "fast_share": "#e377c2",
                  "hashtag_sequence": "#17becf"}
NETWORK_MAX_EDGES = 4000


# -- figures: plotly Figures, one function each ------------------------------------------------------------

def timeline_figure(store, x: dict) -> go.Figure:
    """Posts and API calls per UTC day, news events marked above them."""
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
            fig.add_trace(go.Scatter(x=[ev["ts"] for ev in events], y=[top * 1.05] * len(events), mode="markers",
                                     marker=dict(symbol="triangle-down", size=10, color="#444"), name="news events",
                                     text=[f"{ev['topic']}: {ev['label']}" for ev in events], hoverinfo="text+x"))
    fig.update_layout(title="activity per day, news events marked",
                      xaxis_title="day (UTC)", yaxis_title="posts or API calls per day")
    return fig


def clock_matrices(store, m: ibis.Table) -> tuple[np.ndarray, np.ndarray]:
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


def clock_figures(store, m: ibis.Table, x: dict) -> tuple[go.Figure, go.Figure]:
    """The operator clock (what the members did, UTC) and the clock their claimed places would give."""
    counts, expected = clock_matrices(store, m)
    hours = [f"{h:02d}" for h in range(24)]
    c = x["clock"]
    axes = dict(xaxis_title="hour of day (UTC)", yaxis=dict(autorange="reversed", title=dict(text="weekday")))
    left = go.Figure(go.Heatmap(z=counts.round(1), x=hours, y=DAYS, colorscale="Reds",
                                colorbar=dict(title=dict(text="actions"), thickness=12)))
    left.update_layout(title=f"what the members did (UTC); fits UTC{c['operator_offset']:+.0f}"
                       if c["operator_offset"] is not None else "what the members did (UTC)", **axes)
    right = go.Figure(go.Heatmap(z=expected.round(1), x=hours, y=DAYS, colorscale="Blues",
                                 colorbar=dict(title=dict(text="expected"), thickness=12)))
    right.update_layout(title="what their claimed places' clocks would give (UTC)", **axes)
    return left, right


def _strongest_family(families: str) -> tuple[str, float]:
    """('provenance', 83.0) from a fused edge's families: ["infrastructure=61%","provenance=83%"]."""
    return max(((s.split("=")[0], float(s.split("=")[1].rstrip("%"))) for s in families.strip('[]"').split('","')),
               key=lambda t: t[1])


def network_figure(store, m: ibis.Table, max_edges: int = NETWORK_MAX_EDGES) -> go.Figure:
    """Members (API accounts as diamonds, personas as circles) and their strongest fused ties,
    coloured by the strongest signal family; a force layout, so position has no scale."""
    import igraph as ig

    nodes = m.select("actor", "platform", "member_score").order_by("actor").to_pyarrow().to_pylist()
    f = store.table("fused_edges")
    inside = f.semi_join(m.select(a_actor=m.actor), "a_actor").semi_join(m.select(b_actor=m.actor), "b_actor")
    total = int(inside.count().execute())
    inside = inside.order_by([ibis.desc("weight"), "a_actor", "b_actor"]).limit(max_edges)
    edges = inside.select("a_actor", "b_actor", "families").to_pyarrow().to_pylist()
    index = {n["actor"]: i for i, n in enumerate(nodes)}
    g = ig.Graph(n=len(nodes), edges=[(index[ed["a_actor"]], index[ed["b_actor"]]) for ed in edges])
    np.random.seed(7)
    xy = np.array(g.layout_fruchterman_reingold(niter=300).coords) if len(nodes) > 1 else np.zeros((len(nodes), 2))
    xy = xy.round(2)  # a screen position; more digits only weigh on the file
    strongest: dict[str, tuple[float, str]] = {}
    by_family: dict[str, list] = {}
    for ed in edges:
        fam, pct = _strongest_family(ed["families"])
        by_family.setdefault(fam, []).append(ed)
        for a in (ed["a_actor"], ed["b_actor"]):
            if pct > strongest.get(a, (-1, ""))[0]:
                strongest[a] = (pct, fam)
    fig = go.Figure()
    for fam, rows in sorted(by_family.items()):
        xs, ys = [], []
        for ed in rows:
            (x0, y0), (x1, y1) = xy[index[ed["a_actor"]]], xy[index[ed["b_actor"]]]
            xs += [x0, x1, None]
            ys += [y0, y1, None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(width=0.6, color=FAMILY_COLOURS.get(fam, "#999")),
                                 opacity=0.35, name=f"tie: {fam}", hoverinfo="skip"))
    for platform, symbol in (("llm-api", "diamond"), ("other", "circle")):
        pick = [i for i, n in enumerate(nodes) if (n["platform"] == "llm-api") == (platform == "llm-api")]
        if not pick:
            continue
        fig.add_trace(go.Scatter(
            x=xy[pick, 0], y=xy[pick, 1], mode="markers", name="API accounts" if platform == "llm-api" else "personas",
            marker=dict(symbol=symbol, size=8, line=dict(width=0.5, color="#333"),
                        color=[FAMILY_COLOURS.get(strongest.get(nodes[i]["actor"], (0, ""))[1], "#bbb") for i in pick]),
            text=[f"{nodes[i]['actor']} score {nodes[i]['member_score']:.2f}" for i in pick], hoverinfo="text"))
    shown = f"{len(edges):,} strongest of {total:,} ties shown" if total > len(edges) else f"{total:,} ties"
    fig.update_layout(title=f"members and their ties ({shown}), coloured by the strongest signal",
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def network_class_figure(x: dict) -> go.Figure | None:
    """API calls by the class of network they came from (hosting, residential, VPN, …)."""
    classes = x["infrastructure"].get("network_classes")
    if not classes:
        return None
    fig = go.Figure(go.Bar(x=[r["value"] for r in classes], y=[r["calls"] for r in classes]))
    fig.update_layout(title="API calls by network class", xaxis_title="network class of the calling IP",
                      yaxis_title="API calls")
    return fig


def pivot_figures(store, m: ibis.Table, x: dict) -> tuple[go.Figure, go.Figure]:
    """The days personas turned political, and their political share before and after."""
    life = x["lifecycle"]
    f = store.table("account_features").join(m.select("actor"), "actor")
    before = f.filter(f.feature == "lifecycle:political_before").value.execute().tolist()
    after = f.filter(f.feature == "lifecycle:political_after").value.execute().tolist()
    days = go.Figure(go.Bar(x=[p["day"] for p in life["pivot_days"]], y=[p["accounts"] for p in life["pivot_days"]],
                            name="personas pivoting that day"))
    span = [dt.date.fromisoformat(str(p["day"])[:10]) for p in life["pivot_days"]]
    step = max(1, -(-((max(span) - min(span)).days + 1) // 10)) if span else 1  # at most ~10 ticks, whole days
    days.update_layout(title=f"pivot days: {life['pivoted']} of {life['accounts_with_lifecycle']} personas turned "
                             "political", xaxis=dict(title=dict(text="day the persona turned political (UTC)"),
                                              type="date", tickformat="%b %d", dtick=step * 86_400_000),
                       yaxis_title="personas")
    shares = go.Figure()
    shares.add_trace(go.Box(y=before, name="before the pivot"))
    shares.add_trace(go.Box(y=after, name="after the pivot"))
    shares.update_layout(title="neutral first, then politics", showlegend=False, xaxis_title="each persona's posts",
                         yaxis=dict(title=dict(text="share of posts on politics"), tickformat=".0%", range=[0, 1.02]))
    return days, shares


# -- sections: HTML fragments, one function each, all called (store, cid, m, x) ------------------------------

def _pair(left: str, right: str) -> str:
    return f"<div class='pair'><div>{left}</div><div>{right}</div></div>"


def timeline_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    return figure_div(timeline_figure(store, x), f"timeline-{cid}")


def clock_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    left, right = clock_figures(store, m, x)
    c = x["clock"]
    note = ""
    if c.get("mean_offset_conflict_hours") is not None:
        note = (f"<p>Office hours for {c['office_clock_share']:.0%} of members; their claimed places are "
                f"{c['mean_offset_conflict_hours']:.1f} h from the operator clock on average.</p>")
    return _pair(figure_div(left, f"clock-{cid}", 300), figure_div(right, f"claimed-clock-{cid}", 300)) + note


def network_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    return (figure_div(network_figure(store, m), f"network-{cid}", 520)
            + "<p class='muted'>Each row: one signal, the member pairs it ties, the members it touches, and its "
              "mean evidence (0 = no more shared than chance, near 1 = far beyond it; "
              "<a href='#scores-explained'>how to read the scores</a>).</p>"
            + table(["signal", "pairs", "accounts", "mean evidence"],
                    [[s["signal"], f"{s['edges']:,}", s["accounts"], f"{s['mean_evidence']:.2f}"]
                     for s in x["signals"]],
                    {1, 2, 3}))


def infrastructure_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    infra = x["infrastructure"]
    fig = network_class_figure(x)
    if fig is None:
        return f"<p class='muted'>{e(infra.get('calls', 0))} API calls; no network enrichment in the store.</p>"
    tables = "".join(
        f"<div><h3>{title}</h3>" + table(["value", "calls", "accounts"],
                                          [[r["value"], f"{r['calls']:,}", r["accounts"]] for r in infra[key][:8]],
                                          {1, 2})
        + "</div>" for key, title in (("prefixes", "prefixes"), ("asns", "AS organisations"),
                                      ("countries", "located in"), ("registered_countries", "registered in")))
    return f"{figure_div(fig, f'network-classes-{cid}', 280)}<div class='pair'>{tables}</div>"


def links_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    links = x["links"]
    return (f"<p>{links['links']:,} links: {links.get('api_accounts', 0)} API accounts write for "
            f"{links.get('personas', 0)} personas.</p>"
            + (f"<p>{links['recruited_personas']} persona(s) joined the campaign through these links alone: "
               "most of what they wrote is its generated text.</p>" if links.get("recruited_personas") else "")
            + "".join(f"<p>{o['links']:,} of them reach campaign {o['campaign_id']}: likely the same operation.</p>"
                      for o in links.get("linked_campaigns", []))
            + table(["API account", "persona", "posts carried"],
                    [[r["api_actor"], r["persona_actor"], r["posts"]] for r in links["examples"]], {2}, ids={0, 1}))


def _script_note(texts: list[str | None]) -> str:
    """A line saying which scripts the texts below are in and that they need a translator."""
    scripts = sorted({s for s in map(non_latin_script, texts) if s})
    if not scripts:
        return ""
    return (f"<p class='muted'>Text in {', '.join(scripts)} is shown as written, with a machine transliteration "
            "under it (pinyin for Chinese) so it can be read out, matched and searched; it is not a translation — "
            "what it says needs a reader of the language.</p>")


def meaning_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    ties = x["text_ties"]
    if not ties.get("posts"):
        return "<p class='muted'>No member post is tied to a member's API call by meaning.</p>"
    head = (f"<p>{ties['posts']:,} posts of {ties['personas']:,} personas say what one of the campaign's API calls "
            f"produced (or was asked for); {ties['paraphrased']:,} of them in other words (cosine below 0.95), which "
            "word matching alone would miss.")
    if ties.get("cross_language_examples"):
        head += f" {ties['cross_language_examples']} of the examples below cross languages."
    rows = [[readable(r["source"]), readable(r["post"]), f"{r['similarity']:.2f}", f"{r['lag_minutes']:,.0f}",
             e(f"{r['source_language'] or '?'} → {r['post_language'] or '?'}"), e(r["source_kind"])]
            for r in ties["examples"]]
    texts = [r["source"] for r in ties["examples"]] + [r["post"] for r in ties["examples"]]
    return (head + "</p>" + _script_note(texts)
            + table(["API call's text", "post", "cosine", "minutes after", "languages", "from"], rows, {2, 3},
                    raw={0, 1, 2, 3, 4, 5}, wide={0, 1}))


def machine_text_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    mt = x["machine_text"]
    if not mt["members"]["accounts"]:
        return (f"<p class='muted'>No member has {mt['min_posts']} posts to score (the detector is read per "
                "account, never per post).</p>")
    rows = [[name, r["accounts"], f"{r['p10']:.2f}", f"{r['median']:.2f}", f"{r['p90']:.2f}", f"{r['share_above']:.0%}"]
            for name, r in (("campaign members", mt["members"]), ("everyone scored", mt["population"]))]
    return (f"<p>Each account's posts pooled (mean log-odds, accounts with at least {mt['min_posts']} posts); "
            f"above {mt['threshold']:.2f} its posts read as machine-written — one piece of evidence, never a verdict "
            "(a person writing some posts with an assistant can pass it; docs/AI_TEXT.md).</p>"
            + table(["accounts", "scored", "10th pct", "median", "90th pct", f"above {mt['threshold']:.2f}"], rows,
                    {1, 2, 3, 4, 5}))


def templates_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    if not x["templates"]:
        return "<p class='muted'>none</p>"
    texts = [t["skeleton"] for t in x["templates"]] + [v["prompt"] for t in x["templates"] for v in t["variants"]]
    return _script_note(texts) + "".join(
        f"<h3>{readable(t['skeleton'])} <span class='muted'>({t['calls']:,} calls, {t['accounts']} accounts)"
        "</span></h3>"
        + table(["prompt (filled)", "output"], [[readable(v["prompt"]), readable(v["output"])] for v in t["variants"]],
                raw={0, 1}, wide={0, 1})
        for t in x["templates"])


def texts_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    n = x["narratives"]
    groups = x["narrative_groups"]
    texts = [t["text"] for t in n["representative_texts"]] + [g["example_texts"][0] for g in groups
                                                              if g["example_texts"]]
    return ("<p>" + "".join(f"<span class='tag'>{readable(t['word'])}</span>" for t in n["top_terms"]) + "</p>"
            + _script_note(texts)
            + table(["text", "accounts", "posts"],
                    [[readable(t["text"]), t["accounts"], t["posts"]] for t in n["representative_texts"]], {1, 2},
                    raw={0}, wide={0})
            + (f"<h3>{len(groups)} narratives inside the campaign</h3>"
               + table(["narrative", "members", "what it pushes", "example"],
                       [[e(g["narrative_id"]), e(g["members"]), readable(", ".join(g["top_terms"][:10])),
                         readable(g["example_texts"][0] if g["example_texts"] else "")] for g in groups], {1},
                       raw={0, 1, 2, 3}, wide={2, 3})
               if len(groups) > 1 else ""))


def lifecycle_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    days, shares = pivot_figures(store, m, x)
    return _pair(figure_div(days, f"pivots-{cid}"), figure_div(shares, f"pivot-shares-{cid}"))


def disarm_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    return table(["id", "technique", "tactic", "evidence"],
                 [[d["external_id"], d["name"], ", ".join(d["tactics"]), d["evidence"]] for d in x["disarm"]],
                 ids={0}, wide={3})


def breakout_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    b = x["breakout"]
    return (f"<p><b>Category {b['category']}</b> — platforms: {e(', '.join(b['platforms']))}. {e(b['note'])}.</p>"
            + table(["platform", "outside accounts engaging", "actions"],
                    [[r["platform"], r["accounts"], r["actions"]] for r in b["outside_engagement"]], {1, 2}))


def enforcement_section(store, cid: int, m: ibis.Table, x: dict) -> str:
    """Every account of the campaign to act on, none cut: the enforcement list once an analyst has
    confirmed the campaign, else the flagged members as a proposal; each with its reasons."""
    from chorusline.act.enforcement import enforcement_list, member_reasons

    if "decisions" in store.backend.list_tables():
        el = enforcement_list(store)
        confirmed = el.filter(el.campaign_id == cid).to_pyarrow().to_pylist()
        if confirmed:
            return (f"<p>Confirmed by an analyst: <b>{len(confirmed):,} accounts to suspend</b>, highest confidence "
                    "first (the whole list; it scrolls). As CSV: <code>chorusline enforce --db DB --out "
                    "enforcement.csv</code>.</p>"
                    + table(["#", "platform", "account", "confidence", "reasons"],
                            [[i, r["platform"], r["account_id"], f"{r['confidence']:.2f}", r["reasons"]]
                             for i, r in enumerate(confirmed, 1)], {0, 3}, tall=True, ids={1, 2}, wide={4}, cards=True,
                            label=f"enforcement list of campaign {cid}"))
    reasons = member_reasons(store, m.select("campaign_id", "actor"))
    j = m.join(reasons, ["campaign_id", "actor"])
    rows = j.order_by([ibis.desc("member_score"), "actor"]).select(
        "actor", "member_score", "suspicion", "core", "recruited", "reasons").to_pyarrow().to_pylist()
    return (f"<p class='muted'>Not confirmed yet (<code>chorusline decide confirm --campaign {cid} --analyst YOU "
            f"--db DB</code>): the proposed list, <b>all {len(rows):,} flagged accounts</b>, highest score first "
            "(it scrolls).</p>"
            + table(["#", "account", "member score", "suspicion", "role", "reasons"],
                    [[i, r["actor"], f"{r['member_score']:.2f}", f"{r['suspicion']:.2f}",
                      "recruited" if r["recruited"] else "core" if r["core"] else "periphery", r["reasons"]]
                     for i, r in enumerate(rows, 1)], {0, 2, 3}, tall=True, ids={1}, wide={5}, cards=True,
                    label=f"proposed enforcement list of campaign {cid}"))


SECTIONS = (("timeline", "Time line", timeline_section),
            ("clock", "Operator clock against the claimed personas' clock", clock_section),
            ("network", "Members and their ties", network_section),
            ("infrastructure", "Shared infrastructure", infrastructure_section),
            ("links", "API accounts ↔ personas", links_section),
            ("meaning", "Texts tied by meaning", meaning_section),
            ("machine-text", "Machine-written text (AI-text detector, pooled per account)", machine_text_section),
            ("templates", "Prompt templates and their filled variants", templates_section),
            ("texts", "Narratives and representative texts", texts_section),
            ("lifecycle", "Lifecycle: the pivot to politics", lifecycle_section),
            ("disarm", "DISARM techniques (Red Framework v1.6)", disarm_section),
            ("breakout", "Breakout Scale estimate", breakout_section),
            ("enforcement", "Enforcement list", enforcement_section))
SECTION_TITLES = {name: title for name, title, _ in SECTIONS}


def campaign_head(cid: int, x: dict) -> str:
    c = x["campaign"]
    return (f"<h2>Campaign {cid} — score {c['score']:.2f} ({e(c['tier'])})</h2><p>{e(c['verdict'])}.</p>"
            f"<p>{c['flagged']:,} flagged accounts ({c['api_accounts']} API accounts, {c['social_accounts']} social "
            f"accounts); coordination {c['coordination']:.2f}, inauthenticity {c['inauthenticity']:.2f} "
            f"(measured on {c['coverage']:.0%} of the core).</p>")


def campaign_sections(store, campaign_id: int, explanation: dict | None = None,
                      names: tuple[str, ...] | None = None) -> dict[str, str]:
    """One campaign's fragments by name, in report order: ``head`` (title, verdict, figures), then
    every name of ``SECTIONS`` (their titles in ``SECTION_TITLES``), or only those in ``names``
    (a page that shows the network its own way skips the layout of ``network``). Each is an HTML
    fragment without its ``<section>`` wrapper; charts in it are drawn by render.js
    (``report_html``). ``explanation``: ``explain``'s answer when the caller has it already.
    ExportError when the campaign has no flagged member; KeyError for a name not in SECTIONS."""
    unknown = set(names or ()) - set(SECTION_TITLES)
    if unknown:
        raise KeyError(f"no report section {sorted(unknown)}; sections: {list(SECTION_TITLES)}")
    m = members_to_export(store, campaign_id)
    x = explanation if explanation is not None else explain(store, campaign_id)
    out = {"head": campaign_head(campaign_id, x)}
    token = TABLE_CONTEXT.set(f"campaign {campaign_id}: ")
    try:
        for name, _, build in SECTIONS:
            if names is None or name in names:
                out[name] = build(store, campaign_id, m, x)
    finally:
        TABLE_CONTEXT.reset(token)
    return out


def _campaign_article(cid: int, sections: dict[str, str]) -> str:
    parts = [f"<div class='campaign-head'>{sections['head']}</div>"]
    parts += [f"<section id='{name}-{cid}' class='report-section'><h3>{e(title)}</h3>{sections[name]}</section>"
              for name, title, _ in SECTIONS]
    return f"<article id='campaign-{cid}'>{''.join(parts)}</article>"


def _overview(rows: list[dict]) -> str:
    return ("<section id='overview' class='report-section'><h2>Campaigns</h2>"
            "<p class='muted'>Every cluster the detection found, reported or not, highest score first.</p>"
            + table(["campaign", "score", "members", "flagged", "API", "social", "coordination", "inauthenticity",
                     "coverage", "tier", "why"],
                    [[r["campaign_id"], f"{r['score']:.2f}", r["size"], r["flagged"], r["api_accounts"],
                      r["social_accounts"], f"{r['coordination']:.2f}", f"{r['inauthenticity']:.2f}",
                      f"{r['coverage']:.0%}", r["tier"], r["verdict"]] for r in rows], {1, 2, 3, 4, 5, 6, 7, 8},
                    tall=True, label="every cluster", wide={10}, cards=True)
            + "</section>")


def _decisions(store) -> tuple[dict[int, dict], dict[int, int]]:
    """The latest decision per campaign id, and the enforcement list's size per confirmed campaign."""
    if "decisions" not in store.backend.list_tables():
        return {}, {}
    from chorusline.act.decisions import current_decisions
    from chorusline.act.enforcement import enforcement_list

    latest = {r["campaign_id"]: r for r in current_decisions(store).to_pyarrow().to_pylist()}
    el = enforcement_list(store)
    sizes = el.group_by("campaign_id").aggregate(n=el.count()).to_pyarrow().to_pylist()
    return latest, {r["campaign_id"]: r["n"] for r in sizes}


def write_report(store, out: Path, campaign_ids: list[int] | None = None, title: str = "chorusline report",
                 score_params: ScoreParams | None = None) -> int:
    """Write the report; returns the number of campaigns in it. ``score_params``: the ``[score]``
    settings detection ran with (default: the defaults), for the explanation and the summary."""
    params = score_params or ScoreParams()
    campaign_ids = campaigns_to_export(store, campaign_ids)
    rows = store.table("campaigns").order_by([ibis.desc("score"), "campaign_id"]).to_pyarrow().to_pylist()
    explained, articles = {}, []
    with stage("report: campaigns", total=len(campaign_ids)) as written:
        for cid in campaign_ids:
            explained[cid] = explain(store, cid)
            articles.append(_campaign_article(cid, campaign_sections(store, cid, explained[cid])))
            written.advance()
    decisions, enforcement_sizes = _decisions(store)
    summary = summary_section(rows, campaign_ids, explained, decisions, enforcement_sizes, params)
    made = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = summary + scores_explained(params) + _overview(rows) + "".join(articles)
    Path(out).write_text(page(title, f"generated {made}; {len(campaign_ids)} campaign(s) reported", body),
                         encoding="utf-8")
    return len(campaign_ids)
