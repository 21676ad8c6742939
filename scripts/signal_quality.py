"""How well each edge signal separates campaign accounts, on the simulator's scenarios.

Run: `.venv/bin/python scripts/signal_quality.py [--scenario seed-case multi-campaign benign-heavy]
[--seed N]`. For each scenario: simulate it, load it into an in-memory DuckDB store, enrich the
network, run every edge signal (`chorusline.signals.run`), and score the edges against the truth:

- precision: the share of edges whose two accounts belong to the same campaign;
- account recall: the share of campaign accounts, on the platforms the signal sees (API or social),
  that have at least one same-campaign edge;
- pair recall: the share of same-campaign account pairs (on those platforms) the signal links;
- benign flagged: accounts outside any campaign that have an edge.

Per-account features are scored by ROC AUC (campaign accounts against the rest, among the accounts
that have the feature; higher value = more campaign-like, so an AUC below 0.5 means low values mark
the campaign) and coverage (the share of campaign accounts that have it).

Raw edges, before the null model and fusion of issue 6: a signal with low precision here is not
wrong, it says what chance alone also produces. Prints one Markdown table per scenario.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from chorusline.enrich.network import enrich_store
from chorusline.ingest import IngestOptions, adapter_for, ingest_files
from chorusline.signals.run import feature_signals, run_signals
from chorusline.sim import load_scenario, simulate
from chorusline.store import Store

API_SIGNALS = ("near_duplicate_outputs", "infrastructure", "prompt_template")
CROSS_SIGNALS = ("provenance", "synchrony")  # API accounts and personas: both platforms


def score(edges: list[dict], campaign: dict[str, str | None], api: bool | None) -> dict:
    platforms = {a.split(":", 1)[0] for a in campaign}
    seen = platforms if api is None else {p for p in platforms if (p == "llm-api") == api}
    members: dict[str, set[str]] = {}
    for actor, camp in campaign.items():
        if camp and actor.split(":", 1)[0] in seen:
            members.setdefault(camp, set()).add(actor)
    true_pairs = {frozenset((e["a_actor"], e["b_actor"])) for e in edges
                  if campaign.get(e["a_actor"]) and campaign.get(e["a_actor"]) == campaign.get(e["b_actor"])}
    found = {a for p in true_pairs for a in p}
    n_members = sum(len(m) for m in members.values())
    n_pairs = sum(len(m) * (len(m) - 1) // 2 for m in members.values())
    flagged = {a for e in edges for a in (e["a_actor"], e["b_actor"]) if not campaign.get(a)}
    pairs = {frozenset((e["a_actor"], e["b_actor"])) for e in edges}
    return {"edges": len(pairs), "precision": len(true_pairs) / len(pairs) if pairs else None,
            "account_recall": len(found) / n_members if n_members else None,
            "pair_recall": len(true_pairs) / n_pairs if n_pairs else None, "benign_flagged": len(flagged)}


def auc(values, positive) -> float | None:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties counted half."""
    import numpy as np

    values, positive = np.asarray(values, float), np.asarray(positive, bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if not n_pos or not n_neg:
        return None
    uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]  # average rank of each tie group
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def score_features(table, campaign: dict[str, str | None]) -> list[tuple[str, dict]]:
    out = []
    features = table.to_pylist()
    for feature in sorted({r["feature"] for r in features}):
        rows = [r for r in features if r["feature"] == feature and r["actor"] in campaign]
        positive = [bool(campaign[r["actor"]]) for r in rows]
        platforms = {r["actor"].split(":", 1)[0] for r in rows}
        members = sum(1 for a, c in campaign.items() if c and a.split(":", 1)[0] in platforms)
        out.append((feature, {"accounts": len(rows), "auc": auc([r["value"] for r in rows], positive),
                              "coverage": sum(positive) / members if members else None}))
    return out


def evaluate(name: str, seed: int | None) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        simulate(load_scenario(name, seed=seed), folder / "sim")
        store = Store.open(":memory:")
        ingest_files(store, adapter_for("canonical"), sorted((folder / "sim").glob("*.parquet")), IngestOptions())
        enrich_store(store)
        counts = run_signals(store, folder / "edges")
        truth = pq.read_table(folder / "sim" / "truth" / "accounts.parquet")
        actors = pc.binary_join_element_wise(truth["platform"], truth["account_id"], ":").to_pylist()
        campaign = dict(zip(actors, truth["campaign"].to_pylist()))
        out, feats = [], []
        for name in counts:
            if name in feature_signals(store):
                feats += score_features(pq.read_table(folder / "edges" / f"{name}.parquet"), campaign)
                continue
            edges = pq.read_table(folder / "edges" / f"{name}.parquet", columns=["a_actor", "b_actor", "signal"])
            kinds = sorted(set(edges["signal"].to_pylist())) or [name]
            for kind in kinds:  # one row per signal kind (prompt_template vs prompt_template:persona, ...)
                rows = [e for e in edges.to_pylist() if e["signal"] == kind]
                out.append((kind, score(rows, campaign, None if name in CROSS_SIGNALS else name in API_SIGNALS)))
        return out, feats


def fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", nargs="+", default=["seed-case", "multi-campaign", "benign-heavy"])
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    for name in args.scenario:
        print(f"\n### {name}{'' if args.seed is None else f' (seed {args.seed})'}\n")
        print("| signal | edges | precision | account recall | pair recall | benign accounts with an edge |")
        print("| --- | --- | --- | --- | --- | --- |")
        edges, features = evaluate(name, args.seed)
        for signal, s in edges:
            print(f"| `{signal}` | {s['edges']:,} | {fmt(s['precision'])} | {fmt(s['account_recall'])} | "
                  f"{fmt(s['pair_recall'])} | {s['benign_flagged']:,} |")
        print("\n| feature | accounts | AUC | coverage of campaign accounts |")
        print("| --- | --- | --- | --- |")
        for feature, s in features:
            print(f"| `{feature}` | {s['accounts']:,} | {fmt(s['auc'])} | {fmt(s['coverage'])} |")


if __name__ == "__main__":
    main()
