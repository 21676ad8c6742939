"""Every adapter on real (or documented-field) samples, on DuckDB and on Spark."""

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from conftest import EXAMPLES, SHARED, load, needs_shared, quarantine, rows

FORMATS = EXAMPLES / "formats"


def by_id(store, table, key):
    return {r[key]: r for r in rows(store, table)}


def test_canonical_csv_all_tables(any_store):
    report = load(any_store, "canonical", *sorted((EXAMPLES / "canonical").glob("*.csv")))
    assert report.exit_code == 0
    assert {t: c["inserted"] for t, c in report.totals().items()} == {
        "accounts": 3, "posts": 3, "llm_calls": 1, "news_events": 1, "labels": 2}
    posts = by_id(any_store, "posts", "post_id")
    assert posts["p1"]["urls"] == ["https://news.example.org/story"] and posts["p1"]["hashtags"] == ["vote"]
    assert posts["p2"]["kind"] == "repost" and posts["p2"]["target_post_id"] == "p1"
    assert posts["p3"]["ts"].replace(tzinfo=UTC) == datetime(2025, 3, 4, 10, 5, tzinfo=UTC)
    call = rows(any_store, "llm_calls")[0]
    assert call["prompt"].startswith("system: You are Dale") and "\nuser: " in call["prompt"]
    assert call["input_tokens"] == 28


def test_canonical_parquet_and_json_lines_give_the_same_rows(duck_store, tmp_path):
    posts = pacsv.read_csv(EXAMPLES / "canonical" / "posts.csv", convert_options=pacsv.ConvertOptions(
        column_types={c: pa.string() for c in ("post_id", "ts", "urls", "hashtags", "mentions", "media_hashes")}))
    pq.write_table(posts, tmp_path / "posts.parquet")
    lines = []
    import json
    for r in posts.to_pylist():
        r = {k: (json.loads(v) if k in ("urls", "hashtags", "mentions", "media_hashes") and v else v) for k, v in r.items()}
        lines.append(json.dumps(r))
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "posts.jsonl").write_text("\n".join(lines) + "\n")
    load(duck_store, "canonical", tmp_path / "posts.parquet")
    first = rows(duck_store, "posts", ["post_id"])
    report = load(duck_store, "canonical", tmp_path / "more" / "posts.jsonl")
    assert report.totals()["posts"] == {"valid": 3, "inserted": 0, "quarantined": 0}
    assert first == rows(duck_store, "posts", ["post_id"])


@needs_shared
def test_coortweet_russian_data(any_store):
    report = load(any_store, "coortweet", SHARED / "peers" / "russian_coord_tweets.parquet")
    counts = report.totals()["posts"]
    # 35,125 rows; 40 content ids repeat: 1 identical row (idempotent), 39 with another object (conflicts)
    assert counts == {"valid": 35125, "inserted": 35085, "quarantined": 39}
    assert {q["reason"][:20] for q in quarantine(any_store)} == {"repeats the key of l"}
    post = rows(any_store, "posts")[0]
    assert post["platform"] == "coortweet" and post["kind"] == "repost" and post["target_post_id"]


@needs_shared
def test_coortweet_csv_and_parquet_agree(duck_store):
    load(duck_store, "coortweet", SHARED / "peers" / "russian_coord_tweets.csv")
    report = load(duck_store, "coortweet", SHARED / "peers" / "russian_coord_tweets.parquet")
    assert report.totals()["posts"]["inserted"] == 0
    q = quarantine(duck_store)
    csv_lines = sorted(r["line"] for r in q if r["source_file"].endswith(".csv"))
    parquet_rows = sorted(r["line"] for r in q if r["source_file"].endswith(".parquet"))
    assert len(csv_lines) == 39 and [n - 1 for n in csv_lines] == parquet_rows  # CSV line = row + header
    load(duck_store, "coortweet", SHARED / "peers" / "russian_coord_tweets.csv")
    assert duck_store.count("quarantine") == 78  # re-ingesting quarantines nothing twice


def test_coortweet_object_types(duck_store, tmp_path):
    path = tmp_path / "shares.csv"
    path.write_text("object_id,account_id,content_id,timestamp_share\nhttps://e.org/a,acc1,c1,1700000000\n")
    load(duck_store, "coortweet", path, object_type="url")
    post = rows(duck_store, "posts")[0]
    assert post["urls"] == ["https://e.org/a"] and post["kind"] == "post" and post["target_post_id"] is None


