"""Canonical tables as CSV, JSON lines or Parquet (what the simulator writes and `export` reads).

The table comes from the file name (``posts.parquet``, ``llm_calls.csv.gz``, ``accounts.jsonl``…)
or from ``--table``. In CSV, list columns are JSON arrays (``["a","b"]``; a bare value is one
element) and ``attrs`` is a JSON object; timestamps are ISO 8601 or UNIX seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from chorusline.ingest.base import UNPARSED, IngestOptions, Piece, Rejected, TabularAdapter, is_parquet, require_columns
from chorusline.ingest.fields import text
from chorusline.ingest.readers import BATCH_ROWS, FormatError, first_char, json_lines
from chorusline.schema import CANONICAL, LIST_COLUMNS

_SUFFIXES = (".gz", ".zst", ".zstd", ".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet", ".pq")


def table_from_name(path: Path) -> str | None:
    name = path.name
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if name.lower().endswith(suffix):
                name, changed = name[: -len(suffix)], True
    return name if name in CANONICAL else None


class CanonicalAdapter(TabularAdapter):
    name = "canonical"
    summary = "chorusline's own tables as CSV / JSON lines / Parquet (table from the file name or --table)"
    tables = tuple(CANONICAL)

    def _table(self, path: Path, options: IngestOptions) -> str:
        table = options.table or table_from_name(path)
        if table is None:
            raise FormatError(
                f"{path}: cannot tell which table this file holds: name it after one of "
                f"{', '.join(CANONICAL)} (e.g. posts.parquet) or pass --table"
            )
        if table not in CANONICAL:
            raise FormatError(f"{path}: unknown table {table!r}; expected one of {', '.join(CANONICAL)}")
        return table

    def read(self, path: Path, options: IngestOptions):
        table = self._table(path, options)
        options = replace(options, table=table)
        if not is_parquet(path) and first_char(path) in ("{", "["):
            yield from self._read_json_lines(path, table, options)
            return
        yield from super().read(path, options)

    def records_table(self, path: Path, options: IngestOptions) -> str:
        return options.table or table_from_name(path) or UNPARSED

    def check_header(self, path: Path, header: list[str], options: IngestOptions) -> None:
        spec = CANONICAL[self._table(path, options)]
        needed = [c for c in spec.key if not (c == "platform" and options.platform)]
        require_columns(path, header, needed, f"canonical {spec.name}")

    def map_batch(self, table: pa.Table, lines: pa.Array, options: IngestOptions) -> Iterable[Piece]:
        spec = CANONICAL[options.table]  # read() fixed the table for this file
        keep = [c for c in table.column_names if c in spec.column_names]
        yield Piece(spec.name, table.select(keep), lines, defaults=_defaults(options))

    def _read_json_lines(self, path: Path, table: str, options: IngestOptions) -> Iterator[Piece | Rejected]:
        spec = CANONICAL[table]
        columns = spec.column_names
        rows: dict[str, list] = {c: [] for c in columns}
        lines: list[int] = []
        raws: list[str] = []
        rejected: list[tuple[int, str, str]] = []
        recognised = 0
        for record in json_lines(path):
            if record.error is None and not isinstance(record.value, dict):
                record.error = f"expected a JSON object, found {type(record.value).__name__}"
            if record.error is not None:
                rejected.append((record.line, record.error, record.raw))
                if not recognised and len(rejected) >= 20:
                    break
                continue
            recognised += 1
            for c in columns:
                value = record.value.get(c)
                if c in LIST_COLUMNS:
                    rows[c].append(_list_cell(value))
                else:
                    rows[c].append(text(value))
            lines.append(record.line)
            raws.append(record.raw)
            if len(lines) >= BATCH_ROWS:
                yield self._json_piece(spec, rows, lines, raws, options)
                rows, lines, raws = {c: [] for c in columns}, [], []
        if rejected and not recognised:
            line, reason, _ = rejected[0]
            raise FormatError(f"{path}: line {line}: not canonical {table} JSON lines: {reason}")
        if rejected:
            yield Rejected(table, rejected)
        if lines:
            yield self._json_piece(spec, rows, lines, raws, options)

    def _json_piece(self, spec, rows, lines, raws, options) -> Piece:
        arrays = {}
        for c, values in rows.items():
            if all(v is None for v in values) and c not in spec.key:
                continue
            if c in LIST_COLUMNS:
                arrays[c] = pa.array(values, pa.list_(pa.string()))
            else:
                arrays[c] = pa.array(values, pa.string())
        return Piece(spec.name, pa.table(arrays), pa.array(lines, pa.int64()), pa.array(raws, pa.string()),
                     defaults=_defaults(options))


def _list_cell(value):
    if value is None:
        return None
    if isinstance(value, list):
        return [s for s in (text(v) for v in value) if s]
    # A scalar where a list belongs: keep it as one element rather than lose it.
    single = text(value)
    return [single] if single else []


def _defaults(options: IngestOptions) -> dict[str, str]:
    return {"platform": options.platform} if options.platform else {}
