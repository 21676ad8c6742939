"""Ingest throughput and peak memory: 1 M canonical posts from Parquet and from CSV into DuckDB.

Run: `make bench` or `.venv/bin/python bench/ingest.py [--rows N]`. Each load runs in a child
process so its peak RSS is its own. Figures are ratios on a shared machine: read them side by
side, not as absolutes. The data are generated here, deterministically (seed 7).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

TARGET_PARQUET_ROWS_PER_S = 300_000


def make_posts(n: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    accounts = rng.zipf(1.6, n) % 50_000  # heavy-tailed activity
    objects = rng.zipf(1.3, n) % 200_000
    ts = 1_735_689_600_000_000 + np.sort(rng.integers(0, 30 * 86_400_000_000, n))
    kinds = np.array(["post", "repost", "reply", "quote"])[rng.choice(4, n, p=[0.5, 0.3, 0.15, 0.05])]
    words = np.array(["policy", "vote", "today", "news", "great", "city", "people", "budget", "school", "win"])
    text = [" ".join(words[rng.integers(0, 10, 8)]) for _ in range(min(n, 1000))]
    urls = pa.array([[f"https://site{o % 5000}.example.org/a/{o}"] if o % 3 == 0 else [] for o in objects.tolist()],
                    pa.list_(pa.string()))
    return pa.table({
        "platform": pa.array(["x"] * n),
        "post_id": pa.array([str(i) for i in range(n)]),
        "account_id": pa.array([f"acct{a}" for a in accounts.tolist()]),
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "kind": pa.array(kinds),
        "text": pa.array([text[i % len(text)] for i in range(n)]),
        "target_post_id": pa.array([f"obj{o}" for o in objects.tolist()]),
        "urls": urls,
        "hashtags": pa.array([["tag%d" % (o % 300)] for o in objects.tolist()], pa.list_(pa.string())),
    })


def write_inputs(folder: Path, n: int) -> dict[str, Path]:
    table = make_posts(n)
    parquet = folder / "parquet" / "posts.parquet"
    parquet.parent.mkdir()
    pq.write_table(table, parquet, compression="zstd")
    csv_table = table
    for column in ("urls", "hashtags"):  # CSV list cells are JSON arrays
        values = [json.dumps(v) for v in table.column(column).to_pylist()]
        csv_table = csv_table.set_column(csv_table.schema.get_field_index(column), column, pa.array(values))
    csv = folder / "csv" / "posts.csv"
    csv.parent.mkdir()
    pacsv.write_csv(csv_table, csv)
    return {"parquet": parquet, "csv": csv}


def load_one(path: str, db: str) -> None:
    """Child process: load one file, print JSON figures."""
    from chorusline.ingest import IngestOptions, adapter_for, ingest_files
    from chorusline.store import Store

    store = Store.open(db)
    started = time.perf_counter()
    report = ingest_files(store, adapter_for("canonical"), [Path(path)], IngestOptions())
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rows": report.totals()["posts"]["inserted"], "peak_mib": peak_kib / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        load_one(*args.one)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        inputs = write_inputs(folder, args.rows)
        print(f"generated {args.rows:,} posts in {time.perf_counter() - started:.1f} s "
              f"(parquet {inputs['parquet'].stat().st_size / 2**20:.0f} MiB, csv {inputs['csv'].stat().st_size / 2**20:.0f} MiB)")
        results = {}
        for fmt, path in inputs.items():
            db = str(folder / f"{fmt}.duckdb")
            out = subprocess.run([sys.executable, __file__, "--one", str(path), db], capture_output=True, text=True,
                                 check=True)
            results[fmt] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\n{'input':<10}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'peak MiB':>10}")
    for fmt, r in results.items():
        print(f"{fmt:<10}{r['rows']:>12,}{r['seconds']:>10.1f}{r['rows'] / r['seconds']:>12,.0f}{r['peak_mib']:>10.0f}")
    parquet_rate = results["parquet"]["rows"] / results["parquet"]["seconds"]
    print(f"\nparquet/csv throughput ratio: {parquet_rate / (results['csv']['rows'] / results['csv']['seconds']):.2f}")
    print(f"parquet target {TARGET_PARQUET_ROWS_PER_S:,} rows/s: {'met' if parquet_rate >= TARGET_PARQUET_ROWS_PER_S else 'NOT met'}"
          f" ({parquet_rate / TARGET_PARQUET_ROWS_PER_S:.2f}x)")


if __name__ == "__main__":
    main()
