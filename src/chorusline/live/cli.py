"""The live verbs: `watch`, `replay`, `alerts` (registered on chorusline's typer app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chorusline.cli import DbOption, JsonOption, app, emit_json, fail, open_store, parse_duration, show_table
from chorusline.engine import DEFAULT_DB
from chorusline.live import DEFAULT_MATCH_THRESHOLD


def _alerts_url(source_url, alerts_to: str | None):
    from chorusline.live.broker import BrokerError, parse_url

    if alerts_to in ("none", ""):
        return None
    if alerts_to is None:  # beside the events: STREAM:alerts on Redis, TOPIC.alerts on Kafka
        return source_url.with_name(source_url.name + (":alerts" if source_url.scheme == "redis" else ".alerts"))
    try:
        return parse_url(alerts_to)
    except BrokerError as exc:
        fail(f"--alerts-to: {exc}")


def _print_alert(alert: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(_news().as_message(alert).decode())
    else:
        typer.echo(f"ALERT {alert['kind']} [{alert['alert_id'][:10]}] {alert['summary']}")


def _news():
    from chorusline.live import alerts

    return alerts


@app.command()
def watch(
    source: Annotated[str, typer.Option("--from", metavar="URL", help="redis://HOST:PORT/STREAM or "
                                        "kafka://HOST:PORT/TOPIC of canonical JSON events")],
    db: DbOption = DEFAULT_DB,
    group: Annotated[str, typer.Option(metavar="NAME",
                                       help="consumer group (offsets are kept per group)")] = "chorusline",
    consumer: Annotated[str, typer.Option(metavar="NAME", help="consumer name within the group (Redis): keep it "
                                          "across restarts so the watcher re-reads what it had not acknowledged"
                                          )] = "watcher",
    batch: Annotated[int, typer.Option(metavar="N", help="events per micro-batch at most", min=1)] = 5000,
    match_every: Annotated[float, typer.Option(metavar="SECONDS", help="watchlist match at most this often while "
                                               "events flow (and whenever the stream is idle)", min=0)] = 2.0,
    match_threshold: Annotated[float, typer.Option(metavar="SCORE", help="watchlist score that raises a "
                                                   "returning-actor alert")] = DEFAULT_MATCH_THRESHOLD,
    detect_every: Annotated[str, typer.Option(metavar="DURATION", help="full detection each time the stream's "
                                              "event time crosses a multiple of this (7d, 12h; 0: only when idle)"
                                              )] = "7d",
    detect_horizon: Annotated[str, typer.Option(metavar="DURATION", help="each full detection reads only this "
                                                "much event time back from the stream's clock (14d, 36h; "
                                                "off: the whole store)")] = "off",
    no_detect: Annotated[bool, typer.Option("--no-detect", help="never run the full detection (the watchlist "
                                            "match still runs)")] = False,
    no_window: Annotated[bool, typer.Option("--no-window", help="no sliding-window signals (co-action and "
                                            "provenance of new posts between detections)")] = False,
    detect_after: Annotated[int | None, typer.Option(metavar="N", help="also run the full detection once the "
                                                     "window found N new co-action pairs and post links", min=1)] = None,
    config: Annotated[Path | None, typer.Option(metavar="FILE", help="detection settings (chorusline.toml)")] = None,
    webhook: Annotated[str | None, typer.Option(metavar="URL", help="POST each alert here (JSON, retried with "
                                                "backoff, at least once, Idempotency-Key = alert id)")] = None,
    alerts_to: Annotated[str | None, typer.Option(metavar="URL", help="alerts stream (default: STREAM:alerts / "
                                                  "TOPIC.alerts beside the source; none: no stream)")] = None,
    until_idle: Annotated[bool, typer.Option("--until-idle", help="stop when the stream is drained")] = False,
    idle_timeout: Annotated[float, typer.Option(metavar="SECONDS", help="with --until-idle: drained means no "
                                                "event for this long", min=0)] = 0.0,
    as_json: JsonOption = False,
) -> None:
    """Consume canonical events from Redis Streams or Kafka into the store and alert on returning
    watchlisted actors, new campaigns and campaigns that grow (docs/STREAMING.md)."""
    from chorusline.campaigns.detect import ConfigError, load_config
    from chorusline.live.broker import BrokerError, open_sink, open_source, parse_url
    from chorusline.live.watcher import WatchOptions, Watcher, stopping_on_signals

    every = parse_duration(detect_every, "--detect-every")
    horizon = parse_duration(detect_horizon, "--detect-horizon")
    try:
        settings = load_config(config)
        url = parse_url(source)
    except (ConfigError, BrokerError) as exc:
        fail(str(exc))
    alerts_url = _alerts_url(url, alerts_to)
    store = open_store(db, None, create=True)
    try:
        stream = open_source(source, group, consumer)
        sink = open_sink(alerts_url) if alerts_url is not None else None
    except BrokerError as exc:
        fail(str(exc))
    options = WatchOptions(batch=batch, match_every=match_every, match_threshold=match_threshold,
                           detect_every=None if no_detect else every, detect_on_idle=not no_detect,
                           detect_horizon=horizon,
                           window=not no_window, detect_after=None if no_detect else detect_after,
                           config=settings, webhook=webhook, until_idle=until_idle, idle_timeout=idle_timeout)
    watcher = Watcher(store, stream, options, sink, on_alert=lambda a: _print_alert(a, as_json))
    if not as_json:
        typer.echo(f"watching {url.text} (group {group}) into {db}"
                   + (f"; alerts to {alerts_url.text}" if alerts_url else "") + (f" and {webhook}" if webhook else ""),
                   err=True)
    try:
        with stopping_on_signals(watcher):
            summary = watcher.run()
    except BrokerError as exc:
        fail(str(exc))
    finally:
        stream.close()
        if sink is not None:
            sink.close()
        store.backend.disconnect()  # the file is free for the next verb as soon as this one ends
    if as_json:
        return emit_json(summary.as_dict())
    s = summary.as_dict()
    typer.echo(f"{s['events']:,} events in {s['batches']:,} batches ({s['events_per_second'] or 0:,}/s), "
               f"{s['quarantined']:,} quarantined, {s['alerts']:,} alerts, {s['detections']} detection runs", err=True)


@app.command()
def replay(
    folder: Annotated[Path, typer.Argument(metavar="SIMDIR",
                                           help="a folder of canonical tables (`chorusline simulate`)")],
    to: Annotated[str, typer.Option("--to", metavar="URL", help="redis://HOST:PORT/STREAM or kafka://HOST:PORT/TOPIC")],
    speed: Annotated[float, typer.Option(metavar="N", help="N seconds of event time per second (0: as fast as "
                                         "the broker takes them)", min=0)] = 0.0,
    limit: Annotated[int | None, typer.Option(metavar="N", help="publish the first N events only", min=0)] = None,
    as_json: JsonOption = False,
) -> None:
    """Publish a simulated scenario's tables to a stream, in event-time order."""
    from chorusline.live.broker import BrokerError
    from chorusline.live.replay import ReplayError
    from chorusline.live.replay import replay as run_replay

    if not folder.is_dir():
        fail(f"{folder} is not a folder (`chorusline simulate --out FOLDER` writes one)")
    try:
        summary = run_replay(folder, to, speed, limit).as_dict()
    except (ReplayError, BrokerError) as exc:
        fail(str(exc))
    if as_json:
        return emit_json(summary)
    typer.echo(f"{summary['events']:,} events to {to} in {summary['seconds']} s "
               f"({summary['events_per_second'] or 0:,}/s): "
               + ", ".join(f"{t} {n:,}" for t, n in summary["tables"].items()))


@app.command()
def alerts(
    db: DbOption = DEFAULT_DB,
    kind: Annotated[str | None, typer.Option(metavar="KIND",
                                             help="returning_actor, new_campaign or campaign_grew")] = None,
    limit: Annotated[int, typer.Option(metavar="N", help="alerts to show (newest first)")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List the alerts the live watcher raised, newest first."""
    from chorusline.api import list_alerts
    from chorusline.live.alerts import KINDS

    if kind is not None and kind not in KINDS:
        fail(f"--kind {kind!r}: expected one of {', '.join(KINDS)}")
    store = open_store(db, None)
    rows = list_alerts(store, kind, limit)
    if as_json:
        return emit_json(rows)
    show_table(f"alerts ({len(rows):,} shown)", ["when (event time)", "kind", "subject", "score", "summary"],
               [[str(r["event_ts"])[:19], r["kind"], r["subject"], "" if r["score"] is None else f"{r['score']:.2f}",
                 r["summary"][:90]] for r in rows], right={"score"})
