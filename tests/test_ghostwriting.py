"""ghostwriting: an API account whose outputs several personas post soon after generation writes for
them; a self-poster writes for one; late or single matches are chance and count for nothing."""

import ibis
import pytest

from chorusline.campaigns.suspicion import account_indicators
from chorusline.signals.ghostwriting import ghostwriting_features
from conftest import add_calls, add_posts

WORDS = ("harbor granite violet sparrow lantern copper meadow thunder saffron glacier orchard velvet comet "
         "marble falcon pepper willow canyon ember quartz juniper nickel prairie walnut cobalt tundra raven "
         "amber cedar delta fjord garnet hazel indigo jasper kelp lotus mango nectar onyx").split()


def sentence(i: int) -> str:
    """Distinct 14-word texts: no two share a word bigram by accident."""
    return " ".join(WORDS[(i * 7 + k * (i + 3)) % len(WORDS)] + str(i) for k in range(14))


def test_fan_out_of_timely_copies(any_store):
    calls, posts = [], []
    # writer: nine outputs, three each posted 10 minutes later by three personas; one more persona copies once
    for i in range(9):
        calls.append({"call_id": f"w{i}", "account_id": "writer", "ts": i * 5_000, "output": sentence(i)})
        posts.append({"post_id": f"p{i}", "account_id": f"persona{i // 3}", "ts": i * 5_000 + 600,
                      "text": sentence(i) + " #news"})
    posts.append({"post_id": "once", "account_id": "persona_once", "ts": 900, "text": sentence(0)})
    # a self-poster: three outputs posted by its one account within minutes
    for i in (10, 11, 12):
        calls.append({"call_id": f"s{i}", "account_id": "self", "ts": i * 5_000, "output": sentence(i)})
        posts.append({"post_id": f"q{i}", "account_id": "own_account", "ts": i * 5_000 + 300, "text": sentence(i)})
    # copies two days late: not timely, chance as far as the test can tell
    for i in (20, 21, 22):
        calls.append({"call_id": f"l{i}", "account_id": "late", "ts": i * 5_000, "output": sentence(i)})
        posts.append({"post_id": f"r{i}", "account_id": "late_reader", "ts": i * 5_000 + 2 * 86_400, "text": sentence(i)})
    calls_t, posts_t = add_calls(any_store, calls), add_posts(any_store, posts)
    features = ghostwriting_features(calls_t, posts_t)
    got = features.to_pandas()
    values = {(r.actor, r.feature): r.value for r in got.itertuples()}
    assert values == {
        ("llm-api:writer", "ghostwriting:personas"): 3.0,
        ("llm-api:self", "ghostwriting:personas"): 1.0,
        **{(f"x:persona{k}", "ghostwriting:source_personas"): 3.0 for k in range(3)},
        **{(f"x:persona{k}", "ghostwriting:sources"): 1.0 for k in range(3)},
        ("x:own_account", "ghostwriting:source_personas"): 1.0,
        ("x:own_account", "ghostwriting:sources"): 1.0,
    }
    evidence = got.set_index(["actor", "feature"]).loc[("llm-api:writer", "ghostwriting:personas"), "evidence"]
    assert "x:persona0" in evidence and "x:persona2" in evidence

    # the indicator: a writer for three personas and its personas count fully, a self-poster not at all,
    # an account with no timely copies is not measured by it
    ind = account_indicators(features).to_pandas().set_index("actor")["ghostwriting"]
    assert ind["llm-api:writer"] == 1.0 and ind["x:persona1"] == 1.0
    assert ind["llm-api:self"] == 0.0 and ind["x:own_account"] == 0.0
    assert "llm-api:late" not in ind.index


@pytest.mark.parametrize("any_store", ["duckdb"], indirect=True)
def test_paraphrases_count_when_the_store_has_them(any_store):
    """Matches by meaning (``semantic_provenance``'s columns) tie a writer to personas who reword it."""
    calls = add_calls(any_store, [{"call_id": "c", "account_id": "w", "ts": 0, "output": sentence(1)}])
    posts = add_posts(any_store, [{"post_id": f"p{i}{who}", "account_id": who, "ts": i * 10_000 + 600,
                                   "text": f"in other words {i} {who}"} for i in range(3) for who in ("a", "b")])
    rows = [{"call_id": f"c{i}", "post_id": f"p{i}{who}", "api_actor": "llm-api:w", "persona_actor": f"x:{who}",
             "call_ts": i * 10_000, "post_ts": i * 10_000 + 600, "lag": 600, "similarity": 0.86, "source_kind": "output"}
            for i in range(3) for who in ("a", "b")]  # three each: two could be chance (3 Poisson sd)
    matches = ibis.memtable(rows)
    got = ghostwriting_features(calls, posts, matches).to_pandas()
    values = {(r.actor, r.feature): r.value for r in got.itertuples()}
    assert values[("llm-api:w", "ghostwriting:personas")] == 2.0
    assert values[("x:a", "ghostwriting:source_personas")] == 2.0
    # below the paraphrase similarity nothing counts
    weak = ibis.memtable([{**r, "similarity": 0.72} for r in rows])
    assert ghostwriting_features(calls, posts, weak).count().execute() == 0
    # nor when the copies are a small share of what the persona wrote (a prolific writer's chance hits)
    chatty = add_posts(any_store, [{"post_id": f"own{k}", "account_id": "b", "ts": 50_000 + k, "text": f"mine {k}"}
                                   for k in range(20)])
    got = ghostwriting_features(calls, chatty, matches).to_pandas()
    assert {(r.actor, r.feature): r.value for r in got.itertuples()}[("llm-api:w", "ghostwriting:personas")] == 1.0
