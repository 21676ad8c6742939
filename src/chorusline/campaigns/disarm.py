"""DISARM Red Framework v1.6 techniques a campaign's evidence shows.

Each rule reads the campaign's explanation (``explain.py``) and names one technique with the
evidence that shows it, so a reader sees *why* T0085.001 is there, not just that it is. Only what
the data can show is inferred; techniques about intent or goals (T0002 Facilitate State
Propaganda, ...) are the analyst's to add. Technique names and STIX ids come from the bundled
DISARM STIX extract (``data/disarm_v1_6_techniques.json``, CC BY-SA 4.0)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=1)
def techniques() -> dict[str, dict]:
    """external_id → {name, stix_id, url, tactics, ...} for every v1.6 attack-pattern."""
    data = json.loads(files("chorusline.campaigns").joinpath("data/disarm_v1_6_techniques.json").read_text())
    return {t["external_id"]: t for t in data["attack_patterns"]}


def _signal(explanation: dict, prefix: str) -> dict | None:
    rows = [s for s in explanation["signals"] if s["signal"].startswith(prefix)]
    return max(rows, key=lambda s: s["edges"]) if rows else None


def _rules(x: dict) -> list[tuple[str, str | None]]:
    """(technique id, evidence sentence or None when not shown)."""
    size = x["campaign"]["size"]
    links, clock, infra, life = x["links"], x["clock"], x["infrastructure"], x["lifecycle"]
    hosting = sum(r["calls"] for r in infra.get("network_classes", []) if r["value"] in
                  ("hosting", "vpn", "proxy_public", "proxy_residential", "relay", "tor_exit"))
    persona = _signal(x, "prompt_template:persona")
    copy = (_signal(x, "near_duplicate:posts") or _signal(x, "provenance:shared_call")
            or _signal(x, "near_duplicate:semantic"))
    ties = x.get("text_ties") or {}
    amplify = _signal(x, "coshare:repost") or _signal(x, "fast_share") or _signal(x, "coshare:reply")
    news = x.get("news_fast_share")
    images = x.get("image_calls", 0)
    return [
        ("T0154.001", f"{x['campaign']['api_accounts']} API accounts of an LLM platform in the campaign"
         if x["campaign"]["api_accounts"] else None),
        ("T0085.001", f"{links['links']} API account → persona links: model output posted as the personas' text"
                      + (f" ({ties['paraphrased']:,} posts reworded, tied by meaning)" if ties.get("paraphrased") else "")
         if links["links"] else None),
        ("T0085.008", f"{ties['cross_language_examples']} of {len(ties['examples'])} example posts are in another "
                      "language than the prompt or output they came from"
         if ties.get("cross_language_examples") else None),
        ("T0086.002", f"{images} image-generation calls by the campaign's API accounts" if images else None),
        ("T0144.002", f"persona-instruction prompt templates shared by {persona['accounts']} API accounts"
         if persona else None),
        ("T0097.101", (f"personas claim places {clock['mean_offset_conflict_hours']:.0f} h from the operator clock "
                       f"(UTC{clock['operator_offset']:+.0f})")
         if clock.get("mean_offset_conflict_hours") and clock["mean_offset_conflict_hours"] >= 3 else None),
        ("T0128.002", f"{hosting:,} of {infra['calls']:,} API calls from hosting/VPN/proxy networks"
         if infra.get("calls") and hosting >= 0.5 * infra["calls"] else None),
        ("T0129.002", f"{life['pivoted']} personas posted neutral content first, then pivoted to politics "
                      f"(median {life['median_days_to_pivot']:.0f} days)"
         if life["pivoted"] >= max(3, 0.2 * size) else None),
        ("T0084.001", f"{copy['edges']:,} pairs of members posting the same text ({copy['signal']})" if copy else None),
        ("T0118", f"{amplify['edges']:,} pairs of members amplifying the same posts ({amplify['signal']})"
         if amplify else None),
        ("T0080.003", f"members answer news events faster than the population ({news:.0%} of responses in the "
                      f"fastest quarter)" if news is not None and news >= 0.4 else None),
        ("T0150.001", f"accounts registered in bursts (median burst ratio {x['creation_burst_ratio']:.0f}× the "
                      f"platform's rate)" if (x.get("creation_burst_ratio") or 0) >= 5 else None),
    ]


def observed_techniques(explanation: dict) -> list[dict]:
    known = techniques()
    out = []
    for tid, evidence in _rules(explanation):
        if evidence is None:
            continue
        t = known[tid]
        out.append({"external_id": tid, "name": t["name"], "stix_id": t["stix_id"], "tactics": t["tactics"],
                    "evidence": evidence})
    return out
