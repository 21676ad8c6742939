"""Hand-set scoring rules against a calibrated model (issue 15 item 4), on kept sweep runs.

Both decide the same question: which members of the detected clusters to flag. The hand rules are
`campaigns.score` (a campaign's coordination × inauthenticity, then each member's tie and own
suspicion); the model is a logistic regression or gradient boosting over the same per-account and
per-cluster figures (each indicator with a "not measured" flag, suspicion, tie, core, the cluster's
coordination, coverage, inauthenticity, sustained and size), trained on the runs of ``TRAIN`` (other
random draws than the evaluation's) and applied to each run of ``EVAL``. Accounts in no cluster are
unflagged by both. Prints account precision, recall and F1 per run and their distribution for each.

Run after `scripts/evaluate_sweep.py --keep TRAIN` and `--keep EVAL` (their stores hold the
detection tables): `.venv/bin/python scripts/compare_scoring_model.py TRAIN EVAL`."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chorusline.campaigns.suspicion import INDICATORS

CLUSTER = ("coordination", "coverage", "inauthenticity", "sustained")


def run_table(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """(features of the cluster members, their truth, the hand rules' flags, operation accounts in
    the truth, benign accounts in the truth) of one kept run."""
    con = duckdb.connect()
    con.execute(f"attach '{folder / 'store.duckdb'}' as s (read_only)")
    truth = f"{folder / 'truth' / 'accounts.parquet'}"
    columns = ", ".join([f"coalesce(m.{c}, 0) as {c}, (m.{c} is null)::int as {c}_missing" for c in INDICATORS]
                        + [f"m.{c}" for c in CLUSTER])
    rows = con.execute(f"""
        with size as (select campaign_id, count(*) as n from s.campaign_members group by 1)
        select {columns}, m.suspicion, m.measured::int, m.tie, m.core::int, ln(size.n), m.flagged::int,
               (t.campaign is not null)::int as label
        from s.campaign_members m join size using (campaign_id)
        join (select platform || ':' || account_id as actor, campaign from '{truth}') t using (actor)""").fetchnumpy()
    data = np.column_stack([np.asarray(v, dtype=float) for v in rows.values()])
    ops, benign = con.execute(f"select count(*) filter (where campaign is not null), "
                              f"count(*) filter (where campaign is null) from '{truth}'").fetchone()
    return np.nan_to_num(data[:, :-2]), data[:, -1].astype(int), data[:, -2].astype(int), ops, benign


def scores(flags: np.ndarray, label: np.ndarray, ops: int) -> tuple[float | None, float, float]:
    """Precision (None when nothing is flagged), recall and F1 (0 then) over all the truth's
    accounts: the unclustered are unflagged."""
    tp = int((flags & (label == 1)).sum())
    flagged = int(flags.sum())
    precision = tp / flagged if flagged else None
    recall = tp / ops if ops else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    return precision, recall, f1


def runs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if (p / "truth" / "accounts.parquet").exists())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", type=Path)
    parser.add_argument("eval", type=Path)
    args = parser.parse_args()
    train = [run_table(p) for p in runs(args.train)]
    x = np.vstack([t[0] for t in train])
    y = np.concatenate([t[1] for t in train])
    models = {"logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced")),
              "boosting": HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=0)}
    for model in models.values():
        model.fit(x, y)
    print(f"trained on {len(train)} runs, {len(y):,} cluster members ({y.mean():.1%} operation accounts)\n")
    print("| run | hand rules P / R / F1 | logistic P / R / F1 | boosting P / R / F1 |")
    print("| --- | --- | --- | --- |")
    f1s: dict[str, list[float]] = {"hand rules": [], **{k: [] for k in models}}
    precisions: dict[str, list[float]] = {k: [] for k in f1s}
    for folder in runs(args.eval):
        features, label, hand, ops, _ = run_table(folder)
        cells = []
        for name, flags in [("hand rules", hand.astype(bool)),
                            *[(k, m.predict_proba(features)[:, 1] >= 0.5) for k, m in models.items()]]:
            p, r, f = scores(flags, label, ops)
            f1s[name].append(f)
            if p is not None:
                precisions[name].append(p)
            cells.append(f"{'–' if p is None else f'{p:.3f}'} / {r:.3f} / {f:.3f}")
        print(f"| {folder.name} | " + " | ".join(cells) + " |")
    print()
    for name, values in f1s.items():
        v = np.array(values)
        print(f"- {name}: F1 min {v.min():.3f}, p10 {np.percentile(v, 10):.3f}, median {np.median(v):.3f}, "
              f"mean {v.mean():.3f}; precision min {min(precisions[name]):.3f}")


if __name__ == "__main__":
    main()
