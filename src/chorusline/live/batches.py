"""Append one validated micro-batch to the store, durably and idempotently.

The store's own loading protocol does the work (``Store.stage`` → ``Stage.commit``, as the ingest
runner uses it): rows whose key is already stored are not inserted again, so a batch the broker
redelivers after a crash (stored, but not yet acknowledged) adds nothing; a row that repeats a key
with *other* values is a conflict and goes to quarantine, as in a file. Each table's commit is a
DuckDB transaction; the caller acknowledges the batch to the broker only after this returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from chorusline.live.events import DecodedBatch, Event, decode, quarantine_rows
from chorusline.schema import CANONICAL, QUARANTINE
from chorusline.store import Store


@dataclass
class BatchResult:
    events: int = 0
    inserted: dict[str, int] = field(default_factory=dict)  # rows new to the store, per table
    quarantined: int = 0
    actors: dict[str, int] = field(default_factory=dict)  # actor -> earliest arrival (ms) of its events here
    max_ts: object = None  # the latest event time stored by this batch


def append_batch(store: Store, source: str, events: list[Event], decoded: DecodedBatch | None = None) -> BatchResult:
    """``decoded``: the events already decoded (the watcher decodes the next batch while this one
    commits)."""
    result = BatchResult(events=len(events))
    if not events:
        return result
    decoded = decoded if decoded is not None else decode(events)
    rejects = list(decoded.rejects)
    for table, rows in decoded.valid.items():
        spec = CANONICAL[table]
        stage = store.stage(spec)
        try:
            stage.append(rows, decoded.valid_index[table])
            inserted, conflicts = stage.commit()
        finally:
            stage.discard()
        result.inserted[table] = inserted
        rejects += [(c.line, table, c.reason) for c in conflicts]
        _note_actors(result, rows, decoded.valid_index[table], events)
    if rejects:
        store.append_rows(QUARANTINE, quarantine_rows(source, events, rejects))
        result.quarantined = len(rejects)
    return result


def _note_actors(result: BatchResult, rows: pa.Table, index: pa.Array, events: list[Event]) -> None:
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
    arrived = pa.array([e.arrived_ms for e in events], pa.int64()).take(index)
    grouped = pa.table({"actor": actor, "arrived": arrived}).group_by("actor").aggregate([("arrived", "min")])
    for name, ms in zip(grouped.column("actor").to_pylist(), grouped.column("arrived_min").to_pylist()):
        if name not in result.actors or ms < result.actors[name]:
            result.actors[name] = ms
