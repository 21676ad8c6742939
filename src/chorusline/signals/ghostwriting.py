"""ghostwriting (per-account features): API accounts whose generated text several different
personas post soon after it is generated — they write for those personas.

That is what a persona network's API side does and what neither benign API customer that looks like
it does: a developer's or a lab's outputs are posted by nobody, and a customer who posts their own
outputs does it through one account. Coordination and clocks cannot tell a team of colleagues behind
one office address from an operation; who posts the text can.

A (API account, persona) pair counts only when the persona's copies of the account's outputs come
close after them in time, beyond what chance predicts (`signals.semantic.timely_excess`): a template's
outputs resemble posts on the same subject at any lag, at about the same rate per hour, while a copy
follows its output within hours; and when they are at least ``min_share`` of what the persona wrote. Copies are near-verbatim matches (`signals.provenance`'s candidates
at Jaccard ≥ ``min_jaccard``) and, where the store has them, paraphrases (``semantic_provenance``,
`signals.semantic`), each tested on its own horizon.

Features:
- ``ghostwriting:personas`` (API accounts with at least one such pair): the personas it writes for;
- ``ghostwriting:source_personas`` (personas with at least one such source): the most personas any
  of its sources writes for (1: it posts what one account writes for it alone — a self-poster);
- ``ghostwriting:sources`` (personas): how many API accounts write for it.
Evidence: up to 5 of the partners."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from chorusline.signals.provenance import ProvenanceParams, provenance_candidates
from chorusline.signals.semantic import SemanticParams, timely_excess


@dataclass(frozen=True)
class GhostwritingParams:
    min_jaccard: float = 0.8  # a copy of the output (a hashtag added), not another fill of its template
    copy_lag: int = 6 * 3_600  # seconds: a verbatim copy follows its output within this (jittered posting)
    copy_horizon: int = ProvenanceParams.max_lag  # how far after a call its copies are looked for
    paraphrase_similarity: float = 0.8  # cosine of a paraphrase to its output
    paraphrase_lag: int = SemanticParams.timely_lag
    paraphrase_horizon: int = SemanticParams.max_lag
    min_posts: int = 2  # posts of the persona carrying the account's text soon after it
    sd: float = 3.0  # Poisson deviations the timely copies must exceed chance by
    # and they must be this share of what the persona wrote: an ordinary account whose sentences
    # collide now and then with a prolific account's outputs (thousands a month, so some always
    # came just before) is not written for; an operation's persona posts little else
    min_share: float = 0.25


WRITERS_TABLE = "writer_pairs"


def _timely_pairs(matches: ibis.Table, lag: int, horizon: int, params: GhostwritingParams) -> ibis.Table:
    """api_actor, persona_actor, posts: the pairs whose matches within ``lag`` beat the later ones,
    with how many posts came within it."""
    near = matches.lag <= lag
    per = matches.group_by(["api_actor", "persona_actor"]).aggregate(
        posts=matches.post_id.nunique(where=near), _far=matches.post_id.nunique(where=~near))
    per = per.filter(timely_excess(per.posts, per._far, lag, horizon, params.min_posts, params.sd))
    return per.select("api_actor", "persona_actor", "posts")


def writer_pairs(calls: ibis.Table, posts: ibis.Table, paraphrases: ibis.Table | None = None,
                 params: GhostwritingParams = GhostwritingParams()) -> ibis.Table:
    """api_actor, persona_actor, posts: the API accounts whose text the personas post soon after
    it is generated, and how many of their posts did (copies and paraphrases, the larger count; a
    persona posting an account's text is never the account itself)."""
    copies = provenance_candidates(calls, posts, ProvenanceParams(threshold=params.min_jaccard,
                                                                  max_lag=params.copy_horizon))
    pairs = _timely_pairs(copies, params.copy_lag, params.copy_horizon, params)
    if paraphrases is not None:
        close = paraphrases.filter(paraphrases.similarity >= params.paraphrase_similarity)
        pairs = pairs.union(_timely_pairs(close, params.paraphrase_lag, params.paraphrase_horizon, params),
                            distinct=False)
    pairs = pairs.filter(pairs.api_actor != pairs.persona_actor)
    pairs = pairs.group_by(["api_actor", "persona_actor"]).aggregate(posts=pairs.posts.max())
    authored = posts.filter((posts.kind != "repost") & posts.text.notnull())
    authored = authored.group_by(persona_actor=authored.platform.concat(":", authored.account_id)).aggregate(
        _wrote=authored.count())
    pairs = pairs.join(authored, "persona_actor")
    return pairs.filter(pairs.posts >= pairs._wrote * params.min_share).drop("_wrote")


def _evidence(values: ibis.Column) -> ibis.StringValue:
    return ibis.literal('["').concat(values.collect().sort()[:5].join('","'), '"]')


def pair_features(pairs: ibis.Table) -> ibis.Table:
    """actor, feature, value, evidence (the module's three features) from `writer_pairs`."""
    writers = pairs.group_by("api_actor").aggregate(personas=pairs.persona_actor.nunique(),
                                                    evidence=_evidence(pairs.persona_actor))
    api = writers.select(actor=writers.api_actor, feature=ibis.literal("ghostwriting:personas"),
                         value=writers.personas.cast("float64"), evidence=writers.evidence)
    sourced = pairs.join(writers, "api_actor")
    per = sourced.group_by("persona_actor").aggregate(fan=sourced.personas.max(), n=sourced.api_actor.nunique(),
                                                      evidence=_evidence(sourced.api_actor))
    fan = per.select(actor=per.persona_actor, feature=ibis.literal("ghostwriting:source_personas"),
                     value=per.fan.cast("float64"), evidence=per.evidence)
    sources = per.select(actor=per.persona_actor, feature=ibis.literal("ghostwriting:sources"),
                         value=per.n.cast("float64"), evidence=per.evidence)
    return api.union(fan, distinct=False).union(sources, distinct=False)


def ghostwriting_features(calls: ibis.Table, posts: ibis.Table, paraphrases: ibis.Table | None = None,
                          params: GhostwritingParams = GhostwritingParams()) -> ibis.Table:
    """actor, feature, value, evidence (the module's three features)."""
    return pair_features(writer_pairs(calls, posts, paraphrases, params))


def save_ghostwriting(store, paraphrases: ibis.Table | None = None,
                      params: GhostwritingParams = GhostwritingParams()) -> ibis.Table:
    """The features, with the pairs kept in the store as ``writer_pairs``: scoring brings an API
    account that writes for a campaign's personas into the campaign (`campaigns.links.recruit_writers`)."""
    store.backend.create_table(WRITERS_TABLE, writer_pairs(store.table("llm_calls"), store.table("posts"),
                                                           paraphrases, params), overwrite=True)
    return pair_features(store.table(WRITERS_TABLE))


__all__ = ["GhostwritingParams", "WRITERS_TABLE", "ghostwriting_features", "pair_features", "save_ghostwriting",
           "writer_pairs"]
