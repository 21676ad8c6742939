"""Why a campaign is a campaign: its evidence, gathered from the store for one campaign id.

Every section is an engine query over the members of one campaign (a few hundred accounts), and
only its small answer leaves the engine: which signal families tie the members and how strongly,
examples of what they share, the network they come from, the operator clock against the clocks
their claimed places would give, prompt templates with filled variants, the API accounts behind the
personas, pivots, narratives (distinctive terms and the most repeated texts), the daily time line,
the ties by meaning between API outputs and posts (`text_evidence`), the DISARM techniques the evidence shows and a Breakout Scale estimate."""

from __future__ import annotations

import json
from collections import Counter

import ibis

from chorusline.campaigns.breakout import breakout_estimate
from chorusline.campaigns.disarm import observed_techniques
from chorusline.campaigns.text_evidence import machine_text_distribution, paraphrase_ties
from chorusline.graph.fuse import signal_evidence
from chorusline.signals.prompt_template import skeleton
from chorusline.signals.topics import words


class CampaignNotFound(LookupError):
    """No campaign with that id in the store (or no detection run yet)."""


def _rows(expr: ibis.Table, limit: int | None = None) -> list[dict]:
    if limit is not None:
        expr = expr.limit(limit)
    return expr.to_pyarrow().to_pylist()


def flagged_members(store, campaign_id: int) -> ibis.Table:
    """The campaign's flagged rows of ``campaign_members``; CampaignNotFound when there are none."""
    if "campaign_members" not in store.backend.list_tables():
        raise CampaignNotFound("the store has no campaigns: run `chorusline detect` first")
    m = store.table("campaign_members")
    m = m.filter((m.campaign_id == campaign_id) & m.flagged)
    if m.count().execute() == 0:
        known = store.table("campaigns").campaign_id.execute().tolist()
        raise CampaignNotFound(f"no campaign {campaign_id} with flagged members; campaigns: {sorted(known)[:20]}")
    return m


def with_account_columns(actor_table: ibis.Table, column: str = "actor") -> ibis.Table:
    """The table with ``platform`` and ``account_id`` split out of its ``platform:account_id`` column."""
    return actor_table.mutate(platform=actor_table[column].split(":")[0],
                              account_id=actor_table[column].substr(actor_table[column].find(":") + 1))


def _inside(edges: ibis.Table, m: ibis.Table) -> ibis.Table:
    """The edges with both ends among the members."""
    return edges.semi_join(m.select(a_actor=m.actor), "a_actor").semi_join(m.select(b_actor=m.actor), "b_actor")


def signal_summary(store, m: ibis.Table) -> list[dict]:
    ev = signal_evidence(store.table("edges"))
    inside = _inside(ev, m)
    ends = inside.select("signal", actor=inside.a_actor).union(inside.select("signal", actor=inside.b_actor))
    touched = ends.group_by("signal").aggregate(accounts=ends.actor.nunique())
    # six places: a float mean's last digits follow the engine's summation order, which a parallel
    # aggregate does not fix (two runs of one query differed in the 16th)
    per = inside.group_by(["signal", "family"]).aggregate(edges=inside.count(),
                                                          mean_evidence=inside.evidence.mean().round(6),
                                                          events=inside.n_events.sum())
    per = per.join(touched, "signal").order_by([ibis.desc("edges"), "signal"])
    raw = store.table("edges")
    examples = {}
    for row in _rows(per):
        r = _inside(raw.filter(raw.signal == row["signal"]), m)
        top = r.order_by([ibis.desc("n_events"), "a_actor", "b_actor"]).select("evidence").limit(3)
        examples[row["signal"]] = [json.loads(e["evidence"]) for e in _rows(top)]
    return [{**row, "examples": examples.get(row["signal"], [])} for row in _rows(per)]


def infrastructure(store, m: ibis.Table, limit: int = 10) -> dict:
    calls = store.table("llm_calls")
    api = with_account_columns(m.filter(m.platform == "llm-api"))
    c = calls.join(api.select("account_id"), "account_id").select("ip", "account_id")
    out = {"calls": int(c.count().execute()), "distinct_ips": int(c.ip.nunique().execute())}
    if "network_info" not in store.backend.list_tables():
        return out
    n = store.table("network_info")
    j = c.join(n, "ip")
    for key, col in (("prefixes", "prefix"), ("asns", "as_org"), ("countries", "country"),
                     ("registered_countries", "registered_country"), ("network_classes", "network_class")):
        g = j.group_by(j[col]).aggregate(calls=j.count(), accounts=j.account_id.nunique())
        out[key] = _rows(g.order_by(ibis.desc("calls")).rename(value=col), limit)
    return out


