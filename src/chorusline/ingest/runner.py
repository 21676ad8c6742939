"""Run one adapter over files into a store: validate, stage, commit, quarantine, report.

What a file costs when something in it is wrong: a bad record costs that record (quarantined with
its line and reason); damage to a compressed stream or a Parquet row group costs what follows it
(quarantined as one row naming where it starts); a file that is not the format costs that file
(an error line). Nothing costs the files after it.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from chorusline.ingest.base import RESTART, Adapter, IngestOptions, Piece, Rejected, Skipped
from chorusline.ingest.conform import MAX_RAW, conform
from chorusline.ingest.readers import BATCH_ROWS, FormatError, collecting_damage, is_empty, one_line, reading_progress
from chorusline.progress import stage as progress_stage
from chorusline.schema import ALL_TABLES, QUARANTINE
from chorusline.store import Stage, Store

UNEXPECTED = "could not be loaded: unexpected"  # an adapter's bug, reported per file rather than raised


@dataclass
class FileReport:
    path: str
    format: str
    valid: Counter = field(default_factory=Counter)  # rows that passed validation, per table
    inserted: Counter = field(default_factory=Counter)  # rows new to the store, per table
    quarantined: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)  # records with nothing canonical, by reason
    error: str | None = None


@dataclass
class IngestReport:
    files: list[FileReport]

    @property
    def loaded_anything(self) -> bool:
        return any(sum(f.valid.values()) for f in self.files)

    def totals(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            for kind in ("valid", "inserted", "quarantined"):
                for table, n in getattr(f, kind).items():
                    out.setdefault(table, {"valid": 0, "inserted": 0, "quarantined": 0})[kind] += n
        return out

    @property
    def exit_code(self) -> int:
        return 0 if self.loaded_anything else 2


def ingest_files(store: Store, adapter: Adapter, paths: list[Path], options: IngestOptions | None = None) -> IngestReport:
    options = options or IngestOptions()
    with _terminate_as_exit():
        return IngestReport([ingest_file(store, adapter, Path(p), options) for p in paths])


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM ends the process through Python's unwinding (SystemExit), so staged files are
    removed as on any other exit. Only where the signal is ours to take: the main thread, and no
    handler installed by the application."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def ingest_file(store: Store, adapter: Adapter, path: Path, options: IngestOptions) -> FileReport:
    report = FileReport(str(path), adapter.name)
    if not path.exists():
        report.error = f"{path}: no such file"
        return report
    if path.is_dir():
        report.error = f"{path}: is a folder; name the files"
        return report
    with progress_stage(f"ingest {path.name}", total=path.stat().st_size) as progress, \
            reading_progress(progress.advance), collecting_damage() as damage:
        try:
            _load(store, adapter, path, options, report, damage)
        except Exception as exc:  # noqa: BLE001 - one file's failure must not cost the files after it
            report.valid.clear()
            report.inserted.clear()
            report.error = f"{path}: {UNEXPECTED} {type(exc).__name__}: {one_line(str(exc))}"
    return report


def _load(store: Store, adapter: Adapter, path: Path, options: IngestOptions, report: FileReport, damage: list) -> None:
    records_table = adapter.records_table(path, options)
    quarantine = _Quarantine(store, str(path.resolve()), adapter.name, report)
    if is_empty(path) and not damage:
        quarantine.add(records_table, [(0, "empty file: no records", "")])
        quarantine.commit()
        return
    stages: dict[str, Stage] = {}
    try:
        produced = False
        for piece in adapter.read(path, options):
            if piece is RESTART:
                produced = False
                for stage in [*stages.values(), quarantine]:
                    stage.discard()
                report.valid.clear()
                report.skipped.clear()
                report.quarantined.clear()
                continue
            # a record of any outcome; a CSV header alone, or an empty batch, is no record
            produced = produced or not isinstance(piece, Piece) or piece.data.num_rows > 0
            if isinstance(piece, Skipped):
                report.skipped.update(piece.reasons)
                continue
            if isinstance(piece, Rejected):
                quarantine.add(piece.table, piece.rows)
                continue
            assert isinstance(piece, Piece)
            spec = ALL_TABLES[piece.table]
            result = conform(spec, piece.data, piece.lines, piece.raw, defaults=piece.defaults,
                             list_separator=piece.list_separator)
            if result.valid.num_rows:
                stage = stages.get(spec.name) or stages.setdefault(spec.name, store.stage(spec))
                stage.append(result.valid, result.valid_lines)
                report.valid[spec.name] += result.valid.num_rows
            quarantine.add_rejects(spec.name, result.rejects)
            # Arrow's allocator keeps what a batch freed for reuse, about 100 MiB more than reading
            # needs; handing it back after each batch costs nothing measurable.
            pa.default_memory_pool().release_unused()
        if not produced and not damage:
            quarantine.add(records_table, [(0, "empty file: no records", "")])
        if stages:
            piece = result = None  # the last batch: freed before the commit, not kept through it
            for stage in stages.values():
                stage.finish_writing()
            _return_freed_memory()
        for name, stage in stages.items():
            report.inserted[name], conflicts = stage.commit()
            quarantine.add(name, [(c.line, c.reason, c.raw) for c in conflicts])
        quarantine.add(records_table, [(d.line, d.reason, d.raw) for d in damage])
        quarantine.commit()
    except FormatError as exc:
        report.valid.clear()
        report.inserted.clear()
        report.quarantined.clear()
        lost = "; ".join(f"line {d.line}: {d.reason}" for d in damage)
        report.error = one_line(str(exc)) + (f" (the file is damaged: {lost})" if lost else "")
    finally:  # whatever ends the load (an error, Ctrl-C, SIGTERM), nothing staged is left behind
        for stage in [*stages.values(), quarantine]:
            stage.discard()


class _Quarantine:
    """A file's quarantine rows, staged as they come like its valid rows (a file of bad records
    must not fill memory) and committed after them. Conform's rejects arrive as Arrow tables."""

    def __init__(self, store: Store, source: str, fmt: str, report: FileReport):
        self._store, self._source, self._format, self._report = store, source, fmt, report
        self._stage: Stage | None = None
        self._rows: list[tuple[int, str, str, str]] = []  # (line, table, reason, raw) not yet staged
        self._now = datetime.now(UTC)

    def add(self, table: str, rows: list[tuple[int, str, str]]) -> None:
        """(line, reason, raw) rows of one table."""
        if not rows:
            return
        self._rows.extend((line, table, reason, raw) for line, reason, raw in rows)
        self._report.quarantined[table] += len(rows)
        if len(self._rows) >= BATCH_ROWS:
            self._flush()

    def add_rejects(self, table: str, rejects: pa.Table) -> None:
        """Conform's rejects (line, reason, raw), staged as they are."""
        if rejects.num_rows:
            self._append(rejects.column("line"), pa.repeat(pa.scalar(table), rejects.num_rows),
                         rejects.column("reason"), rejects.column("raw"))
            self._report.quarantined[table] += rejects.num_rows

    def _flush(self) -> None:
        if self._rows:
            line, table, reason, raw = zip(*self._rows)
            self._rows = []
            self._append(pa.array(line, pa.int64()), pa.array(table, pa.string()), pa.array(reason, pa.string()),
                         pa.array([value or "" for value in raw], pa.string()))

    def _append(self, line, table, reason, raw) -> None:
        n = len(line)
        rows = pa.Table.from_arrays([
            pa.repeat(pa.scalar(self._source), n), line, pa.repeat(pa.scalar(self._format), n), table, reason,
            pc.utf8_slice_codeunits(raw, 0, MAX_RAW), pa.repeat(pa.scalar(self._now, QUARANTINE.arrow_schema.field(
                "ingested_at").type), n)], schema=QUARANTINE.arrow_schema)
        self._stage = self._stage or self._store.stage(QUARANTINE)
        self._stage.append(rows)

    def commit(self) -> None:
        self._flush()
        if self._stage is not None:
            self._stage.commit()

    def discard(self) -> None:
        self._rows = []
        if self._stage is not None:
            self._stage.discard()


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc: give freed heap pages back to the system
    except (OSError, AttributeError):
        return None


def _return_freed_memory() -> None:
    """Reading is done: what it freed goes back to the system before the engine's commit takes its
    share, so the two phases' memory does not add up (Arrow's allocator and glibc's both keep freed
    memory for reuse otherwise)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
