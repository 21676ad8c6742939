"""Run one adapter over files into a store: validate, stage, commit, quarantine, report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from chorusline.ingest.base import RESTART, Adapter, IngestOptions, Piece, Rejected, Skipped
from chorusline.ingest.conform import conform
from chorusline.ingest.readers import FormatError, is_empty, one_line
from chorusline.schema import ALL_TABLES, QUARANTINE
from chorusline.store import Stage, Store


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
    return IngestReport([ingest_file(store, adapter, Path(p), options) for p in paths])


def ingest_file(store: Store, adapter: Adapter, path: Path, options: IngestOptions) -> FileReport:
    report = FileReport(str(path), adapter.name)
    source = str(path.resolve())
    if not path.exists():
        report.error = f"{path}: no such file"
        return report
    if path.is_dir():
        report.error = f"{path}: is a folder; name the files"
        return report
    if is_empty(path):
        _store_quarantine(store, source, adapter.name, [(0, adapter.tables[0], "empty file: no records", "")])
        report.quarantined[adapter.tables[0]] += 1
        return report
    stages: dict[str, Stage] = {}
    quarantine: list[tuple[int, str, str, str]] = []  # line, table, reason, raw
    try:
        produced = False
        for piece in adapter.read(path, options):
            produced = True
            if piece is RESTART:
                for stage in stages.values():
                    stage.discard()
                quarantine.clear()
                report.valid.clear()
                report.skipped.clear()
                continue
            if isinstance(piece, Skipped):
                report.skipped.update(piece.reasons)
                continue
            if isinstance(piece, Rejected):
                quarantine.extend((line, piece.table, reason, raw) for line, reason, raw in piece.rows)
                continue
            assert isinstance(piece, Piece)
            spec = ALL_TABLES[piece.table]
            result = conform(spec, piece.data, piece.lines, piece.raw, defaults=piece.defaults,
                             list_separator=piece.list_separator)
            if result.valid.num_rows:
                stage = stages.get(spec.name) or stages.setdefault(spec.name, store.stage(spec))
                stage.append(result.valid, result.valid_lines)
                report.valid[spec.name] += result.valid.num_rows
            for line, reason, raw in zip(*(result.rejects.column(c).to_pylist() for c in ("line", "reason", "raw"))):
                quarantine.append((line, spec.name, reason, raw))
        if not produced:
            quarantine.append((0, adapter.tables[0], "empty file: no records", ""))
    except FormatError as exc:
        for stage in stages.values():
            stage.discard()
        report.valid.clear()
        report.error = one_line(str(exc))
        return report
    except Exception:
        for stage in stages.values():
            stage.discard()
        raise
    for name, stage in stages.items():
        report.inserted[name], conflicts = stage.commit()
        quarantine.extend((c.line, name, c.reason, c.raw) for c in conflicts)
    if quarantine:
        report.quarantined.update(table for _, table, _, _ in quarantine)
        _store_quarantine(store, source, adapter.name, quarantine)
    return report


def _store_quarantine(store: Store, source: str, fmt: str, rows: list[tuple[int, str, str, str]]) -> None:
    now = datetime.now(UTC)
    table = pa.table(
        {
            "source_file": [source] * len(rows),
            "line": [r[0] for r in rows],
            "format": [fmt] * len(rows),
            "table_name": [r[1] for r in rows],
            "reason": [r[2] for r in rows],
            "raw": [(r[3] or "")[:2000] for r in rows],
            "ingested_at": [now] * len(rows),
        },
        schema=QUARANTINE.arrow_schema,
    )
    store.append_rows(QUARANTINE, table)
