"""creation_burst: a batch of accounts registered together stands out from a steady trickle."""

from chorusline.schema import ACCOUNTS
from chorusline.signals.creation_burst import creation_burst_features
from conftest import add_rows

DAY = 86_400


def test_a_batch_of_registrations_stands_out(any_store):
    steady = [{"account_id": f"o{i}", "created_at": i * 10 * DAY, "handle": f"person{i}", "bio": 'likes ' + 'x' * (i + 1)}
              for i in range(30)]  # one account every ten days
    batch = [{"account_id": f"b{i}", "created_at": 100 * DAY + i * 600, "handle": f"ChloeBrown{1700 + i}",
              "bio": "Mom of 2. Coffee first."} for i in range(12)]  # twelve in two hours
    accounts = add_rows(any_store, ACCOUNTS, steady + batch, "x")
    got = creation_burst_features(accounts).to_pandas().set_index(["actor", "feature"]).value
    assert got[("x:b0", "creation_burst:window_count")] == 13  # the batch and the one steady account that day
    assert got[("x:b0", "creation_burst:burst_ratio")] > 5 * got[("x:o2", "creation_burst:burst_ratio")]
    assert got[("x:b3", "creation_burst:handle_name_digits")] == 1 and got[("x:o3", "creation_burst:handle_name_digits")] == 0
    assert got[("x:b3", "creation_burst:handle_digit_share")] == 4 / 14
    assert got[("x:b5", "creation_burst:bio_shared")] == 12 and got[("x:o5", "creation_burst:bio_shared")] == 1
