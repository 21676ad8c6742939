"""circadian: operator clocks recovered from hand-built activity, the claimed place's zone, and the
features on DuckDB and Spark."""

import datetime as dt

import numpy as np
import pytest

from chorusline.signals.circadian import circadian_features, fit_clocks, place_zone
from conftest import add_posts

MONDAY = int(dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc).timestamp())  # a Monday, no DST change near


def office_week(offset: int, rng) -> list[int]:
    """Event times (UTC seconds) of someone working 9-18 local (lunch 12-13) on weekdays at UTC+offset."""
    times = []
    for week in range(3):
        for day in range(5):
            for hour in (9, 10, 11, 13, 14, 15, 16, 17):
                local = MONDAY + (week * 7 + day) * 86_400 + hour * 3600 + int(rng.integers(0, 3600))
                times.append(local - offset * 3600)
    return times


@pytest.mark.parametrize("offset", [8, 3, -4, -7, 0, 5])
def test_office_clock_offset_is_recovered(offset):
    rng = np.random.default_rng(offset + 20)
    hist = np.zeros((1, 168))
    for t in office_week(offset, rng):
        when = dt.datetime.fromtimestamp(t, dt.timezone.utc)
        hist[0, when.weekday() * 24 + when.hour] += 1
    fit = fit_clocks(hist)
    assert fit["offset"][0] == offset and fit["office"][0]
    assert fit["weekend"][0] == 0 and fit["confidence"][0] > 0.2


def test_claimed_places_resolve_to_zones():
    assert place_zone("Tampa, FL") == "America/New_York"
    assert place_zone("Portland, OR") == "America/Los_Angeles"
    assert place_zone("Leeds, England") == "Europe/London"
    assert place_zone("Köln") == "Europe/Berlin"
    assert place_zone("Germany") == "Europe/Berlin"
    assert place_zone("somewhere over the rainbow") is None


def test_features_for_a_persona_run_from_shanghai(any_store):
    rng = np.random.default_rng(1)
    times = office_week(8, rng)
    posts = add_posts(any_store, [{"post_id": f"p{i}", "account_id": "persona", "ts": t, "text": "hi"}
                                  for i, t in enumerate(times)]
                      + [{"post_id": f"q{i}", "account_id": "quiet", "ts": MONDAY + i} for i in range(3)])
    import pandas as pd
    import pyarrow as pa

    from chorusline.schema import ACCOUNTS

    accounts = pd.DataFrame({"platform": ["x"], "account_id": ["persona"], "claimed_location": ["Tampa, FL"]})
    for col in ACCOUNTS.column_names:
        if col not in accounts:
            accounts[col] = None
    any_store.append_rows(ACCOUNTS, pa.Table.from_pandas(accounts[ACCOUNTS.column_names], schema=ACCOUNTS.arrow_schema,
                                                         preserve_index=False))
    features = circadian_features(None, posts, any_store.table("accounts")).to_pandas()
    got = features.set_index(["actor", "feature"]).value
    assert got[("x:persona", "circadian:utc_offset")] == 8
    assert got[("x:persona", "circadian:office_clock")] == 1
    assert got[("x:persona", "circadian:claimed_offset")] == -4  # Tampa, mid-March (daylight saving): UTC-4
    assert got[("x:persona", "circadian:offset_conflict")] == 12  # +8 vs -4: half a day apart
    assert got[("x:persona", "circadian:n_events")] == len(times)
    assert "x:quiet" not in set(features.actor)  # 3 events: too few for a clock
    assert '"utc_hours"' in features.evidence.iloc[0]
