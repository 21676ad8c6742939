"""The whole detection run at scale: seconds per stage and peak memory, one scenario.

Run: `.venv/bin/python bench/detect.py [--scenario large] [--scale 1.0]`. The scenario is simulated
and loaded into a DuckDB file first (not timed); then a child process runs enrichment, every
signal, fusion, clustering, scoring, the campaign links and recruits, printing each stage's seconds; the
parent reads the child's peak RSS from /usr/bin/time. No peer does this end to end, so there is
nothing to put side by side: the figures are for tracking our own scaling (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from timing import timed

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"


def stages(db: str, out: str) -> None:
    """Child: run and time each stage, print one JSON object."""
    from chorusline.campaigns.detect import DetectConfig, score_campaigns
    from chorusline.enrich.network import enrich_store
    from chorusline.graph.cluster import cluster_members
    from chorusline.graph.fuse import fuse
    from chorusline.signals.run import edge_signals, feature_signals, run_signals
    from chorusline.store import Store

    store = Store.open(db)
    config = DetectConfig()
    times = {}

    def clock(name, fn):
        start = time.perf_counter()
        fn()
        times[name] = round(time.perf_counter() - start, 1)

    clock("enrich", lambda: enrich_store(store))
    for name in [*edge_signals(store), *feature_signals(store)]:
        clock(f"signal {name}", lambda name=name: run_signals(store, Path(out), [name]))
    backend = store.backend
    clock("fuse", lambda: backend.create_table("fused_edges", fuse(store.table("edges"), config.fuse), overwrite=True))
    clock("cluster", lambda: backend.create_table("clusters", cluster_members(store.table("fused_edges"), config.cluster),
                                                  overwrite=True))
    clock("score, links, recruits", lambda: score_campaigns(store, config))
    times["edges"] = int(store.table("edges").count().execute())
    times["campaigns reported"] = int(store.table("campaigns").filter(lambda t: t.above_threshold).count().execute())
    print(json.dumps(times))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        stages(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="large")
    parser.add_argument("--scale", type=float, default=None)
    args = parser.parse_args()
    from chorusline.ingest import IngestOptions, adapter_for, ingest_files
    from chorusline.sim import load_scenario, simulate
    from chorusline.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        summary = simulate(load_scenario(args.scenario, scale=args.scale), tmp / "sim")
        db = str(tmp / "bench.duckdb")
        store = Store.open(db)
        ingest_files(store, adapter_for("canonical"), sorted((tmp / "sim").glob("*.parquet")), IngestOptions())
        store.backend.disconnect()
        rows = {k: v for k, v in summary.rows.items() if k in ("posts", "llm_calls", "accounts")}
        out, wall, rss = timed([str(PYTHON), __file__, "--child", db, str(tmp / "signals")], cwd=ROOT)
        times = json.loads(out.strip().splitlines()[-1])
        print(f"detect on {args.scenario} ({', '.join(f'{k} {v:,}' for k, v in rows.items())})")
        print("| stage | seconds |\n| --- | --- |")
        for name, value in times.items():
            print(f"| {name} | {value:,} |")
        print(f"| **total (child process)** | **{wall:.1f}** |\n\npeak RSS {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
