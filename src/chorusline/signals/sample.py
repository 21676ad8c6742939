"""A bounded, reproducible sample of each account's rows, for the features that run a model in
Python (language identification, the AI-text detector): at most ``per_account`` rows per account,
chosen by the hash of ``key`` so a rerun picks the same ones. Only the sample leaves the engine."""

from __future__ import annotations

import ibis
import pyarrow as pa


def account_sample(table: ibis.Table, key: str, columns: dict, per_account: int) -> pa.Table:
    """actor (platform:account_id) and ``columns`` for at most ``per_account`` rows per account."""
    actor = table.platform.concat(":", table.account_id)
    rows = table.select(actor=actor, _order=table[key].hash(), **columns)
    rank = ibis.row_number().over(group_by=rows.actor, order_by=[rows._order, rows.actor])
    rows = rows.mutate(_rank=rank).filter(lambda r: r._rank < per_account)
    return rows.drop("_order", "_rank").to_pyarrow()
