"""near_duplicate: hand-built cases on DuckDB and Spark, and the engine's pairs against exact
Jaccard on generated families of near-copies."""

import json
from itertools import combinations

import ibis
import numpy as np
import pandas as pd

from chorusline.signals.near_duplicate import (NearDuplicateParams, near_duplicate_edges, near_duplicate_pairs,
                                               output_texts, post_texts)
from conftest import add_posts

BASE = "the senator voted against the veterans bill again today and nobody in the press will report it"


def test_near_copies_by_different_accounts_are_tied(any_store):
    posts = add_posts(any_store, [
        {"post_id": "p1", "account_id": "a", "ts": 0, "text": BASE},
        {"post_id": "p2", "account_id": "b", "ts": 600, "text": BASE[:-2] + "this #truth"},
        {"post_id": "p3", "account_id": "c", "ts": 700, "text": "lovely weather for a picnic by the lake this weekend"},
        # the same account repeating itself is not a tie between accounts
        {"post_id": "p4", "account_id": "a", "ts": 800, "text": BASE},
        # outside the one-hour window
        {"post_id": "p5", "account_id": "d", "ts": 10_000, "text": BASE},
        # a repost copies the text: that is co-sharing, not writing the same thing
        {"post_id": "p6", "account_id": "e", "ts": 900, "text": BASE, "kind": "repost", "target_post_id": "p1"},
        # too short to be evidence
        {"post_id": "p7", "account_id": "f", "ts": 10, "text": "so true"},
        {"post_id": "p8", "account_id": "g", "ts": 20, "text": "so true!"},
    ])
    edges = near_duplicate_edges(post_texts(posts)).to_pandas()
    assert sorted(zip(edges.a_actor, edges.b_actor)) == [("x:a", "x:b")]
    edge = edges.iloc[0]
    assert edge.signal == "near_duplicate" and edge.n_events == 2  # p1~p2 and p2~p4 (p4 is a's too)
    assert sorted(json.loads(edge.evidence)) == ["p1~p2", "p2~p4"]
    assert 0.8 <= edge.weight / edge.n_events <= 1.0


def exact_jaccard(a: str, b: str) -> float:
    def bigrams(t):
        w = t.lower().split()
        return {f"{x} {y}" for x, y in zip(w, w[1:])}
    sa, sb = bigrams(a), bigrams(b)
    return len(sa & sb) / len(sa | sb)


def test_engine_pairs_match_exact_jaccard():
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(500)]
    rows = []
    for f in range(30):  # families of near-copies, each by different accounts
        base = list(rng.choice(vocab, 15))
        for k in range(int(rng.integers(2, 6))):
            w = base.copy()
            for _ in range(int(rng.integers(0, 3))):
                w[int(rng.integers(0, 15))] = str(rng.choice(vocab))
            rows.append({"doc_id": f"f{f}_{k}", "actor": f"a{f}_{k}", "ts": f * 10_000 + k, "text": " ".join(w)})
    texts = pd.DataFrame(rows)
    con = ibis.duckdb.connect()
    got = near_duplicate_pairs(con.create_table("texts", texts), NearDuplicateParams(threshold=0.5)).to_pandas()
    got_jac = {frozenset((r.doc_id, r.doc_id_y)): r.jaccard for r in got.itertuples()}
    by_id = texts.set_index("doc_id")
    for pair, jac in got_jac.items():  # every reported similarity is exact
        a, b = sorted(pair)
        assert abs(jac - exact_jaccard(by_id.text[a], by_id.text[b])) < 1e-12
    truth = {frozenset((a.doc_id, b.doc_id)) for a, b in combinations(texts.itertuples(), 2)
             if abs(a.ts - b.ts) <= 3600 and exact_jaccard(a.text, b.text) >= 0.8}
    assert truth and truth <= set(got_jac)  # at J >= 0.8 a pair is a candidate with p >= 0.985; seed fixed
    assert all(jac >= 0.5 for jac in got_jac.values())


def test_api_outputs_are_texts_too():
    con = ibis.duckdb.connect()
    calls = con.create_table("calls", pd.DataFrame({
        "platform": ["api"] * 3, "call_id": ["c1", "c2", "c3"], "account_id": ["k1", "k2", "k3"],
        "ts": pd.to_datetime([0, 60, 120], unit="s", utc=True),
        "output": [BASE, BASE + " share this", None]}))
    pairs = near_duplicate_pairs(output_texts(calls)).to_pandas()
    assert list(zip(pairs.doc_id, pairs.doc_id_y, pairs.actor, pairs.actor_y)) == [("c1", "c2", "api:k1", "api:k2")]


def test_boilerplate_written_by_too_many_accounts_ties_nobody(duck_store):
    """A stock phrase from more than max_actors accounts is left out; a near copy of it is not
    the phrase itself, and a message three accounts share is still evidence."""
    stock = "here is a simple explanation of the main points you asked about"
    rows = [{"post_id": f"s{i}", "account_id": f"s{i}", "ts": i * 60, "text": stock} for i in range(5)]
    rows += [{"post_id": f"m{i}", "account_id": f"m{i}", "ts": i * 60, "text": BASE} for i in range(3)]
    texts = post_texts(add_posts(duck_store, rows))
    both = near_duplicate_pairs(texts, NearDuplicateParams(max_actors=3)).to_pandas()
    assert set(both.doc_id) | set(both.doc_id_y) == {"m0", "m1", "m2"}
    everything = near_duplicate_pairs(texts, NearDuplicateParams(max_actors=None)).to_pandas()
    assert len(everything) == 3 + 10  # every pair of the three copies and of the five
