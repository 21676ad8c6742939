"""Which stage of `detect` holds the memory: the process's resident memory sampled every 0.2 s and
charged to every stage running at that moment (each signal inside ``signals``), on a store that
is already loaded and enriched (e.g. one `bench/scale.py` built in a kept folder).

DuckDB runs inside the process, so its buffers count; Spark's executors would not.

Run: `.venv/bin/python bench/stage_memory.py STORE.duckdb [--signals DIR]`; prints one line per
stage as it ends (seconds, peak MiB, MiB left after it) and the peaks as JSON at the end."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time

from chorusline.api import detect, open_store
from chorusline.engine import resident_bytes
from chorusline.progress import reporting


def resident_mib() -> float:
    return resident_bytes() / 2**20


class StagePeaks:
    """A progress reporter that keeps the highest resident memory seen while each stage ran."""

    def __init__(self, interval: float = 0.2):
        self.running: list[str] = []
        self.peaks: dict[str, float] = {}
        self.started = time.perf_counter()
        self.interval = interval
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            now = resident_mib()
            for name in list(self.running):
                self.peaks[name] = max(self.peaks.get(name, 0.0), now)
            time.sleep(self.interval)

    def start(self, name: str, total: int | None) -> None:
        self.running.append(name)
        self.peaks[name] = resident_mib()

    def advance(self, name: str, n: int) -> None:
        pass

    def finish(self, name: str, seconds: float) -> None:
        if name in self.running:
            self.running.remove(name)
        print(f"{time.perf_counter() - self.started:8.1f} s  {name}: {seconds:.1f} s, peak {self.peaks[name]:,.0f} MiB, "
              f"{resident_mib():,.0f} MiB after", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", help="a DuckDB store, loaded and enriched")
    parser.add_argument("--signals", help="where the signals' Parquet goes (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chorusline-stage-memory-") as tmp:
        store = open_store(args.db)
        peaks = StagePeaks()
        with reporting(peaks):
            detect(store, signals_out=args.signals or tmp)
    print(json.dumps({k: round(v) for k, v in peaks.peaks.items()}))


if __name__ == "__main__":
    main()
