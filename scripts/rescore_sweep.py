"""Scoring studied again on kept sweep runs, without rerunning the signals.

`scripts/evaluate_sweep.py --keep DIR` keeps each run's store and truth in ``DIR/<draw>/``. This
script reruns what follows the signals on each of them — fusion, clustering and scoring
(`chorusline.campaigns.detect`, with the defaults or ``--config FILE``) — and evaluates it against
the truth, printing one row a run and the distribution the sweep reports (min, 10th percentile,
median of account F1; precision; benign flagged). A change to fusion, clustering or scoring is
measured here in seconds a run; a change to a signal needs the sweep itself.

``--recompute NAME …`` first recomputes those per-account feature signals (`signals.run`'s names)
in each kept store, for a feature that is new or changed since the runs were kept.

Run: `.venv/bin/python scripts/rescore_sweep.py DIR [--config chorusline.toml] [--recompute NAME ...]
[--runs NAME ...] [--json OUT]`."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet  # noqa: F401  (pa.parquet)

from chorusline.campaigns.detect import load_config, score_campaigns
from chorusline.eval.evaluate import evaluate
from chorusline.graph.cluster import cluster_members
from chorusline.graph.fuse import fuse
from chorusline.signals.run import feature_signals
from chorusline.store import Store

METRICS = ("account_precision", "account_recall", "account_f1", "campaign_ari", "link_f1",
           "benign_flagged_share", "benign_campaigns_reported", "campaigns_reported", "campaigns_true")


def recompute(store, names: list[str], config) -> None:
    """Replace the named feature signals' rows of ``account_features`` with fresh ones."""
    signals = feature_signals(store, config.semantic)
    for name in names:
        fresh = signals[name]()
        fresh = fresh if isinstance(fresh, pa.Table) else fresh.to_pyarrow()
        families = {f.split(":")[0] for f in fresh["feature"].to_pylist()} or {name}
        kept = store.table("account_features")
        kept = kept.filter(~kept.feature.split(":")[0].isin(families)).to_pyarrow()
        store.backend.create_table("account_features", pa.concat_tables([kept, fresh.select(kept.column_names)
                                                                          .cast(kept.schema)]), overwrite=True)


def rescore(folder: Path, config, names: list[str] | None = None) -> dict:
    """Fusion, clustering and scoring again on one kept run; its evaluation."""
    store = Store.open(folder / "store.duckdb")
    try:
        backend = store.backend
        if names:
            recompute(store, names, config)
        backend.create_table("fused_edges", fuse(store.table("edges"), config.fuse), overwrite=True)
        backend.create_table("clusters", cluster_members(store.table("fused_edges"), config.cluster), overwrite=True)
        score_campaigns(store, config)
        out = evaluate(store, folder / "truth", threshold=config.score.campaign_threshold)
        campaigns = store.table("campaigns")
        truth = pa.parquet.read_table(folder / "truth" / "accounts.parquet", columns=["campaign"])["campaign"]
        return out | {"campaigns_reported": int(campaigns.filter(campaigns.above_threshold).count().execute()),
                      "campaigns_true": len({c for c in truth.to_pylist() if c is not None})}
    finally:
        backend.disconnect()


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keep", type=Path, help="a folder of kept runs (evaluate_sweep.py --keep)")
    parser.add_argument("--config", type=Path, help="detection settings (chorusline.toml's sections)")
    parser.add_argument("--json", type=Path, help="write the per-run metrics here")
    parser.add_argument("--recompute", nargs="+", default=[], help="feature signals to compute again first")
    parser.add_argument("--runs", nargs="+", default=[], help="only these runs (folder names)")
    args = parser.parse_args()
    config = load_config(args.config)
    runs = sorted(p for p in args.keep.iterdir() if (p / "truth" / "accounts.parquet").exists()
                  and (not args.runs or p.name in args.runs))
    rows = []
    print("| run | precision | recall | F1 | ARI | link F1 | benign flagged | benign reported | campaigns reported / true | s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for folder in runs:
        started = time.perf_counter()
        m = rescore(folder, config, args.recompute)
        row = {"run": folder.name, **{k: m.get(k) for k in METRICS}}
        rows.append(row)
        print(f"| {folder.name} | {_fmt(row['account_precision'])} | {_fmt(row['account_recall'])} | "
              f"{_fmt(row['account_f1'])} | {_fmt(row['campaign_ari'])} | {_fmt(row['link_f1'])} | "
              f"{row['benign_flagged_share']:.2%} | {row['benign_campaigns_reported']} | "
              f"{row['campaigns_reported']} / {row['campaigns_true']} | {time.perf_counter() - started:.0f} |", flush=True)
    f1 = np.array([r["account_f1"] or 0.0 for r in rows])
    precision = [r["account_precision"] for r in rows if r["account_precision"] is not None]
    print(f"\n{len(rows)} runs: F1 min {f1.min():.3f}, p10 {np.percentile(f1, 10):.3f}, median {np.median(f1):.3f}, "
          f"mean {f1.mean():.3f}; precision min {min(precision):.3f}, median {np.median(precision):.3f}; "
          f"benign flagged max {max(r['benign_flagged_share'] for r in rows):.2%}; runs reporting a benign "
          f"group {sum(1 for r in rows if r['benign_campaigns_reported'])}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
