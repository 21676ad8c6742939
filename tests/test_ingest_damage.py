"""Each failure issue 14 reported, as a user met it, and what happens now: the bad record (or the
damaged rest of a stream) is quarantined with its line and reason, everything else loads, and the
files after it still load."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from chorusline.ingest import readers
from conftest import load, quarantine, rows

HEAD = "platform,post_id,account_id,ts,kind,text\n"


def posts_csv(n: int, start: int = 0) -> str:
    return "".join(f"x,{i},a{i % 7},2025-01-01T00:00:{i % 60:02d}Z,post,hello {i}\n" for i in range(start, start + n))


def reasons(store):
    return [(q["line"], q["table_name"], q["reason"]) for q in quarantine(store)]


# --- compressed streams ---------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [gzip.compress, zstandard.ZstdCompressor().compress], ids=["gzip", "zstd"])
def test_a_truncated_stream_loads_what_precedes_the_damage(compress, duck_store, tmp_path):
    body = (HEAD + posts_csv(20_000)).encode()
    packed = compress(body)
    path = tmp_path / "posts.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])
    report = load(duck_store, "canonical", path)
    f = report.files[0]
    assert f.error is None and report.exit_code == 0
    loaded = f.inserted["posts"]
    assert 1_000 < loaded < 20_000
    # every record before the damage loads, none after it, and no half record
    ids = sorted(int(r["post_id"]) for r in rows(duck_store, "posts"))
    assert ids == list(range(loaded))
    [(line, table, reason)] = reasons(duck_store)
    assert line == loaded + 2 and table == "posts"  # the header is line 1
    assert "data damaged" in reason and "the rest of the file cannot be read" in reason


def test_a_corrupt_gzip_then_a_good_file_from_the_command_line(tmp_path):
    packed = bytearray(gzip.compress((HEAD + posts_csv(5_000)).encode()))
    packed[len(packed) // 2:] = b"\x00" * (len(packed) - len(packed) // 2)  # the second half overwritten
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "posts.csv.gz").write_bytes(bytes(packed))
    (tmp_path / "posts.csv").write_text(HEAD + "x,good,a,2025-01-01,post,fine\n")
    db = tmp_path / "s.duckdb"
    cli = Path(sys.executable).with_name("chorusline")
    run = subprocess.run([cli, "ingest", "--db", db, tmp_path / "bad" / "posts.csv.gz", tmp_path / "posts.csv"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr and "Aborted" not in run.stdout + run.stderr
    shown = subprocess.run([cli, "quarantine", "--db", db, "--limit", "1000"], capture_output=True, text=True,
                           timeout=120).stdout
    assert "gzip data damaged" in shown
    status = subprocess.run([cli, "status", "--db", db], capture_output=True, text=True, timeout=120)
    assert status.returncode == 0
    from chorusline.store import Store

    store = Store.open(str(db))
    ids = {r["post_id"] for r in rows(store, "posts")}
    assert "good" in ids and "0" in ids  # the good file, and the readable part of the bad one


# --- bytes that are not UTF-8 -------------------------------------------------------------------


@pytest.mark.parametrize("broken_row", [False, True], ids=["arrow", "exact-reader"])
def test_one_invalid_utf8_byte_costs_one_csv_record(broken_row, duck_store, tmp_path):
    body = (HEAD + posts_csv(3)).encode() + b"x,bad,a,2025-01-01,post,caf\xe9\n" + posts_csv(3, 10).encode()
    if broken_row:  # a wrong field count sends the file to the exact reader: same outcome there
        body += b"x,short\n"
    path = tmp_path / "posts.csv"
    path.write_bytes(body)
    report = load(duck_store, "canonical", path)
    assert report.files[0].inserted["posts"] == 6
    found = reasons(duck_store)
    assert (5, "posts", readers.NOT_UTF8) in found
    assert [q["raw"] for q in quarantine(duck_store) if q["line"] == 5] == ["x,bad,a,2025-01-01,post,caf\ufffd"]
    assert len(found) == (2 if broken_row else 1)


def test_invalid_utf8_in_an_x_archive_tweet(duck_store, tmp_path):
    path = tmp_path / "tweets.csv"
    path.write_bytes(b"tweetid,userid,tweet_time,tweet_text\n5,u1,2020-01-15 09:03,ok\n6,u1,2020-01-15 09:03,\xff\xfe\n"
                     b"7,u2,2020-01-15 09:04,fine\n")
    report = load(duck_store, "x-archive", path)
    assert report.files[0].inserted["posts"] == 2
    assert reasons(duck_store) == [(3, "unparsed", readers.NOT_UTF8)]


def test_telegram_invalid_utf8_in_message_2_of_1000(duck_store, tmp_path):
    messages = [{"id": i, "type": "message", "date_unixtime": str(1736931791 + i), "from": "A", "from_id": "user1",
                 "text": "BAD" if i == 2 else f"m{i}"} for i in range(1, 1001)]
    body = json.dumps({"name": "c", "type": "public_channel", "id": 7, "messages": messages}).encode()
    path = tmp_path / "result.json"
    path.write_bytes(body.replace(b"BAD", b"b\xc3d"))
    report = load(duck_store, "telegram", path)
    assert report.files[0].inserted["posts"] == 999
    assert reasons(duck_store) == [(2, "unparsed", readers.NOT_UTF8)]  # a message maps to posts and accounts


def test_a_truncated_telegram_full_export_loads_its_complete_messages(duck_store, tmp_path):
    chats = [{"id": c, "name": f"chat{c}", "type": "public_channel",
              "messages": [{"id": i, "type": "message", "date_unixtime": "1736931791", "from_id": "user1", "text": "t"}
                           for i in range(1, 51)]} for c in (1, 2)]
    body = json.dumps({"chats": {"about": "x", "list": chats}})
    path = tmp_path / "result.json"
    path.write_text(body[: int(len(body) * 0.75)])
    report = load(duck_store, "telegram", path)
    assert report.files[0].error is None
    posts = {r["post_id"] for r in rows(duck_store, "posts")}
    assert {f"1/{i}" for i in range(1, 51)} <= posts and "2/1" in posts
    [(_, _, reason)] = reasons(duck_store)
    assert reason.startswith("invalid JSON after item")


# --- numbers and times ------------------------------------------------------------------------


def test_integers_beyond_int64_are_quarantined_on_every_path(duck_store, tmp_path):
    big = "99999999999999999999"
    calls = tmp_path / "llm_calls.csv"
    calls.write_text("platform,call_id,account_id,ts,input_tokens\np,c1,a,2025-01-01,5\n"
                     f"p,c2,a,2025-01-01,{big}\np,c3,a,2025-01-01,-3\np,c4,a,2025-01-01,+7\n")
    litellm = tmp_path / "l.csv"
    litellm.write_text(f"request_id,user,startTime,prompt_tokens\nr1,u,2025-01-01T00:00:00Z,3\nr2,u,2025-01-01T00:00:00Z,{big}\n")
    record = {"schemaType": "ModelInvocationLog", "timestamp": "2025-01-15T09:02:47Z", "accountId": "1",
              "identity": {"arn": "arn:aws:iam::1:user/w"}, "requestId": "b1", "modelId": "m", "operation": "Converse"}
    bedrock = tmp_path / "b.jsonl"
    bedrock.write_text(json.dumps(record) + "\n"
                       + json.dumps({**record, "requestId": "b2", "input": {"inputTokenCount": 10**20}}) + "\n")
    assert load(duck_store, "canonical", calls).files[0].inserted["llm_calls"] == 2  # c1, and +7 is 7
    assert load(duck_store, "litellm", litellm).files[0].inserted["llm_calls"] == 1
    assert load(duck_store, "bedrock", bedrock).files[0].inserted["llm_calls"] == 1
    found = reasons(duck_store)
    assert (3, "llm_calls", f"input_tokens: not a valid int64: '{big}'") in found
    assert (4, "llm_calls", "input_tokens: negative, and it is a count: '-3'") in found
    assert any(line == 3 and "prompt_tokens" not in r and "input_tokens: not a valid int64" in r for line, _, r in found)
    assert any(line == 2 and "input_tokens: not a valid int64: '100000000000000000000'" in r for line, _, r in found)
    assert {r["input_tokens"] for r in rows(duck_store, "llm_calls")} == {5, 7, 3, None}


def test_parquet_counts_and_times_out_of_range_are_quarantined(duck_store, tmp_path):
    n = 7
    table = pa.table({
        "platform": ["p"] * n,
        "call_id": [f"c{i}" for i in range(n)],
        "account_id": ["a"] * n,
        "ts": pa.array([1_736_931_791_000_000] * 5 + [-5_000_000, 3_000_000_000_000_000_000], pa.timestamp("us", tz="UTC")),
        "input_tokens": pa.array([1.0, float("inf"), 1e30, -2.0, float("nan"), 3.0, 3.0]),
    })
    path = tmp_path / "llm_calls.parquet"
    pq.write_table(table, path)
    report = load(duck_store, "canonical", path)
    assert report.files[0].inserted["llm_calls"] == 1
    found = {line: reason for line, _, reason in reasons(duck_store)}
    assert found[2].startswith("input_tokens: not a valid int64: 'inf'")
    assert found[3].startswith("input_tokens: not a valid int64: '1e+30'")
    assert found[4] == "input_tokens: negative, and it is a count: '-2'"
    assert found[5].startswith("input_tokens: not a valid int64")
    assert found[6].startswith("ts: outside the accepted time window (1970-01-01 to ")
    assert found[7].startswith("ts: outside the accepted time window") and "31500-" in found[7]
    assert {s.table: s.rows for s in duck_store.status()}["llm_calls"] == 1  # status reads the store


def test_negative_and_far_epochs_are_quarantined_and_nanoseconds_accepted(duck_store, tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text(HEAD + "x,1,a,-5,post,t\nx,2,a,2025-01-15T09:02:47.123456789Z,post,t\n"
                    "x,3,a,2025-01-15 09:02:47.1234567+02:00,post,t\nx,4,a,99999999999,post,t\n")
    report = load(duck_store, "canonical", path)
    assert report.files[0].inserted["posts"] == 2
    times = {r["post_id"]: r["ts"] for r in rows(duck_store, "posts")}
    assert times == {"2": datetime(2025, 1, 15, 9, 2, 47, 123456, tzinfo=UTC),
                     "3": datetime(2025, 1, 15, 7, 2, 47, 123456, tzinfo=UTC)}
    assert [(line, "outside the accepted time window" in r) for line, _, r in reasons(duck_store)] == [(2, True), (5, True)]


def test_malformed_canonical_rows_are_labelled_with_the_files_table(duck_store, tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text(HEAD + "x,1,a,2025-01-01,post,t\nx,2\n")
    load(duck_store, "canonical", path)
    assert reasons(duck_store) == [(3, "posts", "expected 6 fields, found 2")]


# --- long records ----------------------------------------------------------------------------------


def test_a_record_longer_than_a_block_and_a_field_past_the_limit(duck_store, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 1 << 14)
    monkeypatch.setattr(readers, "MAX_FIELD_CHARS", 1 << 15)
    long_text = "y" * 20_000  # over the block: Arrow cannot read it, the exact reader can
    huge_text = "z" * 40_000  # over the field limit: that record alone is quarantined
    path = tmp_path / "posts.csv"
    path.write_text(HEAD + posts_csv(2) + f"x,long,a,2025-01-01,post,{long_text}\n"
                    + f'x,huge,a,2025-01-01,post,"{huge_text}\nstill the same field"\n' + posts_csv(2, 10))
    report = load(duck_store, "canonical", path)
    assert report.files[0].error is None
    texts = {r["post_id"]: r["text"] for r in rows(duck_store, "posts")}
    assert set(texts) == {"0", "1", "long", "10", "11"} and texts["long"] == long_text
    assert reasons(duck_store) == [(5, "posts", "a field longer than 32,768 characters")]


# --- Parquet damage -----------------------------------------------------------------------------


def test_a_damaged_parquet_row_group_costs_only_its_rows(duck_store, tmp_path):
    table = pa.table({"platform": ["x"] * 300, "post_id": [str(i) for i in range(300)], "account_id": ["a"] * 300,
                      "ts": ["2025-01-01"] * 300, "text": [f"text number {i} " * 20 for i in range(300)]})
    path = tmp_path / "posts.parquet"
    pq.write_table(table, path, row_group_size=100, compression="snappy", use_dictionary=False)
    start = pq.ParquetFile(path).metadata.row_group(1).column(4).data_page_offset
    body = bytearray(path.read_bytes())
    body[start + 10: start + 60] = b"\xff" * 50  # the second group's text page header
    path.write_bytes(bytes(body))
    report = load(duck_store, "canonical", path)
    f = report.files[0]
    assert f.error is None
    ids = {int(r["post_id"]) for r in rows(duck_store, "posts")}
    assert set(range(100)) <= ids and set(range(200, 300)) <= ids
    damage = [(line, r) for line, _, r in reasons(duck_store) if "damaged Parquet data" in r]
    assert damage and all(101 <= line <= 200 and "to 200:" in r for line, r in damage)


def test_strings_that_are_not_utf8_in_parquet(duck_store, tmp_path):
    text = pa.array([b"ok", b"\xff\xfe", b"fine"], pa.binary()).cast(pa.string(), safe=False)
    table = pa.table({"platform": ["x"] * 3, "post_id": ["1", "2", "3"], "account_id": ["a"] * 3,
                      "ts": ["2025-01-01"] * 3, "text": text})
    path = tmp_path / "posts.parquet"
    pq.write_table(table, path)
    assert load(duck_store, "canonical", path).files[0].inserted["posts"] == 2
    assert reasons(duck_store) == [(2, "posts", readers.NOT_UTF8)]


# --- staging ------------------------------------------------------------------------------------


_KILLED = """
import os, signal, sys
from chorusline.schema import POSTS
from chorusline.store import Store
stage = Store(None, staging_dir=sys.argv[1]).stage(POSTS)
stage._path  # the folder exists from here on
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_ingests_staging_is_removed_at_the_next_start(tmp_path):
    from chorusline import store as store_module

    subprocess.run([sys.executable, "-c", _KILLED, str(tmp_path)], capture_output=True, text=True, timeout=60)
    [left] = list(tmp_path.glob(f"{store_module.STAGE_PREFIX}*"))
    assert left.name.split("-")[2].isdigit()  # named after its process
    live = store_module.Store(None, staging_dir=str(tmp_path)).stage(store_module.ALL_TABLES["posts"])
    live._path  # a stage of this (living) process in the same folder
    assert not left.exists()  # the Store above swept the dead one
    assert store_module.remove_abandoned_stages(str(tmp_path)) == []  # once per process and folder
    store_module._swept.discard(tmp_path)
    assert store_module.remove_abandoned_stages(str(tmp_path)) == [] and live._folder.exists()
    live.discard()
    assert not list(tmp_path.glob(f"{store_module.STAGE_PREFIX}*"))


