"""The watcher's full detection runs in a child process (``live.detection``): the watcher's own
process never runs it, its connections come back after it, and a child whose watcher is killed
dies with it, leaving the store free to reopen."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from chorusline.live.detection import database_file
from chorusline.store import Store

SRC = Path(__file__).resolve().parents[1] / "src"
TESTS = Path(__file__).resolve().parent


def python(script: str, *args: str, wait: bool = True):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(TESTS), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-c", textwrap.dedent(script), *args]
    if wait:
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_database_file_of_a_file_store_and_none_in_memory(tmp_path):
    path = tmp_path / "s.duckdb"
    assert Path(database_file(Store.open(str(path)))) == path
    assert database_file(Store.open(":memory:")) is None


def test_what_the_detection_child_raises_is_raised_in_the_watcher(tmp_path):
    from chorusline.campaigns.detect import NothingToDetect
    from chorusline.live.detection import detect_in_child

    path = tmp_path / "empty.duckdb"
    Store.open(str(path)).backend.disconnect()
    with pytest.raises(NothingToDetect):
        detect_in_child(str(path), None, None, None)


# A stream with two operations a week apart: the detection due when the clock crosses the week runs
# mid-stream, and the second operation's posts are stored, and windowed, after it.
WATCH = """
    import json, sys, time
    from chorusline.live.watcher import Watcher, WatchOptions
    from chorusline.store import Store
    from test_detect_horizon import FAST, background, operation, NEW, DAY
    from test_live_fingerprints import ListSource, iso

    class OneAtATime(ListSource):  # each batch read once the one before is acknowledged
        def read(self, count, block_ms):
            deadline = time.monotonic() + 5
            while self.acked < self.served and time.monotonic() < deadline:
                time.sleep(0.01)
            return super().read(count, block_ms)

    rows = sorted(operation("old", NEW - 8 * DAY) + operation("new", NEW) + background(), key=lambda r: r["ts"])
    events = [("posts", {**r, "platform": "x", "kind": "post", "ts": iso(r["ts"])}) for r in rows]
    options = WatchOptions(batch=200, block_ms=50, match_every=0.0, detect_on_idle=True, until_idle=True,
                           config=FAST, detect_in_child=sys.argv[2] == "child")
    store = Store.open(sys.argv[1])
    summary = Watcher(store, OneAtATime([events[i:i + 200] for i in range(0, len(events), 200)]), options).run()
    members = sorted(store.table("campaign_members").actor.to_pyarrow().to_pylist())
    print(json.dumps({"detections": summary.detections, "window_pairs": summary.window_pairs,
                      "posts": store.count("posts"), "events": summary.events, "members": members,
                      "clustered_here": "leidenalg" in sys.modules}))
"""


@pytest.mark.parametrize("where", ["child", "process"])
def test_the_watchers_detection_runs_in_a_child_and_the_watcher_goes_on_after_it(tmp_path, where):
    import json

    done = python(WATCH, str(tmp_path / "w.duckdb"), where)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["detections"] >= 2  # the weekly one mid-stream, and the one when drained
    assert out["posts"] == out["events"]  # every event stored, before and after the detections
    assert out["window_pairs"] > 0  # the matcher's window ran on its reopened connection
    assert {f"x:new{j}" for j in range(6)} <= set(out["members"])
    assert {f"x:old{j}" for j in range(6)} <= set(out["members"])
    # the clustering was imported where detection ran: never in the watcher when in a child
    assert out["clustered_here"] == (where == "process")


KILLED = """
    import sys
    from chorusline.api import load_files, open_store, simulate
    from chorusline.live.detection import detect_in_child

    simulate("smoke", sys.argv[2], seed=3)
    store = open_store(sys.argv[1], create=True)
    load_files(store, [f"{sys.argv[2]}/{t}.parquet" for t in ("accounts", "posts", "llm_calls", "news_events")])
    store.backend.disconnect()
    print("detecting", flush=True)
    detect_in_child(sys.argv[1], None, None, None)
"""


def children(pid: int) -> list[int]:
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            out.append(int(status.parent.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


def worker(pid: int) -> bool:
    """The detection process (not multiprocessing's resource tracker)."""
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes() and alive(pid)
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the child dies with its parent on Linux only")
def test_a_detection_child_dies_with_its_killed_watcher_and_the_store_reopens(tmp_path):
    db = tmp_path / "k.duckdb"
    parent = python(KILLED, str(db), str(tmp_path / "sim"), wait=False)
    assert parent.stdout.readline().strip() == "detecting", parent.stderr.read()[-3000:]
    deadline = time.monotonic() + 60
    while not any(worker(k) for k in children(parent.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(worker(k) for k in children(parent.pid)), "no detection child started"
    time.sleep(6)  # the child has imported and is detecting (smoke takes tens of seconds)
    kids = [k for k in children(parent.pid) if alive(k)]
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(timeout=30)
    deadline = time.monotonic() + 5  # SIGKILL at once; a detection left running would take tens of seconds
    while any(alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(k) for k in kids), "the detection child outlived its watcher"
    store = Store.open(str(db))  # no process holds the file
    assert store.count("posts") > 0
