"""The canonical store over one Ibis backend: create tables, load with de-duplication, count.

Loading goes through a staging table per (file, table): Arrow batches are appended to it as they
are read (bounded memory on both engines: DuckDB spills, Spark writes Parquet), then one Ibis
expression inserts the staged rows whose key is not yet in the target. So re-ingesting a file adds
nothing twice, and a file whose load fails part-way leaves the store as it was.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from chorusline.engine import configured_memory, connect, is_spark, parse_size
from chorusline.schema import ALL_TABLES, TIME_COLUMN, TableSpec

_stage_ids = itertools.count()
STAGE_PREFIX = "chorusline-stage-"
# DuckDB's memory for one de-duplicating insert. It spills past this (4 M posts commit as fast under
# 128 MiB as unbounded), so the memory ingest needs does not grow with the file.
COMMIT_MEMORY = 128 << 20
_OWNER_LOCK = "owner.lock"


class Store:
    def __init__(self, backend: Any, staging_dir: str | None = None):
        self.backend = backend
        self.spark = is_spark(backend)
        # Where staged loads wait for their commit. Spark in local mode reads it like any local path;
        # on a cluster point it at storage every executor sees.
        self.staging_dir = staging_dir
        remove_abandoned_stages(staging_dir)

    @classmethod
    def open(cls, target: Any = None, *, warehouse=None) -> Store:
        store = cls(connect(target, warehouse=warehouse))
        store.ensure_tables()
        return store

    # -- tables -------------------------------------------------------------------------------
    def ensure_tables(self) -> None:
        existing = set(self.backend.list_tables())
        for spec in ALL_TABLES.values():
            if spec.name not in existing:
                self.backend.create_table(spec.name, schema=spec.schema)

    def table(self, name: str) -> ibis.Table:
        return self.backend.table(name)

    def count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    # -- loading ------------------------------------------------------------------------------
    def stage(self, spec: TableSpec) -> Stage:
        return Stage(self, spec)

    def append_rows(self, spec: TableSpec, rows: pa.Table) -> int:
        """Stage and commit one Arrow table in a single step."""
        stage = self.stage(spec)
        stage.append(rows)
        inserted, _ = stage.commit()
        return inserted

    # -- status -------------------------------------------------------------------------------
    def status(self) -> list[TableStatus]:
        out = []
        for spec in ALL_TABLES.values():
            t = self.table(spec.name)
            time_col = TIME_COLUMN.get(spec.name)
            if spec.name == "quarantine":
                time_col = "ingested_at"
            if time_col:
                agg = t.aggregate(n=t.count(), first=t[time_col].min(), last=t[time_col].max()).execute()
                row = agg.iloc[0]
                first = None if _isnull(row["first"]) else row["first"]
                last = None if _isnull(row["last"]) else row["last"]
                out.append(TableStatus(spec.name, int(row["n"]), first, last))
            else:
                out.append(TableStatus(spec.name, self.count(spec.name), None, None))
        return out


def _isnull(value) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return value is None


@dataclass
class TableStatus:
    table: str
    rows: int
    first: Any
    last: Any


LINE = "_line"  # staging column: where each row came from, so conflicts can be quarantined
SEQ = "_seq"  # staging column: arrival order, unique (one line can hold several rows)


@dataclass
class Conflict:
    line: int
    reason: str
    raw: str


@contextlib.contextmanager
def _engine_memory_at_most(backend, limit: int) -> Iterator[None]:
    """DuckDB's memory limit lowered to ``limit`` for the block (never raised); Spark plans its own."""
    configured = configured_memory(backend)
    if getattr(backend, "name", "") != "duckdb" or (configured is not None and configured <= limit):
        yield
        return
    # restored by value: after `SET memory_limit` on a database holding in-memory tables, DuckDB
    # 1.5's `RESET memory_limit` reports the default again but its buffer pool keeps the lowered
    # cap (the next large query on a `:memory:` store ran out at 128 MiB)
    # cap (the next large query on a `:memory:` store ran out at 128 MiB). DuckDB shows the limit cut
    # to a tenth ('18.7 GiB' after setting '18.8 GiB'): the shown value, restored as it is, would
    # lower the limit a little at every commit, so it is rounded up to a whole MiB (stable after one).
    if configured is None:
        shown = backend.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]
        configured = -(-parse_size(shown) // 2**20) * 2**20
    backend.raw_sql(f"SET memory_limit = '{limit}B'")
    try:
        yield
    finally:
        backend.raw_sql(f"SET memory_limit = '{configured}B'")


class Stage:
    """Rows of one table from one source, held aside until :meth:`commit`.

    Batches are appended to a Parquet file (Arrow writes it in bounded memory; both engines read
    it in parallel); :meth:`commit` then runs the de-duplicating insert as engine expressions."""

    def __init__(self, store: Store, spec: TableSpec):
        self.store = store
        self.spec = spec
        self.name = f"_stage_{spec.name}_{next(_stage_ids)}"
        self.rows = 0
        self._schema = pa.schema(list(spec.arrow_schema) + [pa.field(LINE, pa.int64()), pa.field(SEQ, pa.int64())])
        self._folder: Path | None = None
        self._lock: int | None = None  # a descriptor holding the folder's owner lock
        self._view = False  # the engine has a view of the staged file (dropped with it)
        self._finished = False  # the staged file is complete and closed
        self._writer: pq.ParquetWriter | None = None
        # Arrow writes without the GIL: one background writer overlaps staging with reading the next
        # batch; at most two batches wait, so memory stays bounded.
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future] = []

    @property
    def _path(self) -> Path:
        if self._folder is None:
            self._folder, self._lock = _owned_folder(self.store.staging_dir)
        return self._folder / "staged.parquet"  # no leading "_": Spark skips such files as hidden

    def append(self, batch: pa.Table, lines: pa.Array | None = None) -> None:
        if batch.num_rows == 0:
            return
        if lines is None:
            lines = pa.array(range(self.rows + 1, self.rows + 1 + batch.num_rows), pa.int64())
        seq = pa.array(range(self.rows, self.rows + batch.num_rows), pa.int64())
        batch = batch.select(self.spec.column_names).cast(self.spec.arrow_schema)
        batch = batch.append_column(LINE, lines.cast(pa.int64())).append_column(SEQ, seq)
        if self._writer is None:
            # Read back once, soon: speed over size.
            self._writer = pq.ParquetWriter(self._path, self._schema, compression="none")
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stage")
        while len(self._pending) >= 2:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(self._writer.write_table, batch))
        self.rows += batch.num_rows

    def _drain(self) -> None:
        for future in self._pending:
            future.result()
        self._pending = []
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def finish_writing(self) -> bool:
        """Write out what is pending and close the staged file (commit does it too; the ingest
        runner does it first to free the buffers before the engine's commit). False: nothing staged."""
        if self._writer is not None:
            self._drain()
            self._close_writer()
            self._finished = True
        return self._finished

    def commit(self) -> tuple[int, list[Conflict]]:
        """Insert staged rows whose key is new. Returns (rows inserted, conflicts): rows that repeat
        a key with different values, within this source or against the store. Identical repeats
        are the idempotence of re-ingesting and are not reported."""
        if not self.finish_writing():
            return 0, []
        backend = self.store.backend
        try:
            with _engine_memory_at_most(backend, COMMIT_MEMORY):
                return self._commit(backend)
        finally:
            self.discard()

    def _commit(self, backend) -> tuple[int, list[Conflict]]:
        keys = list(self.spec.key)
        staged = backend.read_parquet(self._path, table_name=self.name)
        self._view = True
        target = backend.table(self.spec.name)
        # The first occurrence of each key (arrival order) wins; hash aggregation, not a sort.
        firsts = staged.group_by(keys).aggregate(_first=staged[SEQ].min(), _n=staged.count())
        stats = firsts.aggregate(n_keys=firsts.count(), repeated=(firsts._n > 1).cast("int64").sum()).execute()
        n_keys, repeated = int(stats["n_keys"].iloc[0]), int(stats["repeated"].fillna(0).iloc[0])
        on_first = [*(staged[k] == firsts[k] for k in keys), staged[SEQ] == firsts._first]
        first = staged.semi_join(firsts, on_first) if repeated else staged
        store_rows = int(target.count().execute())
        overlap = int(first.semi_join(target, keys).count().execute()) if store_rows else 0
        conflicts: list[Conflict] = []
        if not self.spec.snapshots:
            if repeated:
                later = staged.anti_join(firsts, on_first)
                conflicts += self._differing(later, first, "repeats the key of line {other} with different values")
            if overlap:
                conflicts += self._differing(first, target, "key already in the store with different values")
        inserted = n_keys - overlap
        if inserted:
            new_rows = (first.anti_join(target, keys) if overlap else first).select(self.spec.column_names)
            if self.store.spark:
                # Spark plans lazily: materialise before inserting into a table the plan reads.
                new_rows = backend.create_table(f"{self.name}_new", new_rows)
            backend.insert(self.spec.name, new_rows)
            if self.store.spark:
                backend.drop_table(f"{self.name}_new", force=True)
        return inserted, conflicts

    def _differing(self, rows: ibis.Table, others: ibis.Table, reason: str) -> list[Conflict]:
        keys = list(self.spec.key)
        values = [c for c in self.spec.column_names if c not in keys]
        other_cols = {f"_o_{c}": others[c] for c in values}
        if LINE in others.columns:
            other_cols["_o_line"] = others[LINE]
        right = others.select(*keys, **other_cols)
        joined = rows.join(right, keys)
        same = [
            ((joined[c] == joined[f"_o_{c}"]) | (joined[c].isnull() & joined[f"_o_{c}"].isnull())).fill_null(False)
            for c in values
        ]
        differing = joined.filter(~ibis.and_(*same)) if same else joined.limit(0)
        found = differing.select(*self.spec.column_names, LINE, *(["_o_line"] if "_o_line" in right.columns else []))
        frame = found.to_pyarrow().to_pylist()
        out = []
        for row in frame:
            other = row.pop("_o_line", None)
            line = row.pop(LINE)
            shown = json.dumps(row, default=str, ensure_ascii=False)
            out.append(Conflict(int(line), reason.format(other=other), shown))
        return out

    def discard(self) -> None:
        """Forget the staged rows and remove their file; safe to call again."""
        try:
            self._drain()
        finally:
            self._close_writer()
        if self._view:
            self._view = False
            try:
                self.store.backend.drop_view(self.name, force=True)
            except Exception:  # noqa: BLE001 - a connection already closed has no views to drop
                pass
        if self._folder is not None:
            _release_folder(self._folder, self._lock)
            self._folder, self._lock = None, None
        self.rows = 0
        self._finished = False

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


