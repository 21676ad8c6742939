"""Deliberately broken input for every adapter: each bad record lands in quarantine with its line
and reason, the good ones load, an empty file is recorded, and a file of another format fails fast
with one line naming the first offending line."""

import json
from dataclasses import dataclass, field

import pytest

from conftest import load, quarantine

BOM = "\ufeff"


@dataclass
class Case:
    fmt: str
    name: str  # file name (canonical takes the table from it)
    body: str
    loaded: dict = field(default_factory=dict)  # table -> rows that must load
    bad: list = field(default_factory=list)  # (line, reason fragment) that must be quarantined
    error: str | None = None  # a format error naming the first offending line

    @property
    def id(self):
        return f"{self.fmt}:{self.name}"


def jl(*records):
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


POSTS_HEAD = "platform,post_id,account_id,ts,kind,text\n"
TWEET = {"id": "11", "author_id": "u1", "created_at": "2025-01-01T00:00:00.000Z", "text": "hi"}
EVENT = {"did": "did:plc:aa", "time_us": 1736931791513000, "kind": "commit",
         "commit": {"rev": "r", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "k1",
                    "record": {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2025-01-01T00:00:00Z"}}}
BEDROCK = {"schemaType": "ModelInvocationLog", "timestamp": "2025-01-15T09:02:47Z", "accountId": "1",
           "identity": {"arn": "arn:aws:iam::1:user/w"}, "requestId": "r1", "modelId": "m", "operation": "Converse"}


def span(span_id="00f067aa0ba902b7", start="1736931600000000000", **extra):
    attrs = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
             {"key": "user.id", "value": {"stringValue": "acct"}}]
    return {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {"name": "s"}, "spans": [
        {"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": span_id, "startTimeUnixNano": start,
         "attributes": attrs, **extra}]}]}]}


def telegram(*messages):
    return json.dumps({"name": "c", "type": "public_channel", "id": 7, "messages": list(messages)})


def msg(i, **extra):
    return {"id": i, "type": "message", "date_unixtime": "1736931791", "from": "A", "from_id": "user1", "text": "t",
            **extra}


LITELLM_HEAD = "request_id,user,startTime,prompt_tokens,completion_tokens,model\n"

