"""Canonical events on a stream: one JSON object per event, ``{"table": "posts", <the table's columns>}``.

A micro-batch of raw events becomes the same Arrow pieces the canonical JSON-lines reader builds
(``ingest.canonical``: cell by cell with its ``text``/list rules, then one ``_json_piece`` per table)
and goes through the same validation (``ingest.conform``), so an event is accepted or quarantined
exactly as the same record in a ``.jsonl`` file would be. What only a stream has: where an event
came from is its stream id (``redis://HOST:PORT/STREAM#1700000000000-0``), not a file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
import pyarrow as pa

from chorusline.ingest.base import UNPARSED, IngestOptions
from chorusline.ingest.canonical import CanonicalAdapter, _list_cell
from chorusline.ingest.conform import MAX_RAW, conform
from chorusline.ingest.fields import text
from chorusline.schema import CANONICAL, LIST_COLUMNS, QUARANTINE

TABLE_FIELD = "table"
FORMAT = "stream"  # the quarantine's format column for rejected events
_ADAPTER = CanonicalAdapter()
_OPTIONS = IngestOptions()


@dataclass(frozen=True)
class Event:
    """One message as a broker delivered it."""

    id: str  # the broker's id: a Redis stream id, or PARTITION:OFFSET for Kafka
    position: int  # the id as one int64 (the quarantine's line): ordered like the ids
    payload: bytes
    arrived_ms: int  # when the broker accepted it (Redis id time, Kafka timestamp), ms since the epoch


@dataclass
class DecodedBatch:
    """Valid rows per table (with each row's event index), and the rejects (event index, table, reason)."""

    valid: dict[str, pa.Table] = field(default_factory=dict)
    valid_index: dict[str, pa.Array] = field(default_factory=dict)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)


def encode(table: str, row: dict) -> bytes:
    """One event's payload (what `replay` publishes and any producer may send)."""
    return orjson.dumps({TABLE_FIELD: table, **row}, default=str)


def decode(events: list[Event]) -> DecodedBatch:
    """Parse and validate a micro-batch. Each event's index in ``events`` stands for its line, so
    rejected and conflicting rows can be traced back to their stream id."""
    out = DecodedBatch()
    records: dict[str, list[dict]] = {}
    indexes: dict[str, list[int]] = {}
    raws: dict[str, list[str]] = {}
    for i, event in enumerate(events):
        try:
            value = orjson.loads(event.payload)
        except orjson.JSONDecodeError as exc:
            out.rejects.append((i, UNPARSED, f"not JSON: {exc}"))
            continue
        if not isinstance(value, dict):
            out.rejects.append((i, UNPARSED, f"expected a JSON object, found {type(value).__name__}"))
            continue
        table = value.get(TABLE_FIELD)
        spec = CANONICAL.get(table) if isinstance(table, str) else None
        if spec is None:
            out.rejects.append((i, UNPARSED, f"{TABLE_FIELD}: {table!r} is not one of {', '.join(CANONICAL)}"))
            continue
        if table not in records:
            records[table], indexes[table], raws[table] = [], [], []
        records[table].append(value)
        indexes[table].append(i)
        raws[table].append(event.payload.decode("utf-8", "replace"))
    for table, values in records.items():
        spec = CANONICAL[table]
        # the canonical JSON-lines reader's cell rules, a column at a time
        cells = {c: [_list_cell(v.get(c)) for v in values] if c in LIST_COLUMNS else [text(v.get(c)) for v in values]
                 for c in spec.column_names}
        piece = _ADAPTER._json_piece(spec, cells, indexes[table], raws[table], _OPTIONS)
        result = conform(spec, piece.data, piece.lines, piece.raw, defaults=piece.defaults)
        if result.valid.num_rows:
            out.valid[table] = result.valid
            out.valid_index[table] = result.valid_lines
        for line, reason in zip(result.rejects.column("line").to_pylist(), result.rejects.column("reason").to_pylist()):
            out.rejects.append((line, table, reason))
    return out


def quarantine_rows(source: str, events: list[Event], rejects: list[tuple[int, str, str]]) -> pa.Table:
    """Quarantine rows for rejected events: source ``URL#ID``, line = the id as an int, the raw
    event. The load time is the broker's arrival time, so a redelivered event's row is identical
    (the store's key de-duplication then keeps one)."""
    ts_type = QUARANTINE.arrow_schema.field("ingested_at").type
    rows = {"source_file": [], "line": [], "format": [], "table_name": [], "reason": [], "raw": [], "ingested_at": []}
    for i, table, reason in rejects:
        event = events[i]
        rows["source_file"].append(f"{source}#{event.id}")
        rows["line"].append(event.position)
        rows["format"].append(FORMAT)
        rows["table_name"].append(table)
        rows["reason"].append(reason)
        rows["raw"].append(event.payload[: MAX_RAW * 4].decode("utf-8", "replace")[:MAX_RAW])
        rows["ingested_at"].append(event.arrived_ms * 1000)
    rows["ingested_at"] = pa.array(rows["ingested_at"], pa.int64()).cast(ts_type)  # microseconds
    return pa.Table.from_pydict(rows, schema=QUARANTINE.arrow_schema)
