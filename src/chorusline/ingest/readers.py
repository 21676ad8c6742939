"""Bounded-memory readers shared by the adapters: compressed files, CSV with exact line numbers,
JSON lines and streamed JSON documents, Parquet batches.

Every byte a text reader sees has passed through :class:`_Checked`, which keeps two promises for
all formats at once:

* bytes that are not UTF-8 are replaced by :data:`MARK`; the readers reject the records that hold it
  (with their line), so one bad byte costs one record, not the file;
* a damaged compressed stream (truncated, corrupt, failed checksum) ends where the damage starts.
  Inside :func:`collecting_damage` the damage is recorded (the runner quarantines it with its line)
  and the reader carries on as if the file ended there; the incomplete line before the damage is
  held back, so a half record never loads. Outside it, damage is a :class:`FormatError`.

Damaged Parquet row groups are recorded the same way; the other row groups load.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import functools
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

BATCH_ROWS = 100_000
# Arrow's CSV block: the memory reading needs grows with it (16 MiB blocks peaked at 940 MiB on
# 4 M posts, 4 MiB at 487 MiB, no slower); a record longer than a block is read by the exact reader.
CSV_BLOCK_BYTES = 4 << 20
MAX_FIELD_CHARS = 16 << 20  # a CSV field longer than this is a broken record, not data (the csv module's limit)
MARK = "\ufdd0"  # stands for bytes that are not UTF-8: a Unicode noncharacter, never in interchanged text
NOT_UTF8 = "not valid UTF-8 (the undecodable bytes are shown as \ufffd)"
_CHUNK = 1 << 20
_HOLD_MAX = 1 << 20  # a line longer than this is not held back for a damage check (memory stays bounded)


class FormatError(Exception):
    """The file is not the named format (the message names the first offending line)."""


class RecordError(Exception):
    """One record cannot be mapped; it goes to quarantine with this reason."""


codecs.register_error("chorusline-mark", lambda exc: (MARK * (exc.end - exc.start), exc.end))


def shown(text: str) -> str:
    """A record's text as quarantine shows it: undecodable bytes as the replacement character."""
    return text.replace(MARK, "\ufffd")


# --- damage -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Damage:
    path: str
    line: int  # the first line (Parquet: row) that could not be read
    reason: str
    raw: str = ""  # the start of the incomplete record lost with the damage


_damage_log: contextvars.ContextVar[list[Damage] | None] = contextvars.ContextVar("chorusline_damage", default=None)


@contextlib.contextmanager
def collecting_damage() -> Iterator[list[Damage]]:
    """Within this block, readers survive damaged files: they record the damage here and read on
    (a compressed stream ends at its damage; a Parquet file skips a damaged row group)."""
    log: list[Damage] = []
    token = _damage_log.set(log)
    try:
        yield log
    finally:
        _damage_log.reset(token)


def _record_damage(damage: Damage, log: list[Damage] | None) -> None:
    """``log`` is the collecting_damage list current when the file was opened (Arrow reads on its
    own threads, which do not see this thread's context), or None."""
    if log is None:
        raise FormatError(f"{damage.path}: line {damage.line}: {damage.reason}")
    if damage not in log:  # a file is opened more than once (probes, the exact CSV reader)
        log.append(damage)


# --- progress ---------------------------------------------------------------------------------------


class _ByteProgress:
    """Reports how far into the file (bytes on disk) reading has come; a second pass over the same
    bytes (the exact CSV reader) reports nothing until it passes the first."""

    def __init__(self, advance: Callable[[int], None]):
        self._advance = advance
        self._reported = 0

    def at(self, position: int) -> None:
        if position > self._reported:
            self._advance(position - self._reported)
            self._reported = position


_progress: contextvars.ContextVar[_ByteProgress | None] = contextvars.ContextVar("chorusline_read", default=None)


