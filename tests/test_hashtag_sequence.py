"""hashtag_sequence: hand-built cases, on DuckDB and Spark."""

import json

from chorusline.signals.hashtag_sequence import hashtag_sequence_edges, hashtag_sequences
from conftest import add_posts


def test_identical_ordered_sequences_tie_accounts(any_store):
    posts = add_posts(any_store, [
        {"post_id": "p1", "account_id": "a", "ts": 0, "hashtags": ["#Vote", "#Freedom", "#USA"]},
        {"post_id": "p2", "account_id": "b", "ts": 60, "hashtags": ["vote", "freedom", "usa"]},
        # the same tags in another order: not the same sequence
        {"post_id": "p3", "account_id": "c", "ts": 30, "hashtags": ["usa", "vote", "freedom"]},
        # one tag is not a sequence
        {"post_id": "p4", "account_id": "d", "ts": 10, "hashtags": ["vote"]},
        {"post_id": "p5", "account_id": "e", "ts": 20, "hashtags": ["vote"]},
        # the same sequence, but two hours later: outside the window
        {"post_id": "p6", "account_id": "f", "ts": 7200, "hashtags": ["vote", "freedom", "usa"]},
    ])
    assert sorted(hashtag_sequences(posts).to_pandas().object_id.unique()) == ["usa vote freedom", "vote freedom usa"]
    edges = hashtag_sequence_edges(posts).to_pandas()
    assert len(edges) == 1
    edge = edges.iloc[0]
    assert (edge.a_actor, edge.b_actor, edge.signal, edge.n_events) == ("x:a", "x:b", "hashtag_sequence", 1)
    assert json.loads(edge.evidence) == ["vote freedom usa"]


def test_one_account_repeating_itself_is_not_an_edge(duck_store):
    posts = add_posts(duck_store, [
        {"post_id": f"p{i}", "account_id": "a", "ts": i, "hashtags": ["x", "y"]} for i in range(5)])
    assert hashtag_sequence_edges(posts).count().execute() == 0