def clocks(store, m: ibis.Table) -> dict:
    f = store.table("account_features")
    f = f.join(m.select("actor"), "actor")
    wanted = ["circadian:utc_offset", "circadian:claimed_offset", "circadian:office_clock", "circadian:offset_conflict"]
    got = _rows(f.filter(f.feature.isin(wanted)).select("actor", "feature", "value", "evidence"))
    by = {name: [r["value"] for r in got if r["feature"] == name] for name in wanted}
    hours = [0] * 24
    for r in got:
        if r["feature"] == "circadian:utc_offset":
            hours = [a + b for a, b in zip(hours, json.loads(r["evidence"])["utc_hours"])]
    mode = Counter(by["circadian:utc_offset"]).most_common(1)
    claimed = Counter(by["circadian:claimed_offset"]).most_common(3)
    return {"operator_offset": mode[0][0] if mode else None,
            "operator_offset_share": mode[0][1] / len(by["circadian:utc_offset"]) if mode else None,
            "office_clock_share": (sum(by["circadian:office_clock"]) / len(by["circadian:office_clock"])
                                   if by["circadian:office_clock"] else None),
            "claimed_offsets": [{"offset": o, "accounts": n} for o, n in claimed],
            "mean_offset_conflict_hours": (sum(by["circadian:offset_conflict"]) / len(by["circadian:offset_conflict"])
                                           if by["circadian:offset_conflict"] else None),
            "utc_hours": hours}


def templates(store, m: ibis.Table, limit: int = 3, variants: int = 3) -> list[dict]:
    calls = store.table("llm_calls")
    api = with_account_columns(m.filter(m.platform == "llm-api"))
    c = calls.join(api.select("account_id"), "account_id").filter(calls.prompt.notnull())
    c = c.mutate(skeleton=skeleton(c.prompt))
    top = c.group_by("skeleton").aggregate(calls=c.count(), accounts=c.account_id.nunique(),
                                           fills=c.prompt.nunique())
    top = top.filter(top.fills >= 2).order_by([ibis.desc("calls"), "skeleton"]).limit(limit)
    out = []
    for row in _rows(top):
        same = c.filter(c.skeleton == row["skeleton"])
        examples = same.group_by("prompt").aggregate(output=same.output.min())
        out.append({**row, "variants": _rows(examples.order_by("prompt"), variants)})
    return out


def links(store, campaign_id: int, limit: int = 10) -> dict:
    if "campaign_links" not in store.backend.list_tables():
        return {"links": 0, "examples": []}
    t = store.table("campaign_links")
    t = t.filter((t.campaign_id == campaign_id) | (t.api_campaign_id == campaign_id))
    # links whose other end was clustered into another campaign: evidence the two are one operation
    other = ibis.ifelse(t.campaign_id == campaign_id, t.api_campaign_id, t.campaign_id)
    across = t.filter(other != campaign_id).mutate(other=other)
    across = across.group_by("other").aggregate(links=across.count()).order_by([ibis.desc("links"), "other"])
    m = store.table("campaign_members")
    recruited = m.filter((m.campaign_id == campaign_id) & m.recruited) if "recruited" in m.columns else m.limit(0)
    # recruited through the links: personas carrying the campaign's text (not writers, nor accounts
    # attached by their weak ties, `campaigns.consolidate`)
    recruited = recruited.semi_join(t.select(actor=t.persona_actor), "actor")
    return {"links": int(t.count().execute()), "api_accounts": int(t.api_actor.nunique().execute()),
            "personas": int(t.persona_actor.nunique().execute()),
            "recruited_personas": int(recruited.count().execute()),
            "linked_campaigns": [{"campaign_id": r["other"], "links": r["links"]} for r in _rows(across)],
            "examples": _rows(t.order_by([ibis.desc("posts"), "api_actor", "persona_actor"])
                              .select("api_actor", "persona_actor", "posts"), limit)}


