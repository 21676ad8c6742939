"""What an adapter is: something that turns one file into pieces of canonical tables.

Two shapes cover every format:

* :class:`TabularAdapter` (CSV/Parquet sources): whole Arrow batches are renamed and mapped with
  compute kernels, then validated by :func:`~chorusline.ingest.conform.conform`.
* :class:`RecordAdapter` (JSON sources): each record maps to canonical rows of one or more tables,
  buffered into Arrow batches; a record that cannot be mapped raises ``RecordError``.

Either way an adapter yields :class:`Piece` (rows for a table), :class:`Rejected` (records it threw
out itself, with line and reason) or ``RESTART``. The runner validates, stages and quarantines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from chorusline.ingest.readers import (
    BATCH_ROWS,
    RESTART,
    FormatError,
    JsonRecord,
    RecordError,
    csv_batches,
    int64_array,
    json_lines,
    parquet_batches,
    parquet_file,
    read_header,
    split_invalid_utf8,
)
from chorusline.schema import ALL_TABLES

DETECT_RECORDS = 20  # a file whose first this-many records all fail is "not this format"
UNPARSED = "unparsed"  # quarantine table_name of records that could not be read at all
REJECT = "_reject"  # map_record may yield (REJECT, reason): one item of a record is bad
SKIP = "_skip"  # map_record may yield (SKIP, reason): a record with nothing canonical in it


@dataclass
class IngestOptions:
    platform: str | None = None  # overrides the adapter's default platform name
    table: str | None = None  # canonical format: which table a file holds
    object_type: str = "repost"  # coortweet format: what object_id names (see coortweet.OBJECT_TYPES)


@dataclass
class Piece:
    table: str
    data: pa.Table  # columns named as in schema.py, loosely typed
    lines: pa.Array
    raw: pa.Array | None = None
    defaults: dict[str, str] = field(default_factory=dict)
    list_separator: str | None = None


@dataclass
class Skipped:
    reasons: dict[str, int]  # why records carried nothing canonical, and how many


@dataclass
class Rejected:
    table: str
    rows: list[tuple[int, str, str]]  # (line, reason, raw)


class Adapter:
    name: ClassVar[str]
    summary: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    platform: ClassVar[str] = ""

    def read(self, path: Path, options: IngestOptions) -> Iterator[Piece | Rejected | str]:
        raise NotImplementedError

    def platform_for(self, options: IngestOptions) -> str:
        return options.platform or self.platform

    def records_table(self, path: Path, options: IngestOptions) -> str:
        """The quarantine table_name of a record that could not be read at all: the table when a
        file holds one, else UNPARSED (a broken record of a file that maps to several is neither)."""
        return self.tables[0] if len(self.tables) == 1 else UNPARSED


class TabularAdapter(Adapter):
    """Subclasses implement :meth:`check_header` and :meth:`map_batch`. Files are CSV (any
    compression) or Parquet, told apart by their first bytes, not their names."""

    delimiter: ClassVar[str] = ","

    def read(self, path: Path, options: IngestOptions) -> Iterator[Piece | Rejected | str]:
        if is_parquet(path):
            self.check_header(path, parquet_file(path).schema_arrow.names, options)
            for first_row, table in parquet_batches(path):
                lines = int64_array(np.arange(first_row, first_row + table.num_rows))
                table, lines, rejects = split_invalid_utf8(table, lines)
                if rejects:
                    yield Rejected(self.records_table(path, options), rejects)
                yield from self.map_batch(table, lines, options)
            return
        header = read_header(path, self.delimiter)
        if not header:
            return
        self.check_header(path, header, options)
        for batch in csv_batches(path, delimiter=self.delimiter):
            if batch is RESTART:
                yield RESTART
                continue
            if batch.rejects:
                yield Rejected(self.records_table(path, options), batch.rejects)
            if batch.table.num_rows:
                yield from self.map_batch(batch.table, batch.lines, options)

    def check_header(self, path: Path, header: list[str], options: IngestOptions) -> None:
        raise NotImplementedError

    def map_batch(self, table: pa.Table, lines: pa.Array, options: IngestOptions) -> Iterable[Piece]:
        raise NotImplementedError


def is_parquet(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == b"PAR1"


def require_columns(path: Path, header: list[str], needed: Iterable[str], fmt: str) -> None:
    missing = [c for c in needed if c not in header]
    if missing:
        shown = ",".join(header)[:200]
        raise FormatError(f"{path}: line 1: not {fmt}: header lacks {', '.join(missing)} (found: {shown})")


class RecordAdapter(Adapter):
    """Subclasses implement :meth:`map_record`; override :meth:`records` for non-JSON-lines files."""

    def records(self, path: Path, options: IngestOptions) -> Iterator[JsonRecord]:
        return json_lines(path)

    def map_record(self, value: Any, options: IngestOptions) -> Iterable[tuple[str, dict]]:
        raise NotImplementedError

    def read(self, path: Path, options: IngestOptions) -> Iterator[Piece | Rejected | str]:
        buffers: dict[str, _RowBuffer] = {}
        rejected: list[tuple[int, str, str]] = []
        skipped: dict[str, int] = {}
        seen = recognised = 0
        first_failure: tuple[int, str] | None = None
        for record in self.records(path, options):
            seen += 1
            if record.error is not None:
                reason = record.error
                rows = None
            else:
                try:
                    rows = list(self.map_record(record.value, options))
                    reason = None
                except RecordError as exc:
                    rows, reason = None, str(exc)
                except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
                    # A record whose nesting is not the format's (a scalar where an object belongs…)
                    # is a bad record like any other, not a reason to stop the load.
                    rows, reason = None, f"unexpected structure ({type(exc).__name__}: {exc})"
            if rows is None:
                first_failure = first_failure or (record.line, reason)
                rejected.append((record.line, reason, record.raw))
            else:
                recognised += 1
                if not rows:  # well-formed and empty (a request without spans): counted, not silent
                    rows = [(SKIP, "record with nothing in it")]
                for table, row in rows:
                    if table == SKIP:
                        skipped[row] = skipped.get(row, 0) + 1
                        continue
                    if table == REJECT:
                        rejected.append((record.line, row, record.raw))
                        continue
                    buffer = buffers.setdefault(table, _RowBuffer(table))
                    buffer.add(row, record.line, record.raw)
                    if len(buffer) >= BATCH_ROWS:
                        yield buffer.flush(self.platform_for(options))
            if seen == DETECT_RECORDS and not recognised:
                break
        if seen and not recognised and first_failure:
            line, reason = first_failure
            raise FormatError(f"{path}: line {line}: not {self.name}: {reason}")
        if rejected:
            yield Rejected(self.records_table(path, options), rejected)
        if skipped:
            yield Skipped(skipped)
        for buffer in buffers.values():
            if len(buffer):
                yield buffer.flush(self.platform_for(options))


class _RowBuffer:
    def __init__(self, table: str):
        self.spec = ALL_TABLES[table]
        self.rows: list[dict] = []
        self.lines: list[int] = []
        self.raws: list[str] = []

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, row: dict, line: int, raw: str) -> None:
        self.rows.append(row)
        self.lines.append(line)
        self.raws.append(raw)

    def flush(self, platform: str) -> Piece:
        schema = self.spec.arrow_schema
        try:
            data = pa.Table.from_pylist(self.rows, schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            data = self._tolerant(schema)
        piece = Piece(self.spec.name, data, pa.array(self.lines, pa.int64()), pa.array(self.raws, pa.string()),
                      defaults={"platform": platform} if platform else {})
        self.rows, self.lines, self.raws = [], [], []
        return piece

    def _tolerant(self, schema: pa.Schema) -> pa.Table:
        """One bad value must not sink a batch: render fields that do not fit as text, and let
        conform reject the row with a precise reason."""
        columns = {}
        for f in schema:
            values = [r.get(f.name) for r in self.rows]
            try:
                columns[f.name] = pa.array(values, f.type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                columns[f.name] = pa.array([None if v is None else str(v) for v in values], pa.string())
        return pa.table(columns)


__all__ = [
    "Adapter", "TabularAdapter", "RecordAdapter", "Piece", "Rejected", "Skipped", "IngestOptions",
    "FormatError", "RecordError", "RESTART", "UNPARSED", "REJECT", "SKIP",
]
