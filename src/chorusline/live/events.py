"""Canonical events on a stream: one JSON object per event, ``{"table": "posts", <the table's columns>}``.

A micro-batch of raw events becomes the same Arrow pieces the canonical JSON-lines reader builds
(``ingest.canonical``: every cell by its ``text``/list rules) and goes through the same validation
(``ingest.conform``), so an event is accepted or quarantined exactly as the same record in a
``.jsonl`` file would be. What only a stream has: where an event came from is its stream id
(``redis://HOST:PORT/STREAM#1700000000000-0``), not a file and line.

Decoding is columnar: the batch's payloads are one newline-delimited JSON buffer for Arrow's JSON
reader (C++, without the GIL: the next batch decodes while this one commits), typed by the JSON
types the canonical columns take (text, whole numbers, numbers, arrays of text), and the cell rules
are then applied a column at a time. An event that reader cannot take exactly as the record reader
would (not JSON, not an object, a number where text belongs, a duplicated key, NaN…) is found by
halving the part of the batch that failed, and read on its own by the record reader's rules
(``_decode_records``): a bad event costs a few parses of shrinking parts, never the batch.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from chorusline.ingest.base import UNPARSED, IngestOptions
from chorusline.ingest.canonical import CanonicalAdapter, _list_cell
from chorusline.ingest.conform import MAX_RAW, conform
from chorusline.ingest.fields import text
from chorusline.schema import CANONICAL, LIST_COLUMNS, QUARANTINE

TABLE_FIELD = "table"
FORMAT = "stream"  # the quarantine's format column for rejected events
# a refused part of the batch this small is read event by event (about the cost of one more parse)
BY_RECORD_BELOW = 64
_ADAPTER = CanonicalAdapter()
_OPTIONS = IngestOptions()


def _json_type(arrow_type: pa.DataType) -> pa.DataType:
    """The JSON type a canonical column is read as. Times stay text (ISO 8601): conform parses
    them as it parses a file's; a time sent as UNIX seconds (a number) is read by the record reader."""
    if pa.types.is_timestamp(arrow_type):
        return pa.string()
    return arrow_type


def _json_schema() -> pa.Schema:
    fields = {TABLE_FIELD: pa.string()}
    for spec in CANONICAL.values():
        for f in spec.arrow_schema:
            kind = _json_type(f.type)
            if fields.setdefault(f.name, kind) != kind:  # one column name, one type, in every table
                raise TypeError(f"{f.name}: {kind} in {spec.name}, {fields[f.name]} elsewhere")
    return pa.schema(list(fields.items()))


_SCHEMA = _json_schema()
_PARSE = pj.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="ignore")


class Event(NamedTuple):
    """One message as a broker delivered it (a tuple: tens of thousands are made per second)."""

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
    pieces: dict[str, list[tuple[pa.Table, pa.Array]]] = {}
    columnar = [i for i, e in enumerate(events) if _one_json_line(e.payload)]
    by_record = sorted(set(range(len(events))).difference(columnar)) if len(columnar) < len(events) else []
    for index, parsed in _parse_columns(events, columnar, by_record):
        tables = parsed.column(TABLE_FIELD).combine_chunks()
        for table, spec in CANONICAL.items():
            mask = pc.fill_null(pc.equal(tables, table), False)
            if pc.any(mask).as_py():
                rows = parsed.filter(mask).select(spec.column_names)
                pieces.setdefault(table, []).append((_cell_rules(rows), index.filter(mask)))
        unknown = pc.invert(pc.fill_null(pc.is_in(tables, pa.array(list(CANONICAL))), False))
        by_record += index.filter(unknown).to_pylist()  # the record reader says what is wrong with them
    for table, piece in _decode_records(events, sorted(by_record), out.rejects).items():
        pieces.setdefault(table, []).append(piece)
    for table, parts in pieces.items():
        _validate(out, CANONICAL[table], parts)
    out.rejects.sort()
    return out


def _validate(out: DecodedBatch, spec, parts: list[tuple[pa.Table, pa.Array]]) -> None:
    valid, index = [], []
    for rows, lines in parts:
        result = conform(spec, rows, lines)
        valid.append(result.valid)
        index.append(result.valid_lines)
        out.rejects += [(line, spec.name, reason) for line, reason in
                        zip(result.rejects.column("line").to_pylist(), result.rejects.column("reason").to_pylist())]
    rows, lines = pa.concat_tables(valid), pa.chunked_array(index, pa.int64()).combine_chunks()
    if len(parts) > 1:  # in stream order: of two rows with one key, the store keeps the first
        order = pc.sort_indices(lines)
        rows, lines = rows.take(order), lines.take(order)
    if rows.num_rows:
        out.valid[spec.name], out.valid_index[spec.name] = rows, lines


