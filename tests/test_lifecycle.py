"""lifecycle: a persona that talks food for two weeks and then only elections has a pivot on the
day it turned; an account that mixes topics every day has none to speak of, nor one whose steady
mix opened with a few neutral posts by chance; a dormant account's long silence is measured."""

from chorusline.schema import ACCOUNTS
from chorusline.signals.lifecycle import lifecycle_features
from conftest import add_posts, add_rows

DAY = 86_400
NEUTRAL = "the taco place on 5th was better than expected"
POLITICAL = "the new voting rules show real leadership"


def test_pivot_day_and_dormancy(any_store):
    posts = [{"post_id": f"p{d}", "account_id": "persona", "ts": (100 + d) * DAY + 3600,
              "text": NEUTRAL if d < 14 else POLITICAL} for d in range(30)]
    posts += [{"post_id": f"m{d}", "account_id": "mixed", "ts": (100 + d) * DAY + 7200,
               "text": POLITICAL if d % 2 else NEUTRAL} for d in range(30)]
    posts += [{"post_id": f"r{d}", "account_id": "persona", "ts": (100 + d) * DAY + 60, "kind": "repost",
               "text": POLITICAL} for d in range(5)]  # reposts are not the persona's own voice
    # five neutral posts, then a steady half-and-half mix: the largest raw rise is 0.52 (day 5), 2.1
    # standard errors, what a steady mix shows by chance over 25 candidate days
    posts += [{"post_id": f"c{d}", "account_id": "chance", "ts": (100 + d) * DAY + 600,
               "text": POLITICAL if d >= 5 and d % 2 else NEUTRAL} for d in range(30)]
    posts += [{"post_id": f"s{d}", "account_id": "sleeper", "ts": (200 + d) * DAY, "text": NEUTRAL} for d in range(6)]
    add_posts(any_store, posts)
    add_rows(any_store, ACCOUNTS, [{"account_id": "sleeper", "created_at": 20 * DAY}], "x")
    got = lifecycle_features(any_store.table("posts"), any_store.table("accounts")).to_pyarrow().to_pylist()
    value = {(r["actor"], r["feature"]): r["value"] for r in got}
    assert value[("x:persona", "lifecycle:pivot_gain")] == 1.0
    assert value[("x:persona", "lifecycle:days_to_pivot")] == 14
    assert value[("x:persona", "lifecycle:political_before")] == 0.0
    evidence = next(r["evidence"] for r in got if r["actor"] == "x:persona" and r["feature"] == "lifecycle:pivot_gain")
    assert evidence == '["pivot 1970-04-25"]'  # day 114
    assert value[("x:persona", "lifecycle:pivot_z")] > 5
    assert value[("x:mixed", "lifecycle:pivot_gain")] == 0.0  # a steady mix: no pivot
    assert value[("x:chance", "lifecycle:pivot_z")] < 3
    assert value[("x:chance", "lifecycle:pivot_gain")] == 0.0
    assert value[("x:mixed", "lifecycle:political_share")] == 0.5
    assert value[("x:sleeper", "lifecycle:dormancy_days")] == 179  # created day 20, first post day 200
    assert value[("x:persona", "lifecycle:dormancy_days")] == 0
    assert ("x:sleeper", "lifecycle:pivot_gain") not in value  # six posts: too few for both sides
