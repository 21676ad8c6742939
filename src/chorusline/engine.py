"""Connect to the one engine every stage runs on: DuckDB (embedded default) or PySpark.

Targets understood by :func:`connect`:

* ``chorusline.duckdb`` / ``duckdb:///path/to/file.duckdb`` / ``:memory:`` – an embedded DuckDB file;
* ``spark://local[2]`` (or ``spark://local[*]``) – a local Spark session; the store is a folder of
  Parquet tables (``warehouse``, default ``./chorusline-warehouse``) that is re-registered on
  every connect, so a Spark store survives between commands like a DuckDB file does;
* an existing ``pyspark.sql.SparkSession`` – used as it is (tables are created in its warehouse).
"""

from __future__ import annotations

import os
import re
import weakref
from pathlib import Path
from typing import Any

import ibis

DEFAULT_DB = "chorusline.duckdb"
DEFAULT_WAREHOUSE = "chorusline-warehouse"
MEMORY_LIMIT_VARIABLE = "CHORUSLINE_MEMORY_LIMIT"
ENGINE_MEMORY_FLOOR = 64 << 20  # DuckDB needs a few buffers to spill through, whatever the limit
_SIZE_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


class EngineError(RuntimeError):
    """A store target that cannot be opened."""


def is_spark(backend: Any) -> bool:
    return getattr(backend, "name", "") == "pyspark"


def connect(target: Any = DEFAULT_DB, *, warehouse: str | os.PathLike | None = None) -> Any:
    """Return an Ibis backend for ``target`` (see the module docstring)."""
    if target is None:
        target = DEFAULT_DB
    if not isinstance(target, (str, os.PathLike)):
        if type(target).__name__ == "SparkSession":
            return _wrap_spark(target, warehouse=None)
        raise EngineError(f"cannot connect to {target!r}: expected a path, a URL or a SparkSession")
    text = str(target)
    if text.startswith("spark://"):
        master = text[len("spark://"):] or "local[2]"
        return _wrap_spark(spark_session(master, warehouse or DEFAULT_WAREHOUSE), warehouse or DEFAULT_WAREHOUSE)
    if text.startswith("duckdb://"):
        text = text[len("duckdb://"):]
        text = text[1:] if text.startswith("//") else text
    if text in ("", ":memory:"):
        return _tuned(ibis.duckdb.connect(), in_memory=True)
    path = Path(text)
    if path.parent and not path.parent.exists():
        raise EngineError(f"cannot open {path}: folder {path.parent} does not exist")
    try:
        return _tuned(ibis.duckdb.connect(str(path)))
    except Exception as exc:  # duckdb raises its own IOException / InvalidInputException types
        raise EngineError(f"cannot open {path}: {' '.join(str(exc).split())}") from None


_engine_limits: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def configured_memory(backend) -> int | None:
    """The memory limit in bytes this module gave a DuckDB backend; None: DuckDB's default (80% of RAM)."""
    return _engine_limits.get(backend)


def _private_temp_dir() -> str:
    """A spill folder of this process's own, removed at exit."""
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="chorusline-duckdb-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _tuned(backend, in_memory: bool = False):
    # Row order carries no meaning in any table here (keys do), and keeping it serialises inserts.
    backend.raw_sql("SET preserve_insertion_order = false")
    # Bounded memory: past its limit DuckDB spills joins, aggregates and cached tables to a temp
    # folder instead of growing with the input (default: DuckDB's own, 80% of RAM).
    limit = memory_limit()
    if limit is not None:
        _engine_limits[backend] = engine_memory(limit)
        backend.raw_sql(f"SET memory_limit = '{_engine_limits[backend]}B'")
    temp = os.environ.get("CHORUSLINE_TEMP_DIR")
    if not temp and in_memory:
        # an in-memory database spills to `.tmp/duckdb_temp_storage_DEFAULT-0.tmp` under the working
        # folder, the same file for every process started there: two runs side by side read each
        # other's blocks ("Could not read enough bytes")
        temp = _private_temp_dir()
    if temp:
        backend.raw_sql(f"SET temp_directory = '{temp}'")
    return backend


def parse_size(text: str) -> int:
    """Bytes in a size written as DuckDB writes and reads them: '500MB' (10^6), '1.5GiB' (2^30), '123 bytes'."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise EngineError(f"not a size: {text!r} (expected e.g. 500MB, 2GB or 1.5GiB)")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def memory_limit() -> int | None:
    """CHORUSLINE_MEMORY_LIMIT in bytes, or None when it is not set. It caps the whole process,
    not only the engine: see engine_memory and docs/PERFORMANCE.md."""
    text = os.environ.get(MEMORY_LIMIT_VARIABLE, "").strip()
    if not text:
        return None
    try:
        return parse_size(text)
    except EngineError as exc:
        raise EngineError(f"{MEMORY_LIMIT_VARIABLE}: {exc}") from None


def resident_bytes() -> int:
    """This process's resident memory now (0 where /proc is not there to ask)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def engine_memory(limit: int) -> int:
    """DuckDB's share of a process limit: what the process does not already hold when it connects
    (the interpreter and the libraries, about 200 MiB), so that the two together stay near the limit."""
    return max(ENGINE_MEMORY_FLOOR, limit - resident_bytes())


def spark_session(master: str = "local[2]", warehouse: str | os.PathLike = DEFAULT_WAREHOUSE):
    """A local SparkSession set up for this machine: loopback only, no UI, UTC, few partitions."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", "python3"))
    from pyspark.sql import SparkSession

    warehouse = Path(warehouse).resolve()
    warehouse.mkdir(parents=True, exist_ok=True)
    session = (
        SparkSession.builder.master(master)
        .appName("chorusline")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.driver.memory", "2g")
        # plans over cached tables print their children in full at every adaptive re-plan; an
        # unbounded plan string can exhaust the driver's heap on multi-step signals
        .config("spark.sql.maxPlanStringLength", "200000")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _wrap_spark(session, warehouse: str | os.PathLike | None):
    backend = ibis.pyspark.connect(session)
    if warehouse is not None:
        _register_warehouse_tables(session, Path(warehouse).resolve())
    return backend


def _register_warehouse_tables(session, warehouse: Path) -> None:
    """Spark's default catalog forgets tables between sessions; the Parquet folders stay."""
    known = {t.name for t in session.catalog.listTables()}
    for folder in sorted(p for p in warehouse.iterdir() if p.is_dir()):
        if folder.name in known or folder.name.startswith((".", "_")):
            continue
        if not any(folder.glob("*.parquet")):
            continue
        session.sql(f"CREATE TABLE IF NOT EXISTS `{folder.name}` USING parquet LOCATION '{folder.as_posix()}'")


def reused(table: ibis.Table) -> ibis.Table:
    """A table that one query reads several times. DuckDB evaluates an inlined CTE once per
    reference, so the table is computed once (cached); Spark reuses a shared exchange by itself,
    and a cache there costs a job and a plan that grows with every cached step."""
    if table._find_backend().name == "duckdb":
        return table.cache()
    return table
