"""A campaign's explanation as text for the terminal (`chorusline campaigns --campaign ID`)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def _table(title: str, columns: list[str], rows: list[list]) -> Table:
    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*[str(v) for v in r])
    return t


def print_explanation(console: Console, x: dict) -> None:
    c = x["campaign"]
    console.rule(f"campaign {c['campaign_id']}  score {c['score']:.2f}  ({c['tier']})")
    console.print(c["verdict"])
    console.print(f"{c['flagged']:,} flagged of {c['size']:,} members ({c['api_accounts']} API accounts, "
                  f"{c['social_accounts']} social accounts); coordination {c['coordination']:.2f}, "
                  f"inauthenticity {c['inauthenticity']:.2f} (measured on {c['coverage']:.0%} of the core)"
                  + ("" if x.get("members_shown", "flagged") == "flagged" else
                     "; none flagged: the evidence below is over all its members"))
    console.print(_table("what ties them", ["signal", "pairs", "accounts", "mean evidence", "example"],
                         [[s["signal"], f"{s['edges']:,}", s["accounts"], f"{s['mean_evidence']:.2f}",
                           ", ".join(map(str, (s["examples"][0] if s["examples"] else [])[:3]))[:70]]
                          for s in x["signals"]]))
    clock = x["clock"]
    if clock["operator_offset"] is not None:
        claimed = ", ".join(f"UTC{o['offset']:+.0f} ({o['accounts']})" for o in clock["claimed_offsets"])
        conflict = clock["mean_offset_conflict_hours"]
        console.print(f"operator clock: UTC{clock['operator_offset']:+.0f} for {clock['operator_offset_share']:.0%} of "
                      f"members, office hours {clock['office_clock_share']:.0%}; claimed places: {claimed or '–'}"
                      + (f"; {conflict:.1f} h apart on average" if conflict is not None else ""))
    infra = x["infrastructure"]
    if infra.get("network_classes"):
        console.print(_table(f"infrastructure ({infra['calls']:,} calls, {infra['distinct_ips']} IPs)",
                             ["kind", "value", "calls", "accounts"],
                             [[k, r["value"], f"{r['calls']:,}", r["accounts"]]
                              for k in ("network_classes", "countries", "registered_countries", "asns", "prefixes")
                              for r in infra[k][:4]]))
    for t in x["templates"]:
        console.print(f"template ({t['calls']:,} calls, {t['accounts']} accounts): {t['skeleton']}")
        for v in t["variants"]:
            console.print(f"   {v['prompt'][:90]}  ->  {(v['output'] or '')[:60]}")
    links = x["links"]
    console.print(f"API account -> persona links: {links['links']:,} "
                  f"({links.get('api_accounts', 0)} API accounts, {links.get('personas', 0)} personas)")
    if links.get("recruited_personas"):
        console.print(f"   {links['recruited_personas']} persona(s) joined the campaign through them alone")
    for other in links.get("linked_campaigns", []):
        console.print(f"   {other['links']:,} of them reach campaign {other['campaign_id']}: likely the same operation")
    life = x["lifecycle"]
    if life["pivoted"]:
        console.print(f"lifecycle: {life['pivoted']} of {life['accounts_with_lifecycle']} personas pivoted to politics, "
                      f"median {life['median_days_to_pivot']:.0f} days after their first post")
    terms = ", ".join(t["word"] for t in x["narratives"]["top_terms"])
    console.print(f"narrative terms: {terms}")
    for t in x["narratives"]["representative_texts"][:3]:
        console.print(f"   [{t['accounts']} accounts] {t['text'][:100]}")
    groups = x.get("narrative_groups", [])
    if len(groups) > 1:
        console.print(_table(f"{len(groups)} narratives inside the campaign", ["#", "members", "pushes", "example"],
                             [[g["narrative_id"], g["members"], ", ".join(g["top_terms"][:8]),
                               (g["example_texts"][0] if g["example_texts"] else "")[:70]] for g in groups]))
    console.print(_table("DISARM techniques (v1.6)", ["id", "name", "evidence"],
                         [[d["external_id"], d["name"], d["evidence"]] for d in x["disarm"]]))
    b = x["breakout"]
    console.print(f"Breakout Scale estimate: category {b['category']} (platforms: {', '.join(b['platforms'])}; {b['note']})")
