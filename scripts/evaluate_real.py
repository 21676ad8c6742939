"""Detection on the real labelled development sets of ../shared/data/real/ (see its README).

Run: `.venv/bin/python scripts/evaluate_real.py`. Needs ../shared/data/real (skips otherwise).
1. IRA vs organic (#GOPDebate): detect with the default settings, then `eval` against "IRA author or
   not": account precision/recall/F1, member-score AUC.
2. IRA trolls, Sept–Nov 2016 (all trolls): how detected clusters line up with the hand-coded
   categories (RightTroll, LeftTroll, NewsFeed, HashtagGamer): ARI over the trolls, share clustered.
3. cresci-2015 (profiles only, no activity): campaign detection needs activity, so only the
   per-account creation features can speak; their AUC for bought fake followers vs humans.
Prints Markdown."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from chorusline.campaigns.detect import detect
from chorusline.eval.evaluate import evaluate
from chorusline.eval.metrics import adjusted_rand_index, roc_auc
from chorusline.eval.real import cresci2015, ira_trolls, ira_vs_organic
from chorusline.ingest import IngestOptions, adapter_for, ingest_files
from chorusline.signals.creation_burst import creation_burst_features
from chorusline.store import Store

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def load(tables: dict, folder: Path) -> Store:
    (folder / "truth").mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in tables.items():
        path = folder / ("truth/accounts.parquet" if name == "truth" else f"{name}.parquet")
        pq.write_table(table, path)
        if name != "truth":
            paths.append(path)
    store = Store.open(":memory:")
    ingest_files(store, adapter_for("canonical"), paths, IngestOptions())
    aside = store.table("quarantine").count().execute()
    if aside:  # rows of the set that could not be used (unparsable times, …): said, not hidden
        print(f"({aside:,} row(s) quarantined while loading; `chorusline quarantine` lists them)")
    return store


def fmt(v) -> str:
    return "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else f"{v:,}")


def main() -> None:
    if not REAL.exists():
        sys.exit(f"{REAL} is not here; nothing to evaluate")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
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
        print("| cluster | members | IRA accounts | coordination | inauthenticity | score |\n| --- | --- | --- | --- | --- | --- |")
        for c in sorted(campaigns, key=lambda c: -c["size"]):
            mine = [m for m in members if m["campaign_id"] == c["campaign_id"]]
            ira = sum(truth.get(m["actor"].split(":", 1)[1]) is not None for m in mine)
            print(f"| {c['campaign_id']} | {c['size']} | {ira} | {c['coordination']:.2f} | {c['inauthenticity']:.2f} | "
                  f"{c['score']:.2f} |")

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


if __name__ == "__main__":
    main()
