"""A simulated scenario cut at its operation's return, for the live demo, tests and benchmark:
what was known before the suspended operators came back is ingested, detected and confirmed (the
simulator's truth plays the analyst) and watchlisted in batch; the rest is what the stream carries.
The same steps an analyst takes with the CLI (ingest, enrich, detect, decide, watchlist)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chorusline.schema import TIME_COLUMN

RETURNING = "returning"  # truth roles of the accounts an operation opens after its suspension


@dataclass
class ReturnCase:
    before: Path  # canonical tables before the return
    after: Path  # and from it on: the stream
    cut: dt.datetime
    returning: set[str]  # actors (platform:account_id) the operation came back with
    campaign_accounts: set[str]  # every truth campaign actor


def truth_actors(simdir: Path) -> tuple[dict[str, str], dict[str, str], dict[str, dt.datetime]]:
    """actor -> campaign name (organic: ''), actor -> role, actor -> active_from."""
    truth = pq.read_table(Path(simdir) / "truth" / "accounts.parquet")
    actors = pc.binary_join_element_wise(truth["platform"], truth["account_id"], ":").to_pylist()
    return (dict(zip(actors, [c or "" for c in truth["campaign"].to_pylist()])),
            dict(zip(actors, [r or "" for r in truth["role"].to_pylist()])),
            dict(zip(actors, truth["active_from"].to_pylist())))


def split_at_return(simdir: Path, out: Path) -> ReturnCase:
    campaign, roles, starts = truth_actors(simdir)
    returning = {a for a, r in roles.items() if r.startswith(RETURNING)}
    if not returning:
        raise ValueError(f"{simdir}: the scenario has no returning accounts (no ban wave with a return)")
    cut = min(starts[a] for a in returning)
    for part in ("before", "after"):
        (out / part).mkdir(parents=True, exist_ok=True)
    stamp = pa.scalar(cut, pa.timestamp("us", tz="UTC"))
    for path in sorted(Path(simdir).glob("*.parquet")):
        table = pq.read_table(path)
        column = TIME_COLUMN.get(path.stem)
        if column is None or column not in table.column_names:
            pq.write_table(table, out / "before" / path.name)
            continue
        early = pc.fill_null(pc.less(table[column], stamp), True)
        pq.write_table(table.filter(early), out / "before" / path.name)
        pq.write_table(table.filter(pc.invert(early)), out / "after" / path.name)
    return ReturnCase(out / "before", out / "after", cut, returning, {a for a, c in campaign.items() if c})


def prepare_store(case: ReturnCase, db: str, signals: Path | None = None) -> list[int]:
    """Ingest, enrich and detect what came before the return; confirm every reported campaign
    whose flagged members are mostly true campaign accounts; build the watchlist. Returns the
    confirmed campaign ids."""
    from chorusline.act.decisions import record_decision
    from chorusline.act.watchlist import save_watchlist
    from chorusline.api import detect, load_files, open_store
    from chorusline.enrich.network import enrich_store
    from chorusline.live.alerts import reported_campaigns

    store = open_store(db, create=True)
    load_files(store, sorted(case.before.glob("*.parquet")))
    enrich_store(store)
    detect(store, signals_out=signals)
    confirmed = []
    for row, members in reported_campaigns(store):
        if members and sum(a in case.campaign_accounts for a in members) > len(members) / 2:
            record_decision(store, row["campaign_id"], "confirm", "simulated-analyst", "the simulator's truth")
            confirmed.append(row["campaign_id"])
    if confirmed:
        save_watchlist(store)
    store.backend.disconnect()
    return confirmed
