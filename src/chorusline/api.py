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


def detect(store, config: Any = None, signals_out: str | os.PathLike | None = None, *,
           horizon: Any = None, until: Any = None) -> list[dict]:
    """Signals → fused graph → clusters → scored campaigns, written into the store; returns the
    campaigns as :func:`list_campaigns` does. ``config``: a ``chorusline.toml`` path, a
    ``DetectConfig`` or None (the defaults); ``signals_out``: a folder for the per-signal Parquet
    files (None: a temporary one); ``horizon``: a ``datetime.timedelta`` to read only the posts,
    API calls and news events of that last stretch of event time, and the accounts active in it
    (``store.HorizonStore``; None: the whole store), back from ``until`` (an aware datetime, e.g. a
    stream's clock; None: the latest post or API call)."""
    from chorusline.campaigns.detect import DetectConfig, load_config
    from chorusline.campaigns.detect import detect as run_detection
    from chorusline.engine_files import location
    from chorusline.store import HorizonStore

    settings = config if isinstance(config, DetectConfig) else load_config(config)
    if horizon is not None and not isinstance(store, HorizonStore):
        store = HorizonStore.last(store, horizon, until=until)
    if signals_out is not None:
        run_detection(store, settings, location(signals_out))
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


def campaign_members(store, campaign_id: int, offset: int = 0, limit: int | None = None) -> dict:
    """A campaign's members, strongest first: total, offset and rows of actor, platform,
    member_score, suspicion, core, flagged, recruited, measured, degree, active_days and the
    account's latest decision (null when none)."""
    import ibis

    from chorusline.act.decisions import current_account_decisions

    m = _members(store, campaign_id)
    a = current_account_decisions(store)
    j = m.left_join(a.select("actor", account_decision=a.decision), "actor")
    rows = j.select("actor", "platform", "member_score", "suspicion", "core", "flagged", "recruited", "measured",
                    "degree", "active_days", j.account_decision).order_by(
        [ibis.desc("flagged"), ibis.desc("member_score"), "actor"])
    total = int(m.count().execute())
    page = rows.limit(limit, offset=offset) if limit is not None else rows.limit(None, offset=offset)
    return {"campaign_id": int(campaign_id), "total": total, "offset": offset, "rows": page.to_pyarrow().to_pylist()}


def _members(store, campaign_id: int):
    from chorusline.campaigns.explain import CampaignNotFound

    if "campaign_members" not in store.backend.list_tables():
        raise CampaignNotFound("the store has no campaigns: run `chorusline detect` first")
    m = store.table("campaign_members")
    m = m.filter(m.campaign_id == int(campaign_id))
    if m.count().execute() == 0:
        raise CampaignNotFound(f"no campaign {campaign_id}")
    return m


NETWORK_ROLES = ("core", "periphery", "flagged", "recruited", "api", "social")


def campaign_network(store, campaign_id: int, families: list[str] | None = None, min_weight: float = 0.0,
                     role: str | None = None, max_edges: int = 2000) -> dict:
    """The fused graph among a campaign's members, filtered: only ties carrying one of
    ``families`` (signal families: coshare, provenance, ...), of at least ``min_weight``, between
    members of ``role`` (core, periphery, flagged, recruited, api, social). nodes (actor,
    platform, core, flagged, recruited, member_score, suspicion), edges (source, target, weight,
    probability, families: {family: evidence share}), the families present, edges_total (before the
    ``max_edges`` strongest are kept) and truncated."""
    import json

    import ibis

    if role is not None and role not in NETWORK_ROLES:
        raise ValueError(f"role must be one of {', '.join(NETWORK_ROLES)}, got {role!r}")
    m = _members(store, campaign_id)
    if role is not None:
        m = m.filter({"core": m.core, "periphery": ~m.core, "flagged": m.flagged,
                      "recruited": m.recruited.fill_null(False), "api": m.platform == "llm-api",
                      "social": m.platform != "llm-api"}[role])
    nodes = m.select("actor", "platform", "core", "flagged", "recruited", "member_score", "suspicion")
    f = store.table("fused_edges")
    ids = m.select("actor")
    inside = f.semi_join(ids.select(a_actor=ids.actor), "a_actor").semi_join(ids.select(b_actor=ids.actor), "b_actor")
    listed = inside.select("families").distinct().to_pyarrow()["families"].to_pylist()
    present = sorted({part.split("=")[0] for row in listed for part in json.loads(row or "[]")})
    e = inside.filter(inside.weight >= float(min_weight))
    if families:
        e = e.filter(ibis.or_(*[e.families.contains(f'"{name}=') for name in families]))
    total = int(e.count().execute())
    edges = e.order_by([ibis.desc("weight"), "a_actor", "b_actor"]).limit(max_edges).select(
        "a_actor", "b_actor", "weight", "probability", "families").to_pyarrow().to_pylist()
    return {"campaign_id": int(campaign_id), "families_present": present, "edges_total": total,
            "truncated": total > len(edges), "nodes": nodes.order_by("actor").to_pyarrow().to_pylist(),
            "edges": [{"source": r["a_actor"], "target": r["b_actor"], "weight": r["weight"],
                       "probability": r["probability"],
                       "families": {k: float(v.rstrip("%")) / 100 for k, v in
                                    (p.split("=", 1) for p in json.loads(r["families"] or "[]"))}}
                      for r in edges]}


