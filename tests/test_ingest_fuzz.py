"""Property: ingest keeps its promise whatever is done to a file. Every adapter's examples
(chorusline.demo.SAMPLES) are damaged at random — truncated, bytes flipped, bytes that are not
UTF-8, fields far past the readers' limits, values of the wrong type, compressed and then damaged
in the compressed stream — and loaded in-process. Whatever happens:

* nothing raises, and a file error is a one-line FormatError, never an adapter's failure;
* every record the damage did not touch loads (its keys are in the store);
* every record it touched loads, is skipped (counted) or is quarantined at its line.

A damage that changes a file's structure (a truncation, a quote or line break that was not there,
the CSV header, anything inside a JSON document) makes every record after it "touched": the
records before it must still load. A compressed stream that does not decompress has its damage
quarantined.

CHORUSLINE_FUZZ_EXAMPLES sets the examples per sample file (default 15); the examples are the same on
every run unless CHORUSLINE_FUZZ_RANDOM is set (then hypothesis explores anew, for hunting).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chorusline.demo import SAMPLES
from chorusline.ingest import IngestOptions, adapter_for, ingest_file, readers
from chorusline.ingest.base import RESTART, Rejected, Skipped
from chorusline.ingest.conform import conform
from chorusline.ingest.runner import UNEXPECTED
from chorusline.schema import ALL_TABLES, CANONICAL
from chorusline.store import Store

SAMPLE_FILES = [(fmt, path) for fmt, paths in SAMPLES for path in paths]
EXAMPLES = int(os.environ.get("CHORUSLINE_FUZZ_EXAMPLES", 15))
BLOCK, FIELD_LIMIT = 1 << 13, 1 << 12  # small limits, so "far past them" stays small and fast
HUGE = FIELD_LIMIT * 3
WRONG_VALUES = [b"-1", b"1e400", b"99999999999999999999", b"true", b"{}", b"[]", b"null", b"x", b"-5e9", b"NaN"]


@pytest.fixture(scope="module", autouse=True)
def small_limits():
    saved = readers.CSV_BLOCK_BYTES, readers.MAX_FIELD_CHARS
    readers.CSV_BLOCK_BYTES, readers.MAX_FIELD_CHARS = BLOCK, FIELD_LIMIT
    yield
    readers.CSV_BLOCK_BYTES, readers.MAX_FIELD_CHARS = saved


@pytest.fixture(scope="module")
def store():
    return Store.open(":memory:")


# --- damage ----------------------------------------------------------------------------------------


@dataclass
class Damaged:
    data: bytes  # the (uncompressed) content after the byte-level damage
    touched: list[tuple[int, int]] = field(default_factory=list)  # damaged spans of ``data``
    structural_at: int | None = None  # from here on, the file's structure may have changed
    compression: str | None = None
    stored: bytes = b""  # what is written to disk


def _structural(fmt_kind: str, inserted: bytes) -> bool:
    specials = b'",\n\r' if fmt_kind == "csv" else b"\n\r"
    return any(b in specials for b in inserted)


@st.composite
def damage(draw, body: bytes, kind: str) -> Damaged:
    data = bytearray(body)
    out = Damaged(b"")

    def structural(at: int) -> None:
        out.structural_at = at if out.structural_at is None else min(out.structural_at, at)

    def shift(at: int, by: int) -> None:  # earlier spans stay where they are; later ones move
        out.touched = [(a + by, b + by) if a >= at else (a, b) for a, b in out.touched]
        if out.structural_at is not None and out.structural_at >= at:
            out.structural_at += by

    for _ in range(draw(st.integers(1, 3), label="damages")):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1), label="offset")
        how = draw(st.sampled_from(["truncate", "flip", "not-utf8", "huge", "wrong-type"]), label="how")
        if how == "truncate":
            del data[at:]
            structural(at)
        elif how == "flip":
            new = draw(st.integers(0, 255).filter(lambda b, old=data[at]: b != old), label="byte")
            data[at] = new
            out.touched.append((at, at + 1))
            if _structural(kind, bytes([new])):
                structural(at)
        elif how == "not-utf8":
            bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xe9", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]))
            data[at:at] = bad
            shift(at, len(bad))
            out.touched.append((at, at + len(bad)))
        elif how == "huge":
            data[at:at] = b"h" * HUGE
            shift(at, HUGE)
            out.touched.append((at, at + HUGE))
        else:  # a value of another type in place of the token at ``at``
            end = at
            while end < len(data) and (chr(data[end]).isalnum() or data[end] in b"._:-+"):
                end += 1
            value = draw(st.sampled_from(WRONG_VALUES), label="value")
            data[at:end] = value
            shift(end, len(value) - (end - at))
            out.touched.append((at, at + len(value)))
        if kind == "document":
            structural(at)
    out.data = bytes(data)
    out.compression = draw(st.sampled_from([None, None, "gzip", "zstd"]), label="compression")
    out.stored = out.data
    if out.compression:
        packed = gzip.compress(out.data) if out.compression == "gzip" else zstandard.ZstdCompressor().compress(out.data)
        if draw(st.booleans(), label="damage the compressed stream") and len(packed) > 1:
            at = draw(st.integers(1, len(packed) - 1), label="compressed offset")
            packed = packed[:at] if draw(st.booleans(), label="truncate it") else (
                packed[:at] + bytes([packed[at] ^ 0xFF]) + packed[at + 1:])
            structural(_readable_prefix(packed[:at], out.compression))
        out.stored = packed
    return out


def _readable_prefix(packed: bytes, compression: str) -> int:
    """How much of the content can be decompressed from these first bytes of the stream."""
    try:
        if compression == "gzip":
            return len(zlib.decompressobj(31).decompress(packed))
        return len(zstandard.ZstdDecompressor().decompressobj().decompress(packed))
    except (zlib.error, zstandard.ZstdError):
        return 0


def _decompresses(packed: bytes, compression: str) -> bool:
    try:
        if compression == "gzip":
            gzip.decompress(packed)
            return True
        frame = zstandard.ZstdDecompressor().decompressobj()
        frame.decompress(packed)
        return frame.eof
    except (EOFError, OSError, zlib.error, zstandard.ZstdError):
        return False


# --- records -------------------------------------------------------------------------------------


def record_spans(data: bytes, kind: str) -> list[tuple[int, int, int]]:
    """(first line, start byte, end byte) of each record, the CSV header included."""
    text = data.decode("latin-1")  # one character per byte: offsets stay byte offsets
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    if kind == "csv":
        reader = csv.reader(io.StringIO(text, newline=""))
        spans, line = [], 1
        try:
            for _ in reader:
                end_line = reader.line_num
                spans.append((line, starts[line - 1], starts[end_line] if end_line < len(starts) else len(text)))
                line = end_line + 1
        except csv.Error:
            pass
        return spans
    return [(i + 1, starts[i], starts[i + 1] if i + 1 < len(starts) else len(text)) for i in range(len(starts))
            if text[starts[i]:(starts[i + 1] if i + 1 < len(starts) else len(text))].strip()]


def loadable(fmt: str, name: str, content: bytes) -> tuple[set, bool]:
    """(keys, skipped): what the adapter and validation make of this content, with no store."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        keys, skipped = set(), False
        with readers.collecting_damage():
            try:
                for piece in adapter_for(fmt).read(path, IngestOptions()):
                    if piece is RESTART:
                        keys.clear()
                    elif isinstance(piece, Skipped):
                        skipped = True
                    elif not isinstance(piece, Rejected):
                        spec = ALL_TABLES[piece.table]
                        valid = conform(spec, piece.data, piece.lines, piece.raw, defaults=piece.defaults,
                                        list_separator=piece.list_separator).valid
                        keys |= {(spec.name, *row.values()) for row in valid.select(list(spec.key)).to_pylist()}
            except readers.FormatError:
                return set(), False
    return keys, skipped


