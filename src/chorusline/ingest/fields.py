"""Small value converters for record-by-record adapters (JSON formats).

Each returns a canonical Python value or None, and raises RecordError with a reason a person can
act on when the value is present but wrong.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from chorusline.ingest.conform import outside_time_window
from chorusline.ingest.readers import RecordError
from chorusline.schema import time_window


def _plausible(when: datetime, what: str, value: Any) -> datetime:
    """The time, if it lies in the accepted window (conform applies the same window to every
    path; checking here lets ``lenient`` drop an implausible optional date and keep the record)."""
    earliest, latest = time_window()
    if not earliest <= when <= latest:
        raise RecordError(f"{what}: {outside_time_window(earliest, latest)}: {str(value)[:60]!r}")
    return when


def text(value: Any) -> str | None:
    """A string, or None for missing/empty; numbers become their decimal text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return json.dumps(value, ensure_ascii=False, default=str)


def ident(value: Any, what: str) -> str:
    """A required id: present, scalar, not empty."""
    if isinstance(value, (dict, list)):
        raise RecordError(f"{what}: expected an id, found {type(value).__name__}")
    out = text(value)
    if out is None:
        raise RecordError(f"missing {what}")
    return out


def integer(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError(f"{what}: expected an integer, found a boolean")
    try:
        number = float(value) if isinstance(value, str) and "." in value else int(value)
    except (TypeError, ValueError):
        raise RecordError(f"{what}: not an integer: {str(value)[:60]!r}") from None
    if isinstance(number, float):
        if not number.is_integer():
            raise RecordError(f"{what}: not an integer: {value!r}")
        number = int(number)
    return number


def iso_time(value: Any, what: str) -> datetime | None:
    """ISO 8601 (``Z`` or offset; naive means UTC) to an aware UTC datetime."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"{what}: expected an ISO 8601 string, found {type(value).__name__}")
    candidate = value.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        raise RecordError(f"{what}: not a valid timestamp: {value[:60]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 moved across midnight by its offset
        raise RecordError(f"{what}: not a valid timestamp: {value[:60]!r}") from None
    return _plausible(parsed, what, value)


def epoch_time(value: Any, what: str, *, unit: str = "s") -> datetime | None:
    """UNIX time in seconds, milliseconds, microseconds or nanoseconds (numbers or digit strings)."""
    if value is None or value == "":
        return None
    divisor = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str):
            value = value.strip()
            whole = int(value) if value.lstrip("-").isdigit() else float(value)
        else:
            whole = value
        if isinstance(whole, int):
            micros = whole * 1_000_000 // divisor
        else:
            micros = round(float(whole) * 1_000_000 / divisor)
        when = datetime.fromtimestamp(micros // 1_000_000, tz=UTC).replace(microsecond=micros % 1_000_000)
    except (TypeError, ValueError, OverflowError, OSError):  # not a number, or beyond any calendar
        raise RecordError(f"{what}: not a valid UNIX time in {unit}: {str(value)[:60]!r}") from None
    return _plausible(when, what, value)


def str_list(values: Any) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list):
        values = [values]
    return [s for s in (text(v) for v in values) if s]


def attrs(**values: Any) -> str | None:
    """Source fields kept for provenance, as a JSON object string without null entries."""
    kept = {k: v for k, v in values.items() if v not in (None, "", [], {})}
    return json.dumps(kept, ensure_ascii=False, sort_keys=True, default=str) if kept else None


def dig(obj: Any, *path: str, default: Any = None) -> Any:
    """obj[path[0]][path[1]]… or default when any step is missing or not a mapping."""
    for key in path:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
        if obj is None:
            return default
    return obj


def mapping(obj: Any, what: str) -> dict:
    if not isinstance(obj, dict):
        raise RecordError(f"{what}: expected a JSON object, found {type(obj).__name__}")
    return obj


def as_list(value: Any) -> list:
    """A JSON array, or [] for anything else (records must not crash on a misplaced scalar)."""
    return value if isinstance(value, list) else []


def lenient(convert, value: Any, what: str) -> Any:
    """``convert(value, what)``, or None when the value is bad: for optional profile fields, where
    one bad creation date must not cost us the whole account."""
    try:
        return convert(value, what)
    except RecordError:
        return None
