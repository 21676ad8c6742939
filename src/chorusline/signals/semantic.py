"""semantic: texts tied by meaning rather than by words, so that paraphrase and translation do not
hide them (sentence embeddings, `chorusline.text`; nearest neighbours by time window).

Two surfaces, each in the family of its lexical twin so that fusion counts a pair once:
- ``provenance:semantic`` — API account ↔ persona: a post whose meaning is close to an earlier API
  output (or, for a call whose output was not logged, to its prompt: the embedding model is
  multilingual, so a Chinese prompt meets the English post it became). Each post keeps its closest
  sources (`semantic_provenance`, saved in the store for the link stage, which applies the
  campaign's lag rule); the edge counts the posts whose best source is that account's.
- ``near_duplicate:semantic`` — persona ↔ persona: posts by different accounts within
  ``duplicate_window`` of each other whose meaning is nearly the same (cosine ≥
  ``duplicate_threshold``); weight and n_events = such post pairs.

A match's evidence carries the two ids and the cosine (``call~post@0.83``)."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from chorusline.enrich.texts import embed_store_texts
from chorusline.signals.near_duplicate import output_texts, post_texts
from chorusline.text.cache import ensure_embeddings
from chorusline.text.embed import DEFAULT_MODEL
from chorusline.text.neighbours import WindowSearch, window_matches

MATCH_TABLE = "semantic_provenance"


@dataclass(frozen=True)
class SemanticParams:
    enabled: bool = True  # off: no embeddings, no semantic edges or matches (e.g. data too large to embed)
    model: str = DEFAULT_MODEL
    provenance_threshold: float = 0.7  # cosine output → post (simulated paraphrases: 5th pct 0.70)
    max_lag: int = 86_400  # seconds from a call to a post it may have become
    sources_per_post: int = 20  # a template writes many close outputs a day; 5 missed true sources (full-evasion link F1 0.78 vs 0.80)
    timely_lag: int = 2 * 3_600  # a copy is posted within this of its output (simulator: 99 % within 2 h)
    timely_sd: float = 3.0
    duplicate_threshold: float = 0.9
    duplicate_window: int = 3_600
    neighbours: int = 10
    min_chars: int = 20  # shorter texts ("so true lol") mean the same by accident; characters, not
    # words, so that Chinese or Japanese (no spaces) are measured like the rest


def _docs(texts: ibis.Table, min_chars: int) -> ibis.Table:
    t = texts.filter(texts.text.strip().length() >= min_chars)
    return t.select(id=t.doc_id, actor=t.actor, ts=t.ts, text=t.text)


def provenance_sources(calls: ibis.Table, min_chars: int = SemanticParams.min_chars) -> ibis.Table:
    """Outputs, and the prompts of calls whose output is not in the log."""
    outputs = _docs(output_texts(calls), min_chars)
    silent = calls.filter(calls.output.isnull() & calls.prompt.notnull())
    prompts = _docs(silent.select(doc_id=silent.call_id, actor=silent.platform.concat(":", silent.account_id),
                                  ts=silent.ts.epoch_seconds().cast("int64"), text=silent.prompt), min_chars)
    return outputs.mutate(kind=ibis.literal("output")).union(prompts.mutate(kind=ibis.literal("prompt")))


def provenance_matches(store, calls: ibis.Table, posts: ibis.Table,
                       params: SemanticParams = SemanticParams()) -> ibis.Table:
    """call_id, post_id, api_actor, persona_actor, call_ts, post_ts, lag (s), similarity,
    source_kind: each post's closest earlier sources among ``calls`` (texts embedded as needed)."""
    sources = provenance_sources(calls, params.min_chars)
    queries = _docs(post_texts(posts), params.min_chars)
    texts = sources.select("text").union(queries.select("text"), distinct=False)
    ensure_embeddings(store, texts, params.model)
    search = WindowSearch(before=params.max_lag, after=0, threshold=params.provenance_threshold,
                          k=params.sources_per_post, block=params.max_lag, model=params.model)
    found = ibis.memtable(window_matches(store, sources.drop("kind"), queries, search))
    s = sources.select(call_id="id", api_actor="actor", call_ts="ts", source_kind="kind")
    q = queries.select(post_id="id", persona_actor="actor", post_ts="ts")
    j = found.join(s, found.source_id == s.call_id).join(q, found.query_id == q.post_id)
    return j.select("call_id", "post_id", "api_actor", "persona_actor", "call_ts", "post_ts",
                    lag=j.post_ts - j.call_ts, similarity=j.similarity.cast("float64"), source_kind=j.source_kind)


