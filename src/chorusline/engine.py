"""Connect to the one engine every stage runs on: DuckDB (embedded default) or PySpark.

Targets understood by :func:`connect`:

* ``chorusline.duckdb`` / ``duckdb:///path/to/file.duckdb`` / ``:memory:`` – an embedded DuckDB file;
* ``spark://local[2]`` (or ``spark://local[*]``) – a local Spark session; the store is a folder of
  Parquet tables (``warehouse``, default ``./chorusline-warehouse``) that is re-registered on
  every connect, so a Spark store survives between commands like a DuckDB file does;
* ``spark://HOST:PORT`` (a standalone cluster), ``spark://yarn``, ``spark://k8s://…``, or ``spark://``
  (the master ``spark-submit`` was given) – the same on a cluster (docs/SCALE.md);
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
        master = spark_master(text[len("spark://"):])
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


def spark_master(rest: str) -> str | None:
    """The Spark master named by what follows ``spark://``: ``local[N]``, ``HOST:PORT`` (a standalone
    cluster), ``yarn``, ``k8s://…``; empty: none, so that ``spark-submit --master`` or
    spark-defaults.conf decides (local[2] where nothing does)."""
    if not rest:
        return None
    if rest.startswith(("local", "yarn", "k8s://", "spark://")):
        return rest
    return f"spark://{rest}"


def spark_session(master: str | None = "local[2]", warehouse: str | os.PathLike = DEFAULT_WAREHOUSE):
    """A SparkSession set up for this project: UTC, no UI, microsecond Parquet times. A local one
    also stays on loopback with few partitions; a cluster's keeps what the cluster configures
    (docs/SCALE.md)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", "python3"))
    from pyspark.sql import SparkSession

    local_warehouse = "://" not in str(warehouse)
    if local_warehouse:
        warehouse = Path(warehouse).resolve()
        warehouse.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName("chorusline")
    if master is not None:
        builder = builder.master(master)
    elif not os.environ.get("PYSPARK_GATEWAY_PORT"):  # not under spark-submit, which sets the master
        builder = builder.master(os.environ.get("CHORUSLINE_SPARK_MASTER", "local[2]"))
    builder = (
        builder.config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        # in-memory tables (Python steps' results: embeddings, matches) reach Spark through Arrow;
        # the row-by-row fallback pickles NumPy values, which a cluster's JVM cannot unpickle
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # plans over cached tables print their children in full at every adaptive re-plan; an
        # unbounded plan string can exhaust the driver's heap on multi-step signals
        .config("spark.sql.maxPlanStringLength", "200000")
    )
    if master is None or master.startswith("local"):
        builder = (builder.config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.sql.shuffle.partitions", "4")
                   .config("spark.driver.memory", "2g"))
    else:  # a cluster's executors must reach the driver on the address SPARK_LOCAL_IP names
        builder = builder.config("spark.driver.host", os.environ["SPARK_LOCAL_IP"])
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _wrap_spark(session, warehouse: str | os.PathLike | None):
    backend = ibis.pyspark.connect(session)
    if warehouse is not None:
        _register_warehouse_tables(session, str(warehouse) if "://" in str(warehouse) else Path(warehouse).resolve())
    return backend


def _table_folders(session, warehouse: str | Path) -> list[tuple[str, str]]:
    """(name, location) of each table folder in the warehouse: listed with Python where it is a
    local folder, through Hadoop's file system API where it is a URL (s3a://, abfss://, gs://, hdfs://)."""
    if isinstance(warehouse, Path):
        return [(p.name, p.as_posix()) for p in sorted(warehouse.iterdir())
                if p.is_dir() and any(p.glob("*.parquet"))]
    jvm = session.sparkContext._jvm
    root = jvm.org.apache.hadoop.fs.Path(warehouse)
    fs = root.getFileSystem(session.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(root):
        return []
    folders = []
    for status in fs.listStatus(root):
        if status.isDirectory() and any(f.getPath().getName().endswith(".parquet") for f in fs.listStatus(status.getPath())):
            folders.append((status.getPath().getName(), status.getPath().toString()))
    return sorted(folders)


def _register_warehouse_tables(session, warehouse: str | Path) -> None:
    """Spark's default catalog forgets tables between sessions; the Parquet folders stay."""
    known = {t.name for t in session.catalog.listTables()}
    for name, location in _table_folders(session, warehouse):
        if name in known or name.startswith((".", "_")):
            continue
        session.sql(f"CREATE TABLE IF NOT EXISTS `{name}` USING parquet LOCATION '{location}'")


def reused(table: ibis.Table) -> ibis.Table:
    """A table that one query reads several times, computed once. DuckDB evaluates an inlined CTE
    once per reference, so the table is cached. Spark would recompute it per reference too, and
    its plan would carry every step before it (a cache keeps that plan, which grows step by step),
    so it is checkpointed: computed now, its lineage cut (:func:`spark_checkpoint`)."""
    backend = table._find_backend()
    if backend.name == "duckdb":
        return table.cache()
    if is_spark(backend) and os.environ.get("CHORUSLINE_SPARK_CHECKPOINT", "1") != "0":
        return spark_checkpoint(backend, table)
    return table


def spark_checkpoint(backend, table: ibis.Table) -> ibis.Table:
    """``table`` computed once into the executors' storage (``localCheckpoint``) and registered as
    a temporary view, so later queries start from its rows instead of re-planning its steps."""
    import uuid

    backend._run_pre_execute_hooks(table)  # registers the in-memory tables it reads, as execute() does
    frame = backend._session.sql(backend.compile(table)).localCheckpoint(eager=True)
    name = f"_checkpoint_{uuid.uuid4().hex[:12]}"
    frame.createOrReplaceTempView(name)
    return backend.table(name)
