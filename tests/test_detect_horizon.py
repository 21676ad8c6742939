"""A detection horizon (``store.HorizonStore``, ``api.detect(horizon=…)``, the watcher's
``detect_horizon``): detection reads only the last stretch of event time, so an operation that
ended before it is not among the campaign members, and is when the horizon reaches it."""

import datetime as dt
import random

import pytest

from chorusline.campaigns.detect import DetectConfig
from chorusline.signals.semantic import SemanticParams
from conftest import add_posts, add_rows

T0 = 1_700_000_000
DAY = 86_400
OLD, NEW = T0, T0 + 40 * DAY  # the two operations: 40 days apart
# no embeddings: the test is about what detection reads, not the text model
FAST = DetectConfig(semantic=SemanticParams(enabled=False))


def operation(name: str, start: int) -> list[dict]:
    """Six accounts posting the same link and hashtag within seconds, twelve times over six days."""
    return [{"post_id": f"{name}-{k}-{j}", "account_id": f"{name}{j}",
             "ts": start + k * 3 * 3600 + (k % 3) * 2 * DAY + j * 7, "urls": [f"https://{name}{k}.example/story"],
             "hashtags": [f"{name}tag{k}"], "text": f"read this now {name} {k}"} for k in range(12) for j in range(6)]


def background() -> list[dict]:
    rng = random.Random(7)
    return [{"post_id": f"bg-{i}", "account_id": f"user{i % 40}", "ts": T0 + rng.randrange(50 * DAY),
             "urls": [f"https://news{rng.randrange(400)}.example/a{i}"], "text": f"my thoughts {i}"} for i in range(400)]


def members(store) -> set[str]:
    return set(store.table("campaign_members").actor.to_pyarrow().to_pylist())


OLD_OP = {f"x:old{j}" for j in range(6)}
NEW_OP = {f"x:new{j}" for j in range(6)}


def test_the_view_cuts_the_event_tables_and_writes_to_the_store(any_store):
    from chorusline.schema import ACCOUNTS, NEWS_EVENTS
    from chorusline.store import HorizonStore

    add_posts(any_store, [{"post_id": "p-old", "account_id": "a", "ts": T0},
                           {"post_id": "p-new", "account_id": "b", "ts": T0 + 30 * DAY}])
    add_rows(any_store, ACCOUNTS, [{"account_id": a, "created_at": T0 - DAY} for a in ("a", "b")]
             + [{"account_id": "c", "created_at": T0 + 29 * DAY}], "x")  # c: created in the horizon, silent
    add_rows(any_store, NEWS_EVENTS, [{"event_id": "e1", "ts": T0}, {"event_id": "e2", "ts": T0 + 29 * DAY}], "x")
    view = HorizonStore.last(any_store, dt.timedelta(days=14))
    assert view.since == dt.datetime.fromtimestamp(T0 + 16 * DAY, dt.UTC)  # the latest post less 14 days
    assert view.table("posts").post_id.to_pyarrow().to_pylist() == ["p-new"]
    assert sorted(view.table("accounts").account_id.to_pyarrow().to_pylist()) == ["b", "c"]
    assert view.table("news_events").event_id.to_pyarrow().to_pylist() == ["e2"]
    assert view.count("posts") == 1 and any_store.count("posts") == 2
    # writes (staged loads, created tables) land in the real store
    add_posts(view, [{"post_id": "p-added", "account_id": "a", "ts": T0}])
    assert any_store.count("posts") == 3 and view.count("posts") == 1
    # a horizon longer than the store keeps everything
    assert HorizonStore.last(any_store, dt.timedelta(days=60)).count("posts") == 3


def test_a_horizon_leaves_out_an_operation_that_ended_before_it(tmp_path):
    from typer.testing import CliRunner

    from chorusline.api import detect
    from chorusline.cli import app
    from chorusline.store import Store

    db = str(tmp_path / "h.duckdb")
    store = Store.open(db)
    add_posts(store, operation("old", OLD) + operation("new", NEW) + background())
    detect(store, FAST)
    assert OLD_OP | NEW_OP <= members(store)
    # the horizon reaching back to the old operation finds it too
    detect(store, FAST, horizon=dt.timedelta(days=60))
    assert OLD_OP | NEW_OP <= members(store)
    store.backend.disconnect()
    (tmp_path / "fast.toml").write_text("[semantic]\nenabled = false\n")
    result = CliRunner().invoke(app, ["detect", "--db", db, "--horizon", "14d", "--config", str(tmp_path / "fast.toml"),
                                      "--signals-out", str(tmp_path / "signals"), "--json"])
    assert result.exit_code == 0, result.output
    store = Store.open(db)
    found = members(store)
    assert NEW_OP <= found and not OLD_OP & found


@pytest.mark.parametrize("horizon", [dt.timedelta(days=14), None])
def test_the_watchers_detection_reads_its_horizon_back_from_the_streams_clock(tmp_path, horizon):
    from chorusline.live.watcher import Watcher, WatchOptions
    from chorusline.store import Store
    from test_live_fingerprints import ListSource, iso

    def stream():
        rows = sorted(operation("old", OLD) + operation("new", NEW) + background(), key=lambda r: r["ts"])
        events = [("posts", {**r, "platform": "x", "kind": "post", "ts": iso(r["ts"])}) for r in rows]
        return [events[i:i + 500] for i in range(0, len(events), 500)]

    store = Store.open(str(tmp_path / "w.duckdb"))
    # one detection, when the stream is drained: its clock is the new operation's last post
    options = WatchOptions(batch=500, block_ms=50, match_every=0.0, detect_every=None, detect_on_idle=True,
                           window=False, until_idle=True, config=FAST, detect_horizon=horizon)
    summary = Watcher(store, ListSource(stream()), options).run()
    assert summary.detections == 1
    found = members(store)
    assert NEW_OP <= found
    assert bool(OLD_OP & found) == (horizon is None)
