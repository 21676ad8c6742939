"""`chorusline ai-text FILE`: score a CSV or Parquet file's text column, write the input's columns plus
``machine_probability`` (and, with a group column, the pooled per-group columns on every row).

Pooled columns, repeated on each row of the group (one output file, joinable back by row):
``group_posts`` (the group's posts with text), ``group_machine_probability`` (sigmoid of the mean
log-odds, see ``chorusline.aitext.pool``) and ``group_machine_share`` (share of its posts above even odds).
Rows with no text (null, empty or blank) get a null ``machine_probability`` and are not pooled; rows whose
group is null get nulls in the group columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
BATCH = 20_000  # texts scored at a time: bounds the hashed n-gram matrix's memory


class InputError(ValueError):
    """A mistake in what the user asked for (file kind, column); the verb prints it as one line."""


def file_kind(path: Path, option: str) -> str:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"{option} {path}: name a .csv or .parquet file")
    return kind


def read_table(path: Path, rejected: list[dict] | None = None) -> pa.Table:
    """The file as a table. A CSV row with the wrong number of fields is kept aside in ``rejected``
    (line, reason, the row's text) and the rest loads; a file that cannot be read at all is an
    InputError."""
    kind = file_kind(path, "FILE")
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        import pyarrow.csv as pacsv

        def aside(row) -> str:
            if rejected is None:
                return "error"
            rejected.append({"file": str(path), "line": row.number, "reason": f"{row.actual_columns} fields, "
                             f"expected {row.expected_columns}", "row": row.text})
            return "skip"

        table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True,
                                                                      invalid_row_handler=aside))
        if rejected:
            _locate(path, rejected)
        return table
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: cannot read it as {kind.upper()}: {' '.join(str(exc).split())}") from None


def _locate(path: Path, rejected: list[dict]) -> None:
    """Line numbers for the rejected rows: Arrow cannot count lines when values may hold newlines,
    so each (few) rejected row is found in the file, in order."""
    data = path.read_bytes()
    at = 0
    for r in rejected:
        found = data.find(r["row"].encode(), at)
        if r["line"] is None and found >= 0:
            r["line"] = data.count(b"\n", 0, found) + 1
        at = max(at, found + 1)


def score_table(table: pa.Table, text_column: str, group_by: str | None = None, with_lm: bool = False) -> pa.Table:
    """``table`` plus machine_probability (null where the text is null) and, with ``group_by``, the pooled
    group_posts / group_machine_probability / group_machine_share columns."""
    from chorusline.aitext import machine_logits, pool
    from chorusline.aitext.model import sigmoid

    for name, option in ((text_column, "--text-column"), (group_by, "--group-by")):
        if name is not None and name not in table.column_names:
            raise InputError(f"{option} {name!r}: no such column (columns: {', '.join(table.column_names)})")
    for name in ("machine_probability", "group_posts", "group_machine_probability", "group_machine_share"):
        if name in table.column_names:
            raise InputError(f"the input already has a {name!r} column: rename it first")
    text = table[text_column]
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        text = pc.cast(text, pa.string())
    text = text.combine_chunks()
    logits = np.zeros(len(text))
    for start in range(0, len(text), BATCH):
        logits[start:start + BATCH] = machine_logits(text.slice(start, BATCH), with_lm=with_lm)
    # a null, empty or blank cell (CSV writes a null as empty) is no text: NaN from the model, null here
    has_text = ~np.isnan(logits)
    probability = pa.array(sigmoid(np.where(has_text, logits, 0)), mask=~has_text)
    out = table.append_column("machine_probability", probability)
    if group_by is None:
        return out
    groups = table[group_by].combine_chunks()
    if not pa.types.is_string(groups.type):
        groups = pc.cast(groups, pa.string())
    pooled = pool(groups, logits)
    where = pc.index_in(groups, value_set=pooled["group"].combine_chunks())
    for name, source in (("group_posts", "posts"), ("group_machine_probability", "machine_probability"),
                         ("group_machine_share", "machine_share")):
        out = out.append_column(name, pooled[source].combine_chunks().take(where))
    return out


def write_table(table: pa.Table, path: Path) -> None:
    if file_kind(path, "--out") == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        from chorusline.export.safe_csv import write_csv

        write_csv(table, path)


def score_file(path: Path, out: Path, text_column: str, group_by: str | None = None,
               with_lm: bool = False) -> dict:
    """Read, score and write; returns counts for the verb's summary (and ``--json``)."""
    file_kind(out, "--out")
    rejected: list[dict] = []
    table = score_table(read_table(path, rejected), text_column, group_by, with_lm)
    write_table(table, out)
    aside = out.with_name(out.name + ".rejected.csv")
    if rejected:
        from chorusline.export.safe_csv import write_csv

        write_csv(pa.Table.from_pylist(rejected), aside)
    p = table["machine_probability"]
    summary = {"rows": table.num_rows, "scored": table.num_rows - p.null_count,
               "above_even_odds": int(pc.sum(pc.greater(p, 0.5)).as_py() or 0), "out": str(out),
               "model": "with-lm" if with_lm else "fast", "rejected_rows": len(rejected),
               "rejected_out": str(aside) if rejected else None}
    if group_by is not None:
        from chorusline.aitext import ACCOUNT_THRESHOLD, MIN_POSTS

        g = pa.table({"g": table[group_by], "p": table["group_machine_probability"], "n": table["group_posts"]})
        g = g.filter(pc.invert(pc.is_null(g["p"]))).group_by("g").aggregate([("p", "max"), ("n", "max")])
        above = pc.and_(pc.greater(g["p_max"], ACCOUNT_THRESHOLD), pc.greater_equal(g["n_max"], MIN_POSTS))
        summary.update({"groups": g.num_rows, "groups_above_threshold": int(pc.sum(above).as_py() or 0),
                        "account_threshold": ACCOUNT_THRESHOLD, "min_posts": MIN_POSTS})
    return summary
