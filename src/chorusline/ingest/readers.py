"""Bounded-memory readers shared by the adapters: compressed files, CSV with exact line numbers,
JSON lines and streamed JSON documents, Parquet batches. Progress shows for slow files only."""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from tqdm import tqdm

BATCH_ROWS = 100_000
PROGRESS_DELAY_S = 2.0  # a progress bar appears only for files that take longer than this


class FormatError(Exception):
    """The file is not the named format (the message names the first offending line)."""


class RecordError(Exception):
    """One record cannot be mapped; it goes to quarantine with this reason."""


class _Progress(io.RawIOBase):
    """Wraps the raw file so that every format reports progress in bytes of the file on disk."""

    def __init__(self, raw, bar):
        self._raw, self._bar = raw, bar

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self._raw.readinto(buffer)
        if n:
            self._bar.update(n)
        return n

    def close(self):
        self._raw.close()
        self._bar.close()
        super().close()


def int64_array(values: np.ndarray) -> pa.Array:
    """A NumPy int64 vector as an Arrow array, zero-copy. ``pa.array`` would first import pandas to
    check the input's type (half a second, once per process) — a command-line cost worth avoiding."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def compression_of(path: Path) -> str | None:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return None


def open_binary(path: Path, *, progress: bool = True):
    """A binary stream of the file's decompressed bytes (gzip and zstd recognised by magic)."""
    size = os.path.getsize(path)
    bar = tqdm(total=size, unit="B", unit_scale=True, desc=Path(path).name, delay=PROGRESS_DELAY_S,
               disable=not progress or None, leave=False)
    raw = _Progress(open(path, "rb", buffering=0), bar)
    buffered = io.BufferedReader(raw, buffer_size=1 << 20)
    kind = compression_of(path)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=buffered)
    if kind == "zstd":
        import zstandard

        # Reddit-style dumps need a long window; the limit only caps memory, not correctness.
        return zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(buffered, read_across_frames=True)
    return buffered


def open_text(path: Path, *, progress: bool = True) -> io.TextIOWrapper:
    # utf-8-sig drops a leading byte-order mark; bad bytes become U+FFFD rather than stop the load.
    return io.TextIOWrapper(open_binary(path, progress=progress), encoding="utf-8-sig", errors="replace", newline="")


# --- CSV ------------------------------------------------------------------------------------------


@dataclass
class CsvBatch:
    table: pa.Table  # every column as string
    lines: pa.Array | None  # first physical line of each record (1-based; the header is line 1)
    rejects: list[tuple[int, str, str]]  # (line, reason, raw) for structurally broken records


def read_header(path: Path, delimiter: str = ",") -> list[str]:
    with open_text(path, progress=False) as fh:
        first = fh.readline()
    if not first.strip():
        return []
    return next(csv.reader([first], delimiter=delimiter))


class _Malformed(Exception):
    pass


RESTART = "restart"  # yielded when a reader starts the file again: discard what it gave so far


def csv_batches(path: Path, *, delimiter: str = ",", columns: list[str] | None = None) -> Iterator[CsvBatch | str]:
    """Stream a CSV file as string batches with exact line numbers.

    The fast path is Arrow's multi-threaded reader; line numbers come from counting the newlines
    inside quoted values. A structurally broken record (wrong number of fields) makes Arrow's reader
    unable to say where it was, so such a file is re-read with Python's csv module, which knows.

    With ``columns``, only those are converted and batches carry no line numbers (``lines`` is
    None: a skipped column could hold newlines); a caller that finds a row to report reads the file
    again without it. The Python fallback always gives every column and the lines.
    """
    try:
        yield from _arrow_csv_batches(path, delimiter, columns)
    except _Malformed:
        yield RESTART
        yield from _python_csv_batches(path, delimiter)


def _arrow_csv_batches(path, delimiter, columns=None):
    malformed = []

    def on_invalid(row):
        malformed.append(row.text)
        return "error"

    header = read_header(path, delimiter)
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in header}, strings_can_be_null=False,
                                   include_columns=columns)
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid)
    read = pacsv.ReadOptions(block_size=16 << 20, use_threads=True)
    stream = open_binary(path)
    try:
        reader = pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
        next_line = 2
        for batch in reader:
            table = pa.Table.from_batches([batch])
            if columns is not None:
                yield CsvBatch(table, None, [])
                continue
            newlines = np.zeros(table.num_rows, dtype=np.int64)
            for column in table.columns:
                if not _may_hold_newlines(column):  # the usual case: one record per line
                    continue
                # strings are never null here (strings_can_be_null=False): counts are all valid
                newlines += pc.count_substring(column, "\n").to_numpy(zero_copy_only=False)
            starts = next_line + np.arange(table.num_rows, dtype=np.int64) + np.concatenate(([0], np.cumsum(newlines)[:-1]))
            next_line = int(starts[-1] + newlines[-1] + 1) if table.num_rows else next_line
            yield CsvBatch(table, int64_array(starts), [])
    except pa.ArrowInvalid as exc:
        if malformed or "CSV parse error" in str(exc):
            raise _Malformed(str(exc)) from exc
        raise
    finally:
        stream.close()


def _may_hold_newlines(column: pa.ChunkedArray) -> bool:
    """False when no value of the string column holds a newline: one scan of the raw character
    buffers (a superset of the values), far cheaper than counting per value."""
    for chunk in column.chunks:
        data = chunk.buffers()[2]
        if data is not None and np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == 10):
            return True
    return False