def account_detail(store, actor: str, limit: int = 500) -> dict:
    """One account (``platform:account_id``): its profile row, its campaign memberships, its posts
    and LLM calls (the latest ``limit`` of each), activity per day, its ties (each raw signal edge:
    the other account, signal, weight, events, evidence) and decisions on it."""
    import ibis

    from chorusline.campaigns.explain import CampaignNotFound

    if ":" not in actor:
        raise CampaignNotFound(f"not an account id {actor!r}: platform:account_id")
    platform, account_id = actor.split(":", 1)
    tables = set(store.backend.list_tables())

    def rows(name, expr):
        return expr.to_pyarrow().to_pylist() if name in tables else []

    acct = store.table("accounts")
    profile = rows("accounts", acct.filter((acct.platform == platform) & (acct.account_id == account_id)).limit(1))
    memberships = []
    if "campaign_members" in tables:
        m = store.table("campaign_members")
        memberships = rows("campaign_members", m.filter(m.actor == actor).select(
            "campaign_id", "tier", "member_score", "suspicion", "core", "flagged", "recruited", "measured"))
    p = store.table("posts")
    p = p.filter((p.platform == platform) & (p.account_id == account_id))
    c = store.table("llm_calls")
    c = c.filter((c.platform == platform) & (c.account_id == account_id))
    days = p.group_by(day=p.ts.date()).aggregate(n=p.count()).mutate(kind=ibis.literal("posts")).union(
        c.group_by(day=c.ts.date()).aggregate(n=c.count()).mutate(kind=ibis.literal("calls")))
    timeline: dict[str, dict] = {}
    for r in days.order_by(["day", "kind"]).to_pyarrow().to_pylist():
        timeline.setdefault(str(r["day"]), {"day": str(r["day"]), "posts": 0, "calls": 0})[r["kind"]] = r["n"]
    if not profile and not memberships and not timeline:
        raise CampaignNotFound(f"no account {actor!r} in the store")
    ties = []
    if "edges" in tables:
        e = store.table("edges")
        mine = e.filter(e.a_actor == actor).select(other=e.b_actor, signal=e.signal, weight=e.weight,
                                                  n_events=e.n_events, first_ts=e.first_ts, last_ts=e.last_ts,
                                                  evidence=e.evidence).union(
            e.filter(e.b_actor == actor).select(other=e.a_actor, signal=e.signal, weight=e.weight,
                                                n_events=e.n_events, first_ts=e.first_ts, last_ts=e.last_ts,
                                                evidence=e.evidence), distinct=False)
        ties = mine.order_by([ibis.desc("weight"), "other", "signal"]).limit(limit).to_pyarrow().to_pylist()
    decisions = []
    if "account_decisions" in tables:
        d = store.table("account_decisions")
        decisions = d.filter(d.actor == actor).order_by(ibis.desc("ts")).to_pyarrow().to_pylist()
    return {"actor": actor, "platform": platform, "account_id": account_id,
            "profile": profile[0] if profile else None, "campaigns": memberships, "timeline": list(timeline.values()),
            "posts": p.select("post_id", "ts", "kind", "lang", "text", "urls", "hashtags").order_by(
                ibis.desc("ts")).limit(limit).to_pyarrow().to_pylist(),
            "calls": c.select("call_id", "ts", "model", "operation", "ip", "user_agent", "prompt", "output").order_by(
                ibis.desc("ts")).limit(limit).to_pyarrow().to_pylist(),
            "ties": ties, "decisions": decisions}


