"""Peer input files as a shares table, and the peers' output files, for `chorusline coshare`.

On DuckDB a clean CSV is read by DuckDB's own parallel reader into an engine table, each row with
its position (`rid`, since CooRTweet's results depend on input order). Anything else (a row DuckDB
cannot vouch for, a compressed or Parquet file, Spark) streams through Arrow into a Parquet stage
(bounded memory) that the engine then reads.
Rows that cannot be used (a wrong number of fields, no id, no time) are not dropped silently: they
are reported, and written beside the output with their line and reason."""

from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from chorusline.export.safe_csv import neutralised
from chorusline.export.safe_csv import write_csv as write_safe_csv
from chorusline.ingest.base import is_parquet
from chorusline.ingest.conform import parse_string_lists, parse_timestamps
from chorusline.ingest.readers import (
    RESTART, FormatError, compression_of, csv_batches, int64_array, parquet_batches, read_header,
)

_names = itertools.count()
SHARE_SCHEMA = pa.schema([("object_id", pa.string()), ("account_id", pa.string()), ("content_id", pa.string()),
                          ("ts", pa.int64()), ("rid", pa.int64())])
CNT_COLUMNS = ("message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls")
CNT_OBJECTS = {"repost": "repost_id", "reply": "reply_id", "url": "urls"}


@dataclass
class ShareFile:
    table: ibis.Table
    rows: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    stage: Path | None = None


def load_share_file(backend, path: Path, fmt: str, object_type: str = "repost") -> ShareFile:
    """A CooRTweet (object_id, account_id, content_id, timestamp_share) or toolkit CSV/Parquet file
    as a shares table (object_id, account_id, content_id, ts, rid).

    On DuckDB a clean CSV is read by the engine itself (``_engine_csv_shares``). Otherwise Arrow
    reads it, first converting only the four columns a share needs and without line numbers; only
    when a row turns out unusable is it read again in full, with exact lines to report."""
    if fmt == "cnt" and object_type not in CNT_OBJECTS:
        raise FormatError(f"the cnt format carries objects {', '.join(CNT_OBJECTS)}, not {object_type!r}")
    loaded = _engine_csv_shares(backend, path, fmt, object_type)
    if loaded is not None:
        return loaded
    folder = Path(tempfile.mkdtemp(prefix="chorusline-shares-"))
    atexit.register(shutil.rmtree, folder, True)  # the engine reads the stage lazily: keep it until exit
    stage = folder / "shares.parquet"
    result = ShareFile(table=None, stage=stage)
    for exact in (False, True):
        if _stage_shares(path, fmt, object_type, exact, stage, result):
            break
    result.table = backend.read_parquet(stage, table_name=f"shares_{next(_names)}")
    return result


