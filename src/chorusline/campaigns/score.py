"""Scores: a campaign score per cluster and a score per member (docs/DETECTION.md).

- A member's **tie** to its cluster is ``1 − exp(−s)``, s its summed fused weight inside the
  cluster (one edge at P = 0.6 gives 0.6; several strong ones approach 1).
- A cluster's **coordination** is its members' mean tie; its **inauthenticity** the members' mean
  suspicion (``suspicion.py``). Its **score** is their product: tightly coordinated *and* not who
  they claim to be. A fan club is coordinated and authentic; it scores low.
- A member's **score** is ``campaign score × tie × (1 − own_weight + own_weight × suspicion)``:
  an account that is well tied into a campaign and itself looks inauthentic scores near the
  campaign; an ordinary account that slipped in at the edge scores lower.
Accounts are flagged when their member score reaches ``flag_threshold`` in a campaign whose score
reaches ``campaign_threshold``."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from chorusline.campaigns.suspicion import INDICATORS, SuspicionParams, account_indicators


@dataclass(frozen=True)
class ScoreParams:
    own_weight: float = 0.8
    campaign_threshold: float = 0.35
    flag_threshold: float = 0.2
    suspicion: SuspicionParams = SuspicionParams()


def score_members(members: ibis.Table, features: ibis.Table, params: ScoreParams = ScoreParams()) -> ibis.Table:
    """members (actor, cluster, degree, strength) → campaign_members with scores and indicators."""
    ind = account_indicators(features, params.suspicion)
    m = members.left_join(ind, "actor").select(members, *[ind[n] for n in INDICATORS], suspicion=ind.suspicion)
    m = m.mutate(suspicion=m.suspicion.fill_null(0.0), tie=1.0 - (-m.strength).exp(),
                 platform=m.actor.split(":")[0])
    per = m.group_by("cluster").aggregate(coordination=m.tie.mean(), inauthenticity=m.suspicion.mean())
    m = m.join(per, "cluster")
    campaign_score = m.coordination * m.inauthenticity
    own = 1.0 - params.own_weight + params.own_weight * m.suspicion
    m = m.mutate(campaign_score=campaign_score, member_score=campaign_score * m.tie * own)
    flagged = (m.campaign_score >= params.campaign_threshold) & (m.member_score >= params.flag_threshold)
    return m.mutate(flagged=flagged).rename(campaign_id="cluster")


def campaign_table(scored_members: ibis.Table, params: ScoreParams = ScoreParams()) -> ibis.Table:
    """One row per campaign: size by platform, coordination, inauthenticity, score, flagged members."""
    m = scored_members
    out = m.group_by("campaign_id").aggregate(
        size=m.count(), api_accounts=(m.platform == "llm-api").cast("int64").sum(),
        social_accounts=(m.platform != "llm-api").cast("int64").sum(),
        coordination=m.coordination.max(), inauthenticity=m.inauthenticity.max(), score=m.campaign_score.max(),
        flagged=m.flagged.cast("int64").sum())
    return out.mutate(above_threshold=out.score >= params.campaign_threshold).order_by(
        [ibis.desc(out.score), out.campaign_id])
