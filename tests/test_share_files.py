"""Peer share files read by the engine's own CSV reader where it can, and by the Arrow path (which
reports unusable rows at their lines) where it cannot: both give the same shares."""

from __future__ import annotations

import gzip

import ibis
import pytest

from chorusline.engine import connect
from chorusline.signals import share_files
from chorusline.signals.share_files import load_share_file

CNT_HEADER = "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
CNT_ROWS = ('m1,u1,u1,o1,,"two\nlines",100,\n'
            "m2,u2,u2,,,an original post,101,\n"  # not a share: no repost id
            "m3,u3,u3,o1,,,105,\n"
            "m1,u4,u4,o2,,,90,\n"  # a repeated message id: kept here, the network keeps the first
            ",u5,u5,o2,,,95,\n")  # no message id: the toolkit's reading gives an empty one


def _rows(loaded):
    return loaded.table.order_by("rid").select("object_id", "account_id", "content_id", "ts").to_pyarrow().to_pylist()


def _both(path, fmt, monkeypatch):
    """The shares as read by the engine's path (if it takes the file) and by the Arrow path."""
    backend = connect(":memory:")
    fast = load_share_file(backend, path, fmt)
    with monkeypatch.context() as m:
        m.setattr(share_files, "_engine_csv_shares", lambda *a: None)
        slow = load_share_file(backend, path, fmt)
    return fast, slow


def test_a_clean_toolkit_file_takes_the_engine_path_with_the_same_rows_in_order(tmp_path, monkeypatch):
    path = tmp_path / "cnt.csv"
    path.write_text(CNT_HEADER + CNT_ROWS)
    fast, slow = _both(path, "cnt", monkeypatch)
    assert fast.stage is None and slow.stage is not None  # the engine read it; the Arrow path staged it
    assert _rows(fast) == _rows(slow) == [
        {"object_id": "o1", "account_id": "u1", "content_id": "m1", "ts": 100},
        {"object_id": "o1", "account_id": "u3", "content_id": "m3", "ts": 105},
        {"object_id": "o2", "account_id": "u4", "content_id": "m1", "ts": 90},
        {"object_id": "o2", "account_id": "u5", "content_id": "", "ts": 95}]
    assert fast.rejected == slow.rejected == []


@pytest.mark.parametrize("bad_time", ["12.0", " 12", "1e3", "+12", "2021-06-16T22:04:51Z"])
def test_times_that_are_not_plain_digits_go_to_the_arrow_path(tmp_path, monkeypatch, bad_time):
    """DuckDB would read ' 12' or '1e3' as numbers where Arrow does not: such files are left to the
    Arrow path, so both readings agree (an ISO time is parsed there; the others are reported)."""
    path = tmp_path / "cnt.csv"
    path.write_text(CNT_HEADER + CNT_ROWS + f"m9,u9,u9,o1,,,{bad_time},\n")
    fast, slow = _both(path, "cnt", monkeypatch)
    assert fast.stage is not None
    assert _rows(fast) == _rows(slow) and fast.rejected == slow.rejected


def test_a_broken_row_is_reported_at_its_line(tmp_path, monkeypatch):
    path = tmp_path / "cnt.csv"
    path.write_text(CNT_HEADER + CNT_ROWS + "m9,u9,u9\n" + "m10,u10,u10,o1,,,107,\n")
    fast, slow = _both(path, "cnt", monkeypatch)
    assert fast.stage is not None and _rows(fast) == _rows(slow)
    assert [line for line, _ in fast.rejected] == [8]  # header, five rows over six lines, then the broken one


def test_coortweet_rows_without_an_object_are_reported_not_skipped(tmp_path, monkeypatch):
    path = tmp_path / "shares.csv"
    path.write_text("account_id,object_id,timestamp_share,content_id\n"  # columns by name, any order
                    "a,o,100,c1\nb,,101,c2\nc,o,102,c3\n")
    fast, slow = _both(path, "coortweet", monkeypatch)
    assert fast.stage is not None and _rows(fast) == _rows(slow)
    assert [line for line, _ in fast.rejected] == [3]
    clean = tmp_path / "clean.csv"
    clean.write_text("account_id,object_id,timestamp_share,content_id\na,o,100,c1\nc,o,102,c3\n")
    fast, slow = _both(clean, "coortweet", monkeypatch)
    assert fast.stage is None and _rows(fast) == _rows(slow)


def test_compressed_files_and_url_lists_take_the_arrow_path(tmp_path, monkeypatch):
    path = tmp_path / "cnt.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(CNT_HEADER + CNT_ROWS)
    fast, slow = _both(path, "cnt", monkeypatch)
    assert fast.stage is not None and _rows(fast) == _rows(slow)
    plain = tmp_path / "cnt.csv"
    plain.write_text(CNT_HEADER + CNT_ROWS)
    assert load_share_file(connect(":memory:"), plain, "cnt", "url").stage is not None


def test_the_engine_path_is_duckdb_only(tmp_path):
    path = tmp_path / "cnt.csv"
    path.write_text(CNT_HEADER + CNT_ROWS)

    class Other:
        name = "pyspark"

    assert share_files._engine_csv_shares(Other(), path, "cnt", "repost") is None
    assert isinstance(load_share_file(connect(":memory:"), path, "cnt").table, ibis.Table)


def test_windows_line_ends_and_a_byte_order_mark_read_alike(tmp_path, monkeypatch):
    path = tmp_path / "shares.csv"
    text = "object_id,account_id,content_id,timestamp_share\no,a,c1,100\no,b,c2,101\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    fast, slow = _both(path, "coortweet", monkeypatch)
    assert fast.stage is None  # the engine reads it
    assert _rows(fast) == _rows(slow) == [{"object_id": "o", "account_id": "a", "content_id": "c1", "ts": 100},
                                          {"object_id": "o", "account_id": "b", "content_id": "c2", "ts": 101}]
