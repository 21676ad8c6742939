"""What a detection horizon buys: seconds and peak memory of `chorusline detect` over the whole
store and over its last N days of event time (`--horizon`, the watcher's `--detect-horizon`).

Run: `.venv/bin/python bench/detect_horizon.py [--scenario seed-case] [--horizons off 28d 14d 7d]`.
The scenario is simulated, loaded and enriched once (texts embedded, not timed); then each horizon
runs `chorusline detect` on its own copy of the store in a child process, and the parent reads the
child's peak RSS from /usr/bin/time. One table: the rows the horizon reads, seconds, peak RSS, and
the campaigns reported. Nothing to put side by side with a peer: none bounds detection by event time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"


def rows_read(db: Path, horizon: str) -> tuple[int, int, int]:
    """posts, API calls and accounts the horizon reads."""
    from chorusline.cli import parse_duration
    from chorusline.store import HorizonStore, Store

    store = Store.open(str(db))
    try:
        cut = parse_duration(horizon, "--horizons")
        view = store if cut is None else HorizonStore.last(store, cut)
        return view.count("posts"), view.count("llm_calls"), view.count("accounts")
    finally:
        store.backend.disconnect()


def timed_detect(db: Path, horizon: str, signals: Path) -> tuple[float, float, int]:
    """seconds, peak RSS (MiB), campaigns reported: one `chorusline detect` in a child process."""
    cmd = ["/usr/bin/time", "-v", str(BIN / "chorusline"), "detect", "--db", str(db), "--horizon", horizon,
           "--signals-out", str(signals), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"detect --horizon {horizon} failed:\n{done.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 1024
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", done.stderr).group(1)
    seconds = sum(float(part) * 60 ** i for i, part in enumerate(reversed(wall.split(":"))))
    campaigns = json.loads(done.stdout)
    campaigns = campaigns if isinstance(campaigns, list) else campaigns.get("campaigns", [])
    reported = sum(1 for c in campaigns if c.get("tier") not in (None, "not reported"))
    return seconds, rss, reported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="seed-case")
    parser.add_argument("--horizons", nargs="+", default=["off", "28d", "14d", "7d"])
    args = parser.parse_args()
    chorusline = str(BIN / "chorusline")
    with tempfile.TemporaryDirectory(prefix="chorusline-bench-horizon-") as folder:
        tmp = Path(folder)
        whole = tmp / "whole.duckdb"
        subprocess.run([chorusline, "simulate", "--scenario", args.scenario, "--out", str(tmp / "sim")],
                       check=True, capture_output=True)
        files = sorted((tmp / "sim").rglob("*.parquet"))
        files = [f for f in files if "truth" not in f.parts]
        subprocess.run([chorusline, "ingest", "--db", str(whole), "-f", "canonical", *map(str, files)],
                       check=True, capture_output=True)
        subprocess.run([chorusline, "enrich", "--db", str(whole)], check=True, capture_output=True)
        print(f"## {args.scenario}: detect over the whole store and over a horizon "
              f"({dt.date.today().isoformat()}, one run each)\n")
        print("| horizon | posts | API calls | accounts | seconds | peak RSS (MiB) | campaigns reported |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for horizon in args.horizons:
            db = tmp / f"h-{horizon}.duckdb"
            shutil.copy(whole, db)
            posts, calls, accounts = rows_read(db, horizon)
            seconds, rss, reported = timed_detect(db, horizon, tmp / f"signals-{horizon}")
            print(f"| {horizon} | {posts:,} | {calls:,} | {accounts:,} | {seconds:.1f} | {rss:,.0f} | {reported} |",
                  flush=True)
            db.unlink()


if __name__ == "__main__":
    main()