@contextlib.contextmanager
def reading_progress(advance: Callable[[int], None]) -> Iterator[None]:
    """Within this block, reading a file calls ``advance(bytes)`` as it moves through it."""
    token = _progress.set(_ByteProgress(advance))
    try:
        yield
    finally:
        _progress.reset(token)


class _Progress(io.RawIOBase):
    """The raw file, reporting its position in bytes on disk to the current reading_progress."""

    def __init__(self, raw, progress: _ByteProgress):
        self._raw, self._progress, self._position = raw, progress, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self._raw.readinto(buffer)
        if n:
            self._position += n
            self._progress.at(self._position)
        return n

    def close(self):
        self._raw.close()
        super().close()


# --- the checked byte stream ------------------------------------------------------------------------


def _split_utf8(data: bytes) -> tuple[bytes, bytes]:
    """(complete, tail): the tail is a UTF-8 sequence cut by the chunk's end, kept for the next chunk."""
    for back in range(1, min(4, len(data) + 1)):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: look further back for the lead byte
            continue
        if byte >= 0xC0:
            needed = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            if needed > back:
                return data[:-back], data[-back:]
        break
    return data, b""


class _Checked(io.RawIOBase):
    """The decompressed bytes of one file as valid UTF-8 (see the module docstring)."""

    def __init__(self, source, path: Path, compression: str | None, errors: tuple[type[BaseException], ...],
                 file: io.BufferedReader):
        self._source = source
        self._file = file  # a decompressor does not close the file it reads
        self._damage_log = _damage_log.get()
        self._path = str(path)
        self._compression = compression
        self._errors = errors
        self._carry = b""  # a UTF-8 sequence cut by the last chunk's end
        self._held = b""  # compressed input: the line not yet complete
        self._ready = memoryview(b"")
        self._done = False
        self.marked = 0  # chunks that held bytes that are not UTF-8
        self.lines = 0  # newlines given out
        self.offset = 0  # bytes given out

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self._ready and not self._done:
            self._ready = memoryview(self._next())
        n = min(len(buffer), len(self._ready))
        buffer[:n] = self._ready[:n]
        self._ready = self._ready[n:]
        return n

    def _next(self) -> bytes:
        damage = None
        try:
            # read1: one step of the decompressor, so what it gave before the damage is not lost
            # with the exception (read() gathers several steps and drops them all)
            data = self._source.read1(_CHUNK)
        except self._errors as exc:
            data, damage = b"", exc
        final = not data
        if final:
            data, self._carry = self._carry, b""
        else:
            data, self._carry = _split_utf8(self._carry + data)
        if data and not data.isascii():
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                data = data.decode("utf-8", "chorusline-mark").encode("utf-8")
                self.marked += 1
        lost = b""
        if self._compression:
            data, lost = self._complete_lines(data, final, damage is not None)
        self._done = final
        self.lines += data.count(b"\n")
        self.offset += len(data)
        if damage is not None:
            detail = " ".join(str(damage).split()) or type(damage).__name__
            _record_damage(Damage(self._path, self.lines + 1, f"{self._compression} data damaged after "
                                  f"{self.offset:,} bytes ({detail}): the rest of the file cannot be read",
                                  shown(lost.decode("utf-8", "replace"))[:2000]), self._damage_log)
        return data

    def _complete_lines(self, data: bytes, final: bool, damaged: bool) -> tuple[bytes, bytes]:
        """(bytes to give out, bytes lost): compressed input is given out a whole line at a time, so
        that damage never leaves a half record behind it."""
        held = self._held + data
        self._held = b""
        if final:
            return (b"", held) if damaged else (held, b"")
        cut = held.rfind(b"\n") + 1
        if len(held) - cut > _HOLD_MAX:  # a line this long is not held back
            return held, b""
        self._held = held[cut:]
        return held[:cut], b""

    def close(self):
        self._source.close()
        self._file.close()
        super().close()