@needs_shared
def test_cnt_samples_with_bom_and_list_literals(any_store):
    load(any_store, "cnt", SHARED / "formats" / "coordination_network_toolkit" / "sample_data.csv")
    posts = by_id(any_store, "posts", "post_id")
    assert len(posts) == 100
    assert posts["2"]["urls"] == ["http://example.com/4", "http://example.com/6"]
    assert posts["2"]["kind"] == "repost" and posts["2"]["target_post_id"] == "1"
    assert posts["1"]["ts"].timestamp() == pytest.approx(1606451170.518101, abs=1e-6)
    report = load(any_store, "cnt", SHARED / "formats" / "coordination_network_toolkit" / "coretweet_test_input.csv",
                  platform="cnt-test")
    assert report.totals()["posts"]["valid"] == 15  # the BOM did not eat the first column


def test_x_archive_tweets_and_users(any_store):
    load(any_store, "x-archive", FORMATS / "x_archive_tweets.csv", FORMATS / "x_archive_users.csv")
    posts = by_id(any_store, "posts", "post_id")
    rt = posts["1217371705832374273"]
    assert rt["kind"] == "repost" and rt["target_post_id"] == "1217366064493494277"
    assert rt["target_account_id"] == "25073877" and rt["mentions"] == ["25073877"]
    # exact time from the snowflake id ((id >> 22) + 1288834974657 ms), not the minute in tweet_time
    snowflake_ms = (1217371705832374273 >> 22) + 1288834974657
    assert rt["ts"].replace(tzinfo=UTC) == datetime.fromtimestamp(snowflake_ms / 1000, UTC)
    assert '"tweet_time":"2020-01-15 09:03"' in rt["attrs"]
    two = posts["1217372000000000001"]
    assert two["text"] == "Two lines\nof text #one #two" and two["hashtags"] == ["one", "two"]
    assert two["urls"] == ["https://a.example.org/x", "https://b.example.org/y"] and two["client"] == "vavilonX"
    assert posts["1217372000000000002"]["kind"] == "quote"
    accounts = by_id(any_store, "accounts", "account_id")
    hashed = accounts["3f7c1e0a9b2d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6"]
    assert '"id_is_hashed":"true"' in hashed["attrs"] and hashed["claimed_location"] == "Columbus, OH"
    assert accounts["48111"]["followers"] == 15000 and len(accounts) == 3


@needs_shared
def test_x_v2_page_with_includes(any_store):
    report = load(any_store, "x-v2", SHARED / "formats" / "twitter_api_v2" / "two_tweets.jsonl")
    assert report.totals()["posts"]["inserted"] == 2 and report.totals()["accounts"]["inserted"] == 2
    posts = by_id(any_store, "posts", "post_id")
    rt = posts["1394735776701816833"]
    assert rt["kind"] == "repost" and rt["target_post_id"] == "1391677057810288641"
    assert rt["target_account_id"] == "1380086327023169540"  # the retweeted author, from includes.tweets
    assert rt["hashtags"] == ["POIUYTREWQ"] and rt["client"] == "Twitter for Android"
    assert rt["ts"].replace(tzinfo=UTC) == datetime(2021, 5, 18, 19, 24, 56, tzinfo=UTC)


@needs_shared
def test_bluesky_jetstream_golden_events(any_store):
    report = load(any_store, "bluesky-jetstream", SHARED / "formats" / "bluesky_jetstream" / "golden_v1.jsonl")
    f = report.files[0]
    assert sum(f.skipped.values()) == 4 and f.quarantined == {}
    kinds = sorted(r["kind"] for r in rows(any_store, "posts"))
    assert kinds == ["follow", "like", "reply", "repost"]
    reply = [r for r in rows(any_store, "posts") if r["kind"] == "reply"][0]
    assert reply["ts"].replace(tzinfo=UTC) == datetime.fromtimestamp(1779719009157119 / 1e6, UTC)
    assert '"createdAt": "2026-05-25T14:23:28.757Z"' in reply["attrs"]
    assert reply["target_account_id"] == "did:plc:j76trmiofvaxxpvx2vnb2vwf"


@needs_shared
def test_bluesky_jetstream_corpus(duck_store):
    report = load(duck_store, "bluesky-jetstream", SHARED / "formats" / "bluesky_jetstream" / "expected_v1.jsonl")
    from collections import Counter

    counts = Counter(r["kind"] for r in rows(duck_store, "posts"))
    # The corpus README: 105 likes, 17 posts, 15 reposts, 6 follows (+ deletes, a block, status, identity, account)
    assert (counts["like"], counts["repost"], counts["follow"]) == (105, 15, 6)
    assert counts["post"] + counts["reply"] + counts["quote"] == 17
    assert report.files[0].quarantined == {}
    assert report.files[0].skipped["delete (app.bsky.graph.follow)"] == 3


