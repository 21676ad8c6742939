"""When people act: organic diurnal rhythms in their own time zone, and operators' office hours.

Times are drawn as local wall-clock times and converted to UTC per time zone with Arrow's
``assume_timezone`` (daylight saving included), one vectorised call per distinct zone."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000

# Share of a person's activity by local hour: asleep 1–6, a lunch bump, an evening peak.
ORGANIC_HOURS = np.array([2.0, 1.0, 0.5, 0.3, 0.3, 0.5, 1.2, 2.5, 3.5, 4.0, 4.2, 4.5, 5.0, 4.8, 4.3, 4.2, 4.4, 4.8,
                          5.3, 6.0, 6.3, 6.0, 4.8, 3.3])
ORGANIC_HOURS = ORGANIC_HOURS / ORGANIC_HOURS.sum()
WEEKEND_LATER = np.roll(ORGANIC_HOURS, 1)  # weekends start an hour later


def epoch_us(day: str) -> int:
    return int((date.fromisoformat(day) - date(1970, 1, 1)).days) * DAY_US


def local_to_utc(local_us: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """Local wall-clock microseconds (as if UTC) to true UTC, per IANA zone name."""
    out = np.empty_like(local_us)
    for zone in np.unique(zones):
        rows = np.nonzero(zones == zone)[0]
        naive = pa.array(local_us[rows], pa.timestamp("us"))
        aware = pc.assume_timezone(naive, timezone=str(zone), ambiguous="earliest", nonexistent="earliest")
        out[rows] = aware.cast(pa.int64()).to_numpy()
    return out


def organic_times(rng: np.random.Generator, start_us: int, days: int, zones: np.ndarray,
                  day_lo: np.ndarray | None = None) -> np.ndarray:
    """One time per row: a day (uniform from ``day_lo``), an hour by the diurnal profile, in the row's zone."""
    n = len(zones)
    lo = np.zeros(n, dtype=np.int64) if day_lo is None else day_lo
    day = lo + (rng.random(n) * np.maximum(days - lo, 1)).astype(np.int64)
    weekday = (date.fromtimestamp(start_us / 1e6).weekday() + day) % 7
    hour = np.where(weekday >= 5, rng.choice(24, n, p=WEEKEND_LATER), rng.choice(24, n, p=ORGANIC_HOURS))
    local = start_us + day * DAY_US + hour * HOUR_US + rng.integers(0, HOUR_US, n)
    return local_to_utc(local, zones)


def office_times(rng: np.random.Generator, start_us: int, days: int, zone: str, work_hours: list[int],
                 lunch: list[int], work_days: list[int], n: int, day_lo: np.ndarray | None = None,
                 day_hi: np.ndarray | None = None, jitter_hours: float = 0.0) -> np.ndarray:
    """n times inside an operator's working hours and days (a little weekend work), in one zone.
    ``day_lo``/``day_hi`` bound each row's day (e.g. a persona's active life)."""
    lo = np.zeros(n, dtype=np.int64) if day_lo is None else day_lo
    hi = np.full(n, days, dtype=np.int64) if day_hi is None else day_hi
    hi = np.maximum(hi, lo + 1)
    hours = [h for h in range(work_hours[0], work_hours[1]) if not (lunch and lunch[0] <= h < lunch[1])]
    first_weekday = date.fromtimestamp(start_us / 1e6).weekday()
    workday = np.zeros(7, dtype=bool)
    workday[list(work_days)] = True
    day = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
    # a day off becomes a random working day of the same week (97 %); the rest is overtime
    weekday = (first_weekday + day) % 7
    off = ~workday[weekday] & (rng.random(n) < 0.97)
    target = np.array(sorted(work_days))[rng.integers(0, len(work_days), n)]
    day = np.where(off, day - weekday + target, day)
    day = np.clip(day, lo, hi - 1)
    hour = np.array(hours)[rng.integers(0, len(hours), n)]
    local = start_us + day * DAY_US + hour * HOUR_US + rng.integers(0, HOUR_US, n)
    if jitter_hours:
        local = local + (rng.normal(0, jitter_hours, n) * HOUR_US).astype(np.int64)
    return local_to_utc(local, np.full(n, zone, dtype=object))