class _ZstdFrames:
    """zstd frames one after another (Reddit-style dumps), as read1() steps. zstandard's own
    stream reader ends silently inside a truncated frame; this one raises EOFError there."""

    _INPUT = 1 << 16  # compressed bytes per step: what one step can expand to stays bounded

    def __init__(self, file: io.BufferedReader):
        import zstandard

        # Reddit-style dumps need a long window; the limit only caps memory, not correctness.
        self._decompressor = zstandard.ZstdDecompressor(max_window_size=2**31)
        self._file = file
        self._frame = self._decompressor.decompressobj()
        self._in_frame = False  # the current frame has had input and not ended

    def read1(self, size: int = -1) -> bytes:
        while True:
            chunk = self._file.read(self._INPUT)
            if not chunk:
                if self._in_frame:
                    raise EOFError("zstd data ended inside a frame")
                return b""
            out = []
            while chunk:
                out.append(self._frame.decompress(chunk))
                self._in_frame = not self._frame.eof
                chunk = b""
                if self._frame.eof:  # the next frame starts in what this one left over
                    chunk = self._frame.unused_data
                    self._frame = self._decompressor.decompressobj()
            data = b"".join(out)
            if data:
                return data

    def close(self) -> None:
        self._file.close()


def compression_of(path: Path) -> str | None:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return None


def open_binary(path: Path, *, progress: bool = True) -> io.BufferedReader:
    """A binary stream of the file's decompressed bytes (gzip and zstd recognised by magic), checked
    as the module docstring says; ``stream.raw`` is the :class:`_Checked` layer."""
    raw = open(path, "rb", buffering=0)
    reporter = _progress.get() if progress else None
    if reporter is not None:
        raw = _Progress(raw, reporter)
    buffered = io.BufferedReader(raw, buffer_size=_CHUNK)
    kind = compression_of(path)
    if kind == "gzip":
        import gzip
        import zlib

        source, errors = gzip.GzipFile(fileobj=buffered), (EOFError, OSError, zlib.error)
    elif kind == "zstd":
        import zstandard

        source, errors = _ZstdFrames(buffered), (zstandard.ZstdError, EOFError, OSError)
    else:
        source, errors = buffered, ()
    return io.BufferedReader(_Checked(source, path, kind, errors, buffered), buffer_size=_CHUNK)


def open_text(path: Path, *, progress: bool = True) -> io.TextIOWrapper:
    # utf-8-sig drops a leading byte-order mark; the bytes are valid UTF-8 by now (see _Checked).
    return io.TextIOWrapper(open_binary(path, progress=progress), encoding="utf-8-sig", newline="")


def _is_marked(stream) -> bool:
    """Whether the stream has replaced any bytes that were not UTF-8 so far."""
    return stream.raw.marked > 0


# --- CSV ------------------------------------------------------------------------------------------


@dataclass
class CsvBatch:
    table: pa.Table  # every column as string
    lines: pa.Array | None  # first physical line of each record (1-based; the header is line 1)
    rejects: list[tuple[int, str, str]]  # (line, reason, raw) for records that cannot be used


def read_header(path: Path, delimiter: str = ",") -> list[str]:
    with open_text(path, progress=False) as fh:
        first = fh.readline(MAX_FIELD_CHARS + 1)
    if not first.strip():
        return []
    if len(first) > MAX_FIELD_CHARS or MARK in first:
        raise FormatError(f"{path}: line 1: not a CSV header (longer than {MAX_FIELD_CHARS:,} characters, "
                          f"or not UTF-8)")
    return next(csv.reader([first], delimiter=delimiter))


class _Malformed(Exception):
    pass


RESTART = "restart"  # yielded when a reader starts the file again: discard what it gave so far


