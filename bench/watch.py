"""The live watcher, measured side by side with batch ingest in one run (docs/PERFORMANCE.md,
docs/STREAMING.md).

Run (CPU-heavy: under the shared lock): `flock /tmp/chorusline-cpu.lock .venv/bin/python bench/watch.py
[--scenario seed-case] [--batch 5000 20000] [--speed 20000] [--memory-minutes 10]`. It starts its own
redis-server on loopback (no persistence) and reports:

1. throughput: the whole scenario replayed into Redis as fast as it takes it, then drained by the
   watcher into an empty store, per batch size: intake only (watchlist, window and detection off),
   and with the sliding-window signals on (``live.window``, every 2 s in the matcher's thread);
   then sustained: the scenario published at ``--rate`` events/s (default 20,000) while the
   watcher, window on, consumes it — its events/s and how far behind the publisher it finished
   (a watcher that keeps up finishes within a window run of the last event); batch ingest of the
   same Parquet files into an empty store; events/s side by side;
2. alert latency for returning watchlisted accounts (the per-batch fingerprint check on, unless
   ``--no-fingerprints``): the scenario cut at its operation's return;
   the part before ingested, its operation's accounts confirmed (the truth plays the analyst) and
   watchlisted; the part after replayed at full speed (all published at once: the watcher works
   through a backlog) and paced (``--speed``), while the watcher drains it with the watchlist
   match on. Latency = alert time − arrival (in Redis) of the actor's earliest event not yet
   matched when the match that raised it began (an upper bound). p50/p95 over the returning API
   accounts, and over every returning account; also each returner's event time from its first
   call or post to the alert; and the ``campaign_grew`` alerts the sliding window raised (accounts
   tying themselves to the returners and the confirmed campaign): how many, how many outside the
   operation, their latency and event time from first activity;
3. memory: the watcher's RSS sampled through the paced run (and, with ``--memory-minutes``, a
   paced replay of the whole scenario for that long, detection on its schedule, in its child
   process: peak and low RSS per minute of the watcher, and its peak with the child; each
   detection run with both peaks; the event time replayed). ``--memory-only`` runs
   that replay alone (the one-hour run: ``--memory-only --memory-minutes 60 --memory-speed 1000``);
   ``--detect-horizon 14d`` has each detection read only its last 14 days of event time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from live_support import RedisServer, watchlist_store  # noqa: E402

from chorusline.api import load_files, open_store, simulate  # noqa: E402
from chorusline.cli import parse_duration  # noqa: E402
from chorusline.live.broker import open_source  # noqa: E402
from chorusline.live.replay import replay  # noqa: E402
from chorusline.live.scenario import split_at_return  # noqa: E402
from chorusline.live.watcher import Watcher, WatchOptions  # noqa: E402


def rss_mib(pid: int | str = "self") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:  # it ended
        return 0.0
    return 0.0  # a zombie has no VmRSS


def tree_rss_mib() -> float:
    """This process's RSS and its children's (the watcher's detection runs in a child of its own)."""
    me = str(Path("/proc/self").resolve().name)
    total = rss_mib(me)
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = next(line.split()[1] for line in status.read_text().splitlines() if line.startswith("PPid:"))
        except (OSError, StopIteration):
            continue
        if ppid == me:
            total += rss_mib(status.parent.name)
    return total


class Sampler:
    """RSS every half second in a thread, so a long detection run is sampled too: the watcher's
    own (``samples``) and with its children, the detection's process (``tree``)."""

    def __init__(self):
        self.samples: list[tuple[float, float]] = []
        self.tree: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            t = time.monotonic() - self._started
            self.samples.append((t, rss_mib()))
            self.tree.append((t, tree_rss_mib()))
            time.sleep(0.5)

    def stop(self) -> list[tuple[float, float]]:
        self._stop.set()
        self._thread.join()
        return self.samples


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def throughput(redis: RedisServer, sim: Path, tmp: Path, batches: list[int], rate: float = 20000.0) -> list[dict]:
    stream = "all"
    published = replay(sim, redis.url(stream))
    rows = [{"run": "replay → Redis (publish)", "events": published.events, "seconds": published.seconds}]
    runs = [(size, False) for size in batches] + [(batches[0], True)]
    for size, window in runs:
        group = f"g{size}{'w' if window else ''}"
        db = str(tmp / f"{group}.duckdb")
        store = open_store(db, create=True)
        source = open_source(redis.url(stream), group, "bench")
        options = WatchOptions(batch=size, block_ms=200, match_every=2.0 if window else 1e9, detect_every=None,
                               detect_on_idle=False, until_idle=True, window=window)
        summary = Watcher(store, source, options).run()  # no watchlist in this store
        source.close()
        what = "with the sliding window" if window else "intake only"
        rows.append({"run": f"watch (Redis → store), batch {size:,}, {what}", "events": summary.events,
                     "seconds": summary.seconds})
        store.backend.disconnect()
    rows.append(sustained(redis, sim, tmp, batches[0], rate))
    store = open_store(str(tmp / "batch.duckdb"), create=True)
    started = time.monotonic()
    report = load_files(store, sorted(sim.glob("*.parquet")))
    seconds = time.monotonic() - started
    events = sum(t["valid"] for t in report["tables"].values())
    rows.append({"run": "batch ingest (Parquet → store)", "events": events, "seconds": seconds})
    store.backend.disconnect()
    for r in rows:
        r["events_per_second"] = round(r["events"] / r["seconds"]) if r["seconds"] else None
    return rows


def sustained(redis: RedisServer, sim: Path, tmp: Path, batch: int, rate: float) -> dict:
    """The scenario published at ``rate`` events/s while the watcher (window on) consumes it."""
    stream, idle = "steady", 1.0
    redis.client.xgroup_create(stream, "steady", id="0", mkstream=True)
    published = {}

    def publish():
        published["summary"] = replay(sim, redis.url(stream), rate=rate)
        published["done"] = time.monotonic()

    store = open_store(str(tmp / "steady.duckdb"), create=True)
    source = open_source(redis.url(stream), "steady", "bench")
    options = WatchOptions(batch=batch, block_ms=200, match_every=2.0, detect_every=None, detect_on_idle=False,
                           until_idle=True, idle_timeout=idle)
    watcher = Watcher(store, source, options)
    producer = threading.Thread(target=publish, daemon=True)
    producer.start()
    while not redis.client.xlen(stream):  # the replay reads and sorts the tables first
        time.sleep(0.01)
    started = time.monotonic()
    summary = watcher.run()
    finished = time.monotonic() - idle  # it waited ``idle`` seconds of silence before stopping
    producer.join()
    source.close()
    store.backend.disconnect()
    sent = published["summary"]
    return {"run": f"watch at {rate:,.0f} events/s offered ({sent.events / sent.seconds:,.0f}/s published), "
                   f"batch {batch:,}, with the sliding window (finished {finished - published['done']:.1f} s after "
                   "the last event was published)",
            "events": summary.events, "seconds": finished - started}


def redis_errors():
    import redis

    return redis.exceptions.ConnectionError


def latency_run(redis: RedisServer, case, before_db: Path, tmp: Path, speed: float, batch: int,
                match_every: float, label: str, minutes: float = 0.0, fingerprints: bool = True) -> dict:
    """``minutes``: stop the watcher after this long (a slow pace need not replay the whole part)."""
    db = tmp / f"latency-{label}.duckdb"
    shutil.copy(before_db, db)
    stream = f"after-{label}"
    published = {}

    def publish():
        from chorusline.live.broker import BrokerError

        try:
            published["summary"] = replay(case.after, redis.url(stream), speed=speed)
        except (BrokerError, OSError, ConnectionError, redis_errors()):  # stopped early: Redis is gone
            pass

    redis.client.xgroup_create(stream, "chorusline", id="0", mkstream=True)
    producer = threading.Thread(target=publish, daemon=True)
    store = open_store(str(db))
    source = open_source(redis.url(stream), "chorusline", "bench")
    # drained = no event for 5 s (a paced replay's pauses are far shorter); then the last match
    options = WatchOptions(batch=batch, block_ms=200, match_every=match_every, detect_every=None,
                           detect_on_idle=False, until_idle=True, idle_timeout=5.0, fingerprints=fingerprints)
    watcher = Watcher(store, source, options)
    sampler = Sampler()
    producer.start()
    if minutes:
        threading.Timer(minutes * 60, watcher.stop.set).start()
    summary = watcher.run()
    if not minutes:
        producer.join()
    samples = sampler.stop()
    source.close()
    alerts = store.table("alerts").to_pyarrow().to_pylist()
    grew = [a for a in alerts if a["kind"] == "campaign_grew" and "actor" in json.loads(a["evidence"])]
    from chorusline.live.state import first_seen

    grew_first = first_seen(store, [json.loads(a["evidence"])["actor"] for a in grew])
    store.backend.disconnect()
    returning = [a for a in alerts if a["kind"] == "returning_actor"]
    api = [a for a in returning if a["subject"].startswith("llm-api:")]

    def seconds(a):
        return (a["alerted_at"] - a["arrived_at"]).total_seconds() if a["arrived_at"] else None

    def basis(a):
        return json.loads(a["evidence"]).get("basis", "match")

    api_lat = [s for s in map(seconds, api) if s is not None]
    all_lat = [s for s in map(seconds, returning) if s is not None]
    event_time = {}
    for a in returning:
        first = json.loads(a["evidence"]).get("first_seen")
        if first:
            event_time[a["subject"]] = (a["event_ts"] - dt.datetime.fromisoformat(first)).total_seconds() / 3600
    window = {}
    for a in grew:
        who = json.loads(a["evidence"])["actor"]
        window[who] = {"basis": json.loads(a["evidence"])["basis"], "seconds": seconds(a),
                       "event_hours": (a["event_ts"] - grew_first[who]).total_seconds() / 3600}
    window_lat = [w["seconds"] for w in window.values() if w["seconds"] is not None]
    return {"run": label, "speed": speed or "max", "events": summary.events, "seconds": round(summary.seconds, 1),
            "events_per_second": round(summary.events / summary.seconds) if summary.seconds else None,
            "matches": summary.matches, "match_seconds": round(summary.match_seconds, 1),
            "fingerprint_checks": summary.fingerprint_checks, "fingerprint_seconds": round(summary.fingerprint_seconds, 1),
            "api_alerted_by_fingerprints": len([a for a in api if basis(a) == "fingerprints"]),
            "alerted_by_fingerprints": len([a for a in returning if basis(a) == "fingerprints"]),
            "api_latency_s": sorted(round(s, 2) for s in api_lat),
            "returning": len(case.returning), "alerted": len(returning), "alerted_api": len(api),
            "alerted_outside_operation": len([a for a in returning if a["subject"] not in case.returning]),
            "api_p50_s": quantile(api_lat, 0.5), "api_p95_s": quantile(api_lat, 0.95),
            "all_p50_s": quantile(all_lat, 0.5), "all_p95_s": quantile(all_lat, 0.95),
            "event_hours_first_to_alert": event_time,
            "window_grew": len(window), "window_grew_returners": len([w for w in window if w in case.returning]),
            "window_grew_outside_operation": len([w for w in window if w not in case.campaign_accounts]),
            "window_grew_by_basis": {b: len([w for w in window.values() if w["basis"] == b])
                                     for b in ("provenance", "co-action")},
            "window_grew_p50_s": quantile(window_lat, 0.5), "window_grew_p95_s": quantile(window_lat, 0.95),
            "window_grew_event_hours": sorted(round(w["event_hours"], 2) for w in window.values()),
            "window_pairs": summary.window_pairs, "window_links": summary.window_links,
            "rss_mib_start": samples[0][1] if samples else None, "rss_mib_peak": max(s for _, s in samples),
            "rss_mib_end": samples[-1][1] if samples else None,
            "published_per_second": published["summary"].as_dict()["events_per_second"] if published else None}


def memory_run(redis: RedisServer, sim: Path, tmp: Path, minutes: float, speed: float,
               horizon: dt.timedelta | None = None) -> dict:
    """A paced replay of the whole scenario for ``minutes``, detection on its schedule (reading the
    last ``horizon`` of event time, or the whole store): RSS over time."""
    stream = "long"
    publisher = threading.Thread(target=lambda: replay(sim, redis.url(stream), speed=speed), daemon=True)
    redis.client.xgroup_create(stream, "chorusline", id="0", mkstream=True)
    store = open_store(str(tmp / "long.duckdb"), create=True)
    source = open_source(redis.url(stream), "chorusline", "bench")
    watcher = Watcher(store, source, WatchOptions(batch=5000, detect_every=dt.timedelta(days=7),
                                                  detect_horizon=horizon))
    sampler = Sampler()
    detections = []  # each detection run: when (minutes into the run), how long, the stream's clock
    run_detect = watcher.detect

    def timed_detect():
        began = time.monotonic() - sampler._started
        run_detect()
        detections.append({"minute": round(began / 60, 1), "seconds": round(time.monotonic() - sampler._started - began, 1),
                           "event_time": str(watcher.watermark)})

    watcher.detect = timed_detect
    publisher.start()
    threading.Timer(minutes * 60, watcher.stop.set).start()
    summary = watcher.run()
    samples = sampler.stop()
    first = min((v for v in (store.table(n).ts.min().to_pyarrow().as_py() for n in ("llm_calls", "posts")) if v),
                default=None)
    store.backend.disconnect()
    def per_minute(series, pick):
        out = {}
        for t, rss in series:
            minute = int(t // 60)
            out[minute] = pick(rss, out.get(minute, rss))
        return {m: round(v) for m, v in out.items()}

    for d in detections:  # the peak RSS while each detection ran: the watcher's, and with the child
        def during(series):
            return round(max((rss for t, rss in series if d["minute"] * 60 - 3 <= t <= d["minute"] * 60 + d["seconds"] + 3),
                             default=0))
        d["rss_mib_peak"], d["rss_mib_peak_with_child"] = during(samples), during(sampler.tree)
    return {"minutes": minutes, "speed": speed, "detect_horizon": str(horizon), "events": summary.events, "detections": summary.detections,
            "detect_seconds": round(summary.detect_seconds, 1), "event_time_first": str(first),
            "event_time_reached": str(watcher.watermark), "detection_runs": detections,
            "rss_mib_peak_per_minute": per_minute(samples, max), "rss_mib_low_per_minute": per_minute(samples, min),
            "rss_mib_peak_per_minute_with_child": per_minute(sampler.tree, max)}


def _embed_known_texts(db: Path) -> None:
    from chorusline.enrich.texts import embed_store_texts

    store = open_store(str(db))
    embed_store_texts(store)
    store.backend.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="seed-case")
    parser.add_argument("--scale", type=float, default=None, help="multiply the scenario's populations (large 0.5: 1.4 M events)")
    parser.add_argument("--batch", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--speed", type=float, default=20000.0, help="pace of the latency run (× real time)")
    parser.add_argument("--rate", type=float, default=20000.0, help="events/s offered in the sustained run")
    parser.add_argument("--match-every", type=float, default=0.0)
    parser.add_argument("--latency-only", action="store_true", help="skip the throughput part")
    parser.add_argument("--throughput-only", action="store_true", help="skip the latency and memory parts")
    parser.add_argument("--paced-minutes", type=float, default=0.0, help="stop the paced run after this long")
    parser.add_argument("--no-fingerprints", action="store_true",
                        help="latency runs without the per-batch fingerprint check (the full match alone)")
    parser.add_argument("--memory-minutes", type=float, default=0.0)
    parser.add_argument("--memory-speed", type=float, default=1000.0)
    parser.add_argument("--memory-only", action="store_true",
                        help="only the memory run (10 minutes unless --memory-minutes): skip throughput and latency")
    parser.add_argument("--detect-horizon", default="off",
                        help="memory run: each detection reads this much event time back (14d, 36h; off: all)")
    args = parser.parse_args()
    horizon = parse_duration(args.detect_horizon, "--detect-horizon")
    with tempfile.TemporaryDirectory(prefix="chorusline-bench-watch-") as folder:
        tmp = Path(folder)
        redis = RedisServer(tmp)
        try:
            simulate(args.scenario, tmp / "sim", scale=args.scale)
            if args.memory_only:
                args.memory_minutes = args.memory_minutes or 10.0
                print(f"## {args.scenario}: memory over {args.memory_minutes} min at {args.memory_speed}×\n")
                print(json.dumps(memory_run(redis, tmp / "sim", tmp, args.memory_minutes, args.memory_speed,
                                            horizon)), flush=True)
                return
            print(f"## {args.scenario}: throughput (events/s)\n")
            print("| run | events | seconds | events/s |\n| --- | --- | --- | --- |")
            rows = [] if args.latency_only else throughput(redis, tmp / "sim", tmp, args.batch, args.rate)
            for r in rows:
                print(f"| {r['run']} | {r['events']:,} | {r['seconds']:.2f} | {r['events_per_second']:,} |", flush=True)
            if args.throughput_only:
                return
            case = split_at_return(tmp / "sim", tmp / "split")
            before = tmp / "before.duckdb"
            watchlist_store(case.before, str(before), case.campaign_accounts - case.returning)
            _embed_known_texts(before)  # as `chorusline enrich` does after a batch load
            print(f"\n## {args.scenario}: returning accounts, alert latency\n")
            runs = (("paced", args.speed),) if args.latency_only else (("backlog", 0.0), ("paced", args.speed))
            for label, speed in runs:
                r = latency_run(redis, case, before, tmp, speed, args.batch[0], args.match_every, label,
                                args.paced_minutes if label == "paced" else 0.0, not args.no_fingerprints)
                hours = r.pop("event_hours_first_to_alert")
                print(json.dumps(r, default=str), flush=True)
                if label == "paced":
                    print("event time from first activity to alert, hours (returning accounts): "
                          + json.dumps({k: round(v, 2) for k, v in sorted(hours.items())}), flush=True)
            if args.memory_minutes:
                print(f"\n## {args.scenario}: memory over {args.memory_minutes} min at {args.memory_speed}×\n")
                print(json.dumps(memory_run(redis, tmp / "sim", tmp, args.memory_minutes, args.memory_speed,
                                            horizon)), flush=True)
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