def csv_records(path: Path, delimiter: str = ",") -> Iterator[tuple[int, list[str] | None, str | None]]:
    """The exact reader: (line, fields, None) per record, or (line, None, reason) for a record with
    the wrong number of fields. The header is yielded first as (1, header, None)."""
    with open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return
        yield 1, header, None
        width = len(header)
        start = reader.line_num + 1
        for record in reader:
            if len(record) == width:
                yield start, record, None
            elif record:  # a blank line is not a record
                yield start, None, f"expected {width} fields, found {len(record)}: {delimiter.join(record)[:2000]}"
            start = reader.line_num + 1


def _python_csv_batches(path, delimiter):
    records = csv_records(path, delimiter)
    _, header, _ = next(records, (None, None, None))
    if header is None:
        return
    columns: list[list] = [[] for _ in header]
    lines: list[int] = []
    rejects: list[tuple[int, str, str]] = []
    for line, record, error in records:
        if error is not None:
            reason, _, raw = error.partition(": ")
            rejects.append((line, reason, raw))
            continue
        for i, value in enumerate(record):
            columns[i].append(value)
        lines.append(line)
        if len(lines) >= BATCH_ROWS:
            yield CsvBatch(_string_table(header, columns), pa.array(lines, pa.int64()), rejects)
            columns, lines, rejects = [[] for _ in header], [], []
    if lines or rejects:
        yield CsvBatch(_string_table(header, columns), pa.array(lines, pa.int64()), rejects)


def _string_table(header, columns) -> pa.Table:
    names = _unique_names(header)
    return pa.Table.from_arrays([pa.array(c, pa.string()) for c in columns], names=names)


def _unique_names(header):
    seen: dict[str, int] = {}
    out = []
    for name in header:
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


# --- JSON -------------------------------------------------------------------------------------------


@dataclass
class JsonRecord:
    line: int  # physical line (JSON lines) or ordinal of the item (streamed documents)
    raw: str
    value: object  # parsed JSON, or None when ``error`` is set
    error: str | None = None


def json_lines(path: Path) -> Iterator[JsonRecord]:
    """One JSON value per line; blank lines skipped; an unparsable line is a record with an error."""
    with open_binary(path) as fh:
        for number, line in enumerate(fh, start=1):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            stripped = line.strip()
            if not stripped:
                continue
            try:
                yield JsonRecord(number, stripped.decode("utf-8", "replace"), orjson.loads(stripped))
            except orjson.JSONDecodeError as exc:
                yield JsonRecord(number, stripped.decode("utf-8", "replace"), None, f"invalid JSON: {exc}")


def is_empty(path: Path) -> bool:
    """No content but whitespace (and a byte-order mark), after decompression."""
    with open_binary(path, progress=False) as fh:
        while chunk := fh.read(1 << 16):
            if chunk.replace(b"\xef\xbb\xbf", b"").strip():
                return False
    return True


def one_line(message: str) -> str:
    """Errors are printed as one line; parsers (ijson, Arrow) sometimes draw pictures."""
    return " ".join(message.split())


def first_char(path: Path) -> str:
    with open_binary(path, progress=False) as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return chr(head[0]) if head else ""


def is_json_lines(path: Path) -> bool:
    """True when the first non-blank line is a complete JSON value (JSON lines, or a one-line document)."""
    with open_binary(path, progress=False) as fh:
        for line in fh:
            line = line.strip().lstrip(b"\xef\xbb\xbf")
            if line:
                try:
                    orjson.loads(line)
                    return True
                except orjson.JSONDecodeError:
                    return False
    return False


def json_items(path: Path, prefix: str) -> Iterator[JsonRecord]:
    """Stream the items of one array inside a (possibly huge) JSON document, e.g. ``messages.item``.
    A syntax error ends the stream with one error record: what follows cannot be located."""
    import ijson

    with open_binary(path) as fh:
        ordinal = 0
        try:
            for ordinal, item in enumerate(ijson.items(fh, prefix, use_float=True), start=1):
                yield JsonRecord(ordinal, orjson.dumps(item).decode(), item)
        except ijson.JSONError as exc:
            yield JsonRecord(ordinal + 1, "", None, f"invalid JSON after item {ordinal}: {exc}")


def json_document(path: Path) -> JsonRecord:
    with open_binary(path) as fh:
        data = fh.read()  # whole-document formats (an OTLP request) are bounded by their producers
    data = data.lstrip(b"\xef\xbb\xbf")
    try:
        return JsonRecord(1, data[:2000].decode("utf-8", "replace"), orjson.loads(data))
    except orjson.JSONDecodeError as exc:
        return JsonRecord(1, data[:2000].decode("utf-8", "replace"), None, f"invalid JSON: {exc}")


# --- Parquet ----------------------------------------------------------------------------------------


def parquet_file(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise FormatError(f"{path}: line 1: not a readable Parquet file ({one_line(str(exc))})") from None


def parquet_batches(path: Path) -> Iterator[tuple[int, pa.Table]]:
    """(first row number, batch) for each batch; row numbers are 1-based. Damaged data cannot be
    split into good and bad records, so it fails the file (which then loads nothing)."""
    reader = parquet_file(path)
    bar = tqdm(total=reader.metadata.num_rows, unit="rows", desc=Path(path).name, delay=PROGRESS_DELAY_S, leave=False)
    row = 1
    batches = reader.iter_batches(batch_size=BATCH_ROWS)
    try:
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:
                raise FormatError(f"{path}: row {row}: damaged Parquet data ({one_line(str(exc))})") from None
            yield row, pa.Table.from_batches([batch])
            row += batch.num_rows
            bar.update(batch.num_rows)
    finally:
        bar.close()
