"""Agreement with batch: smoke streamed through Redis into an empty store, then `enrich` and `detect`
on the watched store, finds the same campaigns with the same members as batch ingest of the same
files (conftest's smoke_run)."""

from __future__ import annotations

import json

import pytest
from live_support import RedisServer
from typer.testing import CliRunner

from chorusline.cli import app


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def _campaigns(db: str) -> tuple[list[dict], list[tuple]]:
    from chorusline.api import list_campaigns, open_store

    store = open_store(db)
    try:
        members = store.table("campaign_members").select("campaign_id", "actor", "flagged").order_by(
            ["campaign_id", "actor"]).to_pyarrow().to_pylist()
        # scores to 9 digits: a float sum's last bits follow the rows' order, which a stream changes
        campaigns = [{k: round(v, 9) if isinstance(v, float) else v for k, v in c.items()}
                     for c in list_campaigns(store)]
        return campaigns, [tuple(m.values()) for m in members]
    finally:
        store.backend.disconnect()


def test_detect_on_the_watched_store_finds_what_batch_finds(smoke_run, redis_server, tmp_path):
    folder, batch_db, _ = smoke_run
    run = CliRunner().invoke
    url = redis_server.url("smoke")
    assert run(app, ["replay", str(folder / "sim"), "--to", url]).exit_code == 0
    db = str(tmp_path / "watched.duckdb")
    watched = run(app, ["watch", "--db", db, "--from", url, "--until-idle", "--no-detect", "--json"])
    assert watched.exit_code == 0, watched.output
    assert json.loads(watched.output)["quarantined"] == 0
    assert run(app, ["enrich", "--db", db]).exit_code == 0
    detected = run(app, ["detect", "--db", db, "--signals-out", str(tmp_path / "signals")])
    assert detected.exit_code == 0, detected.output

    campaigns, members = _campaigns(db)
    batch_campaigns, batch_members = _campaigns(batch_db)
    assert any(c["above_threshold"] for c in campaigns)
    assert campaigns == batch_campaigns
    assert members == batch_members
