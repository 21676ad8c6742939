"""chorusline as a library: the command line's steps as functions (docs/LIBRARY.md).

Each function returns what the matching verb prints with ``--json`` (plain dicts and lists), so a
script and a shell pipeline see one shape per thing. ``detect_groups`` is CooRTweet's function of
the same name on a pandas, polars or Arrow table. Errors are the stages' own exceptions, each a
one-line message: :class:`StoreNotFound`, ``FormatError``, ``ScenarioError``, ``ConfigError``,
``NothingToDetect``, ``CampaignNotFound``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from chorusline.engine import DEFAULT_DB, DEFAULT_WAREHOUSE, EngineError


class StoreNotFound(EngineError):
    """The store named does not exist (and the caller did not ask to create it)."""


def store_location(db: Any, warehouse: str | os.PathLike | None = None) -> Path | None:
    """Where a store target keeps its data: the DuckDB file, the Spark warehouse folder, or None
    (an in-memory store, or a live SparkSession)."""
    if not isinstance(db, (str, os.PathLike)):
        return None
    text = str(db)
    if text.startswith("spark://"):
        return Path(warehouse or DEFAULT_WAREHOUSE)
    if text.startswith("duckdb://"):  # read as engine.connect reads it
        text = text[len("duckdb://"):]
        text = text[1:] if text.startswith("//") else text
    return None if text in ("", ":memory:") else Path(text)


def open_store(db: Any = DEFAULT_DB, *, warehouse: str | os.PathLike | None = None, create: bool = False):
    """The store at ``db``: a DuckDB file, ``spark://local[2]`` (tables in ``warehouse``),
    ``:memory:`` or a SparkSession. A missing store is created only with ``create=True``; otherwise
    StoreNotFound, so that a mistyped path does not read as an empty store."""
    from chorusline.store import Store

    location = store_location(db, warehouse)
    if not create and location is not None and not location.exists():
        raise StoreNotFound(f"no store at {location}")
    return Store.open(db, warehouse=warehouse)


def load_files(store, paths: list[str | os.PathLike], format: str = "canonical", *, table: str | None = None,
               platform: str | None = None, object_type: str = "repost") -> dict:
    """Ingest files in one format (``chorusline formats`` lists them): format, exit_code (0 when
    anything loaded, 2 when nothing could be read), per-table totals and per-file counts. Bad
    records go to the store's quarantine table."""
    from chorusline.ingest import IngestOptions, adapter_for, ingest_files

    adapter = adapter_for(format)
    report = ingest_files(store, adapter, [Path(p) for p in paths],
                          IngestOptions(platform=platform, table=table, object_type=object_type))
    files = [{"path": f.path, "valid": dict(f.valid), "inserted": dict(f.inserted), "quarantined": dict(f.quarantined),
              "skipped": dict(f.skipped), "error": f.error} for f in report.files]
    return {"format": adapter.name, "exit_code": report.exit_code, "tables": report.totals(), "files": files}


def simulate(scenario: str = "smoke", out: str | os.PathLike = "sim-output", *, seed: int | None = None,
             scale: float | None = None) -> dict:
    """Write a scenario's canonical tables (Parquet) and its ground truth (``out/truth``):
    scenario, seed, out, seconds and rows per table."""
    from chorusline.sim import load_scenario
    from chorusline.sim import simulate as run_simulation

    spec = load_scenario(scenario, seed=seed, scale=scale)
    summary = run_simulation(spec, out)
    return {"scenario": spec.name, "seed": spec.seed, "out": str(summary.out), "seconds": round(summary.seconds, 3),
            "rows": summary.rows}


def detect(store, config: Any = None, signals_out: str | os.PathLike | None = None) -> list[dict]:
    """Signals → fused graph → clusters → scored campaigns, written into the store; returns the
    campaigns as :func:`list_campaigns` does. ``config``: a ``chorusline.toml`` path, a
    ``DetectConfig`` or None (the defaults); ``signals_out``: a folder for the per-signal Parquet
    files (None: a temporary one)."""
    from chorusline.campaigns.detect import DetectConfig, load_config
    from chorusline.campaigns.detect import detect as run_detection

    settings = config if isinstance(config, DetectConfig) else load_config(config)
    if signals_out is not None:
        run_detection(store, settings, Path(signals_out))
    else:
        with tempfile.TemporaryDirectory(prefix="chorusline-signals-") as folder:
            run_detection(store, settings, Path(folder))
    return list_campaigns(store)