def csv_batches(path: Path, *, delimiter: str = ",", columns: list[str] | None = None) -> Iterator[CsvBatch | str]:
    """Stream a CSV file as string batches with exact line numbers.

    The fast path is Arrow's multi-threaded reader; line numbers come from counting the newlines
    inside quoted values, and rows with bytes that are not UTF-8 are rejected at their lines.
    Anything Arrow cannot read (a record with the wrong number of fields, a record longer than a
    block) leaves it unable to say where it was, so such a file is re-read with Python's csv module,
    which knows.

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
    header = read_header(path, delimiter)
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in header}, strings_can_be_null=False,
                                   include_columns=columns)
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    # One block at a time, parsed in this thread: Arrow's threaded reader parses ahead of a consumer
    # that validates and stages more slowly, and the queued blocks grew peak memory with the file
    # (4 M posts: 569 MiB against 484 MiB serial, at the same speed on two cores).
    read = pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False)
    stream = open_binary(path)
    try:
        reader = pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
        next_line = 2
        for batch in reader:
            table = pa.Table.from_batches([batch])
            bad = _rows_with_mark(table) if _is_marked(stream) else None
            if columns is not None:
                if bad is not None:  # rejected rows need their lines: only the exact reader has them
                    raise _Malformed(NOT_UTF8)
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
            rejects = []
            if bad is not None:
                flags = bad.to_numpy(zero_copy_only=False)
                rejects = [(int(line), NOT_UTF8, shown(delimiter.join(row.values()))[:2000])
                           for line, row in zip(starts[flags], table.filter(bad).to_pylist())]
                table, starts = table.filter(pc.invert(bad)), starts[~flags]
            yield CsvBatch(table, int64_array(starts), rejects)
    except pa.ArrowInvalid as exc:  # a broken row, a row over the block size: the exact reader copes
        raise _Malformed(str(exc)) from exc
    finally:
        stream.close()


def _rows_with_mark(table: pa.Table) -> pa.Array | None:
    """Rows any of whose (string, non-null) cells hold MARK; None when there are none."""
    if not table.num_columns:
        return None
    bad = functools.reduce(pc.or_, (pc.match_substring(column, MARK) for column in table.columns))
    return bad.combine_chunks() if pc.any(bad).as_py() else None


def _may_hold_newlines(column: pa.ChunkedArray) -> bool:
    """False when no value of the string column holds a newline: one scan of the raw character
    buffers (a superset of the values), far cheaper than counting per value."""
    for chunk in column.chunks:
        data = chunk.buffers()[2]
        if data is not None and np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == 10):
            return True
    return False


class _CsvLines:
    """The lines the csv module reads, numbered, with a count of the quotes in the current record:
    after a record the module gives up on (a field past MAX_FIELD_CHARS), reading resumes where
    that record ends, not inside its quoted field."""

    def __init__(self, text):
        self._text = text
        self.number = 0  # physical lines read
        self.quotes = 0  # quote characters since the current record began

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._text)
        self.number += 1
        self.quotes += line.count('"')
        return line

    def next_record(self) -> int:
        """Start counting a new record; returns its first line."""
        self.quotes = 0
        return self.number + 1

    def skip_rest_of_record(self) -> None:
        while self.quotes % 2:  # inside a quoted field: read on to the line that closes it
            if next(self, None) is None:
                return


def csv_records(path: Path, delimiter: str = ",") -> Iterator[tuple[int, list[str] | None, tuple[str, str] | None]]:
    """The exact reader: (line, fields, None) per record, or (line, None, (reason, raw)) for a record
    that cannot be used (the wrong number of fields, bytes that are not UTF-8, a field longer than
    MAX_FIELD_CHARS). The header is yielded first as (1, header, None)."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    with open_text(path) as fh:
        lines = _CsvLines(fh)
        reader = csv.reader(lines, delimiter=delimiter)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise FormatError(f"{path}: line 1: unreadable CSV header ({exc})") from None
        if header is None:
            return
        yield 1, header, None
        width = len(header)
        while True:
            start = lines.next_record()
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                lines.skip_rest_of_record()
                reason = (f"a field longer than {MAX_FIELD_CHARS:,} characters" if "field limit" in str(exc)
                          else f"unreadable CSV record ({exc})")
                yield start, None, (reason, "")
                continue
            if _is_marked(fh.buffer) and any(MARK in value for value in record):
                yield start, None, (NOT_UTF8, shown(delimiter.join(record))[:2000])
            elif len(record) == width:
                yield start, record, None
            elif record:  # a blank line is not a record
                yield start, None, (f"expected {width} fields, found {len(record)}", delimiter.join(record)[:2000])


