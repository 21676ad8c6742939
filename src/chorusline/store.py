"""The canonical store over one Ibis backend: create tables, load with de-duplication, count.

Loading goes through a staging table per (file, table): Arrow batches are appended to it as they
are read (bounded memory on both engines: DuckDB spills, Spark writes Parquet), then one Ibis
expression inserts the staged rows whose key is not yet in the target. So re-ingesting a file adds
nothing twice, and a file whose load fails part-way leaves the store as it was.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa

from chorusline.engine import connect, is_spark
from chorusline.schema import ALL_TABLES, TIME_COLUMN, TableSpec

_stage_ids = itertools.count()


class Store:
    def __init__(self, backend: Any):
        self.backend = backend
        self.spark = is_spark(backend)

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


@dataclass
class Conflict:
    line: int
    reason: str
    raw: str


class Stage:
    """Rows of one table from one source, held aside until :meth:`commit`."""

    def __init__(self, store: Store, spec: TableSpec):
        self.store = store
        self.spec = spec
        self.name = f"_stage_{spec.name}_{next(_stage_ids)}"
        self.rows = 0
        self._created = False
        self._schema = pa.schema(list(spec.arrow_schema) + [pa.field(LINE, pa.int64())])

    def append(self, batch: pa.Table, lines: pa.Array | None = None) -> None:
        if batch.num_rows == 0:
            return
        if lines is None:
            lines = pa.array(range(self.rows + 1, self.rows + 1 + batch.num_rows), pa.int64())
        batch = batch.select(self.spec.column_names).cast(self.spec.arrow_schema).append_column(LINE, lines)
        self.rows += batch.num_rows
        backend = self.store.backend
        if self.store.spark:
            frame = backend._session.createDataFrame(batch)
            frame.write.mode("append").format("parquet").saveAsTable(self.name)
            self._created = True
            return
        if not self._created:
            backend.create_table(self.name, schema=ibis.Schema.from_pyarrow(self._schema), temp=True)
            self._created = True
        backend.insert(self.name, batch)

    def commit(self) -> tuple[int, list[Conflict]]:
        """Insert staged rows whose key is new. Returns (rows inserted, conflicts): rows that repeat
        a key with different values, within this source or against the store. Identical repeats
        are the idempotence of re-ingesting and are not reported."""
        if not self._created:
            return 0, []
        backend = self.store.backend
        keys = list(self.spec.key)
        staged = backend.table(self.name)
        target = backend.table(self.spec.name)
        ranked = staged.mutate(_rank=ibis.row_number().over(group_by=keys, order_by=staged[LINE]))
        first = ranked.filter(ranked._rank == 0).drop("_rank")
        later = ranked.filter(ranked._rank > 0).drop("_rank")
        conflicts: list[Conflict] = []
        if not self.spec.snapshots:
            conflicts += self._differing(later, first, "repeats the key of line {other} with different values")
            conflicts += self._differing(first, target, "key already in the store with different values")
        new_rows = first.anti_join(target, keys).select(self.spec.column_names)
        if self.store.spark:
            # Spark plans lazily: materialise before inserting into a table the plan reads.
            new_rows = backend.create_table(f"{self.name}_new", new_rows)
        inserted = int(new_rows.count().execute())
        if inserted:
            backend.insert(self.spec.name, new_rows)
        if self.store.spark:
            backend.drop_table(f"{self.name}_new", force=True)
        self.discard()
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
        if self._created:
            self.store.backend.drop_table(self.name, force=True)
            self._created = False
        self.rows = 0
