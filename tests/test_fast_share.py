"""fast_share: hand-built cases, on DuckDB and Spark."""

import json
import math

import pandas as pd
import pytest

from chorusline.signals.fast_share import fast_reposts, fast_share_edges
from conftest import add_posts


def edges_of(table) -> pd.DataFrame:
    return table.to_pandas().sort_values(["a_actor", "b_actor"]).reset_index(drop=True)


def test_fast_reposts_of_the_same_originals_tie_accounts(any_store):
    posts = add_posts(any_store, [
        {"post_id": "o1", "account_id": "author", "ts": 1000},
        {"post_id": "o2", "account_id": "author", "ts": 5000},
        # a and b repost both originals within 10 s: tied twice
        {"post_id": "r1", "account_id": "a", "ts": 1002, "kind": "repost", "target_post_id": "o1"},
        {"post_id": "r2", "account_id": "b", "ts": 1010, "kind": "repost", "target_post_id": "o1"},
        {"post_id": "r3", "account_id": "a", "ts": 5001, "kind": "repost", "target_post_id": "o2"},
        {"post_id": "r4", "account_id": "b", "ts": 5003, "kind": "repost", "target_post_id": "o2"},
        # c reposts o1 after 11 s: not fast, so not tied although within 10 s of b's repost
        {"post_id": "r5", "account_id": "c", "ts": 1011, "kind": "repost", "target_post_id": "o1"},
        # d reposts an original that is not in the data: its delay is unknown, so it is not fast
        {"post_id": "r6", "account_id": "d", "ts": 1003, "kind": "repost", "target_post_id": "missing"},
    ])
    assert sorted(fast_reposts(posts).to_pandas().content_id) == ["r1", "r2", "r3", "r4"]
    edges = edges_of(fast_share_edges(posts))
    assert len(edges) == 1
    edge = edges.iloc[0]
    assert (edge.a_actor, edge.b_actor, edge.signal, edge.n_events) == ("x:a", "x:b", "fast_share", 2)
    # weight: the objects' rarity among the 2 fast resharers, both sharing both: 2 · ln(3/2) / ln 3
    assert edge.weight == pytest.approx(2 * math.log(1.5) / math.log(3))
    assert sorted(json.loads(edge.evidence)) == ["o1", "o2"]


def test_a_viral_original_reposted_slowly_gives_nothing(duck_store):
    # a reply storm: 50 accounts reposting one original over an hour, none within 10 s of it
    posts = add_posts(duck_store, [{"post_id": "o", "account_id": "star", "ts": 0}] + [
        {"post_id": f"r{i}", "account_id": f"u{i}", "ts": 60 + i * 70, "kind": "repost", "target_post_id": "o"}
        for i in range(50)])
    assert fast_share_edges(posts).count().execute() == 0
    assert fast_share_edges(posts, lag=3600).count().execute() == 50 * 49 // 2  # a wide lag ties them all
