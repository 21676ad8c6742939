"""Detection on the real labelled development sets of ../shared/data/real/ (see its README).

Run: `.venv/bin/python scripts/evaluate_real.py`. Needs ../shared/data/real (skips otherwise).
1. IRA vs organic (#GOPDebate): detect with the default settings, then `eval` against "IRA author or
   not": account precision/recall/F1, member-score AUC.
2. IRA trolls, Sept–Nov 2016 (all trolls): how detected clusters line up with the hand-coded
   categories (RightTroll, LeftTroll, NewsFeed, HashtagGamer): ARI over the trolls, share clustered.
   The categories are roles inside one operation, so then the narratives (campaigns/narratives.py):
   of the detected campaigns (`save_narratives`), and of all the trolls as one operation, whole and
   in 25 random subsets of 40 (a check that the grouping is no lucky draw of members): ARI of
   narrative vs category and the narratives by category with their top terms.
3. cresci-2015 (profiles only, no activity): campaign detection needs activity, so only the
   per-account creation features can speak; their AUC for bought fake followers vs humans.
Prints Markdown. `--only trolls` (or gop, cresci) runs one section; `--keep DIR` keeps each section's
store and truth in DIR (for scripts/compare_scoring_model.py)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chorusline.campaigns.detect import detect
from chorusline.campaigns.narratives import member_narratives, save_narratives
from chorusline.eval.evaluate import evaluate
from chorusline.eval.metrics import adjusted_rand_index, roc_auc
from chorusline.eval.real import cresci2015, ira_trolls, ira_vs_organic
from chorusline.ingest import IngestOptions, adapter_for, ingest_files
from chorusline.signals.creation_burst import creation_burst_features
from chorusline.store import Store

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


KEEP = False  # --keep: stores are files beside their truth, kept for scripts/compare_scoring_model.py


def load(tables: dict, folder: Path) -> Store:
    (folder / "truth").mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in tables.items():
        path = folder / ("truth/accounts.parquet" if name == "truth" else f"{name}.parquet")
        pq.write_table(table, path)
        if name != "truth":
            paths.append(path)
    if KEEP:
        (folder / "store.duckdb").unlink(missing_ok=True)
    store = Store.open(folder / "store.duckdb" if KEEP else ":memory:")
    ingest_files(store, adapter_for("canonical"), paths, IngestOptions())
    aside = store.table("quarantine").count().execute()
    if aside:  # rows of the set that could not be used (unparsable times, …): said, not hidden
        print(f"({aside:,} row(s) quarantined while loading; `chorusline quarantine` lists them)")
    return store


def fmt(v) -> str:
    return "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else f"{v:,}")


def gop_debate(tmp: Path) -> None:
    print("\n### IRA vs organic (#GOPDebate)\n")
    store = load(ira_vs_organic(REAL / "io_ira_vs_organic"), tmp / "gop")
    campaigns = detect(store, signals_dir=tmp / "gop" / "signals").to_pyarrow().to_pylist()
    result = evaluate(store, tmp / "gop" / "truth")
    print("| metric | value |\n| --- | --- |")
    for key in ("accounts", "campaign_accounts", "flagged", "account_precision", "account_recall", "account_f1",
                "account_auc", "precision_at_recall_0.9"):
        print(f"| {key} | {fmt(result[key])} |")
    print(f"\nclusters: {len(campaigns)}, above the threshold: {sum(c['above_threshold'] for c in campaigns)}\n")
    truth = dict(zip(pq.read_table(tmp / "gop" / "truth" / "accounts.parquet")["account_id"].to_pylist(),
                     pq.read_table(tmp / "gop" / "truth" / "accounts.parquet")["campaign"].to_pylist()))
    members = store.table("campaign_members").to_pyarrow().to_pylist()
    print("| cluster | members | IRA accounts | coordination | inauthenticity | score |\n"
          "| --- | --- | --- | --- | --- | --- |")
    for c in sorted(campaigns, key=lambda c: -c["size"]):
        mine = [m for m in members if m["campaign_id"] == c["campaign_id"]]
        ira = sum(truth.get(m["actor"].split(":", 1)[1]) is not None for m in mine)
        print(f"| {c['campaign_id']} | {c['size']} | {ira} | {c['coordination']:.2f} | {c['inauthenticity']:.2f} | "
              f"{c['score']:.2f} |")


def trolls(tmp: Path) -> None:
    print("\n### IRA trolls, Sept–Nov 2016: grouping against the hand-coded categories\n")
    data = ira_trolls(REAL / "io_ira_vs_organic")
    store = load(data, tmp / "trolls")
    detect(store, signals_dir=tmp / "trolls" / "signals")
    members = store.table("clusters").to_pyarrow()
    cluster = dict(zip(members["actor"].to_pylist(), members["cluster"].to_pylist()))
    truth = data["truth"]
    actors = [f"x:{a}" for a in truth["account_id"].to_pylist()]
    category = truth["campaign"].to_pylist()
    clustered = [a in cluster for a in actors]
    print("| measure | value |\n| --- | --- |")
    print(f"| trolls | {len(actors)} |")
    print(f"| in any cluster | {sum(clustered) / len(actors):.3f} |")
    print(f"| clusters | {len(set(cluster.values()))} |")
    inside = [(c, cluster[a]) for a, c in zip(actors, category) if a in cluster]
    print(f"| ARI of clusters vs category (clustered trolls) | "
          f"{adjusted_rand_index([c for c, _ in inside], [k for _, k in inside]):.3f} |")
    print(f"| ARI, unclustered as singletons | "
          f"{adjusted_rand_index(category, [cluster.get(a, a) for a in actors]):.3f} |")
    table = {}
    for c, k in inside:
        table.setdefault(k, {}).setdefault(c, 0)
        table[k][c] += 1
    print("\n| cluster | members by category |\n| --- | --- |")
    for k in sorted(table):
        print(f"| {k} | " + ", ".join(f"{c} {n}" for c, n in sorted(table[k].items(), key=lambda x: -x[1])) + " |")
    narratives_vs_categories(store, dict(zip(actors, category)))


def narratives_vs_categories(store: Store, category: dict[str, str], subsets: int = 25, subset_size: int = 40) -> None:
    """Narratives against the trolls' hand-coded categories: over the detected campaigns (what
    `save_narratives` writes), and over all the trolls as one operation, whole and in random subsets."""
    print("\n#### Narratives inside the detected campaigns (`save_narratives`)\n")
    save_narratives(store)
    narrative_table(store.table("narrative_members").to_pyarrow(), store.table("narratives").to_pyarrow(), category)

    print("\n#### Narratives with all the trolls as one operation\n")
    rng = np.random.default_rng(0)
    pool = sorted(category)
    size = min(subset_size, len(pool))
    # campaign 0: every troll; 1..subsets: random subsets, a check that the grouping is no lucky draw
    draws = [pool] + [sorted(rng.choice(pool, size, replace=False).tolist()) for _ in range(subsets)]
    members = ibis.memtable(pa.table({"campaign_id": pa.array([i for i, d in enumerate(draws) for _ in d], pa.int64()),
                                      "actor": [a for d in draws for a in d]}))
    assigned, narratives = member_narratives(members, store.table("posts"))
    whole = pc.equal(assigned["campaign_id"], 0)
    narrative_table(assigned.filter(whole), narratives.filter(pc.equal(narratives["campaign_id"], 0)), category)
    scores = []
    for i in range(1, subsets + 1):
        mine = assigned.filter(pc.equal(assigned["campaign_id"], i)).to_pylist()
        scores.append(adjusted_rand_index([category[a["actor"]] for a in mine], [a["narrative_id"] for a in mine]))
    print(f"\nARI on {subsets} random subsets of {size} trolls, each one campaign: mean {np.mean(scores):.3f}, "
          f"min {min(scores):.3f}, max {max(scores):.3f}")


def narrative_table(assigned: pa.Table, narratives: pa.Table, category: dict[str, str]) -> None:
    """ARI of (campaign, narrative) against category over the trolls given a narrative, then the
    narratives by category with their top terms."""
    trolls_in = [a for a in assigned.to_pylist() if a["actor"] in category]
    key = [(a["campaign_id"], a["narrative_id"]) for a in trolls_in]
    ari = adjusted_rand_index([category[a["actor"]] for a in trolls_in], [f"{c}/{k}" for c, k in key])
    print("| measure | value |\n| --- | --- |")
    print(f"| trolls with a narrative | {len(trolls_in)} of {len(category)} |")
    print(f"| campaigns | {len({c for c, _ in key})} |")
    print(f"| narratives | {len(set(key))} |")
    print(f"| ARI of narratives vs category (trolls with a narrative) | {ari:.3f} |")
    terms = {(n["campaign_id"], n["narrative_id"]): json.loads(n["top_terms"]) for n in narratives.to_pylist()}
    by: dict[tuple, Counter] = {}
    for a, k in zip(trolls_in, key):
        by.setdefault(k, Counter())[category[a["actor"]]] += 1
    print("\n| campaign | narrative | members by category | top terms |\n| --- | --- | --- | --- |")
    for k in sorted(by):
        top = ", ".join(terms[k][:8]).replace("|", "\\|")
        print(f"| {k[0]} | {k[1]} | " + ", ".join(f"{c} {n}" for c, n in by[k].most_common()) + f" | {top} |")


def cresci(tmp: Path) -> None:
    print("\n### cresci-2015: creation features, fake followers vs humans (profiles only)\n")
    data = cresci2015(REAL / "bot_cresci2015")
    store = load(data, tmp / "cresci")
    feats = creation_burst_features(store.table("accounts")).to_pyarrow().to_pylist()
    fake = {f"x:{a}": c is not None for a, c in zip(data["truth"]["account_id"].to_pylist(),
                                                      data["truth"]["campaign"].to_pylist())}
    print("| feature | accounts | AUC |\n| --- | --- | --- |")
    for name in sorted({f["feature"] for f in feats}):
        rows = [f for f in feats if f["feature"] == name]
        auc = roc_auc(np.array([r["value"] for r in rows]), np.array([fake[r["actor"]] for r in rows]))
        print(f"| `{name}` | {len(rows)} | {fmt(auc)} |")


SECTIONS = {"gop": gop_debate, "trolls": trolls, "cresci": cresci}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SECTIONS), help="run one section")
    parser.add_argument("--keep", type=Path, help="keep each section's store and truth in KEEP/<section>/")
    args = parser.parse_args()
    if not REAL.exists():
        sys.exit(f"{REAL} is not here; nothing to evaluate")
    global KEEP
    KEEP = args.keep is not None
    with tempfile.TemporaryDirectory() as tmp:
        for name, section in SECTIONS.items():
            if args.only in (None, name):
                section(args.keep or Path(tmp))


if __name__ == "__main__":
    main()
