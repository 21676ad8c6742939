"""A bounded, reproducible sample of each account's rows, for the features that run a model in
Python (language identification, the AI-text detector): at most ``per_account`` rows per account,
chosen by the MD5 of ``key`` so a rerun picks the same ones. Only the sample leaves the engine.

MD5, not the engine's ``hash()``: DuckDB's hash and Spark's (Murmur3) order rows differently, so an
account with more rows than ``per_account`` would be sampled differently on each engine; the MD5
hex digest of the key is the same string on both. Ties (a repeated key) fall back to the key."""

from __future__ import annotations

import ibis
import pyarrow as pa


def account_sample(table: ibis.Table, key: str, columns: dict, per_account: int) -> pa.Table:
    """actor (platform:account_id) and ``columns`` for at most ``per_account`` rows per account,
    ordered by actor, then by the rows' place in the sample (the same order on every engine)."""
    actor = table.platform.concat(":", table.account_id)
    k = table[key].cast("string")
    rows = table.select(actor=actor, _order=k.hexdigest("md5"), _key=k, **columns)
    rank = ibis.row_number().over(group_by=rows.actor, order_by=[rows._order, rows._key])
    rows = rows.mutate(_rank=rank).filter(lambda r: r._rank < per_account)
    # a fixed row order too: what the Python side does with the rows (sums of floats) then does not
    # depend on the order an engine returns them in
    got = rows.drop("_order", "_key").to_pyarrow()
    return got.sort_by([("actor", "ascending"), ("_rank", "ascending")]).drop_columns(["_rank"])
