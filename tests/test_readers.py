"""Bounded readers: exact line numbers, compression, byte-order marks, broken JSON."""

import gzip

import zstandard

from chorusline.ingest.readers import RESTART, csv_batches, json_lines, read_header


def _collect(path):
    out, restarted = [], False
    for batch in csv_batches(path):
        if batch is RESTART:
            out, restarted = [], True
            continue
        out.append(batch)
    return out, restarted


def test_csv_line_numbers_count_quoted_newlines(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('a,b\n1,"x\ny\nz"\n2,3\n"4",5\n')
    batches, restarted = _collect(path)
    assert not restarted
    assert batches[0].lines.to_pylist() == [2, 5, 6]
    assert batches[0].table.column("b").to_pylist() == ["x\ny\nz", "3", "5"]


def test_broken_csv_rows_are_located_exactly(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b'\xef\xbb\xbfa,b,c\n1,2,3\n4,5\n"x\ny",7,8\n9,10,11,12\n13,14,15\n')
    batches, restarted = _collect(path)
    assert restarted  # Arrow's fast reader cannot locate bad rows; the exact reader took over
    assert read_header(path) == ["a", "b", "c"]
    assert batches[0].lines.to_pylist() == [2, 4, 7]
    assert [(line, reason) for line, reason, _ in batches[0].rejects] == [
        (3, "expected 3 fields, found 2"), (6, "expected 3 fields, found 4")]


def test_gzip_and_zstd_are_read_transparently(tmp_path):
    body = b"a,b\n1,2\n3,4\n"
    (tmp_path / "x.csv.gz").write_bytes(gzip.compress(body))
    (tmp_path / "x.csv.zst").write_bytes(zstandard.ZstdCompressor().compress(body))
    for name in ("x.csv.gz", "x.csv.zst"):
        batches, _ = _collect(tmp_path / name)
        assert batches[0].table.column("a").to_pylist() == ["1", "3"]


def test_json_lines_report_bad_lines_and_skip_blank_ones(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n{"a": \n[1,2]\n')
    records = list(json_lines(path))
    assert [(r.line, r.error is None) for r in records] == [(1, True), (3, False), (4, True)]
    assert records[0].value == {"a": 1}
    assert records[1].error.startswith("invalid JSON")
