"""`chorusline watch`: consume canonical events from a broker into the store, in micro-batches, and
raise alerts.

Per micro-batch: decode and validate (``events``), append durably (``batches``), check the new
accounts it brought against the watchlist on their fingerprints (``alerts.returning_by_fingerprints``:
their own rows only, so an API account that reuses the operation's infrastructure or prompt
templates is alerted within the batch that brought it), then acknowledge to the broker — never
before, so a crash at any point loses nothing, and the store's key de-duplication makes the
redelivered batch add nothing twice. Then, on the data so far:
- in a thread of its own (``Matcher``), at most every ``match_every`` seconds while events flow and
  before the watcher rests when idle, over the rows stored since its last run: the sliding-window
  signals (``live.window``: co-action of the new posts within the window, provenance of the new
  posts against recent outputs), whose ties of new accounts to a known campaign raise
  ``campaign_grew`` at once, and the watchlist match (``act.watchlist.match_accounts``);
- the full detection (``api.detect``: signals, fusion, clustering, scoring, over the whole store,
  or with ``detect_horizon`` over its last stretch of event time, so what it reads is bounded by
  the horizon rather than by the store's length) each time the stream's event time crosses a
  multiple of ``detect_every``, when the window signals found ``detect_after`` new co-action pairs
  and post links since the last run (enough changed), and when the stream has been idle
  ``IDLE_DETECT`` seconds (or is drained, with ``until_idle``) with new events since the last run.
Detection runs in a child process (``live.detection``; a DuckDB file store), started from the
watcher's thread: while it runs, events wait in the broker, and what it allocates goes back to the
system when it ends, so the watcher's memory does not grow with the runs.
Alerts are stored first (``alerts`` table), then delivered from that outbox to the alerts stream
(exactly once on Redis) and the webhook (at least once), so a crash between the two re-sends
rather than loses. The watcher owns the store while it runs (DuckDB has one writer)."""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from chorusline.live import DEFAULT_MATCH_THRESHOLD
from chorusline.live import alerts as news
from chorusline.live.batches import BatchResult, append_batch
from chorusline.live.broker import Sink, Source
from chorusline.live.events import decode
from chorusline.live.state import (ALERTS, DELIVERIES, append, ensure_live_tables, first_seen, latest_time, now,
                                   recalled, remember)
from chorusline.live.window import prune, update_window

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# seconds without events before an idle stream gets a detection run (a paced producer's short pauses
# do not start one)
IDLE_DETECT = 5.0


@dataclass
class WatchOptions:
    batch: int = 5000  # events per micro-batch at most
    block_ms: int = 500  # how long a read waits for events before the stream counts as idle
    match_every: float = 2.0  # wall seconds between watchlist matches while events flow
    match_threshold: float = DEFAULT_MATCH_THRESHOLD
    fingerprints: bool = True  # per micro-batch, the new accounts' fingerprints against the watchlist
    detect_every: dt.timedelta | None = dt.timedelta(days=7)  # event time between full detections
    # event time a full detection reads back from the stream's clock (store.HorizonStore); None: all
    detect_horizon: dt.timedelta | None = None
    window: bool = True  # the sliding-window signals (live.window) and the alerts they raise
    detect_after: int | None = None  # window changes (new pairs + links) that start a detection; None: never
    detect_on_idle: bool = True
    # a DuckDB file store's detection in a child process (live.detection): what it allocates goes
    # back to the system when it ends; False: in the watcher's process
    detect_in_child: bool = True
    config: object = None  # detection settings (a chorusline.toml path or DetectConfig)
    webhook: str | None = None
    until_idle: bool = False  # stop once the stream is drained (tests, benchmarks, demos)
    idle_timeout: float = 0.0  # ... and has stayed empty this many seconds (a paced producer pauses)


@dataclass
class WatchSummary:
    events: int = 0
    batches: int = 0
    inserted: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    alerts: int = 0
    detections: int = 0
    matches: int = 0
    seconds: float = 0.0
    match_seconds: float = 0.0  # spent in watchlist matches
    fingerprint_checks: int = 0  # micro-batches whose new accounts were checked on their fingerprints
    fingerprint_seconds: float = 0.0
    window_pairs: int = 0  # co-action pairs the sliding window found
    window_links: int = 0  # posts it found carrying a recent API output
    detect_seconds: float = 0.0  # spent in full detection runs

    def as_dict(self) -> dict:
        return {**self.__dict__, "seconds": round(self.seconds, 3), "match_seconds": round(self.match_seconds, 3),
                "fingerprint_seconds": round(self.fingerprint_seconds, 3),
                "detect_seconds": round(self.detect_seconds, 3),
                "events_per_second": round(self.events / self.seconds) if self.seconds else None}