def _python_csv_batches(path, delimiter):
    records = csv_records(path, delimiter)
    _, header, _ = next(records, (None, None, None))
    if header is None:
        return
    columns: list[list] = [[] for _ in header]
    lines: list[int] = []
    rejects: list[tuple[int, str, str]] = []
    for line, record, problem in records:
        if problem is not None:
            rejects.append((line, *problem))
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


def int64_array(values: np.ndarray) -> pa.Array:
    """A NumPy int64 vector as an Arrow array, zero-copy. ``pa.array`` would first import pandas to
    check the input's type (half a second, once per process) — a command-line cost worth avoiding."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


# --- JSON -------------------------------------------------------------------------------------------


@dataclass
class JsonRecord:
    line: int  # physical line (JSON lines) or ordinal of the item (streamed documents)
    raw: str
    value: object  # parsed JSON, or None when ``error`` is set
    error: str | None = None
    scope: dict | None = None  # json_items with a context: the enclosing object's scalar members


def json_lines(path: Path) -> Iterator[JsonRecord]:
    """One JSON value per line; blank lines skipped; an unparsable line is a record with an error."""
    with open_binary(path) as fh:
        for number, line in enumerate(fh, start=1):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            stripped = line.strip()
            if not stripped:
                continue
            text = stripped.decode("utf-8")  # valid: _Checked replaced what was not
            if _is_marked(fh) and MARK in text:
                yield JsonRecord(number, shown(text), None, NOT_UTF8)
                continue
            try:
                yield JsonRecord(number, text, orjson.loads(stripped))
            except orjson.JSONDecodeError as exc:
                yield JsonRecord(number, text, None, f"invalid JSON: {exc}")


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


def is_json_lines(path: Path, accept: Callable[[object], bool] = lambda value: True, lines: int = 20) -> bool:
    """True when one of the first ``lines`` non-blank lines is a complete JSON value that ``accept``
    takes: JSON lines (whose first line may be the damaged one), not a pretty-printed document."""
    with open_binary(path, progress=False) as fh:
        for line in fh:
            line = line.strip().lstrip(b"\xef\xbb\xbf")
            if not line:
                continue
            try:
                if accept(orjson.loads(line)):
                    return True
            except orjson.JSONDecodeError:
                pass
            lines -= 1
            if not lines:
                break
    return False


def _json_text(value) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):  # an integer beyond 64 bits: conform rejects it, shown here
        import json

        return json.dumps(value, default=str, ensure_ascii=False)


def _scoped(events, context: str, scope: dict):
    """Pass ijson events through, keeping the scalar members of the current ``context`` object in ``scope``."""
    member = f"{context}." if context else ""
    for prefix, event, value in events:
        if prefix == context and event == "start_map":
            scope.clear()
        elif (event in ("string", "number", "boolean", "null") and prefix.startswith(member)
              and "." not in prefix[len(member):]):
            scope[prefix[len(member):]] = value
        yield prefix, event, value


def json_items(path: Path, prefix: str, *, context: str | None = None) -> Iterator[JsonRecord]:
    """Stream the items of one array inside a (possibly huge) JSON document, e.g. ``messages.item``.
    With ``context`` (the prefix of an enclosing object, e.g. ``chats.list.item``) each record's
    ``scope`` holds that object's scalar members. A syntax error ends the stream with one error
    record: what follows cannot be located."""
    import ijson

    with open_binary(path) as fh:
        ordinal = 0
        scope: dict = {}
        source = fh if context is None else _scoped(ijson.parse(fh, use_float=True), context, scope)
        try:
            for ordinal, item in enumerate(ijson.items(source, prefix, use_float=True), start=1):
                raw = _json_text(item)
                where = dict(scope) if context is not None else None
                if _is_marked(fh) and MARK in raw:
                    yield JsonRecord(ordinal, shown(raw), None, NOT_UTF8, where)
                else:
                    yield JsonRecord(ordinal, raw, item, None, where)
        except ijson.JSONError as exc:
            yield JsonRecord(ordinal + 1, "", None, f"invalid JSON after item {ordinal}: {one_line(str(exc))}")


def json_document(path: Path) -> JsonRecord:
    with open_binary(path) as fh:
        data = fh.read()  # whole-document formats (an OTLP request) are bounded by their producers
        marked = _is_marked(fh)
    data = data.lstrip(b"\xef\xbb\xbf")
    raw = data[:2000].decode("utf-8", "replace")
    if marked and MARK.encode() in data:
        return JsonRecord(1, shown(raw), None, NOT_UTF8)
    try:
        return JsonRecord(1, raw, orjson.loads(data))
    except orjson.JSONDecodeError as exc:
        return JsonRecord(1, raw, None, f"invalid JSON: {exc}")


# --- Parquet ----------------------------------------------------------------------------------------


def parquet_file(path: Path) -> pq.ParquetFile:
    try:
        reader = pq.ParquetFile(path)
        reader.schema_arrow  # noqa: B018 - a damaged footer can fail only here (names that are not UTF-8)
        return reader
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: line 1: not a readable Parquet file ({one_line(str(exc))})") from None


def parquet_batches(path: Path) -> Iterator[tuple[int, pa.Table]]:
    """(first row number, batch) for each batch; row numbers are 1-based. Damaged data cannot be
    split into good and bad records, so a damaged row group is recorded as damage from the first
    row not read to the group's end (see collecting_damage) and the next group is read."""
    reader = parquet_file(path)
    total, size = reader.metadata.num_rows, os.path.getsize(path)
    progress, damage_log = _progress.get(), _damage_log.get()
    row = 1
    for group in range(reader.num_row_groups):
        end = row + reader.metadata.row_group(group).num_rows
        try:
            for batch in reader.iter_batches(batch_size=BATCH_ROWS, row_groups=[group]):
                yield row, pa.Table.from_batches([batch])
                row += batch.num_rows
                if progress is not None:
                    progress.at(size * (row - 1) // max(total, 1))
        except (pa.ArrowException, OSError) as exc:
            _record_damage(Damage(str(path), row, f"rows {row:,} to {end - 1:,}: damaged Parquet data "
                                                  f"({one_line(str(exc))})"), damage_log)
        row = end


def split_invalid_utf8(table: pa.Table, lines: pa.Array) -> tuple[pa.Table, pa.Array, list[tuple[int, str, str]]]:
    """(table, lines, rejects): Parquet does not check that its strings are UTF-8; rows with a string
    that is not are rejected here (both engines refuse to store them)."""
    try:
        table.validate(full=True)
        return table, lines, []
    except pa.ArrowInvalid:
        pass
    bad = np.zeros(table.num_rows, dtype=bool)
    for column in table.columns:
        try:
            column.validate(full=True)
        except pa.ArrowInvalid:
            for i in range(table.num_rows):  # a damaged batch only: find its rows one by one
                try:
                    column.slice(i, 1).validate(full=True)
                except pa.ArrowInvalid:
                    bad[i] = True
    keep = pa.array(~bad)
    rejected = [(int(line), NOT_UTF8, "") for line in lines.to_numpy(zero_copy_only=False)[bad]]
    return table.filter(keep), pc.filter(lines, keep), rejected