def _engine_csv_shares(backend, path: Path, fmt: str, object_type: str) -> ShareFile | None:
    """DuckDB's own parallel CSV reader, straight into an engine table — the common case, and about
    twice as fast as staging through Arrow. Taken only for a plain CSV whose every row is well formed
    and whose every share has a whole-number time (in the digits Arrow would cast); None otherwise,
    and the Arrow path then reads the file and reports the rows it cannot use, at their lines."""
    if backend.name != "duckdb" or is_parquet(path) or compression_of(path) is not None:
        return None
    if fmt == "cnt" and object_type == "url":  # URL lists are split into several shares per row
        return None
    header = read_header(path)
    if fmt == "coortweet":
        if len(set(header)) < len(header) or any(c not in header for c in COORTWEET_COLUMNS):
            return None
        where = dict(zip(("object_id", "account_id", "content_id", "ts"),
                         (header.index(c) for c in COORTWEET_COLUMNS)))
    elif len(header) < 7:
        return None
    else:
        where = {"object_id": CNT_COLUMNS.index(CNT_OBJECTS[object_type]),
                 "account_id": CNT_COLUMNS.index("user_id"), "content_id": CNT_COLUMNS.index("message_id"),
                 "ts": CNT_COLUMNS.index("timestamp")}
    col = {role: f"c{i}" for role, i in where.items()}
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    quoted = str(path).replace("'", "''")
    name = f"shares_{next(_names)}"
    # a missing object is another kind of message in a toolkit file, an unusable row in CooRTweet's
    # (kept here, so that it sends the file to the reporting path below)
    keep = f"WHERE {col['object_id']} <> ''" if fmt == "cnt" else ""
    # strict: a row with the wrong number of fields is an error, not padded; times must read back
    # as the same digits (DuckDB would also take ' 12', '1e3' or '12.0', which Arrow does not)
    sql = (f"CREATE TEMP TABLE {name} AS SELECT {col['object_id']} AS object_id, "
           f"coalesce({col['account_id']}, '') AS account_id, coalesce({col['content_id']}, '') AS content_id, "
           f"CASE WHEN length(CAST(TRY_CAST({col['ts']} AS BIGINT) AS VARCHAR)) = length({col['ts']}) "
           f"THEN TRY_CAST({col['ts']} AS BIGINT) END AS ts "
           f"FROM read_csv('{quoted}', header = true, auto_detect = false, delim = ',', quote = '\"', "
           f"escape = '\"', strict_mode = true, columns = {columns}) {keep}")
    import duckdb

    # rows keep the file's order only while insertion order is preserved; rowid is then the row
    preserved = backend.raw_sql("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    backend.raw_sql("SET preserve_insertion_order = true")
    try:
        backend.raw_sql(sql)
    except duckdb.Error:  # malformed rows, bad encoding: the Arrow path finds and reports them
        backend.raw_sql(f"DROP TABLE IF EXISTS {name}")
        return None
    finally:
        backend.raw_sql(f"SET preserve_insertion_order = {bool(preserved)}")
    unusable, rows = backend.raw_sql(f"SELECT count(*) FILTER (object_id IS NULL OR object_id = '' OR ts IS NULL), "
                                     f"count(*) FROM {name}").fetchone()
    if unusable:
        backend.raw_sql(f"DROP TABLE {name}")
        return None
    table = backend.sql(f"SELECT object_id, account_id, content_id, ts, rowid AS rid FROM {name}")
    return ShareFile(table=table, rows=int(rows))


def _stage_shares(path: Path, fmt: str, object_type: str, exact: bool, stage: Path, result: ShareFile) -> bool:
    """Write the shares to the stage; False when a row must be reported and the lines are unknown."""
    writer = _stage_writer(stage)
    rid, result.rejected = 0, []
    try:
        for lines, batch, broken in _batches(path, fmt, object_type, exact):
            if batch is RESTART:  # the exact CSV reader starts the file again: so do we
                writer.close()
                writer = _stage_writer(stage)
                rid, result.rejected = 0, []
                continue
            result.rejected += broken
            shares, is_share, ok, rows = _to_shares(batch, fmt, object_type)
            if is_share is not None:  # rows that are other kinds of message are neither shares nor errors
                ok = pc.and_(is_share, ok)
                bad = pc.and_(is_share, pc.invert(ok))
            else:
                bad = pc.invert(ok)
            if pc.any(bad).as_py():
                if lines is None:
                    return False
                if rows is not None:  # one input row became several shares (the toolkit's URL lists)
                    lines = pc.take(lines, rows)
                result.rejected += [(line, "missing account, content or a valid time" if fmt == "cnt" else
                                     "missing object, account, content or a valid time")
                                    for line in pc.filter(lines, bad).to_pylist()]
            shares = shares.filter(ok)
            n = shares.num_rows
            shares = shares.append_column("rid", int64_array(np.arange(rid, rid + n)))
            rid += n
            writer.write_table(shares.cast(SHARE_SCHEMA))
    finally:
        writer.close()
    result.rows = rid
    return True


def _stage_writer(stage: Path) -> pq.ParquetWriter:
    # a scratch file read once: no compression, dictionaries or statistics (7x faster to write)
    return pq.ParquetWriter(stage, SHARE_SCHEMA, compression="none", use_dictionary=False, write_statistics=False)


COORTWEET_COLUMNS = ("object_id", "account_id", "content_id", "timestamp_share")


def _batches(path: Path, fmt: str, object_type: str, exact: bool):
    if is_parquet(path):
        for first, table in parquet_batches(path):
            yield int64_array(np.arange(first, first + table.num_rows)), _by_role(table, fmt), []
        return
    header = read_header(path)
    if fmt == "coortweet":
        missing = [c for c in COORTWEET_COLUMNS if c not in header]
        if missing:
            raise FormatError(f"{path}: line 1: not coortweet: header lacks {', '.join(missing)}")
        needed = list(COORTWEET_COLUMNS)
    elif len(header) < 7:
        raise FormatError(f"{path}: line 1: not cnt: expected at least 7 columns, found {len(header)}")
    else:  # the toolkit's columns are positional
        wanted = {"message_id", "user_id", "timestamp", CNT_OBJECTS[object_type]}
        roles = [name for name in CNT_COLUMNS[:len(header)] if name in wanted]
        needed = [header[CNT_COLUMNS.index(name)] for name in roles]
        if len(set(needed)) < len(needed):  # repeated header names cannot be picked by name
            needed = None
    for batch in csv_batches(path, columns=None if exact else needed):
        if batch is RESTART:
            yield None, RESTART, []
            continue
        picked = roles if fmt == "cnt" and batch.table.num_columns < len(header) else None
        yield (batch.lines, _by_role(batch.table, fmt, picked),
               [(line, reason) for line, reason, _ in batch.rejects])


def _by_role(table: pa.Table, fmt: str, picked: list[str] | None = None) -> dict[str, pa.Array]:
    """A batch's columns by what they are: CooRTweet's by name; the toolkit's by position — in the
    file's order, or, when only some were read, in the order of ``picked`` (their roles)."""
    if fmt == "cnt":
        roles = picked or CNT_COLUMNS[:table.num_columns]
        return {role: table.column(i).combine_chunks().cast(pa.string()) for i, role in enumerate(roles)}
    return {c: table.column(c).combine_chunks().cast(pa.string()) for c in COORTWEET_COLUMNS}


def _to_shares(cols: dict[str, pa.Array], fmt: str, object_type: str
               ) -> tuple[pa.Table, pa.Array, pa.Array, pa.Array | None]:
    """(shares, is_share, ok, rows): the batch's shares; which are shares at all (a toolkit
    message without a repost or reply id is another kind of message, not a broken row; None where
    every row is meant as a share); which are
    usable; and, when rows were split into several shares, each share's input row."""
    rows = None
    if fmt == "cnt":
        account, content, when = cols["user_id"], cols["message_id"], cols["timestamp"]
        obj = cols[CNT_OBJECTS[object_type]]
        if object_type == "url":  # one share per URL, as the toolkit splits on spaces
            lists = parse_string_lists(obj, r"\s+")
            rows = pc.list_parent_indices(lists)
            obj = pc.list_flatten(lists)
            account, content, when = (pc.take(c, rows) for c in (account, content, when))
    else:
        obj, account, content, when = (cols[c] for c in COORTWEET_COLUMNS)
    try:  # whole UNIX seconds, as CooRTweet and the toolkit write them: no parsing needed
        seconds = when.cast(pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        ts = parse_timestamps(when)
        seconds = pc.floor(pc.divide(ts.cast(pa.int64()).cast(pa.float64()), 1e6)).cast(pa.int64())
    shares = pa.table({"object_id": obj, "account_id": account, "content_id": content, "ts": seconds})
    # Kleene logic keeps the result free of nulls without Python scalars (pyarrow imports pandas,
    # half a second, on its first conversion of one)
    has_object = pc.and_kleene(pc.is_valid(obj), pc.binary_length(obj).cast(pa.bool_()))
    valid = pc.and_(pc.is_valid(seconds), pc.and_(pc.is_valid(account), pc.is_valid(content)))
    if fmt == "cnt":
        return shares, has_object, valid, rows
    return shares, None, pc.and_(has_object, valid), rows  # every row of a CooRTweet file is a share


def write_csv(expr: ibis.Table, path: Path) -> int:
    """Stream an engine result to CSV (lists joined with commas, as CooRTweet writes them; cells a
    spreadsheet would run as formulas quoted, ``export.safe_csv``). On DuckDB the engine writes the
    file itself; elsewhere Arrow batches are written as they come."""
    backend = expr._find_backend()
    lists = {c: expr[c].join(",") for c, t in expr.schema().items() if t.is_array()}
    expr = neutralised(expr.mutate(**lists) if lists else expr)
    if backend.name == "duckdb":
        # COPY reports the rows it wrote: counting them afterwards would run the query twice.
        # (ibis's own to_csv discards that count; the pre-execute hook registers in-memory tables.)
        backend._run_pre_execute_hooks(expr)
        sql = f"COPY ({backend.compile(expr)}) TO '{str(path).replace(chr(39), chr(39) * 2)}' (FORMAT csv, HEADER)"
        return int(backend.raw_sql(sql).fetchone()[0])
    rows = 0
    writer = None
    try:
        for batch in expr.to_pyarrow_batches():
            table = pa.Table.from_batches([batch])
            if writer is None:
                writer = pacsv.CSVWriter(path, table.schema)
            writer.write_table(table)
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        path.write_text(",".join(expr.columns) + "\n")
    return rows


def posts_shares(posts: ibis.Table, object_type: str) -> ibis.Table:
    """Shares of one object type from canonical posts, in CooRTweet's input shape (time order as
    the input order)."""
    from chorusline.signals.shares import shares_view

    view = shares_view(posts, [object_type])
    return view.mutate(rid=ibis.row_number().over(order_by=[view.ts, view.content_id, view.object_id]))


CNT_EDGE_TYPES = {"repost": "co_retweet", "reply": "co_reply", "url": "co_link"}


def coshare_outputs(shares: ibis.Table, params, pairs_path: Path | None, edges_path: Path | None,
                    subgraph: bool, edges_format: str = "coortweet", min_edge_weight: int = 1,
                    object_type: str = "repost") -> dict[str, int]:
    """The peers' outputs: CooRTweet's detect_groups rows (pairs) and its network's edges with their
    threshold, or (``edges_format="cnt"``) the toolkit's directed network."""
    from chorusline.signals.coshare import (
        PAIR_COLUMNS, coordinated_edges, detect_groups, toolkit_network, with_threshold,
    )

    if edges_format not in ("coortweet", "cnt"):
        raise ValueError(f"unknown edges format {edges_format!r}: coortweet or cnt")
    counts = {}
    needs_groups = pairs_path is not None or (edges_path is not None and edges_format == "coortweet")
    # read twice (by the pairs and by the network) when both are asked for
    groups = detect_groups(shares, params).cache() if needs_groups else None
    if pairs_path is not None:
        counts["pairs"] = write_csv(groups.select(*PAIR_COLUMNS).order_by(["object_id", "content_id", "content_id_y"]),
                                    pairs_path)
    if edges_path is not None and edges_format == "cnt":
        net = toolkit_network(shares, params.time_window, min_edge_weight)
        kind = CNT_EDGE_TYPES.get(object_type, f"co_{object_type}")
        counts["edges"] = write_csv(net.mutate(edge_type=ibis.literal(kind)), edges_path)
    elif edges_path is not None:
        edges = with_threshold(coordinated_edges(groups).cache(), params.edge_weight)
        if subgraph:
            edges = edges.filter(edges.weight_threshold == 1)
        counts["edges"] = write_csv(edges.order_by(["from", "to"]), edges_path)
    return counts


def load_shares(inputs: list[Path], fmt: str, object_type: str, *, store=None, backend=None
                ) -> tuple[ibis.Table, dict[Path, list[tuple[int, str]]]]:
    """The shares table `coshare` works on: peer files (their rows in order, file after file), or
    canonical posts (files loaded into ``store``, or the store's own posts). Returns it with the rows
    each file could not use."""
    if store is not None:
        if inputs:
            from chorusline.ingest import IngestOptions, adapter_for, ingest_files

            ingest_files(store, adapter_for("canonical"), inputs, IngestOptions(table="posts"))
        return posts_shares(store.table("posts"), object_type), {}
    if not inputs:
        raise ValueError("give an input file, or --db to read a store")
    loaded = [load_share_file(backend, p, fmt, object_type) for p in inputs]
    shares, offset = loaded[0].table, loaded[0].rows
    for extra in loaded[1:]:
        shares = shares.union(extra.table.mutate(rid=extra.table.rid + offset), distinct=False)
        offset += extra.rows
    return shares, {p: f.rejected for p, f in zip(inputs, loaded) if f.rejected}


def write_rejected(rejected: dict[Path, list[tuple[int, str]]], path: Path) -> int:
    rows = [(str(f), line, reason) for f, items in rejected.items() for line, reason in items]
    return write_safe_csv(pa.table({"file": [r[0] for r in rows], "line": [r[1] for r in rows],
                                    "reason": [r[2] for r in rows]}), path)