class Watcher:
    def __init__(self, store, source: Source, options: WatchOptions, alerts_sink: Sink | None = None,
                 on_alert: Callable[[dict], None] | None = None, on_batch: Callable[[BatchResult], None] | None = None):
        self.store, self.source, self.options = store, source, options
        self.alerts_sink, self.on_alert, self.on_batch = alerts_sink, on_alert, on_batch
        self.summary = WatchSummary()
        self.stop = threading.Event()
        ensure_live_tables(store)
        self.watermark = latest_time(store)
        self.baseline = self._baseline()
        if not recalled(store, "seeded"):
            news.seed_known_campaigns(store)
            remember(store, "seeded", "1")
        detected = recalled(store, "detected")
        self.last_detected = max(map(dt.datetime.fromisoformat, detected)) if detected else self.watermark
        self.detect_pending = False  # events stored since the last detection
        self.window_changes = 0  # new co-action pairs and post links since the last detection
        # the match and detection both add to the texts' embedding cache: one at a time
        self.engine_lock = threading.Lock()
        self.watchlisted = "watchlist" in store.backend.list_tables()
        self.matcher = Matcher(self) if self.watchlisted or options.window else None
        # accounts the fingerprint check need not look at again: known before the baseline, or
        # alerted (one entry per account seen, as the store has one row per account)
        self.settled: set[str] = {a["subject"] for a in news.list_alerts(store, "returning_actor")}

    def _baseline(self) -> dt.datetime | None:
        """The latest event time in the store when the watcher first ran on it: accounts first
        seen after it are new (a return); kept across restarts."""
        kept = recalled(self.store, "baseline")
        if kept:
            return None if kept[0] == "none" else dt.datetime.fromisoformat(kept[0])
        remember(self.store, "baseline", "none" if self.watermark is None else self.watermark.isoformat())
        return self.watermark

    # -- the loop ------------------------------------------------------------------------------------
    def run(self) -> WatchSummary:
        started = last_event = time.monotonic()
        self.deliver()
        reader = Prefetcher(self.source, self.options.batch, self.options.block_ms)
        try:
            while not self.stop.is_set():
                events, decoded = reader.next()
                if events:
                    # and the batches that came in meanwhile: one fingerprint check for them all
                    self._take([(events, decoded), *reader.ready()])
                    last_event = time.monotonic()
                    continue
                idle_for = time.monotonic() - last_event
                final = self.options.until_idle and idle_for >= self.options.idle_timeout
                self._idle(rest=final or idle_for >= IDLE_DETECT)
                if final:
                    break
        finally:
            reader.close()
            if self.matcher is not None:
                self.matcher.close()
            self.summary.seconds = time.monotonic() - started
        return self.summary

    def _take(self, batches: list[tuple[list, object]]) -> None:
        """Store micro-batches (events, decoded or None), check their new accounts, acknowledge them."""
        result = BatchResult()
        for events, decoded in batches:
            result.add(append_batch(self.store, self.source.url.text, events, decoded))
        if result.max_ts is not None and (self.watermark is None or result.max_ts > self.watermark):
            self.watermark = result.max_ts
        if self.watchlisted and self.options.fingerprints:
            self._check_fingerprints(result)
        for events, _ in batches:
            self.source.ack(events)  # only now: the batch and its alerts are in the store
        s = self.summary
        s.events += result.events
        s.batches += len(batches)
        s.quarantined += result.quarantined
        for table, n in result.inserted.items():
            s.inserted[table] = s.inserted.get(table, 0) + n
        if self.matcher is not None:
            self.matcher.submit(result.actors, self.watermark, result.rows)
        self.detect_pending = self.detect_pending or bool(sum(result.inserted.values()))
        if self.on_batch is not None:
            self.on_batch(result)
        if self._detection_due():
            self.detect()
        self._collect()

    def _check_fingerprints(self, result: BatchResult) -> None:
        """The accounts whose API calls or account records this batch brought, if they are new
        (first active after the baseline) and not yet alerted, matched on their fingerprints alone.
        (Posts alone bring no fingerprint but the clock, which the full match reads.) Before the
        batch is acknowledged: a crash redelivers it and the check finds the same alert ids."""
        actors = [a for a in result.actors if a in result.fingerprinted and a not in self.settled]
        if not actors:
            return
        started = time.monotonic()
        firsts = first_seen(self.store, actors)
        if self.baseline is not None:
            self.settled.update(a for a, first in firsts.items() if first <= self.baseline)
        new = [a for a in actors if a in firsts and a not in self.settled]
        found = news.returning_by_fingerprints(self.store, new, self.baseline, self.options.match_threshold,
                                               self.watermark, result.actors)
        fresh = news.record(self.store, found)
        news.join_known(self.store, fresh)
        self.settled.update(a["subject"] for a in fresh)
        self.summary.fingerprint_checks += 1
        self.summary.fingerprint_seconds += time.monotonic() - started
        self._raised(fresh)

    def _idle(self, rest: bool = True) -> None:
        """A read found nothing. ``rest``: the stream has been idle ``IDLE_DETECT`` seconds (or is
        drained, with ``until_idle``): detect, and wait for the match of what is stored. Short
        pauses wait for nothing (a match takes seconds; the next events would wait behind it)."""
        if rest and self.detect_pending and self.options.detect_on_idle:
            self.detect()
        if rest and self.matcher is not None:
            self.matcher.flush()  # everything stored so far is matched before the watcher rests
        self._collect()
        self.deliver()

    def _detection_due(self) -> bool:
        every = self.options.detect_every
        if not every or self.watermark is None:
            return False
        if self.last_detected is None:
            self.last_detected = self.watermark
            return False
        return (self.watermark - EPOCH) // every > (self.last_detected - EPOCH) // every

    # -- detection and alerts ------------------------------------------------------------------------
    def _collect(self) -> None:
        """Store and send the alerts of the matches that finished (they run in the matcher's thread)."""
        if self.matcher is None:
            return
        for found, seconds, update, windowed in self.matcher.finished():
            self.summary.matches += 1
            self.summary.match_seconds += seconds
            if update is not None:
                self.summary.window_pairs += update.pairs
                self.summary.window_links += update.links
                self.window_changes += update.pairs + update.links
            for alert in found:  # the stream's clock when the alert is raised
                alert["event_ts"] = self.watermark
            fresh = news.record(self.store, news.still_news(self.store, found))
            news.join_known(self.store, fresh)
            if update is not None and windowed is not None:  # only now: its alerts are stored
                _mark_window(self.store, windowed)
            self.settled.update(a["subject"] for a in fresh if a["kind"] == "returning_actor")
            self._raised(fresh)
        after = self.options.detect_after
        if after is not None and self.detect_pending and self.window_changes >= after:
            self.detect()  # enough changed since the last detection

    def detect(self) -> None:
        from chorusline.campaigns.detect import NothingToDetect
        from chorusline.live.detection import database_file, detect_open_store

        self.detect_pending = False
        self.window_changes = 0
        self.summary.detections += 1
        started = time.monotonic()
        horizon = self.options.detect_horizon
        try:
            with self.engine_lock:
                path = database_file(self.store) if self.options.detect_in_child else None
                if path is None:
                    detect_open_store(self.store, self.options.config, horizon, self.watermark)
                else:
                    self._detect_in_child(path, horizon)
        except NothingToDetect:
            return
        finally:
            self.summary.detect_seconds += time.monotonic() - started
        self._raised(news.campaign_changes(self.store, self.watermark))
        if self.watermark is not None:
            remember(self.store, "detected", self.watermark.isoformat())
            self.last_detected = self.watermark

    def _detect_in_child(self, path: str, horizon: dt.timedelta | None) -> None:
        """Detection in a child process (``live.detection``): the watcher's connections are closed
        for the run (DuckDB has one writing process) and reopened after, the matcher's included."""
        from chorusline.engine import connect
        from chorusline.live.detection import detect_in_child

        released = self.matcher.store_released() if self.matcher is not None else contextlib.nullcontext()
        with released:
            self.store.backend.disconnect()
            try:
                detect_in_child(path, self.options.config, horizon, self.watermark)
            finally:
                self.store.backend = connect(path)

    def _raised(self, fresh: list[dict]) -> None:
        self.summary.alerts += len(fresh)
        if self.on_alert is not None:
            for alert in fresh:
                self.on_alert(alert)
        if fresh:
            self.deliver()

    def deliver(self) -> None:
        """Send what the outbox holds for each sink: alerts without a delivery row for it."""
        from chorusline.live.webhook import WebhookError, post

        sinks = []
        if self.alerts_sink is not None:
            sinks.append(("stream", lambda a, body: self.alerts_sink.publish_once(a["alert_id"], body)))
        if self.options.webhook:
            sinks.append(("webhook", lambda a, body: post(self.options.webhook, a["alert_id"], body)))
        for name, send in sinks:
            t, d = self.store.table(ALERTS.name), self.store.table(DELIVERIES.name)
            waiting = t.anti_join(d.filter(d.sink == name), "alert_id").order_by(["alerted_at", "alert_id"])
            for alert in waiting.to_pyarrow().to_pylist():
                try:
                    send(alert, news.as_message(alert))
                except WebhookError:
                    break  # the receiver is down: the rest waits for the next cycle, in order
                append(self.store, DELIVERIES, [{"alert_id": alert["alert_id"], "sink": name, "delivered_at": now()}])


