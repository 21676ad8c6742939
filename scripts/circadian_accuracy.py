"""How well `circadian` recovers each campaign's operator UTC offset, on the simulator's scenarios.

Run: `.venv/bin/python scripts/circadian_accuracy.py [--scenario seed-case multi-campaign] [--seed N]`.
For campaign accounts with at least 50 events (API calls and posts): the share whose inferred
offset is within ±1 hour of the operator's (the scenario's `operator_tz` at the scenario's start),
the share fitted with an office clock, and the mean distance to the claimed place's offset; the
same for organic accounts as a contrast. Target (issue 5): >= 90 % within ±1 hour.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chorusline.ingest import IngestOptions, adapter_for, ingest_files
from chorusline.signals.circadian import circadian_features
from chorusline.sim import load_scenario, simulate
from chorusline.store import Store


def evaluate(name: str, seed: int | None) -> list[tuple]:
    scenario = load_scenario(name, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        simulate(scenario, folder)
        store = Store.open(":memory:")
        ingest_files(store, adapter_for("canonical"), sorted(folder.glob("*.parquet")), IngestOptions())
        features = circadian_features(store.table("llm_calls"), store.table("posts"), store.table("accounts"))
        truth = pq.read_table(folder / "truth" / "accounts.parquet")
    actors = pc.binary_join_element_wise(truth["platform"], truth["account_id"], ":").to_pylist()
    campaign = dict(zip(actors, truth["campaign"].to_pylist()))
    start = dt.datetime.fromisoformat(str(scenario.start))
    operator = {c.name: ZoneInfo(c.operator_tz).utcoffset(start.replace(tzinfo=None)).total_seconds() / 3600
                for c in scenario.campaigns}
    by = {}
    for actor, feature, value in zip(*(features[c].to_pylist() for c in ("actor", "feature", "value"))):
        by.setdefault(actor, {})[feature.split(":", 1)[1]] = value
    rows = []
    for group in [*operator, None]:
        members = [a for a, f in by.items() if f["n_events"] >= 50 and campaign.get(a) == group]
        if not members:
            continue
        if group is not None:
            within = np.mean([abs(by[a]["utc_offset"] - operator[group]) <= 1 for a in members])
        else:
            within = None
        office = np.mean([by[a]["office_clock"] for a in members])
        conflict = [by[a]["offset_conflict"] for a in members if "offset_conflict" in by[a]]
        rows.append((group or "organic", operator.get(group), len(members), within, office,
                     float(np.mean(conflict)) if conflict else None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", nargs="+", default=["seed-case", "multi-campaign"])
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    print("| scenario | accounts | operator offset | accounts with >= 50 events | within ±1 h | office clock | "
          "mean hours from claimed place |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in args.scenario:
        for group, offset, n, within, office, conflict in evaluate(name, args.seed):
            print(f"| {name} | {group} | {'–' if offset is None else f'{offset:+.0f}'} | {n} | "
                  f"{'–' if within is None else f'{within:.3f}'} | {office:.3f} | "
                  f"{'–' if conflict is None else f'{conflict:.1f}'} |")


if __name__ == "__main__":
    main()