CASES = [
    # canonical
    Case("canonical", "posts.csv", POSTS_HEAD + "x,1,a,2025-01-01,post,ok\nx,2,a,notatime,post,t\nx,,a,2025-01-01,post,t\n"
         "x,4,a,2025-01-01,shout,t\n", {"posts": 1},
         [(3, "ts: not a valid timestamp: 'notatime'"), (4, "missing post_id"), (5, "kind: 'shout' is not one of")]),
    Case("canonical", "posts.csv", BOM + POSTS_HEAD + "x,1,a,2025-01-01,post,ok\n", {"posts": 1}),
    Case("canonical", "posts.csv", POSTS_HEAD + 'x,1,a,2025-01-01,post,ok\nx,2,a,2025-01-01\nx,3,a,2025-01-01,post,"a\nb"\n',
         {"posts": 2}, [(3, "expected 6 fields, found 4")]),
    Case("canonical", "llm_calls.csv", "platform,call_id,account_id,ts,input_tokens\napi,c1,k,2025-01-01,12\n"
         "api,c2,k,2025-01-01,lots\n", {"llm_calls": 1}, [(3, "input_tokens: not a valid int64: 'lots'")]),
    Case("canonical", "accounts.jsonl", jl({"platform": "x", "account_id": "a", "followers": 3},
         {"platform": "x", "account_id": "b", "followers": "many"}, '{"platform": "x", "account_'),
         {"accounts": 1}, [(2, "followers: not a valid int64: 'many'"), (3, "invalid JSON")]),
    Case("canonical", "posts.csv", "", bad=[(0, "empty file")]),
    Case("canonical", "posts.csv", "a,b,c\n1,2,3\n", error="line 1: not canonical posts: header lacks platform, post_id"),
    Case("canonical", "unknown.csv", POSTS_HEAD, error="cannot tell which table"),
    # coortweet
    Case("coortweet", "s.csv", "object_id,account_id,content_id,timestamp_share\no,a,c1,1700000000\no,a,c2,soon\n"
         "o,,c3,1700000000\n", {"posts": 1}, [(3, "ts: not a valid timestamp: 'soon'"), (4, "missing account_id")]),
    Case("coortweet", "s.csv", BOM + "object_id,account_id,content_id,timestamp_share\no,a,c1,1700000000\n", {"posts": 1}),
    Case("coortweet", "s.csv", "", bad=[(0, "empty file")]),
    Case("coortweet", "s.csv", "tweet,user\n1,2\n", error="line 1: not coortweet: header lacks object_id"),
    # cnt
    Case("cnt", "c.csv", "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
         "1,u,n,,,hi,1606451170.5,\n,u,n,,,hi,1606451171,\n3,u,n,,,hi,later,\n4,u,n\n", {"posts": 1, "accounts": 1},
         [(3, "missing post_id"), (4, "ts: not a valid timestamp: 'later'"), (5, "expected 8 fields, found 3")]),
    Case("cnt", "c.csv", "a,b\n1,2\n", error="line 1: not cnt: expected at least 7 columns"),
    # x-archive
    Case("x-archive", "t.csv", "tweetid,userid,tweet_time,follower_count\n5,u1,2020-01-15 09:03,10\n6,u1,yesterday,10\n"
         "7,,2020-01-15 09:03,10\n8,u2,2020-01-15 09:03,lots\n", {"posts": 2, "accounts": 1},
         [(3, "ts: not a valid timestamp: 'yesterday'"), (4, "missing account_id"), (4, "missing account_id"),
          (5, "followers: not a valid int64: 'lots'")]),
    Case("x-archive", "t.csv", "id,text\n1,2\n", error="line 1: not x-archive: header lacks userid"),
    # x-v2
    Case("x-v2", "p.jsonl", jl({"data": [TWEET, {**TWEET, "id": "12", "created_at": "noon"}, {**TWEET, "id": None},
                                         "oops"]}, '{"data": [{"id": "13"'),
         {"posts": 1}, [(1, "tweet 12: created_at: not a valid timestamp"), (1, "missing id"),
                        (1, "tweet is str, not an object"), (2, "invalid JSON")]),
    Case("x-v2", "p.jsonl", BOM + jl(TWEET), {"posts": 1}),
    Case("x-v2", "p.jsonl", jl({"foo": 1}, {"bar": 2}), error="line 1: not x-v2: neither a v2 response page"),
    Case("x-v2", "p.jsonl", "", bad=[(0, "empty file")]),
    # bluesky
    Case("bluesky-jetstream", "j.jsonl", jl(EVENT, {**EVENT, "did": None}, {**EVENT, "time_us": "abc"},
                                            {**EVENT, "commit": "x"}, '{"did": "did:plc:aa", "ti'),
         {"posts": 1}, [(2, "missing did"), (3, "time_us: not a valid UNIX time in us"),
                        (4, "commit: expected a JSON object"), (5, "invalid JSON")]),
    Case("bluesky-jetstream", "j.jsonl", jl(["a"], [1]), error="line 1: not bluesky-jetstream: event: expected a JSON object"),
    # telegram
    Case("telegram", "r.json", telegram(msg(1), msg(2, date_unixtime="soon"), {**msg(3), "date_unixtime": None}, "str"),
         {"posts": 1, "accounts": 1}, [(2, "date_unixtime: not a valid UNIX time"), (3, "missing date_unixtime"),
                        (4, "message: expected a JSON object")]),
    Case("telegram", "r.json", telegram(msg(1), msg(2))[:-40], {"posts": 1, "accounts": 1}, [(2, "invalid JSON after item 1")]),
    Case("telegram", "r.json", json.dumps({"foo": 1}), error="not a Telegram export: no top-level 'messages' or 'chats'"),
    # otel
    Case("otel-genai", "o.jsonl", jl(span(), span(span_id="APBnqguaArc="), span(span_id="00f067aa0ba902b9", start="abc"),
                                     '{"resourceSpans": [{"resource"'),
         {"llm_calls": 1}, [(2, "spanId: not a hex id"), (3, "startTimeUnixNano: not a valid UNIX time"), (4, "invalid JSON")]),
    Case("otel-genai", "o.jsonl", jl({"a": 1}), error="line 1: not otel-genai: no resourceSpans or resourceLogs"),
    # bedrock
    Case("bedrock", "b.jsonl", jl(BEDROCK, {**BEDROCK, "requestId": None}, {**BEDROCK, "requestId": "r3", "timestamp": "x"},
                                  {**BEDROCK, "requestId": "r4", "input": {"inputTokenCount": "many"}},
                                  {**BEDROCK, "schemaType": "CloudTrail"}),
         {"llm_calls": 1, "accounts": 1}, [(2, "missing requestId"), (3, "timestamp: not a valid timestamp"),
                            (4, "input.inputTokenCount: not an integer"), (5, "not 'ModelInvocationLog'")]),
    Case("bedrock", "b.jsonl", jl({"eventSource": "bedrock.amazonaws.com"}), error="line 1: not bedrock: schemaType"),
    # litellm
    Case("litellm", "l.csv", LITELLM_HEAD + "r1,u,2025-01-01T00:00:00Z,3,4,m\nr2,u,bad,3,4,m\n,u,2025-01-01T00:00:00Z,3,4,m\n"
         "r4,u,2025-01-01T00:00:00Z,x,4,m\nr5,u\n", {"llm_calls": 1, "accounts": 1},
         [(3, "startTime: not a valid timestamp"), (4, "missing request_id"), (5, "prompt_tokens: not an integer"),
          (6, "expected 6 fields, found 2")]),
    Case("litellm", "l.json", '[{"request_id": "r1", "user": "u", "startTime": "2025-01-01T00:00:00Z"}, {"request_id": "r2"',
         {"llm_calls": 1, "accounts": 1}, [(2, "invalid JSON after item 1")]),
    Case("litellm", "l.csv", "a,b\n1,2\n2,3\n", error="line 2: not litellm: missing request_id"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_input(case, duck_store, tmp_path):
    path = tmp_path / case.name
    path.write_text(case.body, encoding="utf-8")
    report = load(duck_store, case.fmt, path)
    f = report.files[0]
    if case.error:
        assert f.error is not None and case.error in f.error, f.error
        assert "\n" not in f.error and str(path) in f.error
        assert report.exit_code == 2 and duck_store.count("quarantine") == 0
        return
    assert f.error is None, f.error
    assert {t: n for t, n in f.inserted.items() if n} == case.loaded
    found = [(q["line"], q["reason"]) for q in quarantine(duck_store)]
    for line, fragment in case.bad:
        assert any(ln == line and fragment in reason for ln, reason in found), (line, fragment, found)
    assert len(found) == len(case.bad), found
    for q in quarantine(duck_store):
        assert q["source_file"] == str(path.resolve()) and q["format"] == case.fmt
    assert report.exit_code == (0 if case.loaded else 2)


@pytest.mark.parametrize("fmt,body", [
    ("otel-genai", '{"resourceSpans": true}\n' + json.dumps(span()) + "\n"),
    ("x-v2", '{"data": [{"id": "1", "author_id": "a", "created_at": "2025-01-01T00:00:00Z", "entities": {"urls": 5}}]}\n'
     + json.dumps({"data": [TWEET]}) + "\n"),
    ("bluesky-jetstream", json.dumps({**EVENT, "commit": {**EVENT["commit"], "record": {**EVENT["commit"]["record"],
                                                                                      "facets": [7]}}}) + "\n"
     + json.dumps(EVENT) + "\n"),
])
def test_misplaced_scalars_quarantine_one_record(fmt, body, duck_store, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(body)
    report = load(duck_store, fmt, path)
    assert report.files[0].error is None and report.exit_code == 0
    assert [q["line"] for q in quarantine(duck_store)] == [1]