@contextlib.contextmanager
def stopping_on_signals(watcher: Watcher) -> Iterator[None]:
    """SIGTERM and SIGINT finish the batch in hand, then stop (the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    def stop(signum, frame):
        watcher.stop.set()

    for s in previous:
        signal.signal(s, stop)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class Matcher:
    """The sliding-window signals and the watchlist match in a thread of their own, on its own
    connection to the store, so intake goes on while they run (DuckDB lets one process's
    connections read committed data and write other tables at once). They run whenever events were
    stored since the last run, at most every ``match_every`` seconds, on the rows stored since; the
    watcher's thread records what they find. A restarted watcher matches once at its first idle
    moment (the last run may have died before it matched), and hands the window the rows stored
    after the window's last update (``WINDOW_MARK``: a crash between acknowledging a batch and
    the window's run would otherwise leave them out)."""

    def __init__(self, watcher: Watcher):
        import ibis

        from chorusline.store import Store

        self.watcher = watcher
        self.store = Store(ibis.duckdb.from_connection(watcher.store.backend.con.cursor()))
        # actor -> arrival (ms) of its earliest event not yet matched: an alert's latency is counted
        # from it (the upper bound: the event that tipped the score arrived at or after it)
        self._arrivals: dict[str, int] = {}
        self._rows: dict[str, list] = _unwindowed(self.store, watcher.baseline, watcher.watermark) \
            if watcher.options.window else {}
        self._watermark = watcher.watermark
        self._wanted = True
        self._busy = False
        self._last = time.monotonic()
        self._done: queue.Queue = queue.Queue()
        self._changed = threading.Condition()
        self._stop = False
        self._paused = False  # the watcher's connection is closed for a detection in a child process
        if watcher.watchlisted:
            _load_text_model()
        self._thread = threading.Thread(target=self._run, name="matcher", daemon=True)
        self._thread.start()

    def submit(self, arrivals: dict[str, int], watermark, rows: dict[str, list] | None = None) -> None:
        with self._changed:
            for actor, ms in arrivals.items():
                self._arrivals.setdefault(actor, ms)  # the earliest since the last match is kept
            if self.watcher.options.window:
                for table, parts in (rows or {}).items():
                    self._rows.setdefault(table, []).extend(parts)
            self._watermark = watermark
            self._wanted = self._wanted or bool(arrivals)
            self._changed.notify_all()

    def flush(self) -> None:
        """Wait until what was submitted has been matched."""
        with self._changed:
            self._last = 0.0  # no waiting for match_every
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._stop or not (self._wanted or self._busy))

    def finished(self) -> list[tuple[list[dict], float]]:
        out = []
        while True:
            try:
                item = self._done.get_nowait()
            except queue.Empty:
                return out
            if isinstance(item, Exception):
                raise item
            out.append(item)

    def _run(self) -> None:
        options = self.watcher.options
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stop or self._due(), timeout=0.2)
                if self._stop:
                    return
                if not self._due():
                    continue
                arrivals, self._arrivals = self._arrivals, {}
                rows, self._rows = self._rows, {}
                watermark, self._wanted, self._busy = self._watermark, False, True
            started = time.monotonic()
            try:
                found, update = [], None
                if options.window:
                    update = self._update_window(rows)
                    found += news.window_growth(self.store, update, watermark, arrivals,
                                                getattr(options.config, "links", None))
                    if watermark is not None:  # what the alerts read is dropped only now
                        prune(self.store, watermark)
                if self.watcher.watchlisted:
                    with self.watcher.engine_lock:
                        found += news.returning_actors(self.store, self.watcher.baseline, options.match_threshold,
                                                       watermark, arrivals)
                with self._changed:  # a match's later queries see batches stored after it began
                    for alert in found:
                        if alert["arrived_at"] is None and alert["subject"] in self._arrivals:
                            alert["arrived_at"] = news.arrival(self._arrivals[alert["subject"]])
                self._done.put((found, time.monotonic() - started, update, watermark))
            except Exception as exc:  # noqa: BLE001 - raised in the watcher's thread
                self._done.put(exc)
            with self._changed:
                self._busy, self._last = False, time.monotonic()
                self._changed.notify_all()

    def _due(self) -> bool:
        return (self._wanted and not self._paused
                and time.monotonic() - self._last >= self.watcher.options.match_every)

    @contextlib.contextmanager
    def store_released(self) -> Iterator[None]:
        """No match runs in the block and the matcher's connection is closed; after it, a new one
        from the watcher's (reopened) connection."""
        import ibis

        from chorusline.store import Store

        with self._changed:
            self._paused = True
            self._changed.wait_for(lambda: not self._busy)
        self.store.backend.con.close()
        try:
            yield
        finally:
            self.store = Store(ibis.duckdb.from_connection(self.watcher.store.backend.con.cursor()))
            with self._changed:
                self._paused = False
                self._changed.notify_all()

    def _update_window(self, rows: dict[str, list]):
        import pyarrow as pa

        def joined(table):
            parts = rows.get(table)
            return pa.concat_tables(parts, promote_options="permissive") if parts else None

        return update_window(self.store, joined("posts"), joined("llm_calls"))

    def close(self) -> None:
        with self._changed:
            self._stop = True
            self._changed.notify_all()
        self._thread.join()
        self.store.backend.con.close()
        self.watcher = None  # no cycle keeping the watcher's store open after it stopped


