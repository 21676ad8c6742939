"""`chorusline replay`: publish a simulated scenario's canonical tables as one stream, in event-time
order, N times faster than real time (or as fast as the broker takes them).

The rows become events in DuckDB (``to_json`` over each Parquet file, times written as ISO 8601 UTC),
merged by event time (an account's time is its ``created_at``) and read back in Arrow batches:
memory is one batch, whatever the scenario's size."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from chorusline.ingest.canonical import table_from_name
from chorusline.live.broker import open_sink
from chorusline.live.events import TABLE_FIELD
from chorusline.schema import CANONICAL, TIME_COLUMN

CHUNK = 2000  # events per pipelined publish


class ReplayError(ValueError):
    """A folder with no canonical tables in it."""


@dataclass
class ReplaySummary:
    events: int
    tables: dict[str, int]
    seconds: float
    first: object
    last: object

    def as_dict(self) -> dict:
        return {"events": self.events, "tables": self.tables, "seconds": round(self.seconds, 3),
                "events_per_second": round(self.events / self.seconds) if self.seconds else None,
                "first": self.first, "last": self.last}


def scenario_files(folder: Path) -> dict[str, Path]:
    files = {}
    for path in sorted(Path(folder).glob("*.parquet")):
        table = table_from_name(path)
        if table is not None:
            files[table] = path
    if not files:
        raise ReplayError(f"{folder}: no canonical tables (accounts.parquet, llm_calls.parquet, posts.parquet…)")
    return files


def _event_query(con, files: dict[str, Path]) -> str:
    parts = []
    for table, path in files.items():
        spec = CANONICAL[table]
        present = {row[0] for row in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()}
        fields = [f"'{TABLE_FIELD}': '{table}'"]
        for column, dtype in spec.columns:
            if column not in present:
                continue
            if str(dtype).startswith("timestamp"):
                fields.append(f"'{column}': strftime(\"{column}\", '%Y-%m-%dT%H:%M:%S.%fZ')")
            else:
                fields.append(f"'{column}': \"{column}\"")
        time_column = TIME_COLUMN.get(table)
        t = f'"{time_column}"' if time_column in present else "NULL::TIMESTAMPTZ"
        key = " || '|' || ".join(f'coalesce(CAST("{k}" AS VARCHAR), \'\')' for k in spec.key if k in present) or "''"
        parts.append(f"SELECT {t} AS t, '{table}' AS tbl, {key} AS k, to_json({{{', '.join(fields)}}}) AS e "
                     f"FROM read_parquet('{str(path).replace(chr(39), chr(39) * 2)}')")
    # rows without a time go first (a profile with no creation date is known before anything happens)
    return " UNION ALL ".join(parts) + " ORDER BY t NULLS FIRST, tbl, k"


def replay(folder: Path, url: str, speed: float = 0.0, limit: int | None = None, rate: float = 0.0) -> ReplaySummary:
    """Publish ``folder``'s tables to ``url``; ``speed`` N plays N seconds of event time per second,
    ``rate`` N at most N events per second (0: no pacing)."""
    files = scenario_files(folder)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    sink = open_sink(url)
    counts: dict[str, int] = {}
    started = time.monotonic()
    first = last = paced_from = None
    sent = 0
    try:
        origin = _activity_start(con, files)
        reader = con.execute(_event_query(con, files)).fetch_record_batch(CHUNK)
        for batch in reader:
            times = batch.column(0).to_pylist()
            tables = batch.column(1).to_pylist()
            payloads = [e.encode() for e in batch.column(3).to_pylist()]
            if limit is not None:
                keep = max(0, min(len(payloads), limit - sent))
                times, tables, payloads = times[:keep], tables[:keep], payloads[:keep]
            if not payloads:
                break
            if first is None:  # event time zero: the first API call or post (profiles created years
                # before go out at once), else the first timed event
                first = origin or next((t for t in times if t is not None), None)
            start = 0
            while start < len(payloads):
                end = len(payloads)
                if speed > 0:
                    end = _due(times, start, first, started, speed)
                    if end == start:  # the next event is in the future: wait for it
                        time.sleep(min(0.05, _wait(times[start], first, started, speed)))
                        continue
                if rate > 0:  # a steady stream of so many events a second (from the first send), in small sends
                    paced_from = time.monotonic() if paced_from is None else paced_from
                    allowed = int(rate * (time.monotonic() - paced_from)) + 1 - (sent + start)
                    if allowed <= 0:
                        time.sleep(0.002)
                        continue
                    end = min(end, start + allowed)
                sink.publish(payloads[start:end])
                start = end
            for table in tables:
                counts[table] = counts.get(table, 0) + 1
            last = next((t for t in reversed(times) if t is not None), last)
            sent += len(payloads)
            if limit is not None and sent >= limit:
                break
    finally:
        sink.close()
        con.close()
    return ReplaySummary(sent, counts, time.monotonic() - started, first, last)


def _activity_start(con, files: dict[str, Path]):
    starts = [con.execute("SELECT min(ts) FROM read_parquet(?)", [str(files[t])]).fetchone()[0]
              for t in ("llm_calls", "posts") if t in files]
    starts = [t for t in starts if t is not None]
    return min(starts) if starts else None


def _wait(t, first, started: float, speed: float) -> float:
    if t is None or first is None:
        return 0.0
    due = started + (t - first).total_seconds() / speed
    return max(0.0, due - time.monotonic())


def _due(times: list, start: int, first, started: float, speed: float) -> int:
    """The end of the run of events from ``start`` whose time has come."""
    if first is None:
        return len(times)
    now = time.monotonic()
    end = start
    while end < len(times) and end - start < CHUNK:
        t = times[end]
        if t is not None and started + (t - first).total_seconds() / speed > now:
            break
        end += 1
    return end
