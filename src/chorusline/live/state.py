"""The watcher's own tables in the store, each loaded through the store's de-duplicating protocol
(``Store.append_rows``), so writing the same row twice — after a crash and a restart — keeps one.

- ``alerts``: one row per alert, keyed by its stable ``alert_id``;
- ``alert_deliveries``: which alert went to which sink (the outbox: what is not here is sent again);
- ``live_campaigns``: the accounts of every campaign already known to the watcher, under a stable key;
- ``live_state``: facts the watcher must remember across restarts (the baseline time, detection runs).
"""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from chorusline.schema import FLOAT, INT, STR, TS, TableSpec

ALERTS = TableSpec(
    name="alerts", row="an alert raised by the live watcher", key=("alert_id",),
    columns=(("alert_id", STR), ("kind", STR), ("subject", STR), ("campaign_id", INT), ("score", FLOAT),
             ("summary", STR), ("evidence", STR), ("event_ts", TS), ("arrived_at", TS), ("alerted_at", TS)))
DELIVERIES = TableSpec(name="alert_deliveries", row="an alert delivered to one sink", key=("alert_id", "sink"),
                       columns=(("alert_id", STR), ("sink", STR), ("delivered_at", TS)))
LIVE_CAMPAIGNS = TableSpec(name="live_campaigns", row="an account of a campaign the watcher knows",
                           key=("campaign_key", "actor"), columns=(("campaign_key", STR), ("actor", STR)))
LIVE_STATE = TableSpec(name="live_state", row="a fact the watcher keeps across restarts", key=("name", "value"),
                       columns=(("name", STR), ("value", STR), ("at", TS)))
LIVE_TABLES = (ALERTS, DELIVERIES, LIVE_CAMPAIGNS, LIVE_STATE)


def ensure_live_tables(store) -> None:
    existing = set(store.backend.list_tables())
    for spec in LIVE_TABLES:
        if spec.name not in existing:
            store.backend.create_table(spec.name, schema=spec.schema)


def append(store, spec: TableSpec, rows: list[dict]) -> int:
    if not rows:
        return 0
    return store.append_rows(spec, pa.Table.from_pylist(rows, schema=spec.arrow_schema))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def remember(store, name: str, value: str) -> None:
    append(store, LIVE_STATE, [{"name": name, "value": value, "at": now()}])


def recalled(store, name: str) -> list[str]:
    t = store.table(LIVE_STATE.name)
    return t.filter(t.name == name).order_by("at").value.to_pyarrow().to_pylist()


def latest_time(store) -> dt.datetime | None:
    """The latest event time stored (API calls and posts): the stream's clock."""
    latest = None
    for name in ("llm_calls", "posts"):
        value = store.table(name).ts.max().to_pyarrow().as_py()
        if value is not None and (latest is None or value > latest):
            latest = value
    return latest


def first_seen(store, actors: list[str]) -> dict[str, dt.datetime]:
    """Each actor's first API call or post."""
    if not actors:
        return {}
    wanted = ibis.memtable(pa.table({"actor": pa.array(actors, pa.string())}))
    parts = []
    for name in ("llm_calls", "posts"):
        t = store.table(name)
        t = t.select(actor=t.platform.concat(":", t.account_id), ts=t.ts)
        parts.append(t.semi_join(wanted, "actor"))
    both = parts[0].union(parts[1], distinct=False)
    firsts = both.group_by("actor").aggregate(first=both.ts.min()).to_pyarrow()
    return dict(zip(firsts.column("actor").to_pylist(), firsts.column("first").to_pylist()))
