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


def test_utf8_split_across_chunks_is_not_damage(tmp_path):
    from chorusline.ingest import readers

    # a two-, three- and four-byte character straddling every chunk boundary of the checked stream
    text = ("é€😀" * 200_000 + "\n").encode()
    for offset in range(4):
        path = tmp_path / f"t{offset}.txt"
        path.write_bytes(b"x" * offset + text)
        with readers.open_binary(path) as fh:
            assert fh.read() == b"x" * offset + text
            assert not fh.raw.marked


def test_bytes_that_are_not_utf8_are_marked_where_they_are(tmp_path):
    from chorusline.ingest import readers

    path = tmp_path / "t.txt"
    path.write_bytes(b"a" * ((1 << 20) - 1) + b"\xc3" + b"\n\xff ok\n")  # a lead byte cut off by the chunk end
    with readers.open_binary(path) as fh:
        data = fh.read().decode()
        assert fh.raw.marked
    assert data.endswith(readers.MARK + "\n" + readers.MARK + " ok\n")


def test_a_truncated_zstd_frame_is_damage(tmp_path):
    import pytest

    from chorusline.ingest import readers

    packed = zstandard.ZstdCompressor().compress(b"".join(b"line %d\n" % i for i in range(100_000)))
    path = tmp_path / "x.zst"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(readers.FormatError, match="zstd data damaged"):  # outside collecting_damage
        with readers.open_binary(path) as fh:
            fh.read()
    with readers.collecting_damage() as damage, readers.open_binary(path) as fh:
        lines = fh.read().splitlines()
    assert lines == [b"line %d" % i for i in range(len(lines))]  # whole lines only
    [found] = damage
    assert found.line == len(lines) + 1 and "ended inside a frame" in found.reason


def test_two_zstd_frames_read_as_one_stream(tmp_path):
    from chorusline.ingest import readers

    compress = zstandard.ZstdCompressor().compress
    path = tmp_path / "x.zst"
    path.write_bytes(compress(b"a,b\n1,2\n") + compress(b"3,4\n"))
    with readers.open_binary(path) as fh:
        assert fh.read() == b"a,b\n1,2\n3,4\n"


def test_each_file_is_a_progress_stage_that_advances_through_its_bytes(tmp_path, duck_store):
    from chorusline.ingest import IngestOptions, adapter_for, ingest_files
    from chorusline.progress import reporting

    class Recorder:
        def __init__(self):
            self.events = []

        def start(self, name, total):
            self.events.append(("start", name, total))

        def advance(self, name, n):
            self.events.append(("advance", name, n))

        def finish(self, name, seconds):
            self.events.append(("finish", name, None))

    csv_path = tmp_path / "posts.csv"
    csv_path.write_text("platform,post_id,account_id,ts\n" + "".join(f"x,{i},a,2025-01-01\n" for i in range(50_000)))
    gz_path = tmp_path / "more_posts.csv.gz"
    gz_path.write_bytes(gzip.compress(csv_path.read_bytes()))
    recorder = Recorder()
    with reporting(recorder):
        ingest_files(duck_store, adapter_for("canonical"), [csv_path, gz_path], IngestOptions(table="posts"))
    for path in (csv_path, gz_path):
        name = f"ingest {path.name}"
        mine = [e for e in recorder.events if e[1] == name]
        assert mine[0] == ("start", name, path.stat().st_size) and mine[-1] == ("finish", name, None)
        assert sum(n for kind, _, n in mine if kind == "advance") == path.stat().st_size
