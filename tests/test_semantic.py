"""Semantic text evidence: the packaged embedding models, the store's embedding cache, time-blocked
nearest neighbours, and the two semantic signal surfaces (provenance across paraphrase and
language, near-duplicate posts by meaning) with their timing test."""

import json

import ibis
import numpy as np
import pyarrow as pa
import pytest

from chorusline.signals.semantic import SemanticParams, semantic_duplicate_edges, semantic_provenance_edges
from chorusline.text.cache import TABLE, ensure_embeddings
from chorusline.text.embed import dimension, embed_texts
from chorusline.text.neighbours import WindowSearch, window_matches
from conftest import add_calls, add_posts

CLAIM = "The government must protect our borders and our jobs from unfair foreign competition."
PARAPHRASE = "Our jobs and our borders need protecting by the government against unfair competition from abroad."
GERMAN = "Die Regierung muss unsere Grenzen und Arbeitsplätze vor unfairem ausländischem Wettbewerb schützen."
CHINESE = "政府必须保护我们的边界和就业，免受不公平的外国竞争。"
UNRELATED = "I had pancakes with blueberries for breakfast this morning with my kids."


def test_paraphrases_and_translations_land_close_and_unrelated_text_far():
    v = embed_texts([CLAIM, PARAPHRASE, GERMAN, CHINESE, UNRELATED])
    assert v.shape == (5, dimension()) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    cos = v @ v[0]
    assert min(cos[1], cos[2], cos[3]) > 0.75  # paraphrase, German, Chinese
    assert cos[4] < 0.3
    assert embed_texts([]).shape == (0, dimension())


def test_english_model_is_available_for_comparison():
    v = embed_texts([CLAIM, PARAPHRASE, UNRELATED], model="minilm")
    assert v.shape == (3, dimension("minilm"))
    assert v[0] @ v[1] > 0.7 > 0.3 > v[0] @ v[2]
    with pytest.raises(ValueError, match="unknown embedding model"):
        embed_texts(["x"], model="gpt-99")


def test_each_distinct_text_is_embedded_once(duck_store):
    texts = ibis.memtable({"text": [CLAIM, CLAIM, PARAPHRASE, None]})
    assert ensure_embeddings(duck_store, texts) == 2
    assert ensure_embeddings(duck_store, texts) == 0  # cached
    more = ibis.memtable({"text": [CLAIM, UNRELATED]})
    assert ensure_embeddings(duck_store, more) == 1
    assert duck_store.table(TABLE).count().execute() == 3


def test_neighbours_stay_inside_each_querys_window(duck_store):
    docs = pa.table({"id": ["s1", "s2", "s3", "q1", "q2"], "actor": ["api:a", "api:a", "api:b", "x:p", "api:a"],
                     "ts": pa.array([0, 10_000, 100, 600, 700], pa.int64()),
                     "text": [CLAIM, CLAIM, UNRELATED, PARAPHRASE, PARAPHRASE]})
    t = ibis.memtable(docs)
    ensure_embeddings(duck_store, t)
    sources = t.filter(t.id.startswith("s"))
    queries = t.filter(t.id.startswith("q"))
    found = window_matches(duck_store, sources, queries, WindowSearch(before=3600, after=0, threshold=0.6,
                                                                      block=3600))
    pairs = set(zip(found.column("query_id").to_pylist(), found.column("source_id").to_pylist()))
    # s2 comes after both queries (after=0), s3 is unrelated, q2 is written by s1's own actor
    assert pairs == {("q1", "s1")}


def _operation(store, persona_lags, organic_lags):
    """An operator's outputs, one persona posting paraphrases ``persona_lags`` seconds after each, and
    an organic account posting the same things at ``organic_lags`` seconds (any time of day)."""
    topics = [CLAIM, "Farmers across the state say the new trade rules will cost them dearly this harvest.",
              "Our veterans deserve far better than the empty promises of career politicians.",
              "Rising energy prices are hurting working families more than any other group this winter."]
    rewrite = [PARAPHRASE, "The new trade rules are going to cost farmers in the state a lot this harvest season.",
               "Career politicians keep making empty promises, and our veterans deserve much better.",
               "Working families are hit hardest of all by the rising energy prices this winter."]
    day = 86_400
    calls, posts = [], []
    for d in range(3):
        for i, (out, para) in enumerate(zip(topics, rewrite)):
            t0 = d * day + i * 5_000
            calls.append({"call_id": f"c{d}{i}", "account_id": "op", "ts": t0, "output": out})
            posts.append({"post_id": f"p{d}{i}", "account_id": "persona", "ts": t0 + persona_lags, "text": para})
            posts.append({"post_id": f"o{d}{i}", "account_id": "organic", "ts": t0 + organic_lags[(d * 4 + i) % len(organic_lags)],
                          "text": para})
    add_calls(store, calls)
    add_posts(store, posts)


def test_paraphrased_output_ties_the_operator_to_its_persona_but_not_to_a_topical_account(any_store):
    _operation(any_store, persona_lags=600, organic_lags=[30_000, 50_000, 70_000, 9_000, 40_000, 80_000])
    edges = semantic_provenance_edges(any_store).to_pandas()
    assert set(zip(edges.a_actor, edges.b_actor)) == {("llm-api:op", "x:persona")}
    edge = edges.iloc[0]
    assert edge.signal == "provenance:semantic" and edge.n_events == 12
    first = json.loads(edge.evidence)[0]
    call, rest = first.split("~")
    assert call.startswith("c") and float(rest.split("@")[1]) >= SemanticParams().provenance_threshold


def test_a_chinese_prompt_reaches_the_english_post_when_no_output_was_logged(duck_store):
    calls, posts = [], []
    for d in range(4):
        calls.append({"call_id": f"c{d}", "account_id": "op", "ts": d * 86_400, "prompt": CHINESE})
        posts.append({"post_id": f"p{d}", "account_id": "persona", "ts": d * 86_400 + 300, "text": PARAPHRASE})
    add_calls(duck_store, calls)
    add_posts(duck_store, posts)
    matches = semantic_provenance_edges(duck_store).to_pandas()
    assert list(zip(matches.a_actor, matches.b_actor)) == [("llm-api:op", "x:persona")]
    kinds = duck_store.table("semantic_provenance").source_kind.execute().unique().tolist()
    assert kinds == ["prompt"]


def test_posts_saying_the_same_thing_tie_their_authors(duck_store):
    add_posts(duck_store, [
        {"post_id": "a1", "account_id": "a", "ts": 0, "text": CLAIM},
        {"post_id": "b1", "account_id": "b", "ts": 600, "text": CLAIM.replace("must", "has to")},
        {"post_id": "c1", "account_id": "c", "ts": 700, "text": UNRELATED},
        {"post_id": "d1", "account_id": "d", "ts": 90_000, "text": CLAIM},  # a day later: outside the window
    ])
    edges = semantic_duplicate_edges(duck_store).to_pandas()
    assert list(zip(edges.a_actor, edges.b_actor, edges.signal)) == [("x:a", "x:b", "near_duplicate:semantic")]
    assert json.loads(edges.evidence[0])[0].startswith("a1~b1@")