def test_sigterm_during_ingest_leaves_no_staging(tmp_path):
    big = tmp_path / "posts.csv"
    big.write_text(HEAD + posts_csv(400_000))
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    cli = Path(sys.executable).with_name("chorusline")
    proc = subprocess.Popen([cli, "ingest", "--db", tmp_path / "s.duckdb", big], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob("chorusline-stage-*")):
        time.sleep(0.05)
    assert list(tmp_path.glob("chorusline-stage-*")), "the ingest never staged"
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert not list(tmp_path.glob("chorusline-stage-*"))


# --- the memory setting -------------------------------------------------------------------------


def test_the_memory_setting_gives_duckdb_what_the_process_does_not_hold(monkeypatch):
    from chorusline import engine

    assert engine.parse_size("500MB") == 500 * 10**6 and engine.parse_size("1.5GiB") == 3 * 2**29
    with pytest.raises(engine.EngineError):
        engine.parse_size("lots")
    monkeypatch.setenv(engine.MEMORY_LIMIT_VARIABLE, "2GB")
    backend = engine.connect(":memory:")
    given = engine.configured_memory(backend)
    assert engine.ENGINE_MEMORY_FLOOR <= given < 2 * 10**9
    assert 2 * 10**9 - given == pytest.approx(engine.resident_bytes(), rel=0.5)
