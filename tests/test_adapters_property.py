"""Property: no input makes an adapter fail with anything but the documented FormatError (reported
in the file report as a one-line error). Bad records are quarantined; nothing raises."""

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chorusline.ingest import ADAPTERS, IngestOptions, adapter_for, ingest_file
from chorusline.store import Store

HEADERS = {
    "canonical": "platform,post_id,account_id,ts,kind,text,urls",
    "coortweet": "object_id,account_id,content_id,timestamp_share",
    "cnt": "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls",
    "x-archive": "tweetid,userid,user_screen_name,tweet_time,is_retweet,hashtags,urls,follower_count",
    "litellm": "request_id,user,startTime,prompt_tokens,messages,metadata",
}
NAMES = {"canonical": "posts.csv", "telegram": "result.json"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "did", "data", "kind", "commit", "messages", "text", "time_us", "ts", "spanId",
                         "resourceSpans", "schemaType", "request_id", "startTime", "author_id", "created_at",
                         "record", "scopeSpans", "spans", "identity", "date_unixtime"]) | st.text(max_size=6),
        inner, max_size=5),
    max_leaves=12,
)
json_lines = st.lists(json_values.map(json.dumps), max_size=6).flatmap(
    lambda lines: st.integers(0, 40).map(lambda cut: "\n".join(lines)[: max(0, len("\n".join(lines)) - cut)]))
csv_cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=10) | st.sampled_from(
    ["", "2025-01-01", "1700000000", "[a, b]", "['x']", '"q', "true", "-1", "1e400", "\ufeff"])
raw_text = st.text(max_size=200)


def csv_bodies(fmt):
    header = HEADERS.get(fmt, "a,b,c")
    width = header.count(",") + 1
    row = st.lists(csv_cells, min_size=0, max_size=width + 2).map(lambda cells: ",".join(cells))
    return st.lists(row, max_size=6).map(lambda rows: "\n".join([header, *rows]) + "\n")


@pytest.fixture(scope="module")
def store():
    return Store.open(":memory:")


@pytest.mark.parametrize("fmt", sorted(ADAPTERS))
@settings(max_examples=int(os.environ.get("CHORUSLINE_FUZZ_EXAMPLES", 25)), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_input_raises(fmt, store, data):
    body = data.draw(st.one_of(raw_text, json_lines, csv_bodies(fmt), st.binary(max_size=64).map(
        lambda b: b.decode("latin-1"))), label="body")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / NAMES.get(fmt, "input.dat")
        path.write_text(body, encoding="utf-8", errors="surrogatepass")
        report = ingest_file(store, adapter_for(fmt), path, IngestOptions())
    if report.error is not None:
        assert isinstance(report.error, str) and "\n" not in report.error