def test_telegram_single_chat_and_full_export(any_store):
    report = load(any_store, "telegram", FORMATS / "telegram_chat.json", FORMATS / "telegram_full_export.json")
    assert report.files[0].skipped == {"service message": 1}
    posts = by_id(any_store, "posts", "post_id")
    assert set(posts) == {"1234567890/811", "1234567890/812", "1234567890/813", "4400001/1", "4400001/2", "999/1"}
    fwd = posts["1234567890/811"]
    assert fwd["kind"] == "repost" and fwd["urls"] == ["https://news.example.org/story"] and fwd["hashtags"] == ["vote"]
    assert fwd["text"] == "Policy passes after late vote https://news.example.org/story #vote"
    reply = posts["1234567890/812"]
    assert reply["target_post_id"] == "1234567890/811" and reply["client"] == "@autopostbot"
    assert reply["ts"].replace(tzinfo=UTC) == datetime.fromtimestamp(1741082740, UTC)
    assert posts["999/1"]["urls"] == ["https://example.org/a"]


def test_otel_genai_spans_events_and_flattened_attributes(any_store):
    report = load(any_store, "otel-genai", FORMATS / "otel_genai_spans.jsonl")
    assert report.files[0].skipped == {"span without GenAI attributes": 1}
    calls = by_id(any_store, "llm_calls", "call_id")
    span = calls["4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7"]  # hex ids, lower-cased, never base64
    assert span["platform"] == "openai" and span["account_id"] == "acct_8812" and span["ip"] == "203.0.113.45"
    assert span["prompt"] == "system: You are Jane, a mom from Ohio.\nuser: Write a short reply supporting the policy."
    assert span["output"] == "assistant: Honestly, the new policy is working."
    assert span["input_tokens"] == 412 and span["model"] == "gpt-4o-mini-2024-07-18"
    assert span["client_fingerprint"] == "opentelemetry.instrumentation.openai_v2 2.1b0"
    flat = calls["5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174"]
    assert flat["platform"] == "anthropic" and flat["prompt"] == "user: Write as a US veteran about the bill."
    assert flat["status"] == "error" and flat["input_tokens"] == 30 and flat["account_id"] == "comment-writer"
    event = calls["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:bbbbbbbbbbbbbbbb"]
    assert event["account_id"] == "acct_9001" and event["prompt"] == "user: Summarise the news."


@needs_shared
def test_otel_official_examples_are_read_and_skipped(duck_store):
    report = load(duck_store, "otel-genai", *sorted((SHARED / "formats" / "otlp").glob("*.json")))
    assert [f.error for f in report.files] == [None, None, None]
    assert sum(sum(f.skipped.values()) for f in report.files) == 3 and duck_store.count("llm_calls") == 0


def test_bedrock_invocation_logs(any_store):
    load(any_store, "bedrock", FORMATS / "bedrock_invocations.jsonl")
    calls = by_id(any_store, "llm_calls", "call_id")
    converse = calls["7d1e3b90-2f4a-4c55-8e0b-9a61c3d2e001"]
    assert converse["account_id"] == "arn:aws:sts::444455556666:assumed-role/copy-desk/w-11"
    assert converse["prompt"] == ("system: You are Dale, a retired teacher in Ohio.\n"
                                  "user: Write two sentences about the school board vote.")
    assert converse["output"] == "The board finally listened to parents." and converse["ip"] is None
    native = calls["7d1e3b90-2f4a-4c55-8e0b-9a61c3d2e002"]
    assert native["prompt"].startswith("system: You are Maria") and native["output"].startswith("Finally")
    assert calls["7d1e3b90-2f4a-4c55-8e0b-9a61c3d2e003"]["status"] == "ThrottlingException"
    assert {r["org_id"] for r in rows(any_store, "accounts")} == {"444455556666"}


def test_litellm_spend_logs_csv_and_payload_json(any_store):
    load(any_store, "litellm", FORMATS / "litellm_spend_logs.csv", FORMATS / "litellm_payloads.json")
    calls = by_id(any_store, "llm_calls", "call_id")
    a1 = calls["chatcmpl-a1"]
    assert a1["account_id"] == "persona-0031" and a1["ip"] == "198.51.100.17"
    assert a1["user_agent"] == "OpenAI/Python 1.54.3" and a1["output"] == "Our kids deserve better."
    assert a1["prompt"] == "system: You are a retired US teacher.\nuser: Comment on the vote."
    a2 = calls["chatcmpl-a2"]
    assert a2["account_id"] == "u-ops-1" and a2["prompt"] is None and a2["session_id"] == "sess-9"  # "{}" = not stored
    b1 = calls["chatcmpl-b1"]
    assert b1["api_key_id"] == "aa11bb22" and b1["ts"].replace(tzinfo=UTC) == datetime.fromtimestamp(1741054801.25, UTC)