WINDOW_MARK = "window"  # live_state: the stream's clock at the window's last update


def _mark_window(store, watermark: dt.datetime) -> None:
    """One mark, replaced in one transaction (plain SQL: the store's staging protocol would set the
    database-wide memory limit while a detection may be running)."""
    con = store.backend.con
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM live_state WHERE name = ?", [WINDOW_MARK])
        con.execute("INSERT INTO live_state VALUES (?, ?, ?)", [WINDOW_MARK, watermark.isoformat(), now()])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _unwindowed(store, baseline: dt.datetime | None, watermark: dt.datetime | None) -> dict[str, list]:
    """The posts and API calls stored after the window's last update (less the lateness the window
    allows: an acknowledged late event may be older than the mark; the keyed tables make the overlap
    harmless), or, before its first, after the watcher's baseline (the store's history before the
    watcher is the detection's, not the window's; a store the watcher started empty is all stream).
    Never more than the window's horizon back."""
    from chorusline.live.window import WindowParams

    params = WindowParams()
    marks = recalled(store, WINDOW_MARK)
    since = dt.datetime.fromisoformat(marks[-1]) - dt.timedelta(seconds=params.lateness) if marks else baseline
    if watermark is not None:
        floor = watermark - dt.timedelta(seconds=params.horizon)
        since = floor if since is None else max(since, floor)
    out = {}
    for name in ("posts", "llm_calls"):
        t = store.table(name)
        rows = (t if since is None else t.filter(t.ts > since)).to_pyarrow()
        if rows.num_rows:
            out[name] = [rows]
    return out


