"""Append one validated micro-batch to the store, durably and idempotently.

The store's own loading protocol does the work (``Store.stage`` → ``Stage.commit``, as the ingest
runner uses it): rows whose key is already stored are not inserted again, so a batch the broker
redelivers after a crash (stored, but not yet acknowledged) adds nothing; a row that repeats a key
with *other* values is a conflict and goes to quarantine, as in a file. Each table's commit is a
DuckDB transaction; the caller acknowledges the batch to the broker only after this returns.

Most batches need none of that protocol's work: every key is new to the store and appears once in
the batch. Those tables go to the store straight from Arrow in one transaction (``_insert_new``:
one check, one ``INSERT`` per table, one commit) instead of a Parquet stage and the half-dozen
queries of a staged commit each; a table with any repeated or stored key goes through
``Store.stage`` as before, which decides exactly as it would have for the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from chorusline.live.events import DecodedBatch, Event, decode, quarantine_rows
from chorusline.schema import ALL_TABLES, CANONICAL, QUARANTINE
from chorusline.store import Store


@dataclass
class BatchResult:
    events: int = 0
    inserted: dict[str, int] = field(default_factory=dict)  # rows new to the store, per table
    quarantined: int = 0
    actors: dict[str, int] = field(default_factory=dict)  # actor -> earliest arrival (ms) of its events here
    # actors with rows here that carry watchlist fingerprints of their own (API calls: addresses,
    # clients, prompt templates; account records: card, e-mail domain)
    fingerprinted: set[str] = field(default_factory=set)
    max_ts: object = None  # the latest event time stored by this batch
    # the valid posts and API calls, for the sliding-window signals (``live.window``)
    rows: dict[str, list[pa.Table]] = field(default_factory=dict)

    def add(self, other: BatchResult) -> None:
        """Count ``other`` (a later batch) in with this one."""
        self.events += other.events
        self.quarantined += other.quarantined
        for table, n in other.inserted.items():
            self.inserted[table] = self.inserted.get(table, 0) + n
        for actor, ms in other.actors.items():
            self.actors[actor] = min(ms, self.actors.get(actor, ms))
        self.fingerprinted |= other.fingerprinted
        if other.max_ts is not None and (self.max_ts is None or other.max_ts > self.max_ts):
            self.max_ts = other.max_ts
        for table, parts in other.rows.items():
            self.rows.setdefault(table, []).extend(parts)


def append_batch(store: Store, source: str, events: list[Event], decoded: DecodedBatch | None = None) -> BatchResult:
    """``decoded``: the events already decoded (the watcher decodes the next batch while this one
    commits)."""
    result = BatchResult(events=len(events))
    if not events:
        return result
    decoded = decoded if decoded is not None else decode(events)
    rejects = list(decoded.rejects)
    staged = dict(decoded.valid)
    result.inserted = _insert_new(store, staged)
    for table in [t for t in staged if t not in result.inserted]:  # a repeated or stored key
        spec = CANONICAL[table]
        stage = store.stage(spec)
        try:
            stage.append(staged[table], decoded.valid_index[table])
            inserted, conflicts = stage.commit()
        finally:
            stage.discard()
        result.inserted[table] = inserted
        rejects += [(c.line, table, c.reason) for c in conflicts]
    arrived = pa.array([e.arrived_ms for e in events], pa.int64())
    for table, rows in decoded.valid.items():
        _note_actors(result, table, rows, arrived.take(decoded.valid_index[table]))
        if table in WINDOWED and rows.num_rows:
            result.rows[table] = [rows]
    if rejects:
        quarantined = quarantine_rows(source, events, rejects)
        if not _insert_new(store, {QUARANTINE.name: quarantined}):
            store.append_rows(QUARANTINE, quarantined)  # redelivered: the same rows, kept once
        result.quarantined = len(rejects)
    return result


def _insert_new(store: Store, tables: dict[str, pa.Table]) -> dict[str, int]:
    """Insert, in one transaction, each of ``tables`` whose keys are all new: none twice in it,
    none in the store. Returns the rows inserted per table so inserted; the others are left to the
    staging protocol (repeats, conflicts, a redelivered batch). DuckDB only (the watcher's store)."""
    if store.spark or getattr(store.backend, "name", "") != "duckdb" or not tables:
        return {}
    con = store.backend.con
    done: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for name, rows in tables.items():
            keys = ", ".join(f'"{k}"' for k in ALL_TABLES[name].key)
            view = f"_live_batch_{name}"
            con.register(view, rows)
            try:
                clash = con.execute(
                    f"SELECT EXISTS (SELECT 1 FROM {view} GROUP BY {keys} HAVING count(*) > 1) "
                    f"OR EXISTS (SELECT 1 FROM {view} SEMI JOIN {name} USING ({keys}))").fetchone()[0]
                if not clash:
                    columns = ", ".join(f'"{c}"' for c in rows.column_names)
                    con.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {view}")
                    done[name] = rows.num_rows
            finally:
                con.unregister(view)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return done


FINGERPRINTED = ("llm_calls", "accounts")
WINDOWED = ("posts", "llm_calls")


def _note_actors(result: BatchResult, table: str, rows: pa.Table, arrived: pa.Array) -> None:
    """Which actors this batch touched, with the arrival of their earliest event (for alert latency),
    and the batch's latest event time. One pass over the batch's few actors, not its rows' values."""
    import pyarrow.compute as pc

    if "account_id" not in rows.column_names:
        return
    if "ts" in rows.column_names and rows.num_rows:
        latest = pc.max(rows.column("ts")).as_py()
        if latest is not None and (result.max_ts is None or latest > result.max_ts):
            result.max_ts = latest
    actor = pc.binary_join_element_wise(rows.column("platform"), rows.column("account_id"), ":")
    grouped = pa.table({"actor": actor, "arrived": arrived}).group_by("actor").aggregate([("arrived", "min")])
    for name, ms in zip(grouped.column("actor").to_pylist(), grouped.column("arrived_min").to_pylist()):
        if name not in result.actors or ms < result.actors[name]:
            result.actors[name] = ms
    if table in FINGERPRINTED:
        result.fingerprinted.update(grouped.column("actor").to_pylist())
