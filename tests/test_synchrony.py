"""synchrony: accounts acting in the same ten-minute bins far more often than their own weekly
rhythms explain; a reply storm, people sharing a daily rhythm and colleagues on one office clock
are not."""

import json
import random

from chorusline.signals.synchrony import synchrony_edges
from conftest import add_calls, add_posts

DAY, HOUR = 86_400, 3_600


def _population(rng):
    """40 ordinary accounts, each posting ~30 times at random moments of the same US evening hours."""
    posts = []
    for a in range(40):
        for i in range(30):
            t = rng.randrange(30) * DAY + 23 * HOUR + rng.randrange(4 * HOUR)
            posts.append({"post_id": f"o{a}-{i}", "account_id": f"o{a}", "ts": t})
    return posts


def test_a_shift_acting_together_is_found_and_ordinary_rhythms_are_not(any_store):
    rng = random.Random(7)
    posts = _population(rng)
    # a storm: 60 accounts reply to one viral post in the same minutes, once
    posts += [{"post_id": f"s{a}", "account_id": f"storm{a}", "ts": 5 * DAY + 23 * HOUR + 60 + a, "kind": "reply"}
              for a in range(60)]
    # three colleagues on one Shanghai office clock, each at their own moments: a shared rhythm only
    posts += [{"post_id": f"lab{a}-{i}", "account_id": f"lab{a}", "ts": rng.randrange(30) * DAY + 1 * HOUR
               + rng.randrange(8 * HOUR)} for a in range(3) for i in range(60)]
    # four personas of one shift post together at twelve moments of the Shanghai working day
    moments = [d * DAY + 2 * HOUR + rng.randrange(6 * HOUR) for d in range(12)]
    posts += [{"post_id": f"p{a}-{i}", "account_id": f"p{a}", "ts": t + rng.randrange(120)}
              for a in range(3) for i, t in enumerate(moments)]
    add_posts(any_store, posts)
    # the shift's API account calls the model in the same bins (another platform, same null)
    calls = add_calls(any_store, [{"call_id": f"c{i}", "account_id": "api1", "ts": t + 30} for i, t in enumerate(moments)])
    edges = synchrony_edges(calls, any_store.table("posts")).to_pyarrow().to_pylist()
    pairs = {(e["a_actor"], e["b_actor"]) for e in edges}
    shift = {"x:p0", "x:p1", "x:p2", "llm-api:api1"}
    assert pairs == {(a, b) for a in shift for b in shift if a < b}
    edge = next(e for e in edges if e["a_actor"] == "x:p0" and e["b_actor"] == "x:p1")
    assert edge["signal"] == "synchrony" and edge["weight"] > 10
    assert 11 <= edge["n_events"] <= 12  # a moment near a bin edge may split across two bins
    assert len(json.loads(edge["evidence"])) == 10
