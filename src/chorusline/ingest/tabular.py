"""Arrow helpers shared by the tabular adapters."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def nulls_to_empty(arr: pa.Array) -> pa.Array:
    return pc.fill_null(arr.cast(pa.string()), "")


def present(arr: pa.Array) -> pa.Array:
    """True where a string cell holds something."""
    return pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(arr.cast(pa.string())), ""), False)


def where(mask: pa.Array, value, otherwise) -> pa.Array:
    return pc.if_else(mask, value, otherwise)


def none_str(n: int = 1):
    return pa.scalar(None, pa.string())


def column_or_null(table: pa.Table, name: str) -> pa.Array:
    if name in table.column_names:
        return table.column(name).combine_chunks().cast(pa.string())
    return pa.nulls(table.num_rows, pa.string())


def json_objects(table: pa.Table, names: list[str]) -> pa.Array:
    """A JSON object string per row from the named (string) columns that hold a value, so source
    fields that have no canonical column survive in ``attrs``. Built with string kernels."""
    parts = []
    for name in names:
        if name not in table.column_names:
            continue
        col = table.column(name).combine_chunks().cast(pa.string())
        escaped = pc.replace_substring(pc.replace_substring(col, "\\", "\\\\"), '"', '\\"')
        escaped = pc.replace_substring_regex(escaped, r"[\x00-\x1f]", " ")
        item = pc.binary_join_element_wise(f'"{name}":"', escaped, '"', "")
        parts.append(pc.if_else(present(col), item, pa.scalar(None, pa.string())))
    if not parts:
        return pa.nulls(table.num_rows, pa.string())
    # null_handling="skip" returns a wrong-length array in pyarrow 26 when a part is all-null, so
    # join with empty strings for nulls and squeeze the separators instead.
    joined = pc.binary_join_element_wise(*parts, ",", null_handling="replace", null_replacement="")
    joined = pc.replace_substring_regex(pc.replace_substring_regex(joined, ",{2,}", ","), "^,|,$", "")
    return pc.if_else(present(joined), pc.binary_join_element_wise("{", joined, "}", ""), pa.scalar(None, pa.string()))