def decide(store, decision: str, analyst: str, reason: str, *, campaign_id: int | None = None,
           actor: str | None = None) -> dict:
    """Record a decision (confirm, dismiss, needs-more) on a campaign or on one account, with a
    required reason; returns the decision's row (``act.decisions``). DecisionError otherwise."""
    from chorusline.act.decisions import DecisionError, record_account_decision, record_decision

    if not reason or not reason.strip():
        raise DecisionError("a reason is required")
    if (campaign_id is None) == (actor is None):
        raise DecisionError("decide on one campaign or one account")
    if actor is not None:
        return record_account_decision(store, actor, decision, analyst, reason.strip())
    return record_decision(store, int(campaign_id), decision, analyst, reason.strip())


def decision_history(store, limit: int = 200) -> list[dict]:
    """Every decision, newest first: on campaigns (target ``campaign``, with the member count of its
    snapshot) and on accounts (target ``account``). Each table gives its newest ``limit`` rows from
    the engine (the snapshots' member lists stay there), then the two are merged."""
    import ibis

    tables = set(store.backend.list_tables())
    newest = [ibis.desc("ts"), ibis.desc("decision_id")]
    rows = []
    if "decisions" in tables:
        d = store.table("decisions")
        rows += d.select(target=ibis.literal("campaign"), decision_id=d.decision_id, ts=d.ts, campaign_id=d.campaign_id,
                         actor=ibis.null("string"), decision=d.decision, analyst=d.analyst, note=d.note,
                         members=d.members.length().fill_null(0)).order_by(newest).limit(limit).to_pyarrow().to_pylist()
    if "account_decisions" in tables:
        a = store.table("account_decisions")
        rows += [{"target": "account", "members": None, **r}
                 for r in a.order_by(newest).limit(limit).to_pyarrow().to_pylist()]
    rows.sort(key=lambda r: (r["ts"], r["decision_id"]), reverse=True)
    return rows[:limit]


def enforcement(store, offset: int = 0, limit: int | None = None) -> dict:
    """The enforcement list (``act.enforcement``), all of it or one page: total, offset, rows of
    platform, account_id, campaign_id, latest_tier, confidence, reasons."""
    from chorusline.act.enforcement import enforcement_list

    if "campaign_members" not in store.backend.list_tables():
        return {"total": 0, "offset": offset, "rows": []}
    table = enforcement_list(store)
    total = int(table.count().execute())
    page = table.limit(limit, offset=offset)
    return {"total": total, "offset": offset, "rows": page.to_pyarrow().to_pylist()}


def watchlist_matches(store, top: int | None = 100) -> list[dict]:
    """Accounts outside the confirmed campaigns ranked by their match to the watchlist, as
    ``chorusline match --json``: actor, campaign_id, score, kinds, evidence. LookupError when
    there is no watchlist yet."""
    from chorusline.act.watchlist import match_accounts

    return match_accounts(store, top=top).to_pylist()


def list_alerts(store, kind: str | None = None, limit: int | None = None) -> list[dict]:
    """The live watcher's alerts, newest first (``live.alerts``): what ``chorusline alerts --json``
    prints; empty on a store the watcher never ran on."""
    from chorusline.live.alerts import list_alerts as alerts

    return alerts(store, kind, limit)


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


__all__ = ["StoreNotFound", "account_detail", "campaign_members", "campaign_network", "decide", "decision_history",
           "detect", "detect_groups", "enforcement", "explain_campaign", "list_alerts", "list_campaigns", "load_files",
           "open_store", "simulate", "store_location", "store_status", "watchlist_matches"]
