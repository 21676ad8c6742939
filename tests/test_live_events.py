"""Live events: validated as the same records in a canonical JSON-lines file are, and appended to the
store idempotently (a redelivered batch adds nothing; a bad event is quarantined with its stream id)."""

from __future__ import annotations

import orjson

from chorusline.live.batches import append_batch
from chorusline.live.events import Event, decode, encode
from conftest import load, rows

SOURCE = "redis://127.0.0.1:1/events"

CALL = {"platform": "llm-api", "call_id": "c1", "account_id": "a1", "ts": "2025-01-02T03:04:05Z", "ip": "203.0.113.9",
        "model": "m", "input_tokens": 12, "output_tokens": "7", "prompt": "write", "output": "text"}
POST = {"platform": "x", "post_id": "p1", "account_id": "u1", "ts": 1735787045, "kind": "post", "text": " hi ",
        "hashtags": ["a", "b"], "urls": "https://example.org"}
ACCOUNT = {"platform": "x", "account_id": "u1", "created_at": "2024-12-01", "handle": "u", "followers": 3}
BAD = [
    b'{"table": "posts", "platform": "x", "post_id": "p2", "account_id": "u1", "ts": "yesterday"}',
    b'{"table": "llm_calls", "platform": "llm-api", "call_id": "c2", "ts": "2025-01-02T03:04:05Z"}',
    b'{"table": "llm_calls", "platform": "llm-api", "call_id": "c3", "account_id": "a", "ts": 1, "input_tokens": -4}',
    b'{"table": "posts", "platform": "x", "post_id": "p3", "account_id": "u1", "ts": 1735787045, "kind": "shout"}',
    b'{"table": "tweets", "id": 1}',
    b'[1, 2]',
    b'{"table": "posts", "post_id": ',
]


def events(payloads: list[bytes], start_ms: int = 1_700_000_000_000) -> list[Event]:
    return [Event(f"{start_ms}-{i}", start_ms * 1_000_000 + i, p, start_ms) for i, p in enumerate(payloads)]


def good_payloads() -> list[bytes]:
    return [encode("llm_calls", CALL), encode("posts", POST), encode("accounts", ACCOUNT)]