def _one_json_line(payload: bytes) -> bool:
    """An object on one line, for the columnar reader. Arrow's reader takes NaN and Infinity where
    JSON (and orjson) does not: a payload that holds either word is checked by orjson first."""
    if payload[:1] != b"{" or payload[-1:] != b"}" or b"\n" in payload or b"\r" in payload:
        return False
    if b"NaN" in payload or b"Inf" in payload:
        try:
            orjson.loads(payload)
        except orjson.JSONDecodeError:
            return False
    return True


def _read_json(payloads: list[bytes]) -> pa.Table | None:
    """The payloads as one table, or None if Arrow's reader refuses any of them."""
    buffer = b"\n".join(payloads)
    try:
        buffer.decode("utf-8")  # Arrow's reader does not check; orjson refuses what is not UTF-8
        parsed = pj.read_json(io.BytesIO(buffer), parse_options=_PARSE,
                              read_options=pj.ReadOptions(use_threads=False, block_size=max(1 << 20, len(buffer) + 1)))
    except (pa.ArrowException, ValueError):  # ValueError: invalid UTF-8 (UnicodeDecodeError)
        return None
    return parsed if parsed.num_rows == len(payloads) else None  # one row per payload, or none


def _parse_columns(events: list[Event], indexes: list[int], by_record: list[int]):
    """(event indexes, parsed rows) for the parts of ``indexes`` Arrow's reader takes; the events
    it refuses on their own go to ``by_record``."""
    todo = [indexes] if indexes else []
    while todo:
        part = todo.pop()
        parsed = _read_json([events[i].payload for i in part])
        if parsed is not None:
            yield pa.array(part, pa.int64()), parsed
        elif len(part) <= BY_RECORD_BELOW:
            by_record += part
        else:
            half = len(part) // 2
            todo += [part[half:], part[:half]]


def _cell_rules(rows: pa.Table) -> pa.Table:
    """The canonical JSON-lines reader's cell rules (``fields.text``, ``_list_cell``) on typed
    columns: text trimmed, empty text missing; list elements trimmed, empty or missing ones dropped.
    (Arrow's Unicode whitespace is Python's ``str.isspace``.)"""
    columns = []
    for column in rows.columns:
        column = column.combine_chunks()
        if pa.types.is_string(column.type):
            column = _text(column)
        elif pa.types.is_list(column.type):
            column = _text_list(column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=rows.column_names)


def _text(values: pa.Array) -> pa.Array:
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _text_list(lists: pa.Array) -> pa.Array:
    items = pc.list_flatten(lists)
    trimmed = pc.utf8_trim_whitespace(items)
    keep = pc.fill_null(pc.not_equal(trimmed, ""), False)
    if pc.all(keep).as_py() is not False and pc.all(pc.equal(trimmed, items)).as_py() is not False:
        return lists
    import numpy as np

    parents = pc.filter(pc.list_parent_indices(lists), keep).to_numpy()
    offsets = np.concatenate([[0], np.cumsum(np.bincount(parents, minlength=len(lists)))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pc.filter(trimmed, keep), mask=pc.is_null(lists))


def _decode_records(events: list[Event], indexes: list[int], rejects: list) -> dict[str, tuple[pa.Table, pa.Array]]:
    """Events one by one, as the canonical JSON-lines reader reads a record: what the columnar
    reader refused. Returns a piece per table; what is not a canonical event goes to ``rejects``."""
    records: dict[str, list[dict]] = {}
    lines: dict[str, list[int]] = {}
    for i in indexes:
        try:
            value = orjson.loads(events[i].payload)
        except orjson.JSONDecodeError as exc:
            rejects.append((i, UNPARSED, f"not JSON: {exc}"))
            continue
        if not isinstance(value, dict):
            rejects.append((i, UNPARSED, f"expected a JSON object, found {type(value).__name__}"))
            continue
        table = value.get(TABLE_FIELD)
        spec = CANONICAL.get(table) if isinstance(table, str) else None
        if spec is None:
            rejects.append((i, UNPARSED, f"{TABLE_FIELD}: {table!r} is not one of {', '.join(CANONICAL)}"))
            continue
        records.setdefault(table, []).append(value)
        lines.setdefault(table, []).append(i)
    out = {}
    for table, values in records.items():
        spec = CANONICAL[table]
        cells = {c: [_list_cell(v.get(c)) for v in values] if c in LIST_COLUMNS else [text(v.get(c)) for v in values]
                 for c in spec.column_names}
        piece = _ADAPTER._json_piece(spec, cells, lines[table], [""] * len(values), _OPTIONS)
        out[table] = (piece.data, piece.lines)
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
