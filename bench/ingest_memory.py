"""Peak memory of `chorusline ingest` against input size: is it flat, and does the one memory
setting (CHORUSLINE_MEMORY_LIMIT) hold the whole process?

Run: `.venv/bin/python bench/ingest_memory.py` (default 1 M, 2 M and 4 M canonical posts, CSV and
Parquet, without a limit and with ``--limit 500MB``). Every load is the real command line
(`chorusline ingest --db fresh.duckdb FILE`) in a child process under /usr/bin/time, whose peak RSS is
printed. The posts are bench/ingest.py's generator (seed 7 + chunk), written one million rows at a
time so the generator's own memory does not depend on the size either.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import make_posts  # noqa: E402  (bench/ingest.py: the same posts the throughput bench loads)
from timing import timed  # noqa: E402

CHUNK = 1_000_000
CHORUSLINE = Path(sys.executable).with_name("chorusline")


def _chunk(index: int, rows: int) -> pa.Table:
    table = make_posts(rows, seed=7 + index)
    ids = np.arange(index * CHUNK, index * CHUNK + rows).astype(str)  # unique across chunks
    table = table.set_column(table.schema.get_field_index("post_id"), "post_id", pa.array(ids, pa.string()))
    for column in ("urls", "hashtags"):  # CSV list cells are JSON arrays; Parquet keeps them as lists
        table = table.append_column(f"{column}_json", pa.array([json.dumps(v) for v in table.column(column).to_pylist()]))
    return table


def write_inputs(folder: Path, sizes: list[int], formats: list[str]) -> dict[tuple[str, int], Path]:
    """One file per (format, size); chunk k is generated once and appended to every file that holds it."""
    paths = {(fmt, n): folder / f"{n}" / f"posts.{fmt}" for fmt in formats for n in sizes}
    for path in paths.values():
        path.parent.mkdir(exist_ok=True)
    writers: dict[tuple[str, int], object] = {}
    for index in range((max(sizes) + CHUNK - 1) // CHUNK):
        chunk = _chunk(index, min(CHUNK, max(sizes) - index * CHUNK))
        plain = chunk.drop_columns(["urls_json", "hashtags_json"])
        as_csv = chunk.drop_columns(["urls", "hashtags"]).rename_columns(
            [c.removesuffix("_json") for c in chunk.drop_columns(["urls", "hashtags"]).column_names])
        for (fmt, n), path in paths.items():
            if index * CHUNK >= n:
                continue
            rows = min(CHUNK, n - index * CHUNK)
            if (fmt, n) not in writers:
                writers[fmt, n] = (pq.ParquetWriter(path, plain.schema, compression="zstd") if fmt == "parquet"
                                   else pacsv.CSVWriter(path, as_csv.schema))
            writers[fmt, n].write_table((plain if fmt == "parquet" else as_csv).slice(0, rows))
    for writer in writers.values():
        writer.close()
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,2000000,4000000", help="rows, comma-separated")
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--limit", action="append", default=None,
                        help="CHORUSLINE_MEMORY_LIMIT values to run besides none (repeatable; default 500MB)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = args.formats.split(",")
    limits = [None, *(args.limit if args.limit is not None else ["500MB"])]
    with tempfile.TemporaryDirectory(prefix="chorusline-bench-") as tmp:
        folder = Path(tmp)
        paths = write_inputs(folder, sizes, formats)
        print(f"{'input':<9}{'rows':>11}  {'CHORUSLINE_MEMORY_LIMIT':<24}{'seconds':>8}{'peak RSS MiB':>14}", flush=True)
        for fmt in formats:
            for limit in limits:
                for n in sizes:
                    db = folder / f"{fmt}-{n}-{limit}.duckdb"
                    env_limit = {"CHORUSLINE_MEMORY_LIMIT": limit} if limit else {}
                    saved = dict(os.environ)
                    os.environ.pop("CHORUSLINE_MEMORY_LIMIT", None)
                    os.environ.update(env_limit)
                    try:
                        _, seconds, mib = timed([str(CHORUSLINE), "ingest", "--db", str(db), str(paths[fmt, n])])
                    finally:
                        os.environ.clear()
                        os.environ.update(saved)
                    db.unlink()
                    print(f"{fmt:<9}{n:>11,}  {limit or '(none)':<24}{seconds:>8.1f}{mib:>14,.0f}", flush=True)


if __name__ == "__main__":
    main()
