"""Vectorised validation: turn loosely typed Arrow columns into a canonical table.

Every adapter ends here. Each row either becomes a canonical row or a quarantine row with the
first reason it failed; nothing is dropped silently. All checks are Arrow compute kernels over
whole batches; Python touches only the (few) rejected rows, to render their raw text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from chorusline.schema import POST_KINDS, VALUE_RANGES, TableSpec, time_window

_TS_TYPE = pa.timestamp("us", tz="UTC")
_ISO_FULL = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$"
_NUMERIC = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_INTEGER = r"^[+-]?\d+(\.0*)?$"
MAX_RAW = 2000  # characters of a rejected record kept in quarantine


@dataclass
class Conformed:
    valid: pa.Table  # canonical schema
    valid_lines: pa.Array  # source line of each valid row
    rejects: pa.Table  # line, reason, raw


REJECT_SCHEMA = pa.schema([("line", pa.int64()), ("reason", pa.string()), ("raw", pa.string())])


def empty_rejects() -> pa.Table:
    return REJECT_SCHEMA.empty_table()


# Free text keeps its whitespace (it is evidence: copy-pasted text keeps its quirks); ids and
# codes are trimmed.
CONTENT_COLUMNS = frozenset({"text", "prompt", "output", "bio", "display_name", "raw", "label"})


def _clean_strings(arr: pa.Array, trim: bool = True) -> pa.Array:
    """Empty strings as null (CSV writes missing values as empty fields); trimmed unless content."""
    if trim:
        arr = pc.utf8_trim_whitespace(arr)
    empty = pc.equal(arr, "")
    if not pc.any(empty).as_py():
        return arr
    return pc.if_else(empty, pa.scalar(None, pa.string()), arr)


def parse_timestamps(arr: pa.Array) -> pa.Array:
    """UTC microsecond timestamps from ISO 8601 text (with or without offset, 'T' or space,
    date only, minutes only, up to nine fractional digits: nanoseconds are truncated) or UNIX
    seconds; anything else, and any time a microsecond int64 cannot hold, becomes null. Whether a
    time is plausible is conform's question (schema.time_window), not the parser's."""
    if pa.types.is_date(arr.type):
        arr = arr.cast(pa.timestamp("s" if pa.types.is_date32(arr.type) else "ms"))
    if pa.types.is_timestamp(arr.type):
        return _timestamps(arr)
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        return _epoch_seconds(arr.cast(pa.float64()))
    s = _clean_strings(arr.cast(pa.string()))
    numeric = pc.fill_null(pc.match_substring_regex(s, _NUMERIC), False)
    from_epoch = _epoch_seconds(pc.if_else(numeric, s, pa.scalar(None, pa.string())).cast(pa.float64()))

    iso = pc.replace_substring_regex(s, r"^(\d{4}-\d{2}-\d{2})[ T]", r"\1T")
    iso = pc.replace_substring_regex(iso, r"^(\d{4}-\d{2}-\d{2})$", r"\1T00:00:00")
    iso = pc.replace_substring_regex(iso, r"T(\d{2}):(\d{2})($|Z|[+-].*$)", r"T\1:\2:00\3")
    iso = pc.replace_substring_regex(iso, r"\s*(UTC|GMT|\+00:?00|-00:?00)$", "Z")
    iso = pc.replace_substring_regex(iso, r"(\.\d{1,9})?\s*([+-]\d{2})(\d{2})$", r"\1\2:\3")
    iso = pc.replace_substring_regex(iso, r"(:\d{2}\.\d{6})\d{1,3}", r"\1")  # microseconds are the unit
    has_tz = pc.fill_null(pc.match_substring_regex(iso, r"(Z|[+-]\d{2}:\d{2})$"), False)
    iso = pc.if_else(has_tz, iso, pc.binary_join_element_wise(iso, "Z", ""))
    candidate = pc.fill_null(pc.match_substring_regex(iso, _ISO_FULL), False)
    iso = pc.if_else(candidate, iso, pa.scalar(None, pa.string()))
    try:
        from_iso = iso.cast(_TS_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. month 13 in one row
        from_iso = pa.array([_cast_one(v) for v in iso.to_pylist()], _TS_TYPE)

    # Twitter v1.1 and RFC 2822-like 'Wed Aug 27 13:08:45 +0000 2008'
    v1 = pc.strptime(s, format="%a %b %d %H:%M:%S %z %Y", unit="us", error_is_null=True)
    out = pc.coalesce(from_iso, from_epoch.cast(_TS_TYPE), v1.cast(_TS_TYPE))
    return out


def _cast_one(value):
    if value is None:
        return None
    try:
        return pa.scalar(value).cast(_TS_TYPE).value
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


_TICKS_PER_US = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 1}


def _timestamps(arr: pa.Array) -> pa.Array:
    """Typed timestamps (any unit, naive = UTC) as UTC microseconds; null where they overflow."""
    ticks = arr.cast(pa.int64())
    if arr.type.unit == "ns":
        micros = pc.divide(ticks, 1_000)  # truncated, as nanosecond text is
    else:
        factor = _TICKS_PER_US[arr.type.unit]
        fits = pc.less_equal(pc.abs(ticks), _INT64_MAX // factor)
        micros = pc.multiply(pc.if_else(fits, ticks, pa.scalar(None, pa.int64())), factor)
    return micros.cast(_TS_TYPE)


def _epoch_seconds(seconds: pa.Array) -> pa.Array:
    # Any finite number of seconds an int64 of microseconds can hold (about ±292,000 years).
    in_range = pc.less_equal(pc.abs(seconds), 9.2e12)
    seconds = pc.if_else(in_range, seconds, pa.scalar(None, pa.float64()))
    micros = pc.round(pc.multiply(seconds, 1_000_000.0))
    return micros.cast(pa.int64()).cast(_TS_TYPE)


_INT64_MAX = 2**63 - 1
_INT64_FLOAT_LIMIT = 2.0**63  # a float this large or larger (in magnitude) does not fit an int64


def _to_int(arr: pa.Array) -> pa.Array:
    """int64 values; null where a value is not a whole number or an int64 cannot hold it (never wrapped)."""
    if pa.types.is_unsigned_integer(arr.type):
        fits = pc.less_equal(arr, pa.scalar(_INT64_MAX, arr.type)) if arr.type == pa.uint64() else None
        return (arr if fits is None else pc.if_else(fits, arr, pa.scalar(None, arr.type))).cast(pa.int64())
    if pa.types.is_integer(arr.type):
        return arr.cast(pa.int64())
    if pa.types.is_floating(arr.type):
        arr = arr.cast(pa.float64())
        whole = pc.and_(pc.equal(pc.floor(arr), arr), pc.less(pc.abs(arr), _INT64_FLOAT_LIMIT))  # false for inf, nan
        return pc.if_else(whole, arr, pa.scalar(None, arr.type)).cast(pa.int64())
    if pa.types.is_boolean(arr.type):
        return arr.cast(pa.int64())
    s = _clean_strings(arr.cast(pa.string()))
    ok = pc.fill_null(pc.match_substring_regex(s, _INTEGER), False)
    s = pc.replace_substring_regex(pc.if_else(ok, s, pa.scalar(None, pa.string())), r"\.0*$", "")
    # Arrow's parser wraps nothing but refuses a '+' and anything past int64: decide both here.
    negative = pc.starts_with(s, "-")
    digits = pc.replace_substring_regex(s, r"^[+-]?0*", "")
    length = pc.utf8_length(digits)
    limit = pc.if_else(negative, "9223372036854775808", "9223372036854775807")
    fits = pc.or_(pc.less(length, 19), pc.and_(pc.equal(length, 19), pc.less_equal(digits, limit)))
    digits = pc.if_else(pc.equal(length, 0), "0", digits)
    signed = pc.if_else(negative, pc.binary_join_element_wise("-", digits, ""), digits)
    return pc.if_else(fits, signed, pa.scalar(None, pa.string())).cast(pa.int64())


def _to_float(arr: pa.Array) -> pa.Array:
    """float64 values; null where a value is not a number or not finite."""
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        values = arr.cast(pa.float64())
    else:
        s = _clean_strings(arr.cast(pa.string()))
        ok = pc.fill_null(pc.match_substring_regex(s, _NUMERIC), False)
        values = pc.if_else(ok, s, pa.scalar(None, pa.string())).cast(pa.float64())
    return pc.if_else(pc.is_finite(values), values, pa.scalar(None, pa.float64()))


def _to_string(arr: pa.Array, trim: bool = True) -> pa.Array:
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return _clean_strings(arr.cast(pa.string()), trim)
    if pa.types.is_null(arr.type):
        return arr.cast(pa.string())
    if pa.types.is_nested(arr.type):
        return pa.array([None if v is None else json.dumps(v, default=str) for v in arr.to_pylist()], pa.string())
    return arr.cast(pa.string())


def parse_string_lists(arr: pa.Array, bare_separator: str | None = None) -> pa.Array:
    """list<string> from list columns or from text cells: a JSON array (``["a","b"]``), a Python
    list literal (``['a', 'b']``), the bracketed form of the X archives (``[a, b]``), or a bare
    value (one element, or split on ``bare_separator``)."""
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        values = arr.cast(pa.list_(pa.string()))
        return values
    s = _clean_strings(arr.cast(pa.string()))
    quoted = pc.fill_null(pc.match_substring_regex(s, r"^\[\s*['\"]"), False)
    bracketed = pc.fill_null(pc.match_substring_regex(s, r"^\[.*\]$"), False)
    inner = pc.replace_substring_regex(s, r"^\[\s*['\"]?|['\"]?\s*\]$", "")
    split_quoted = pc.split_pattern_regex(inner, r"['\"]\s*,\s*['\"]")
    split_plain = pc.split_pattern_regex(inner, r"\s*,\s*")
    if bare_separator is None:
        split_bare = pc.split_pattern(s, "\x00")  # one element
    else:
        split_bare = pc.split_pattern_regex(s, bare_separator)
    lists = pc.if_else(quoted, split_quoted, pc.if_else(bracketed, split_plain, split_bare))
    # drop empty elements ('[]' → [""] → [])
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    keep = pc.and_(pc.is_valid(flat), pc.not_equal(pc.utf8_trim_whitespace(flat), ""))
    flat_kept = pc.filter(pc.utf8_trim_whitespace(flat), keep)
    parents_kept = pc.filter(parents, keep)
    counts = _counts(parents_kept, len(lists))
    offsets = pa.array([0] + list(_cumsum(counts)), pa.int32())
    out = pa.ListArray.from_arrays(offsets, flat_kept, mask=pc.is_null(lists))
    return out


def _counts(parents: pa.Array, n: int):
    import numpy as np

    return np.bincount(parents.to_numpy(zero_copy_only=False), minlength=n) if len(parents) else np.zeros(n, int)


def _cumsum(counts):
    import numpy as np

    return np.cumsum(counts)


_CONVERTERS = {
    "timestamp": parse_timestamps,
    "int64": _to_int,
    "float64": _to_float,
    "string": _to_string,
}


def _type_word(dtype) -> str:
    name = str(dtype)
    if name.startswith("timestamp"):
        return "timestamp"
    if name.startswith("array") or name.startswith("list"):
        return "list"
    return name


def _python_rows(table: pa.Table) -> list[dict]:
    """Rows as Python values for quarantine's raw text, times as Arrow writes them (Python's
    datetime stops at year 9999, and a rejected time may be far beyond it)."""
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        if pa.types.is_temporal(column.type):
            column = column.cast(pa.string())
        columns[name] = column.to_pylist()
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def outside_time_window(earliest: datetime, latest: datetime) -> str:
    return f"outside the accepted time window ({earliest:%Y-%m-%d} to {latest:%Y-%m-%d})"


def _quoting(column: str, source: pa.Array, problem: str) -> pa.Array:
    """A reason per row that quotes the value: "input_tokens: not a valid int64: 'lots'"."""
    value = pc.utf8_slice_codeunits(source.cast(pa.string()), 0, 60)
    return pc.binary_join_element_wise(f"{column}: {problem}: '", value, "'", "")


def _bounds(column: str, word: str) -> tuple[object, object, str] | None:
    """(lowest, highest, what a value outside is) for a column whose domain is narrower than its type."""
    if word == "timestamp":
        earliest, latest = time_window()
        return pa.scalar(earliest, _TS_TYPE), pa.scalar(latest, _TS_TYPE), outside_time_window(earliest, latest)
    if column in VALUE_RANGES:
        low, high = VALUE_RANGES[column]
        return low, high, ("negative, and it is a count" if (low, high) == (0, None) else f"outside {low} to {high}")
    return None


def conform(
    spec: TableSpec,
    table: pa.Table,
    lines: pa.Array,
    raw: pa.Array | None = None,
    *,
    defaults: dict[str, str] | None = None,
    list_separator: str | None = None,
) -> Conformed:
    """Validate and cast ``table`` to ``spec``'s canonical schema.

    ``lines`` gives each row's line (or record) number in its source; ``raw`` optionally the
    source text of each row (otherwise rejected rows are rendered as JSON of their fields).
    ``defaults`` fills columns that the source does not carry (e.g. ``platform``).
    """
    n = table.num_rows
    defaults = defaults or {}
    reason = pa.nulls(n, pa.string())
    columns: dict[str, pa.Array] = {}
    names = set(table.column_names)

    def flag(mask: pa.Array, message: pa.Array | str) -> None:
        nonlocal reason
        mask = pc.fill_null(mask, False)
        reason = pc.if_else(pc.and_(pc.is_null(reason), mask), message, reason)

    for column, dtype in spec.columns:
        if column in names and column in defaults:
            given = _clean_strings(table.column(column).combine_chunks().cast(pa.string()))
            source = pc.fill_null(given, defaults[column])
        elif column in names:
            source = table.column(column).combine_chunks()
        elif column in defaults:
            source = pa.array([defaults[column]] * n, pa.string())
        else:
            columns[column] = pa.nulls(n, spec.arrow_schema.field(column).type)
            continue
        word = _type_word(dtype)
        if word == "list":
            converted = parse_string_lists(source, list_separator)
        elif word == "string":
            converted = _to_string(source, trim=column not in CONTENT_COLUMNS)
        else:
            converted = _CONVERTERS[word](source)
        if word not in ("list", "string") and not pa.types.is_null(source.type):
            # A typed source (Parquet) needs no text check; only text can hold an unparsable value.
            is_text = pa.types.is_string(source.type) or pa.types.is_large_string(source.type)
            was_given = pc.is_valid(_clean_strings(source)) if is_text else pc.is_valid(source)
            unusable = pc.and_(was_given, pc.is_null(converted))
            if pc.any(unusable).as_py():
                flag(unusable, _quoting(column, source, "not a valid " + word))
            bounds = _bounds(column, word)
            if bounds is not None:
                low, high, what = bounds
                outside = pc.or_kleene(pc.less(converted, low) if low is not None else pa.scalar(False),
                                       pc.greater(converted, high) if high is not None else pa.scalar(False))
                if pc.any(outside).as_py():
                    flag(outside, _quoting(column, source, what))
        columns[column] = converted.cast(spec.arrow_schema.field(column).type)

    for column in spec.key + spec.required:
        flag(pc.is_null(columns[column]), f"missing {column}")
    if spec.name == "posts":
        kinds = columns["kind"]
        known = pc.is_in(kinds, pa.array(POST_KINDS))
        flag(pc.and_(pc.is_valid(kinds), pc.invert(known)),
             pc.binary_join_element_wise("kind: '", pc.fill_null(kinds, ""), "' is not one of " + ", ".join(POST_KINDS), ""))
        columns["kind"] = pc.fill_null(kinds, "post")

    valid_table = pa.Table.from_arrays([columns[c] for c in spec.column_names], schema=spec.arrow_schema)
    bad = pc.is_valid(reason)
    good_table = valid_table.filter(pc.invert(bad))
    good_lines = pc.filter(lines, pc.invert(bad)).cast(pa.int64())
    if not pc.any(bad).as_py():
        return Conformed(good_table, good_lines, empty_rejects())
    bad_idx = pc.indices_nonzero(bad)
    bad_lines = pc.take(lines, bad_idx).cast(pa.int64())
    if raw is not None:
        bad_raw = pc.take(raw, bad_idx).cast(pa.string())
    else:
        rows = _python_rows(table.take(bad_idx))
        bad_raw = pa.array([json.dumps(r, default=str, ensure_ascii=False) for r in rows], pa.string())
    bad_raw = pc.utf8_slice_codeunits(bad_raw, 0, MAX_RAW)
    rejects = pa.Table.from_arrays([bad_lines, pc.take(reason, bad_idx), bad_raw], schema=REJECT_SCHEMA)
    return Conformed(good_table, good_lines, rejects)