def pivots(store, m: ibis.Table) -> dict:
    f = store.table("account_features").join(m.select("actor"), "actor")
    f = f.filter(f.feature.isin(["lifecycle:pivot_gain", "lifecycle:days_to_pivot"]))
    rows = _rows(f.select("actor", "feature", "value", "evidence"))
    gains = [r for r in rows if r["feature"] == "lifecycle:pivot_gain"]
    pivoted = [r for r in gains if r["value"] >= 0.5]
    days = Counter(json.loads(r["evidence"])[0].split(" ", 1)[1] for r in pivoted)
    delays = sorted(r["value"] for r in rows if r["feature"] == "lifecycle:days_to_pivot")
    return {"accounts_with_lifecycle": len(gains), "pivoted": len(pivoted),
            "median_days_to_pivot": delays[len(delays) // 2] if delays else None,
            "pivot_days": [{"day": d, "accounts": n} for d, n in sorted(days.items())]}


def narratives(store, m: ibis.Table, terms: int = 15, texts: int = 5) -> dict:
    posts = store.table("posts")
    social = with_account_columns(m.filter(m.platform != "llm-api"))
    authored = posts.filter((posts.kind != "repost") & posts.text.notnull())
    mine = authored.join(social.select("platform", "account_id"), ["platform", "account_id"])
    # distinctive terms: how much more often the campaign uses a word than everyone does (log-odds)
    w_all = words(authored.select("post_id", "text"), "text")
    w_mine = words(mine.select("post_id", "text"), "text")
    n_all, n_mine = authored.count(), mine.count()
    all_counts = w_all.group_by("word").aggregate(df_all=w_all.count())
    mine_counts = w_mine.group_by("word").aggregate(df=w_mine.count())
    j = mine_counts.join(all_counts, "word")
    lift = ((j.df + 1.0) / (n_mine + 2.0)).ln() - ((j.df_all + 1.0) / (n_all + 2.0)).ln()
    top = j.filter(j.df >= 5).mutate(lift=lift).order_by([ibis.desc("lift"), "word"]).select("word", posts="df", lift="lift")
    repeated = mine.group_by("text").aggregate(posts=mine.count(), accounts=mine.account_id.nunique())
    repeated = repeated.order_by([ibis.desc("accounts"), ibis.desc("posts"), "text"])
    return {"top_terms": _rows(top, terms), "representative_texts": _rows(repeated, texts)}


def timeline(store, m: ibis.Table) -> list[dict]:
    parts = []
    for name, kind in (("posts", "posts"), ("llm_calls", "calls")):
        t = store.table(name)
        acct = with_account_columns(m).select("platform", "account_id")
        j = t.join(acct, ["platform", "account_id"])
        parts.append(j.group_by(day=j.ts.date()).aggregate(n=j.count()).mutate(kind=ibis.literal(kind)))
    u = parts[0].union(parts[1])
    rows = _rows(u.order_by(["day", "kind"]))
    days: dict[str, dict] = {}
    for r in rows:
        days.setdefault(str(r["day"]), {"day": str(r["day"]), "posts": 0, "calls": 0})[r["kind"]] = r["n"]
    return list(days.values())


def traits(store, m: ibis.Table) -> dict:
    """Campaign-wide measures the DISARM rules read: image calls, news speed, creation bursts."""
    f = store.table("account_features").join(m.select("actor"), "actor")
    fast = f.filter(f.feature == "news_response:fast_share").value.mean().execute()
    burst = f.filter(f.feature == "creation_burst:burst_ratio").value.median().execute()
    calls = store.table("llm_calls")
    api = with_account_columns(m.filter(m.platform == "llm-api")).select("account_id")
    images = calls.join(api, "account_id").filter(lambda t: t.operation == "image").count().execute()
    return {"news_fast_share": None if fast is None or fast != fast else float(fast),
            "creation_burst_ratio": None if burst is None or burst != burst else float(burst),
            "image_calls": int(images)}


def narrative_groups(store, campaign_id: int) -> list[dict]:
    """The campaign's narratives (``campaigns.narratives``): members, top terms, example texts."""
    if "narratives" not in store.backend.list_tables():
        return []
    n = store.table("narratives")
    rows = _rows(n.filter(n.campaign_id == campaign_id).order_by("narrative_id"))
    return [{"narrative_id": r["narrative_id"], "members": r["members"], "top_terms": json.loads(r["top_terms"]),
             "example_texts": json.loads(r["example_texts"])} for r in rows]


def cluster_members(store, campaign_id: int) -> tuple[ibis.Table, str]:
    """The rows of ``campaign_members`` an explanation reads: the flagged members, or every member
    of a cluster with none flagged (why it stayed below the line is worth reading too); and which."""
    if "campaign_members" not in store.backend.list_tables():
        raise CampaignNotFound("the store has no campaigns: run `chorusline detect` first")
    m = store.table("campaign_members")
    m = m.filter(m.campaign_id == campaign_id)
    flagged = m.filter(m.flagged)
    if flagged.count().execute():
        return flagged, "flagged"
    if m.count().execute() == 0:
        known = store.table("campaigns").campaign_id.execute().tolist()
        raise CampaignNotFound(f"no campaign {campaign_id}; campaigns: {sorted(known)[:20]}")
    return m, "all (none flagged)"


def explain(store, campaign_id: int) -> dict:
    """The evidence of any cluster, reported or not: its row (tier and ``verdict``: why it was
    reported or stayed below the line) and every section below over its flagged members, or over
    all its members when none is flagged."""
    m, shown = cluster_members(store, campaign_id)
    camp = _rows(store.table("campaigns").filter(lambda t: t.campaign_id == campaign_id))[0]
    top_members = _rows(m.order_by([ibis.desc("member_score"), "actor"]).select(
        "actor", "member_score", "suspicion", "measured", "core", "flagged"), 10)
    out = {"campaign": camp, "members_shown": shown, "top_members": top_members, "signals": signal_summary(store, m),
           "infrastructure": infrastructure(store, m), "clock": clocks(store, m), "templates": templates(store, m),
           "links": links(store, campaign_id), "lifecycle": pivots(store, m), "narratives": narratives(store, m),
           "narrative_groups": narrative_groups(store, campaign_id), "text_ties": paraphrase_ties(store, m),
           "machine_text": machine_text_distribution(store, m),
           "timeline": timeline(store, m)}
    out.update(traits(store, m))
    out["disarm"] = observed_techniques(out)
    out["breakout"] = breakout_estimate(store, m)
    return out
