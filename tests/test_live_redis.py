"""The live watcher against a real Redis (started here on loopback): replay in event-time order, the
watched store equals batch ingest of the same files, returning actors of the smoke operation are
alerted once each (table, alerts stream, webhook with retries), and a `kill -9` at any point followed
by a restart stores every event once and raises no alert twice."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from live_support import RedisServer, watchlist_store
from typer.testing import CliRunner

from chorusline.cli import app

TABLES = ("accounts", "llm_calls", "posts", "news_events", "quarantine")
BAD_EVENTS = [b'{"table": "posts", "platform": "x", "post_id": "bad1", "account_id": "u", "ts": "soon"}',
              b"not json at all"]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def smoke_case(tmp_path_factory):
    """smoke, cut at its operation's return: a store of what came before with the operation's
    accounts confirmed and watchlisted, and the tables of what came after (the stream)."""
    from chorusline.api import simulate
    from chorusline.live.scenario import split_at_return

    tmp = tmp_path_factory.mktemp("smoke-live")
    simulate("smoke", tmp / "sim")
    case = split_at_return(tmp / "sim", tmp / "split")
    watchlist_store(case.before, str(tmp / "before.duckdb"), case.campaign_accounts - case.returning, case.after)
    return tmp, case


def fresh_store(smoke_case, path: Path) -> str:
    tmp, _ = smoke_case
    shutil.copy(tmp / "before.duckdb", path)
    return str(path)


def publish_stream(redis_server, smoke_case, stream: str) -> int:
    """The after-the-return tables as a stream, with two bad events in the middle."""
    from chorusline.live.broker import open_sink
    from chorusline.live.replay import replay

    _, case = smoke_case
    n = replay(case.after, redis_server.url(stream), limit=1500).events
    open_sink(redis_server.url(stream)).publish(BAD_EVENTS)
    full = replay(case.after, redis_server.url(stream + "-rest")).events
    # the rest of the events after the bad ones, in order
    rest = redis_server.client.xrange(stream + "-rest")[n:]
    pipe = redis_server.client.pipeline()
    for _, fields in rest:
        pipe.xadd(stream, fields)
    pipe.execute()
    return full + len(BAD_EVENTS)


def table_rows(db: str) -> dict[str, list]:
    import duckdb

    con = duckdb.connect(db, read_only=True)
    try:
        out = {}
        for table in TABLES:
            columns = "* EXCLUDE (ingested_at)" if table == "quarantine" else "*"
            out[table] = con.execute(f"SELECT {columns} FROM {table} ORDER BY ALL").fetchall()
        has_alerts = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'alerts'").fetchone()[0]
        out["alerts"] = con.execute("SELECT alert_id, kind, subject, campaign_id FROM alerts ORDER BY ALL").fetchall() \
            if has_alerts else []
        return out
    finally:
        con.close()


def watch_args(db: str, url: str, *extra: str) -> list[str]:
    """Small batches (many acknowledgements to interrupt); the watchlist match once at the start and
    when the stream is drained (each match costs seconds here, and the final one sees everything)."""
    return ["watch", "--db", db, "--from", url, "--until-idle", "--no-detect", "--batch", "200", "--match-every",
            "1000", *extra]


class Receiver(BaseHTTPRequestHandler):
    """A webhook that refuses its first two requests (the watcher must retry)."""

    received: list[tuple[str, dict]] = []
    refusals = 2

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Receiver.refusals > 0:
            Receiver.refusals -= 1
            self.send_response(503)
        else:
            Receiver.received.append((self.headers["Idempotency-Key"], json.loads(body)))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_replay_publishes_in_event_time_order(redis_server, smoke_case):
    _, case = smoke_case
    result = CliRunner().invoke(app, ["replay", str(case.after), "--to", redis_server.url("order"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    entries = redis_server.client.xrange("order")
    assert summary["events"] == len(entries) == sum(summary["tables"].values())
    times = [json.loads(fields[b"e"]).get("ts") or json.loads(fields[b"e"]).get("created_at") for _, fields in entries]
    assert [t for t in times if t] == sorted(t for t in times if t)


def test_replay_at_a_speed_takes_event_time_over_speed(redis_server, smoke_case, tmp_path):
    from chorusline.live.replay import replay

    _, case = smoke_case
    started = time.monotonic()
    summary = replay(case.after, redis_server.url("paced"), speed=200_000, limit=400)
    span = (summary.last - summary.first).total_seconds()
    assert span > 0 and time.monotonic() - started >= 0.9 * span / 200_000


def test_bad_urls_and_folders_fail_with_one_line(tmp_path):
    run = CliRunner().invoke
    result = run(app, ["watch", "--db", str(tmp_path / "x.duckdb"), "--from", "http://example.org/x"])
    assert result.exit_code == 2 and "expected redis://HOST:PORT/STREAM or kafka://HOST:PORT/TOPIC" in result.output
    result = run(app, ["watch", "--db", str(tmp_path / "x.duckdb"), "--from", "redis://127.0.0.1:1/s"])
    assert result.exit_code == 2 and "cannot reach Redis at 127.0.0.1:1" in result.output
    result = run(app, ["replay", str(tmp_path), "--to", "redis://127.0.0.1:1/s"])
    assert result.exit_code == 2 and "no canonical tables" in result.output
    result = run(app, ["watch", "--db", str(tmp_path / "x.duckdb"), "--from", "redis://127.0.0.1:1/s",
                       "--detect-every", "weekly"])
    assert result.exit_code == 2 and "expected a duration" in result.output


def test_watch_stores_what_batch_ingest_stores_and_alerts_returners_once(redis_server, smoke_case, tmp_path):
    from chorusline.api import load_files, open_store

    _, case = smoke_case
    total = publish_stream(redis_server, smoke_case, "after")
    db = fresh_store(smoke_case, tmp_path / "watched.duckdb")
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_port}/alerts"
    try:
        result = CliRunner().invoke(app, watch_args(db, redis_server.url("after"), "--webhook", hook, "--json"))
        assert result.exit_code == 0, result.output
        start = result.output.index("{\n")  # alerts come one JSON per line, then the summary
        printed = [json.loads(line) for line in result.output[:start].splitlines()]
        summary = json.loads(result.output[start:])
        assert summary["events"] == total and summary["quarantined"] == len(BAD_EVENTS)

        # the same files through batch ingest: the same rows
        batch_db = fresh_store(smoke_case, tmp_path / "batch.duckdb")
        store = open_store(batch_db)
        load_files(store, sorted(case.after.glob("*.parquet")))
        store.backend.disconnect()
        watched, batch = table_rows(db), table_rows(batch_db)
        for table in ("accounts", "llm_calls", "posts", "news_events"):
            assert watched[table] == batch[table], table
        stream_ids = [i.decode() for i, _ in redis_server.client.xrange("after")]
        where = [f"{redis_server.url('after')}#{stream_ids[i]}" for i in (1500, 1501)]
        quarantined = sorted((row[0], row[4].split(":")[0]) for row in watched["quarantine"])
        assert quarantined == [(where[0], "ts"), (where[1], "not JSON")]
        assert redis_server.client.xpending("after", "chorusline")["pending"] == 0

        # the operation's returning accounts are alerted, nobody else
        alerted = {row[2] for row in watched["alerts"] if row[1] == "returning_actor"}
        assert {a["subject"] for a in printed if a["kind"] == "returning_actor"} == alerted
        assert alerted and alerted <= case.returning
        assert len(alerted) >= 0.8 * len(case.returning)
        # and the accounts the sliding window tied to the campaign are the operation's
        joined = {a["evidence"]["actor"] for a in printed if a["kind"] == "campaign_grew"}
        assert joined and joined <= case.campaign_accounts and len(printed) == len(watched["alerts"])
        ids = {row[0] for row in watched["alerts"]}
        streamed = [json.loads(f[b"e"])["alert_id"] for _, f in redis_server.client.xrange("after:alerts")]
        assert sorted(streamed) == sorted(ids)
        assert sorted(k for k, _ in Receiver.received) == sorted(ids)  # after two refused attempts
        assert all(body["alert_id"] == key for key, body in Receiver.received)
        assert all(body["evidence"]["score"] >= 2.0 for _, body in Receiver.received if body["kind"] == "returning_actor")

        # run again over the same stream (a second group re-reads it all): nothing new, nothing twice
        again = CliRunner().invoke(app, watch_args(db, redis_server.url("after"), "--group", "again",
                                                   "--webhook", hook))
        assert again.exit_code == 0, again.output
        assert "ALERT" not in again.output
        assert table_rows(db) == watched
        assert len(redis_server.client.xrange("after:alerts")) == len(ids)
        assert len(Receiver.received) == len(ids)
    finally:
        server.shutdown()

    listed = CliRunner().invoke(app, ["alerts", "--db", db, "--json"])
    assert listed.exit_code == 0
    rows = json.loads(listed.output)
    assert {r["alert_id"] for r in rows} == ids
    assert all(r["evidence"]["actor"] == r["subject"] for r in rows if r["kind"] == "returning_actor")
    shown = CliRunner().invoke(app, ["alerts", "--db", db])
    assert shown.exit_code == 0 and "returning_actor" in shown.output


def _entries_read(client, stream: str) -> int:
    groups = client.xinfo_groups(stream)
    return int(groups[0].get("entries-read") or 0) if groups else 0


def test_kill_9_mid_stream_then_restart_equals_an_uninterrupted_run(redis_server, smoke_case, tmp_path):
    publish_stream(redis_server, smoke_case, "steady")
    publish_stream(redis_server, smoke_case, "killed")
    steady = fresh_store(smoke_case, tmp_path / "steady.duckdb")
    result = CliRunner().invoke(app, watch_args(steady, redis_server.url("steady")))
    assert result.exit_code == 0, result.output

    killed = fresh_store(smoke_case, tmp_path / "killed.duckdb")
    command = [str(Path(sys.executable).with_name("chorusline")), *watch_args(killed, redis_server.url("killed"))]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for kill_after in (500, 1700):  # two kills, at different points of the stream
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while _entries_read(redis_server.client, "killed") < kill_after and process.poll() is None:
            assert time.monotonic() < deadline, "the watcher made no progress"
            time.sleep(0.01)
        assert process.poll() is None, "the watcher finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr

    assert redis_server.client.xpending("killed", "chorusline")["pending"] == 0
    a, b = table_rows(steady), table_rows(killed)
    assert [len(b[t]) for t in TABLES] == [len(a[t]) for t in TABLES]
    for table in TABLES:  # a quarantined event is named by its stream and id: compare the rest
        assert [r[2:] if table == "quarantine" else r for r in b[table]] == \
            [r[2:] if table == "quarantine" else r for r in a[table]], table
    assert b["alerts"] == a["alerts"] and a["alerts"]
    streamed = [json.loads(f[b"e"])["alert_id"] for _, f in redis_server.client.xrange("killed:alerts")]
    assert len(streamed) == len(set(streamed)) == len(b["alerts"])
