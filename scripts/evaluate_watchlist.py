"""Catching returning actors: the watchlist of a confirmed campaign against the accounts an
operation opens after its suspension, on their first days.

Run: `.venv/bin/python scripts/evaluate_watchlist.py [--scenario seed-case multi-campaign] [--seed N]
[--days 1 3 7]`. For each scenario: the simulation is cut at the day the suspended operators come
back (each operation with returning accounts on its own); everything before it is loaded and detected; an analyst (played by the truth) confirms every
campaign whose flagged members are mostly true campaign accounts; the watchlist is built. Then the
rest of the data is loaded and `match` ranks every account outside the confirmed campaigns using
only the first D days after the cut. Reported per D:
- MRR: the mean over the returning accounts of 1 / rank, each ranked among the accounts that do
  not belong to any campaign (other campaign accounts ranked above it are not errors);
- recall@N: the share of returning accounts in the top N of that ranking, N = the number of
  returning accounts (and N = 2× that);
- the same MRR and recall@N with each returning account ranked among the benign accounts of its
  own platform only (a provider reviews its API accounts, a platform its personas);
- matched: the share of returning accounts with any match at all.
The simulator's benign accounts all predate the cut, so ranking among new registrations only (how
a watchlist is used in practice) would be trivially perfect here; the ranking is among all accounts."""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chorusline.act.decisions import record_decision
from chorusline.act.watchlist import match_accounts, save_watchlist
from chorusline.campaigns.detect import detect
from chorusline.enrich.network import enrich_store
from chorusline.ingest import IngestOptions, adapter_for, ingest_files
from chorusline.sim import load_scenario, simulate
from chorusline.store import Store

TIME_COLUMN = {"llm_calls": "ts", "posts": "ts", "accounts": "created_at", "news_events": "ts"}


def split(folder: Path, cut: dt.datetime, out: Path) -> None:
    """before/ and after/ copies of the canonical tables, split at ``cut``."""
    for part in ("before", "after"):
        (out / part).mkdir(parents=True, exist_ok=True)
    for path in sorted(folder.glob("*.parquet")):
        table = pq.read_table(path)
        column = TIME_COLUMN.get(path.stem)
        if column is None:
            pq.write_table(table, out / "before" / path.name)
            continue
        early = pc.fill_null(pc.less(table[column], pa.scalar(cut, pa.timestamp("us", tz="UTC"))), True)
        pq.write_table(table.filter(early), out / "before" / path.name)
        pq.write_table(table.filter(pc.invert(early)), out / "after" / path.name)


def evaluate(name: str, seed: int | None, days: list[int]) -> list[dict]:
    """One row per (operation with returning accounts, days after its return)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        simulate(load_scenario(name, seed=seed), folder / "sim")
        truth = pq.read_table(folder / "sim" / "truth" / "accounts.parquet")
        actors = pc.binary_join_element_wise(truth["platform"], truth["account_id"], ":").to_pylist()
        campaign = dict(zip(actors, truth["campaign"].to_pylist()))
        roles = dict(zip(actors, truth["role"].to_pylist()))
        starts = dict(zip(actors, truth["active_from"].to_pylist()))
        out = []
        for operation in sorted({campaign[a] for a, r in roles.items() if r and r.startswith("returning")}):
            returning = {a for a, r in roles.items() if r and r.startswith("returning") and campaign[a] == operation}
            cut = min(starts[a] for a in returning)
            store = _before_and_after(folder, cut, campaign, f"{operation}")
            confirmed = set(store.table("decisions").members.unnest().execute().tolist())
            for d in days:
                ranking = match_accounts(store, cut + dt.timedelta(days=d))
                score = dict(zip(ranking["actor"].to_pylist(), ranking["score"].to_pylist()))
                benign = [a for a, c in campaign.items() if not c and a not in confirmed]
                ranks = _ranks(returning, benign, score)
                # the same, each account among the benign accounts of its own platform: a provider
                # reviews API accounts, a platform its personas
                own = [r for a in sorted(returning) for r in _ranks({a}, [b for b in benign if _platform(b) == _platform(a)],
                                                                       score)]
                n = len(returning)
                out.append({"operation": operation, "days": d, "benign": len(benign), "returning": n,
                            "mrr": float(np.mean([1 / r for r in ranks])), "recall_at_n": sum(r <= n for r in ranks) / n,
                            "recall_at_2n": sum(r <= 2 * n for r in ranks) / n,
                            "mrr_platform": float(np.mean([1 / r for r in own])),
                            "recall_at_n_platform": sum(r <= n for r in own) / n,
                            "matched": sum(a in score for a in returning) / n})
        return out


def _platform(actor: str) -> str:
    return actor.split(":", 1)[0]


def _ranks(accounts, benign: list[str], score: dict) -> list[int]:
    """Each account's rank among ``benign`` (1 + the benign accounts scoring strictly higher)."""
    values = np.array([score.get(a, 0.0) for a in benign])
    return [1 + int((values > score[a]).sum()) if a in score else len(values) + 1 for a in sorted(accounts)]


def _before_and_after(folder: Path, cut: dt.datetime, campaign: dict, tag: str) -> Store:
    """Load what was known before ``cut``, detect, confirm (the truth playing the analyst), build
    the watchlist, then load the rest."""
    split(folder / "sim", cut, folder / f"split-{tag}")
    store = Store.open(":memory:")
    load = adapter_for("canonical")
    ingest_files(store, load, sorted((folder / f"split-{tag}" / "before").glob("*.parquet")), IngestOptions())
    enrich_store(store)
    detect(store, signals_dir=folder / f"signals-{tag}")
    for c in store.table("campaigns").filter(lambda t: t.above_threshold).to_pyarrow().to_pylist():
        m = store.table("campaign_members")
        members = m.filter((m.campaign_id == c["campaign_id"]) & m.flagged).actor.execute().tolist()
        if sum(bool(campaign.get(a)) for a in members) > len(members) / 2:
            record_decision(store, c["campaign_id"], "confirm", "truth", "evaluation")
    save_watchlist(store)
    ingest_files(store, load, sorted((folder / f"split-{tag}" / "after").glob("*.parquet")), IngestOptions())
    enrich_store(store)
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", nargs="+", default=["seed-case", "multi-campaign"])
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--days", type=int, nargs="+", default=[1, 3, 7])
    args = parser.parse_args()
    print("| scenario | operation | days after return | returning accounts | ranked among (benign) | MRR | recall@N | "
          "recall@2N | MRR, own platform | recall@N, own platform | matched |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.scenario:
        for r in evaluate(name, args.seed, args.days):
            print(f"| {name} | {r['operation']} | {r['days']} | {r['returning']} | {r['benign']:,} | {r['mrr']:.3f} | "
                  f"{r['recall_at_n']:.3f} | {r['recall_at_2n']:.3f} | {r['mrr_platform']:.3f} | "
                  f"{r['recall_at_n_platform']:.3f} | {r['matched']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
