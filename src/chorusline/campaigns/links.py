"""API accounts ↔ the personas that post their output, inside a campaign.

A persona's provenance edges (``signals/provenance.py``) point at every API account whose output
resembled one of its posts; inside one operation the outputs of one template resemble each other,
so a persona also matches API accounts that never wrote for it. The link kept is the one that
carries the persona's posts: for each persona, its API accounts in the same campaign whose carried
posts reach ``min_share`` of the best one's, and at least ``min_posts``."""

from __future__ import annotations

from dataclasses import dataclass

import ibis


@dataclass(frozen=True)
class LinkParams:
    min_share: float = 0.1
    min_posts: int = 1


def campaign_links(edges: ibis.Table, members: ibis.Table, params: LinkParams = LinkParams()) -> ibis.Table:
    """campaign_id, api_actor, persona_actor, posts (carried), first_ts, last_ts, evidence."""
    p = edges.filter(edges.signal == "provenance")
    # provenance edges are (a < b) sorted; "llm-api:..." sorts before most social platform names but not all
    a_is_api = p.a_actor.startswith("llm-api:")
    p = p.select(api_actor=ibis.ifelse(a_is_api, p.a_actor, p.b_actor),
                 persona_actor=ibis.ifelse(a_is_api, p.b_actor, p.a_actor),
                 posts=p.n_events, first_ts=p.first_ts, last_ts=p.last_ts, evidence=p.evidence)
    flagged = members.filter(members.flagged)
    api = flagged.select(api_actor=flagged.actor, campaign_id=flagged.campaign_id)
    persona = flagged.select(persona_actor=flagged.actor, _c=flagged.campaign_id)
    j = p.join(api, "api_actor").join(persona, "persona_actor")
    j = j.filter(j.campaign_id == j._c).drop("_c")
    best = j.posts.max().over(group_by=j.persona_actor)
    j = j.mutate(_best=best)
    j = j.filter((j.posts >= j._best * params.min_share) & (j.posts >= params.min_posts))
    return j.select("campaign_id", "api_actor", "persona_actor", "posts", "first_ts", "last_ts", "evidence")