def _load_text_model() -> None:
    """Load the sentence model now (cached for the process): the watchlist's paraphrase links embed
    new texts, and the first alert should not wait seconds for the model to load."""
    from chorusline.text.embed import embed_texts

    embed_texts(["warm-up"])


class Prefetcher:
    """Reads and decodes the next micro-batch in a thread while the watcher commits the current one
    (DuckDB and Arrow work without the GIL, decoding is Python: the two overlap). At most two
    batches wait. Events read here and not yet stored are not acknowledged: after a crash the broker
    delivers them again."""

    def __init__(self, source: Source, batch: int, block_ms: int):
        self.source, self.batch, self.block_ms = source, batch, block_ms
        self._ready: queue.Queue = queue.Queue(maxsize=2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                events = self.source.read(self.batch, self.block_ms)
                item = (events, decode(events) if events else None)
            except Exception as exc:  # noqa: BLE001 - handed to the watcher's thread, raised there
                item = exc
            while not self._stop.is_set():
                try:
                    self._ready.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if isinstance(item, Exception):
                return

    def next(self):
        """(events, decoded); ([], None) when the stream had nothing for block_ms."""
        item = self._ready.get()
        if isinstance(item, Exception):
            raise item
        return item

    def ready(self) -> list:
        """The batches already read and decoded, without waiting (a watcher that fell behind takes
        them together)."""
        out = []
        while True:
            try:
                item = self._ready.get_nowait()
            except queue.Empty:
                return out
            if isinstance(item, Exception):
                raise item
            if item[0]:
                out.append(item)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=max(5.0, self.block_ms / 1000 * 2))