def stored_keys(store: Store) -> set:
    return {(name, *row.values()) for name, spec in CANONICAL.items()
            for row in store.table(name).select(list(spec.key)).to_pyarrow().to_pylist()}


def empty(store: Store) -> None:
    for name in ALL_TABLES:
        store.backend.raw_sql(f"DELETE FROM {name}")


# --- the property --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt,sample", SAMPLE_FILES, ids=[p.name for _, p in SAMPLE_FILES])
@settings(max_examples=EXAMPLES, deadline=None, derandomize="CHORUSLINE_FUZZ_RANDOM" not in os.environ,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_damage_costs_only_what_it_touches(fmt, sample, store, data):
    body = sample.read_bytes()
    kind = "csv" if sample.suffix == ".csv" else "lines" if sample.suffix == ".jsonl" else "document"
    hurt = data.draw(damage(body, kind), label="damage")
    suffix = {"gzip": ".gz", "zstd": ".zst"}.get(hurt.compression, "")
    empty(store)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (sample.name + suffix)
        path.write_bytes(hurt.stored)
        report = ingest_file(store, adapter_for(fmt), path, IngestOptions())
    assert report.error is None or (UNEXPECTED not in report.error and "\n" not in report.error), report.error
    loaded = stored_keys(store)
    found = store.table("quarantine").select("line", "reason").to_pyarrow().to_pylist()
    lines_quarantined = {q["line"] for q in found}

    spans = record_spans(hurt.data, kind)
    cut = len(hurt.data) if hurt.structural_at is None else hurt.structural_at
    header = spans[:1] if kind == "csv" else []
    if kind == "document":
        untouched = hurt.data[:cut]  # the records complete before the first damage
    else:
        header_touched = header and any(a < header[0][2] for a, _ in hurt.touched)
        clean = [s for s in spans[len(header):] if s[2] <= cut and not any(a < s[2] and b > s[1] for a, b in hurt.touched)]
        untouched = b"" if header_touched or (header and header[0][2] > cut) else \
            b"".join(hurt.data[s:e] for _, s, e in header + clean)
    expected, _ = loadable(fmt, sample.name, untouched) if untouched.strip() else (set(), False)
    assert expected <= loaded, f"untouched records not loaded: {expected - loaded} ({report.error or found})"
    if report.error:  # the file failed as a whole: then nothing in it was loadable
        assert not loaded
        return

    if kind != "document" and not (header and any(a < header[0][2] for a, _ in hurt.touched)):
        for line, start, end in spans[len(header):]:
            if end > cut or not any(a < end and b > start for a, b in hurt.touched):
                continue  # after a structural change (checked below), or untouched (checked above)
            alone, skipped = loadable(fmt, sample.name, b"".join(hurt.data[s:e] for _, s, e in header)
                                      + hurt.data[start:end])
            assert line in lines_quarantined or skipped or (alone and alone <= loaded), \
                f"line {line} neither loaded nor quarantined: {found}"
    magic = {"gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}.get(hurt.compression)
    if magic and hurt.stored.startswith(magic) and not _decompresses(hurt.stored, hurt.compression):
        # still recognisably compressed, and damaged: the damage is quarantined
        assert any("data damaged" in q["reason"] for q in found), found


# --- Parquet -------------------------------------------------------------------------------------


def _parquet_posts(folder: Path) -> tuple[bytes, list[tuple[int, int, set]], int]:
    """(file, [(first byte, end byte, keys) per row group], where the footer starts)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 40
    table = pa.table({"platform": ["x"] * n, "post_id": [f"p{i}" for i in range(n)],
                      "account_id": [f"a{i % 5}" for i in range(n)],
                      "ts": pa.array([1_736_931_791_000_000 + i for i in range(n)], pa.timestamp("us", tz="UTC")),
                      "kind": ["post"] * n, "text": [f"text {i} " * 5 for i in range(n)],
                      "input": pa.array([i for i in range(n)], pa.int64())})
    path = folder / "posts.parquet"
    pq.write_table(table.drop_columns(["input"]), path, row_group_size=10, compression="snappy", use_dictionary=False)
    meta = pq.ParquetFile(path).metadata
    groups = []
    for g in range(meta.num_row_groups):
        columns = [meta.row_group(g).column(c) for c in range(meta.num_columns)]
        start = min(c.dictionary_page_offset or c.data_page_offset for c in columns)
        end = max((c.dictionary_page_offset or c.data_page_offset) + c.total_compressed_size for c in columns)
        groups.append((start, end, {("posts", "x", f"p{i}") for i in range(g * 10, g * 10 + 10)}))
    body = path.read_bytes()
    footer = len(body) - 8 - int.from_bytes(body[-8:-4], "little")
    return body, groups, footer


@settings(max_examples=EXAMPLES * 3, deadline=None, derandomize="CHORUSLINE_FUZZ_RANDOM" not in os.environ,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_parquet_damage_costs_only_its_row_groups(store, data):
    with tempfile.TemporaryDirectory() as folder:
        body, groups, footer = _parquet_posts(Path(folder))
        hurt = bytearray(body)
        touched = []
        for _ in range(data.draw(st.integers(1, 3), label="damages")):
            at = data.draw(st.integers(4, len(hurt) - 1), label="offset")
            if data.draw(st.integers(0, 9), label="truncate?") == 0:
                del hurt[at:]
                touched.append((at, len(body)))
                break
            hurt[at] ^= data.draw(st.integers(1, 255), label="xor")
            touched.append((at, at + 1))
        path = Path(folder) / "damaged" / "posts.parquet"
        path.parent.mkdir()
        path.write_bytes(bytes(hurt))
        empty(store)
        report = ingest_file(store, adapter_for("canonical"), path, IngestOptions())
    assert report.error is None or (UNEXPECTED not in report.error and "\n" not in report.error), report.error
    if any(b > footer for _, b in touched):
        return  # the footer (the file's map) is damaged: the file may fail as a whole
    assert report.error is None
    loaded = stored_keys(store)
    for start, end, keys in groups:
        if not any(a < end and b > start for a, b in touched):
            assert keys <= loaded, f"an untouched row group was not loaded ({report})"