def list_campaigns(store) -> list[dict]:
    """The last detection run's campaigns, best first: campaign_id, size, api_accounts,
    social_accounts, coordination, coverage (share of the core whose authenticity was measured),
    inauthenticity, active_days, sustained, score, tier (inauthentic, coordinated, not reported),
    flagged (members), above_threshold (reported) and verdict (why, in one sentence)."""
    import ibis

    from chorusline.campaigns.explain import CampaignNotFound

    if "campaigns" not in store.backend.list_tables():
        raise CampaignNotFound("the store has no campaigns: run `chorusline detect` first")
    return store.table("campaigns").order_by([ibis.desc("score"), "campaign_id"]).to_pyarrow().to_pylist()


def explain_campaign(store, campaign_id: int) -> dict:
    """Why a cluster is a campaign, or why it is not: its row with its tier and verdict, top
    members, the signals that tie them, infrastructure, clocks, templates, API → persona links,
    lifecycle, narratives, time line, DISARM techniques and a Breakout Scale estimate
    (``campaigns.explain``), over its flagged members or, where none is flagged, all of them."""
    from chorusline.campaigns.explain import CampaignNotFound, explain

    rows = {row["campaign_id"]: row for row in list_campaigns(store)}
    if campaign_id not in rows:
        raise CampaignNotFound(f"no campaign {campaign_id}; campaigns: {sorted(rows)[:20]}")
    return explain(store, int(campaign_id))


def store_status(store) -> list[dict]:
    """Rows per table with the first and last time (the quarantine's by load time)."""
    return [{"table": s.table, "rows": s.rows, "first": s.first, "last": s.last} for s in store.status()]


def detect_groups(table: Any, time_window: int = 10, min_participation: int = 2, remove_loops: bool = True) -> Any:
    """CooRTweet's ``detect_groups``, exactly: ``table`` has CooRTweet's columns object_id,
    account_id, content_id and timestamp_share (UNIX seconds, or times) as a pandas DataFrame, a
    polars DataFrame or an Arrow table (anything with ``__arrow_c_stream__``); the result has
    CooRTweet's columns object_id, content_id, content_id_y, time_delta, account_id, account_id_y
    (``_y`` = the later share), in CooRTweet's row order, as the same kind of table as the input."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from chorusline.engine import connect
    from chorusline.signals.coshare import PAIR_COLUMNS, CoshareParams
    from chorusline.signals.coshare import detect_groups as coshare_groups
    from chorusline.signals.share_files import COORTWEET_COLUMNS, _to_shares

    arrow, kind = _arrow_table(table)
    missing = [c for c in COORTWEET_COLUMNS if c not in arrow.column_names]
    if missing:
        raise ValueError(f"not CooRTweet's input: no column {', '.join(missing)} (columns: {arrow.column_names})")
    columns = {}
    for name in COORTWEET_COLUMNS:
        values = arrow.column(name).combine_chunks()
        if pa.types.is_timestamp(values.type):  # a time column counts whole seconds, as in CooRTweet's files
            values = pc.cast(values, pa.timestamp("s", values.type.tz), safe=False).cast(pa.int64())
        columns[name] = values.cast(pa.string())
    shares, _, usable, _ = _to_shares(columns, "coortweet", "repost")
    if not pc.all(usable).as_py() and arrow.num_rows:
        row = pc.index(usable, False).as_py()
        raise ValueError(f"row {row}: missing object, account, content or a valid time")
    shares = shares.append_column("rid", pa.array(np.arange(shares.num_rows, dtype=np.int64)))  # CooRTweet's row order
    backend = connect(":memory:")
    pairs = coshare_groups(backend.create_table("shares", shares),
                           CoshareParams(int(time_window), int(min_participation), remove_loops))
    # the in-memory engine goes with its last reference (closing it here would strand its cached tables)
    result = pairs.select(*PAIR_COLUMNS).order_by(["object_id", "content_id", "content_id_y"]).to_pyarrow()
    if kind == "pandas":
        return result.to_pandas()
    if kind == "polars":
        import polars

        return polars.from_arrow(result)
    return result


def _arrow_table(table: Any) -> tuple[Any, str]:
    """(the Arrow table, what kind of table came in: pandas, polars or arrow)."""
    import pyarrow as pa

    module = type(table).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(table, preserve_index=False), "pandas"
    if module == "polars":
        return table.to_arrow(), "polars"
    if isinstance(table, pa.Table):
        return table, "arrow"
    if hasattr(table, "__arrow_c_stream__"):  # any Arrow PyCapsule producer
        return pa.table(table), "arrow"
    raise TypeError(f"detect_groups takes a pandas, polars or Arrow table, not {type(table).__name__}")


__all__ = ["StoreNotFound", "detect", "detect_groups", "explain_campaign", "list_campaigns", "load_files",
           "open_store", "simulate", "store_location", "store_status"]
