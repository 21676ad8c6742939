"""API accounts ↔ the personas that post their output, inside a campaign.

Built from the call → post matches of ``signals.provenance`` between the campaign's own API
accounts and personas (each post attributed to its closest output, then the shortest lag), keeping
only near-verbatim matches (Jaccard ≥ ``min_jaccard``): on the simulator a verbatim match names the
right call 98 % of the time and a partial one (a paraphrase matched to some other output of the
same template) 20–30 %. Then, per persona, the API accounts that carry at least ``min_share`` of
the posts of its best one: a single stray match against a persona whose text one account writes
every day is chance, a single post of a persona that posted three is not."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from chorusline.signals.provenance import provenance_links


@dataclass(frozen=True)
class LinkParams:
    min_jaccard: float = 0.95
    min_share: float = 0.05
    min_posts: int = 1


def campaign_links(calls: ibis.Table, posts: ibis.Table, members: ibis.Table,
                   params: LinkParams = LinkParams()) -> ibis.Table:
    """campaign_id, api_actor, persona_actor, posts (carried), first_ts, last_ts, evidence."""
    flagged = members.filter(members.flagged).select("actor", "campaign_id")
    c = calls.mutate(actor=calls.platform.concat(":", calls.account_id)).semi_join(flagged, "actor").drop("actor")
    p = posts.mutate(actor=posts.platform.concat(":", posts.account_id)).semi_join(flagged, "actor").drop("actor")
    matches = provenance_links(c, p)
    matches = matches.filter(matches.jaccard >= params.min_jaccard)
    api = flagged.select(api_actor=flagged.actor, campaign_id=flagged.campaign_id)
    persona = flagged.select(persona_actor=flagged.actor, _c=flagged.campaign_id)
    j = matches.join(api, "api_actor").join(persona, "persona_actor")
    j = j.filter(j.campaign_id == j._c)
    pair = j.group_by(["campaign_id", "api_actor", "persona_actor"]).aggregate(
        posts=j.count(), first_ts=j.post_ts.min(), last_ts=j.post_ts.max(),
        some=j.call_id.concat("~", j.post_id).collect().sort()[:10])
    best = pair.posts.max().over(group_by=pair.persona_actor)
    pair = pair.mutate(_best=best)
    pair = pair.filter((pair.posts >= pair._best * params.min_share) & (pair.posts >= params.min_posts))
    evidence = ibis.literal('["').concat(pair.some.join('","'), '"]')
    return pair.select("campaign_id", "api_actor", "persona_actor", "posts", "first_ts", "last_ts", evidence=evidence)