def semantic_provenance(store, params: SemanticParams = SemanticParams()) -> ibis.Table:
    """Computes and saves ``semantic_provenance`` (`provenance_matches` over the whole store), which
    the link stage reads."""
    matches = provenance_matches(store, store.table("llm_calls"), store.table("posts"), params)  # embeds its texts
    store.backend.create_table(MATCH_TABLE, matches, overwrite=True)
    return store.table(MATCH_TABLE)


def _edges(pairs: ibis.Table, signal: str) -> ibis.Table:
    """pairs: a_actor, b_actor, first, last, ev (one row per matched item) → the edge contract."""
    by_pair = pairs.group_by(["a_actor", "b_actor"]).aggregate(
        n=pairs.count(), first=pairs["first"].min(), last=pairs["last"].max(), ev=pairs.ev.collect())
    evidence = ibis.literal('["').concat(by_pair.ev.sort()[:10].join('","'), '"]')
    return by_pair.select("a_actor", "b_actor", signal=ibis.literal(signal), weight=by_pair.n.cast("float64"),
                          n_events=by_pair.n, first_ts=by_pair["first"].as_timestamp("s"),
                          last_ts=by_pair["last"].as_timestamp("s"), evidence=evidence)


def _cosine(similarity: ibis.FloatingValue) -> ibis.StringValue:
    return similarity.round(2).cast("string")


def timely_excess(near: ibis.IntegerValue, far: ibis.IntegerValue, window, horizon: float,
                  min_posts: int, sd: float) -> ibis.BooleanValue:
    """True where a persona's paraphrase matches inside ``window`` seconds of their sources exceed
    what its later matches (``window`` .. ``horizon``) predict by ``sd`` Poisson deviations, and at
    least double it, with ``min_posts`` or more. A copy follows its output closely in time; a post
    that is merely on the same subject matches outputs at any lag, at about the same rate per hour."""
    expected = far.cast("float64") * window / ibis.greatest(horizon - window, 1.0)
    return ((near >= min_posts) & (near >= expected * 2.0)
            & (near - expected >= sd * ibis.greatest(expected, 1.0).sqrt()))


def semantic_provenance_edges(store, params: SemanticParams = SemanticParams()) -> ibis.Table:
    """``provenance:semantic`` edges: each post attributed to its closest timely source, for the
    (API account, persona) pairs whose timely matches pass `timely_excess`."""
    m = semantic_provenance(store, params)
    near = m.lag <= params.timely_lag
    per = m.group_by(["api_actor", "persona_actor"]).aggregate(
        _near=m.post_id.nunique(where=near), _far=m.post_id.nunique(where=~near))
    per = per.filter(timely_excess(per._near, per._far, params.timely_lag, params.max_lag, 2, params.timely_sd))
    m = m.filter(near).semi_join(per, ["api_actor", "persona_actor"])
    rank = ibis.row_number().over(group_by=m.post_id, order_by=[ibis.desc(m.similarity), m.lag, m.call_id])
    best = m.mutate(_r=rank).filter(ibis._._r == 0)
    pairs = best.select(a_actor=ibis.least(best.api_actor, best.persona_actor),
                        b_actor=ibis.greatest(best.api_actor, best.persona_actor), first=best.call_ts,
                        last=best.post_ts,
                        ev=best.call_id.replace('"', "'").concat("~", best.post_id.replace('"', "'"), "@",
                                                                  _cosine(best.similarity)))
    return _edges(pairs, "provenance:semantic")


def semantic_duplicate_edges(store, params: SemanticParams = SemanticParams()) -> ibis.Table:
    """``near_duplicate:semantic`` edges between authors of posts that say the same thing."""
    embed_store_texts(store, params.model)
    posts = _docs(post_texts(store.table("posts")), params.min_chars)
    search = WindowSearch(before=params.duplicate_window, after=params.duplicate_window,
                          threshold=params.duplicate_threshold, k=params.neighbours,
                          block=max(params.duplicate_window, 6 * 3600), model=params.model)
    found = ibis.memtable(window_matches(store, posts, posts, search))
    a = posts.select(q_id="id", q_actor="actor", q_ts="ts")
    b = posts.select(s_id="id", s_actor="actor", s_ts="ts")
    j = found.join(a, found.query_id == a.q_id).join(b, found.source_id == b.s_id)
    lo, hi = ibis.least(j.q_id, j.s_id), ibis.greatest(j.q_id, j.s_id)
    # a pair is usually found from both ends (not always: each post keeps only its k best): once each
    pairs = j.select(a_actor=ibis.least(j.q_actor, j.s_actor), b_actor=ibis.greatest(j.q_actor, j.s_actor),
                     first=ibis.least(j.q_ts, j.s_ts), last=ibis.greatest(j.q_ts, j.s_ts),
                     ev=lo.replace('"', "'").concat("~", hi.replace('"', "'"), "@", _cosine(j.similarity))).distinct()
    return _edges(pairs, "near_duplicate:semantic")
