"""The signal and campaign tables as Parquet or CSV files, for whoever analyses them elsewhere."""

from __future__ import annotations

from pathlib import Path

from chorusline.engine_files import clear_path
from chorusline.export.safe_csv import neutralised
from chorusline.export.shared import ExportError
from chorusline.progress import stage

TABLES = ("edges", "fused_edges", "account_features", "campaigns", "campaign_members", "campaign_links")


@stage("export: tables")
def write_tables(store, out: Path, fmt: str = "parquet") -> list[str]:
    """Write every table of TABLES the store has into ``out``; returns their names."""
    if fmt not in ("parquet", "csv"):
        raise ExportError(f"unknown table format {fmt!r}: parquet or csv")
    present = set(store.backend.list_tables())
    names = [n for n in TABLES if n in present]
    if not names:
        raise ExportError("the store has no signal or campaign tables: run `chorusline detect` first")
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        table = store.table(name)
        if fmt == "csv":  # lists and nested values as text, so the CSV stays flat; no live formulas
            table = neutralised(table.mutate(**{c: table[c].cast("string") for c, t in table.schema().items()
                                                if t.is_array() or t.is_struct()}))
        clear_path(out / f"{name}.{fmt}")  # a rerun replaces the file (DuckDB) or folder (Spark)
        getattr(store.backend, f"to_{fmt}")(table, out / f"{name}.{fmt}")
    return names
