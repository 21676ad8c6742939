"""Vectorised validation: timestamps, lists, numbers and the reasons rows are rejected for."""

from datetime import UTC, datetime

import pyarrow as pa

from chorusline.ingest.conform import conform, parse_string_lists, parse_timestamps
from chorusline.schema import LLM_CALLS, POSTS


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_timestamps_in_every_form_sources_use():
    given = pa.array([
        "2025-01-15T09:02:47Z", "2025-01-15 09:02:47", "2025-01-15T11:02:47.123+02:00", "2020-01-15 09:03",
        "2025-01-15", "1736931767", "1736931767.5", "Wed Aug 27 13:08:45 +0000 2008", "2025-01-15 09:02:47 UTC",
        "2025-01-15T09:02:47+0000",
    ])
    got = parse_timestamps(given).to_pylist()
    assert got == [
        utc(2025, 1, 15, 9, 2, 47), utc(2025, 1, 15, 9, 2, 47), utc(2025, 1, 15, 9, 2, 47, 123000),
        utc(2020, 1, 15, 9, 3), utc(2025, 1, 15), utc(2025, 1, 15, 9, 2, 47), utc(2025, 1, 15, 9, 2, 47, 500000),
        utc(2008, 8, 27, 13, 8, 45), utc(2025, 1, 15, 9, 2, 47), utc(2025, 1, 15, 9, 2, 47),
    ]


def test_bad_timestamps_become_null_not_errors():
    got = parse_timestamps(pa.array(["yesterday", "2025-13-01T00:00:00Z", "", None, "99999999999999999"]))
    assert got.to_pylist() == [None] * 5


def test_numeric_and_typed_timestamps():
    assert parse_timestamps(pa.array([0, 1700000000])).to_pylist() == [utc(1970, 1, 1), utc(2023, 11, 14, 22, 13, 20)]
    naive = pa.array([datetime(2025, 1, 1, 12)], pa.timestamp("ms"))
    assert parse_timestamps(naive).to_pylist() == [utc(2025, 1, 1, 12)]


def test_list_cells_in_every_syntax():
    cells = pa.array(['["a","b, c"]', "['x', 'y']", "[a, b]", "[]", "solo", None, ""])
    assert parse_string_lists(cells).to_pylist() == [["a", "b, c"], ["x", "y"], ["a", "b"], [], ["solo"], None, None]
    assert parse_string_lists(pa.array(["u1 u2  u3"]), r"\s+").to_pylist() == [["u1", "u2", "u3"]]


def test_conform_rejects_with_the_first_reason_and_keeps_good_rows():
    table = pa.table({
        "post_id": ["1", "2", None, "4", "5"],
        "account_id": ["a", "b", "c", "d", None],
        "ts": ["2025-01-01", "nope", "2025-01-01", "1700000000", "2025-01-01"],
        "kind": ["post", "post", "reply", "shout", None],
    })
    result = conform(POSTS, table, pa.array([2, 3, 4, 5, 6]), defaults={"platform": "x"})
    assert [r["post_id"] for r in result.valid.to_pylist()] == ["1"]
    assert result.valid_lines.to_pylist() == [2]
    reasons = dict(zip(result.rejects.column("line").to_pylist(), result.rejects.column("reason").to_pylist()))
    assert reasons == {
        3: "ts: not a valid timestamp: 'nope'",
        4: "missing post_id",
        5: "kind: 'shout' is not one of post, repost, reply, quote, like, follow",
        6: "missing account_id",
    }
    assert '"ts": "nope"' in result.rejects.column("raw")[0].as_py()


def test_conform_checks_integers_and_fills_defaults():
    table = pa.table({"call_id": ["c1", "c2", "c3"], "account_id": ["k", "k", "k"],
                      "ts": ["2025-01-01"] * 3, "input_tokens": ["12", "12.0", "twelve"], "platform": [None, "p", ""]})
    result = conform(LLM_CALLS, table, pa.array([1, 2, 3]), defaults={"platform": "api"})
    assert result.valid.column("input_tokens").to_pylist() == [12, 12]
    assert result.valid.column("platform").to_pylist() == ["api", "p"]
    assert result.rejects.column("reason").to_pylist() == ["input_tokens: not a valid int64: 'twelve'"]


def test_integers_are_never_wrapped():
    from chorusline.ingest.conform import _to_int

    text = pa.array(["+5", "007", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                     "-9223372036854775809", "99999999999999999999", "12.0", "1e3"])
    assert _to_int(text).to_pylist() == [5, 7, 2**63 - 1, None, -2**63, None, None, 12, None]
    floats = pa.array([1e30, float("inf"), float("nan"), 3.0, 2.5, -1e19])
    assert _to_int(floats).to_pylist() == [None, None, None, 3, None, None]
    assert _to_int(pa.array([2**64 - 1, 5], pa.uint64())).to_pylist() == [None, 5]


def test_up_to_nine_fractional_digits_and_typed_times_of_any_unit():
    got = parse_timestamps(pa.array(["2025-01-15T09:02:47.123456789Z", "2025-01-15 09:02:47.1234567 UTC"]))
    assert got.to_pylist() == [utc(2025, 1, 15, 9, 2, 47, 123456)] * 2
    nanos = pa.array([1_736_931_767_123_456_789], pa.timestamp("ns"))
    assert parse_timestamps(nanos).to_pylist() == [utc(2025, 1, 15, 9, 2, 47, 123456)]
    seconds = pa.array([2**62, 1_736_931_767], pa.timestamp("s"))  # the first overflows microseconds
    assert parse_timestamps(seconds).to_pylist() == [None, utc(2025, 1, 15, 9, 2, 47)]


def test_times_outside_the_window_and_counts_below_zero_are_rejected():
    table = pa.table({"call_id": ["c1", "c2", "c3", "c4"], "account_id": ["k"] * 4,
                      "ts": ["2025-01-01", "1969-12-31T23:59:59Z", "2200-01-01", "2025-01-01"],
                      "input_tokens": ["1", "1", "1", "-1"]})
    result = conform(LLM_CALLS, table, pa.array([1, 2, 3, 4]), defaults={"platform": "api"})
    assert result.valid.column("call_id").to_pylist() == ["c1"]
    reasons = result.rejects.column("reason").to_pylist()
    assert reasons[0].startswith("ts: outside the accepted time window (1970-01-01 to ")
    assert reasons[1].startswith("ts: outside the accepted time window") and reasons[1].endswith("'2200-01-01'")
    assert reasons[2] == "input_tokens: negative, and it is a count: '-1'"
