"""provenance (edges across platforms): an API call's output appearing as a post's text links the
API account that generated it to the persona that posted it; personas that post text from the
same call are linked to each other.

The outputs and the authored post texts go through one MinHash LSH run (`near_duplicate`), with a
lower threshold than near-duplicate posting (operators trim, add hashtags, lightly paraphrase) and a
window as long as the largest lag expected between generating and posting; a pair counts only when
the call comes first, and each post is attributed to its closest output only. Signals:
- ``provenance`` — API account ↔ persona: weight = posts carrying that account's output, n_events
  likewise; evidence = up to 10 ``call~post`` pairs;
- ``provenance:shared_call`` — persona ↔ persona whose posts come from the same call(s): weight and
  n_events = calls in common; evidence = the calls.
``provenance_links`` gives the matched (call, post) pairs with their lag and similarity."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from chorusline.signals.near_duplicate import NearDuplicateParams, near_duplicate_pairs, output_texts, post_texts


@dataclass(frozen=True)
class ProvenanceParams:
    threshold: float = 0.6  # Jaccard of word bigrams between the output and the post
    max_lag: int = 3 * 86_400  # seconds from the call to the post
    shared_call_jaccard: float = 0.8  # two personas share a call when both posts copy it this closely


def provenance_candidates(calls: ibis.Table, posts: ibis.Table,
                          params: ProvenanceParams = ProvenanceParams()) -> ibis.Table:
    """Every (call, post) pair whose output resembles the post, the call first: call_id, post_id,
    api_actor, persona_actor, call_ts, post_ts, lag (s), jaccard."""
    outputs = output_texts(calls)
    outputs = outputs.mutate(doc_id=ibis.literal("c\x1f").concat(outputs.doc_id))
    texts = post_texts(posts).mutate(doc_id=lambda t: ibis.literal("p\x1f").concat(t.doc_id))
    # only output -> later post pairs are formed (the call comes first)
    links = near_duplicate_pairs(texts, NearDuplicateParams(threshold=params.threshold, time_window=params.max_lag),
                                 sources=outputs)
    return links.select(call_id=links.doc_id.substr(2), post_id=links.doc_id_y.substr(2), api_actor=links.actor,
                        persona_actor=links.actor_y, call_ts=links.ts, post_ts=links.ts_y,
                        lag=links.ts_y - links.ts, jaccard=links.jaccard)


def best_source(candidates: ibis.Table) -> ibis.Table:
    """Each post attributed to one call: its closest output, then the shortest lag (one template's
    outputs resemble each other and would each match the post a little)."""
    c = candidates
    rank = ibis.row_number().over(group_by=c.post_id, order_by=[ibis.desc(c.jaccard), c.lag, c.call_id])
    return c.mutate(_rank=rank).filter(ibis._._rank == 0).drop("_rank")


def provenance_links(calls: ibis.Table, posts: ibis.Table, params: ProvenanceParams = ProvenanceParams()) -> ibis.Table:
    """call_id, post_id, api_actor, persona_actor, call_ts, post_ts, lag (s), jaccard: each post's best source."""
    return best_source(provenance_candidates(calls, posts, params))


def provenance_edges(calls: ibis.Table, posts: ibis.Table, params: ProvenanceParams = ProvenanceParams()) -> ibis.Table:
    """Both edge kinds, in the contract of ARCHITECTURE §4."""
    links = provenance_links(calls, posts, params)
    ev = links.call_id.replace('"', "'").concat("~", links.post_id.replace('"', "'"))
    l1 = links.mutate(a=ibis.least(links.api_actor, links.persona_actor),
                      b=ibis.greatest(links.api_actor, links.persona_actor), _ev=ev)
    cross = l1.group_by(["a", "b"]).aggregate(n=l1.post_id.nunique(), first=l1.call_ts.min(), last=l1.post_ts.max(),
                                              ev=l1._ev.collect())
    cross = cross.select(a_actor=cross.a, b_actor=cross.b, signal=ibis.literal("provenance"),
                         weight=cross.n.cast("float64"), n_events=cross.n, first=cross["first"], last=cross["last"],
                         ev=cross.ev)
    # personas posting the same call's text: copies only (a partial match of a widely copied output
    # would tie one topical post to every persona that copied it, one correlated tie per copier)
    copies = links.filter(links.jaccard >= params.shared_call_jaccard)
    x, y = copies.view(), copies.view()
    shared = x.join(y, [x.call_id == y.call_id, x.persona_actor < y.persona_actor]).select(
        a_actor=x.persona_actor, b_actor=y.persona_actor, call_id=x.call_id,
        first=ibis.least(x.post_ts, y.post_ts), last=ibis.greatest(x.post_ts, y.post_ts))
    by_pair = shared.group_by(["a_actor", "b_actor"]).aggregate(
        n=shared.call_id.nunique(), first=shared["first"].min(), last=shared["last"].max(),
        ev=shared.call_id.replace('"', "'").collect(distinct=True))
    peers = by_pair.select("a_actor", "b_actor", signal=ibis.literal("provenance:shared_call"),
                           weight=by_pair.n.cast("float64"), n_events=by_pair.n, first="first", last="last",
                           ev=by_pair.ev)
    edges = cross.union(peers, distinct=False)
    evidence = ibis.literal('["').concat(edges.ev[:10].join('","'), '"]')
    return edges.select("a_actor", "b_actor", "signal", "weight", "n_events",
                        first_ts=edges["first"].as_timestamp("s"), last_ts=edges["last"].as_timestamp("s"),
                        evidence=evidence)