# --- staging folders ----------------------------------------------------------------------------
# Each stage's folder is named after its process and locked by it for as long as it lives. On a
# normal exit, an exception, Ctrl-C or SIGTERM (the ingest runner turns it into an exit) the folder
# is removed by Stage.discard, and at exit by _remove_own_stages; after kill -9 or a crash, the next
# store opened in that staging folder removes it: its lock is free once its owner is dead (a pid alone
# could be reused, or belong to another container sharing the folder).

_own_stages: dict[Path, int] = {}


def _owned_folder(parent: str | None) -> tuple[Path, int]:
    folder = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-", dir=parent))
    lock = os.open(folder / _OWNER_LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    if fcntl is not None:
        # Where the filesystem has no locks, the folder is never judged abandoned (the sweep
        # cannot take the lock either): it is still removed on every exit but a kill -9.
        with contextlib.suppress(OSError):
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _own_stages[folder] = lock
    return folder, lock


def _release_folder(folder: Path, lock: int | None) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    if lock is not None:
        os.close(lock)
    _own_stages.pop(folder, None)


@atexit.register
def _remove_own_stages() -> None:
    for folder, lock in list(_own_stages.items()):
        _release_folder(folder, lock)


_swept: set[Path] = set()


def remove_abandoned_stages(parent: str | None = None) -> list[Path]:
    """Remove staging folders whose owning process is dead (killed while loading); once per
    process and folder. Returns what it removed."""
    root = Path(parent or tempfile.gettempdir())
    if root in _swept or fcntl is None:  # without locks (Windows) a living owner cannot be told apart
        return []
    _swept.add(root)
    removed = []
    for folder in root.glob(f"{STAGE_PREFIX}*"):
        pid, dash, _ = folder.name[len(STAGE_PREFIX):].partition("-")
        if not (dash and pid.isdigit()) or folder in _own_stages:  # not ours to judge, or ours
            continue
        try:
            lock = os.open(folder / _OWNER_LOCK, os.O_RDWR)
        except OSError:  # no lock: a folder being created this instant, or not one of ours
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: its owner is alive
            os.close(lock)
            continue
        shutil.rmtree(folder, ignore_errors=True)
        os.close(lock)
        removed.append(folder)
    return removed


# --- a store seen from its last stretch of event time ----------------------------------------------
# the event tables a horizon cuts, by their time column (labels are not a detection input)
HORIZON_TABLES = {"posts": "ts", "llm_calls": "ts", "news_events": "ts"}


class HorizonStore(Store):
    """The store as detection sees it over a horizon: ``table()`` gives the event tables cut to
    ``since`` (posts, API calls and news events at or after it) and the accounts active then
    (created at or after it, or with a post or call kept), so what a detection run reads, and
    holds in memory for its events, is bounded by the horizon, not by the store's length. Every
    other table, and every write (through ``backend``, ``stage``, ``append_rows``), is the real
    store's."""

    def __init__(self, store: Store, since):
        # the same engine and staging folder, without a second sweep of abandoned stages
        self.backend, self.spark, self.staging_dir = store.backend, store.spark, store.staging_dir
        self.whole = store
        self.since = since

    @classmethod
    def last(cls, store: Store, horizon, until=None) -> HorizonStore:
        """The last ``horizon`` (a timedelta) of event time up to ``until`` (default: the latest
        post or API call stored; an empty store is left whole)."""
        if until is None:
            times = [store.table(name).ts.max().to_pyarrow().as_py() for name in ("posts", "llm_calls")]
            # Spark hands back naive UTC wall times (its session time zone is UTC), DuckDB aware ones
            times = [t if t is None or t.tzinfo else t.replace(tzinfo=dt.UTC) for t in times]
            until = max((t for t in times if t is not None), default=None)
        return cls(store, None if until is None else until - horizon)

    def table(self, name: str) -> ibis.Table:
        t = self.backend.table(name)
        if self.since is None:
            return t
        since = ibis.literal(self.since)
        if name in HORIZON_TABLES:
            return t.filter(t[HORIZON_TABLES[name]] >= since)
        if name == "accounts":
            active = [self.table(n) for n in ("posts", "llm_calls")]
            actors = active[0].select(_actor=active[0].platform.concat(":", active[0].account_id)).union(
                active[1].select(_actor=active[1].platform.concat(":", active[1].account_id)))
            return t.filter((t.created_at >= since) | t.platform.concat(":", t.account_id).isin(actors._actor))
        return t