def test_events_are_validated_as_the_same_records_in_a_file_are(duck_store, tmp_path):
    payloads = good_payloads() + BAD
    batch = events(payloads)
    decoded = decode(batch)
    assert {t: v.num_rows for t, v in decoded.valid.items()} == {"llm_calls": 1, "posts": 1, "accounts": 1}
    reasons = {payloads[i]: (table, reason) for i, table, reason in decoded.rejects}
    assert len(reasons) == len(BAD)
    assert reasons[BAD[0]] == ("posts", "ts: not a valid timestamp: 'yesterday'")
    assert reasons[BAD[1]] == ("llm_calls", "missing account_id")
    assert reasons[BAD[2]][1] == "input_tokens: negative, and it is a count: '-4'"
    assert reasons[BAD[3]][1].startswith("kind: 'shout' is not one of")
    assert reasons[BAD[4]] == ("unparsed",
                               "table: 'tweets' is not one of accounts, llm_calls, posts, news_events, labels")
    assert reasons[BAD[5]] == ("unparsed", "expected a JSON object, found list")
    assert reasons[BAD[6]][1].startswith("not JSON:")

    # the same records as canonical JSON-lines files: the same rows stored, the same reasons
    for table in ("llm_calls", "posts", "accounts"):
        lines = []
        for p in payloads:
            try:
                value = orjson.loads(p)
            except orjson.JSONDecodeError:
                continue
            if isinstance(value, dict) and value.pop("table", None) == table:
                lines.append(orjson.dumps(value))
        (tmp_path / f"{table}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    load(duck_store, "canonical", *sorted(tmp_path.glob("*.jsonl")))
    file_reasons = {r["reason"] for r in rows(duck_store, "quarantine")}
    stream_reasons = {reason for _, table, reason in decoded.rejects if table != "unparsed"}
    assert stream_reasons == file_reasons
    for table in ("llm_calls", "posts", "accounts"):
        assert rows(duck_store, table) == decoded.valid[table].to_pylist()


def test_a_redelivered_batch_is_stored_once_and_bad_events_keep_their_stream_id(duck_store):
    batch = events(good_payloads() + BAD[:2])
    first = append_batch(duck_store, SOURCE, batch)
    assert first.inserted == {"llm_calls": 1, "posts": 1, "accounts": 1} and first.quarantined == 2
    assert first.actors == {"llm-api:a1": 1_700_000_000_000, "x:u1": 1_700_000_000_000}
    again = append_batch(duck_store, SOURCE, batch)  # the broker redelivers: nothing is stored twice
    assert again.inserted == {"llm_calls": 0, "posts": 0, "accounts": 0}
    for table in ("llm_calls", "posts", "accounts"):
        assert duck_store.count(table) == 1
    q = rows(duck_store, "quarantine", ["line"])
    assert len(q) == 2
    assert [r["source_file"] for r in q] == [f"{SOURCE}#1700000000000-3", f"{SOURCE}#1700000000000-4"]
    assert [r["line"] for r in q] == [1_700_000_000_000_000_003, 1_700_000_000_000_000_004]
    assert q[0]["raw"] == BAD[0].decode() and q[0]["format"] == "stream"


def test_a_key_repeated_with_other_values_is_quarantined_as_a_conflict(duck_store):
    append_batch(duck_store, SOURCE, events([encode("posts", POST)]))
    changed = encode("posts", {**POST, "text": "edited"})
    result = append_batch(duck_store, SOURCE, events([changed], start_ms=1_700_000_000_500))
    assert result.inserted == {"posts": 0} and result.quarantined == 1
    (q,) = rows(duck_store, "quarantine")
    assert q["reason"] == "key already in the store with different values"
    assert q["source_file"] == f"{SOURCE}#1700000000500-0"
    assert rows(duck_store, "posts")[0]["text"] == "hi"  # the first value stays


# -- columnar decoding ------------------------------------------------------------------------------

def typed_payloads(n: int) -> list[bytes]:
    """Events as a producer sends them (what `replay` publishes): typed JSON, times as ISO text."""
    out = []
    for i in range(n):
        if i % 3 == 0:
            out.append(encode("llm_calls", {**CALL, "call_id": f"c{i}", "account_id": f"a{i % 7}", "output_tokens": i,
                                            "prompt": f" write {i} "}))
        elif i % 3 == 1:
            out.append(encode("posts", {**POST, "post_id": f"p{i}", "ts": "2025-01-02T03:04:05.250Z",
                                        "urls": ["https://example.org", " ", None], "hashtags": [" a ", "b"]}))
        else:
            out.append(encode("accounts", {**ACCOUNT, "account_id": f"u{i}", "bio": ""}))
    return out


def by_record(monkeypatch, batch) -> object:
    """The same batch decoded event by event (the canonical JSON-lines reader's path)."""
    from chorusline.live import events as module

    with monkeypatch.context() as m:
        m.setattr(module, "_one_json_line", lambda payload: False)
        return decode(batch)


def assert_same(a, b) -> None:
    assert a.valid.keys() == b.valid.keys()
    for table in a.valid:
        assert a.valid[table].equals(b.valid[table]), table
        assert a.valid_index[table].equals(b.valid_index[table]), table
    assert a.rejects == b.rejects


def test_a_bad_event_in_a_columnar_batch_is_quarantined_and_the_rest_stored(duck_store, monkeypatch):
    payloads = typed_payloads(300)
    bad = {
        100: (b'{"table": "posts", "post_id": ', "unparsed", "not JSON:"),  # malformed JSON
        # a text where a count belongs: Arrow's reader refuses the batch; the record reader quarantines it
        101: (payloads[99].replace(b'"output_tokens":99', b'"output_tokens":"lots"'), "llm_calls",
              "output_tokens: not a valid int64: 'lots'"),
        200: (b'{"table": "posts", "platform": "x", "post_id": "n", "account_id": "u", "ts": 1, "confidence": NaN}',
              "unparsed", "not JSON:"),  # Arrow reads NaN, JSON has none
    }
    for i, (payload, _, _) in bad.items():
        payloads[i] = payload
    # valid, though not as Arrow reads it: UNIX seconds as a number, a count as text, a bare list value
    payloads[150] = encode("posts", {**POST, "post_id": "late", "ts": 1735787045, "urls": "https://example.org/x"})
    payloads[151] = encode("llm_calls", {**CALL, "call_id": "text-count", "input_tokens": "12"})
    batch = events(payloads)
    decoded = decode(batch)
    assert_same(decoded, by_record(monkeypatch, batch))
    assert [(i, table) for i, table, _ in decoded.rejects] == [(i, table) for i, (_, table, _) in sorted(bad.items())]
    for i, table, reason in decoded.rejects:
        assert reason.startswith(bad[i][2]), reason
    assert sum(t.num_rows for t in decoded.valid.values()) == 297
    posts = {r["post_id"]: r for r in decoded.valid["posts"].to_pylist()}
    assert posts["p1"]["urls"] == ["https://example.org"] and posts["p1"]["hashtags"] == ["a", "b"]
    assert posts["late"]["urls"] == ["https://example.org/x"] and posts["p1"]["text"] == "hi"
    calls = {r["call_id"]: r for r in decoded.valid["llm_calls"].to_pylist()}
    assert calls["c0"]["prompt"] == "write 0" and calls["text-count"]["input_tokens"] == 12

    result = append_batch(duck_store, SOURCE, batch, decoded)
    assert sum(result.inserted.values()) == 297 and result.quarantined == 3
    q = rows(duck_store, "quarantine", ["line"])
    assert [r["source_file"] for r in q] == [f"{SOURCE}#1700000000000-{i}" for i in sorted(bad)]
    assert [r["raw"] for r in q] == [bad[i][0].decode() for i in sorted(bad)]


def test_columnar_decoding_reads_what_the_record_reader_reads(monkeypatch):
    """Mutations a producer may send, mixed into one batch: the columnar path and the record path agree."""
    import random

    rng = random.Random(19)
    mutations = [
        lambda p: p[:-1], lambda p: b"  " + p, lambda p: b"[1]", lambda p: b"", lambda p: p + p,
        lambda p: p.replace(b'"ts":"', b'"ts":" ', 1), lambda p: p.replace(b'"ts":"2', b'"ts":"1', 1),
        lambda p: p.replace(b'"platform":', b'"platform":5,"x":', 1),
        lambda p: p.replace(b'"table":"posts"', b'"table":"tweets"', 1),
        lambda p: p.replace(b'{', b'{"table":null,', 1), lambda p: p.replace(b',', b',\n', 1),
        lambda p: p.replace(b'"text":"', b'"text":"  ', 1), lambda p: p.replace(b'"kind":"', b'"kind":"x', 1),
        lambda p: p.replace(b'"hashtags":[', b'"hashtags":[" ",null,', 1),
        lambda p: p.replace(b'"account_id":"', b'"account_id":"\xff', 1),
        lambda p: p.replace(b'"table"', b'"zz":Infinity,"table"', 1),
        lambda p: p.replace(b'"output_tokens":', b'"output_tokens":-', 1),
        lambda p: p.replace(b'"followers":3', b'"followers":3.5', 1),
        lambda p: p.replace(b'"table"', b'"table":"posts","table"', 1),
    ]
    payloads = [rng.choice(mutations)(p) if rng.random() < 0.2 else p for p in typed_payloads(600)]
    batch = events(payloads)
    decoded = decode(batch)
    assert_same(decoded, by_record(monkeypatch, batch))
    assert 30 < len(decoded.rejects) < 120 and sum(t.num_rows for t in decoded.valid.values()) > 480


def test_a_key_repeated_within_a_batch_goes_through_the_staging_protocol(duck_store):
    first, again = encode("posts", POST), encode("posts", {**POST, "text": "edited"})
    result = append_batch(duck_store, SOURCE, events(good_payloads() + [again, first]))
    assert result.inserted == {"llm_calls": 1, "posts": 1, "accounts": 1} and result.quarantined == 1
    (q,) = rows(duck_store, "quarantine")
    assert q["reason"] == "repeats the key of line 1 with different values"
    assert q["source_file"] == f"{SOURCE}#1700000000000-3"
    assert rows(duck_store, "posts")[0]["text"] == "hi"
