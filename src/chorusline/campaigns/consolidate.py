"""Operations, not fragments: after scoring, reported campaigns that are one operation are joined,
and suspicious accounts tied mostly to one reported campaign are brought into it.

Clustering sees only strong ties (``ClusterParams.min_probability``). An operation whose API
accounts each write for one or two personas is, in that graph, a scatter of small stars (an API
account and its personas): each star is reported on its own, and the accounts that hold the stars
together are in no cluster. Their ties are many but each is weak: shared egress, payment and
prompt templates agree at P ≈ 0.5 (two families at 0.3). On the random-scenario sweep such an
account had 40 or more ties, 85 % of its tie weight going into the operation, and not one tie
over the strong-graph line. The weak tail is no evidence one tie at a time; summed over one
reported campaign and most of an account's ties, it is.

1. **Merge.** Two reported campaigns of the same tier whose ties to each other (fused edges of any
   strength between their flagged members) weigh at least ``merge_share`` of the smaller one's ties
   inside itself are one campaign, when the merged campaign is still reported. Only reported
   campaigns merge, so a merge never carries a benign cluster into a report. The merged campaign's
   figures are recomputed over all its core members; members keep the scores they earned.
2. **Attach.** An account that is not flagged, and whose ties of any strength into one reported
   campaign's flagged members weigh at least ``min_strength`` and ``attach_share`` of all its ties,
   joins that campaign when its own suspicion carries it: its member score, campaign score ×
   tie × own suspicion (as for a periphery member: many weak ties, no floor), must reach the flag
   line. An account nothing was measured on is never attached. ``rounds`` rounds, the later ones
   counting the earlier ones' accounts as members.

Everything but the union of campaign pairs (a few dozen rows) stays in the engine."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pyarrow as pa

from chorusline.campaigns.links import recruit_accounts
from chorusline.campaigns.score import CAMPAIGN_COLUMNS, NOT_REPORTED, ScoreParams, campaign_figures


@dataclass(frozen=True)
class ConsolidateParams:
    enabled: bool = True
    merge_share: float = 0.25  # ties between two reported campaigns vs the smaller one's own ties
    # families a tie between two campaigns must join to count towards merging them: one family's
    # weak tail (co-sharing the same trending posts) grows with the product of two campaigns' sizes
    merge_min_families: int = 2
    min_strength: float = 1.2  # −ln(1 − 0.7): an attached account's ties into the campaign, summed
    attach_share: float = 0.5  # of all the account's tie weight
    rounds: int = 2


def _both_ways(fused: ibis.Table) -> ibis.Table:
    e = fused.select("a_actor", "b_actor", "weight", "n_families")
    return e.union(e.select(a_actor=e.b_actor, b_actor=e.a_actor, weight=e.weight, n_families=e.n_families),
                   distinct=False)


def _reported(members: ibis.Table) -> ibis.Table:
    """actor, campaign_id: the flagged members of reported campaigns."""
    return members.filter(members.flagged & (members.tier != NOT_REPORTED)).select("actor", "campaign_id")


def _merge_groups(pairs: list[dict], own: dict[int, float], tier: dict[int, str], share: float) -> dict[int, int]:
    """campaign → the campaign it merges into (the lowest id of its group), for the merged ones."""
    parent = {c: c for c in own}

    def root(c):
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for row in sorted(pairs, key=lambda r: (-r["w"], r["lo"], r["hi"])):  # campaign pairs (few), not rows
        lo, hi = row["lo"], row["hi"]
        if tier[lo] == tier[hi] and row["w"] >= share * min(own[lo], own[hi]):
            a, b = root(lo), root(hi)
            parent[max(a, b)] = min(a, b)
    return {c: root(c) for c in own if root(c) != c}


def merge_reported(members: ibis.Table, fused: ibis.Table, score: ScoreParams = ScoreParams(),
                   params: ConsolidateParams = ConsolidateParams()) -> ibis.Table:
    """``members`` with the reported campaigns that are tied into one merged (see the module)."""
    reported = _reported(members)
    e = _both_ways(fused)
    ra = reported.select(a_actor="actor", ca="campaign_id")
    rb = reported.select(b_actor="actor", cb="campaign_id")
    tied = e.join(ra, "a_actor").join(rb, "b_actor")
    tied = tied.mutate(lo=ibis.least(tied.ca, tied.cb), hi=ibis.greatest(tied.ca, tied.cb))
    # each edge is there both ways: half the sum is its weight
    agree = tied.n_families >= params.merge_min_families
    per = tied.group_by(["lo", "hi"]).aggregate(w=tied.weight.sum() / 2.0, agreeing=tied.weight.sum(where=agree) / 2.0)
    per = per.to_pyarrow().to_pylist()
    own = {r["lo"]: r["w"] or 0.0 for r in per if r["lo"] == r["hi"]}  # all ties inside a campaign
    between = [{"lo": r["lo"], "hi": r["hi"], "w": r["agreeing"]} for r in per  # campaign pairs (few), not rows
               if r["lo"] != r["hi"] and r["agreeing"]]
    if not between:
        return members
    flagged = members.filter(members.flagged & (members.tier != NOT_REPORTED))
    tiers = {r["campaign_id"]: r["tier"] for r in flagged.select("campaign_id", "tier").distinct().to_pyarrow().to_pylist()}
    own = {c: own.get(c, 0.0) for c in tiers}
    into = _merge_groups(between, own, tiers, params.merge_share)
    if not into:
        return members
    mapping = ibis.memtable(pa.table({"_from": pa.array(list(into), pa.int64()),
                                      "_to": pa.array(list(into.values()), pa.int64())}))
    m = members.left_join(mapping, members.campaign_id == mapping._from)
    m = m.mutate(_merged=m._to.coalesce(m.campaign_id)).drop("_from", "_to")
    groups = set(into.values()) | set(into)
    touched = m.filter(m._merged.isin(list(groups)))
    figures = campaign_figures(touched.filter(touched.core), "_merged", score)
    figures = figures.filter(figures.tier != NOT_REPORTED)  # a merge that would drop below the line is not made
    # active_days: the most any part shows (each part's strong ties, counted in its own cluster)
    days = touched.group_by("_merged").aggregate(_days=touched.active_days.max())
    figures = figures.join(days, "_merged").select("_merged", *[f"{c}" for c in CAMPAIGN_COLUMNS if c != "active_days"],
                                                   active_days="_days")
    kept_groups = figures.select(_g="_merged")
    m = m.left_join(kept_groups, m._merged == kept_groups._g)
    m = m.mutate(_merged=ibis.ifelse(m._g.notnull(), m._merged, m.campaign_id)).drop("_g")
    f = figures.rename(**{f"_f_{c}": c for c in CAMPAIGN_COLUMNS})
    m = m.left_join(f, m._merged == f._merged).drop("_merged_right")
    hit = m._f_tier.notnull()
    return m.mutate(campaign_id=m._merged, **{c: ibis.ifelse(hit, m[f"_f_{c}"], m[c]).cast(members.schema()[c])
                                             for c in CAMPAIGN_COLUMNS}).select(*members.columns)


def attach_suspicious(members: ibis.Table, fused: ibis.Table, indicators: ibis.Table,
                      score: ScoreParams = ScoreParams(), params: ConsolidateParams = ConsolidateParams()) -> ibis.Table:
    """``members`` with the accounts whose ties go mostly into one reported campaign, and whose own
    suspicion carries them over the flag line, flagged in it (``recruited``; see the module)."""
    for _ in range(params.rounds):
        members = members.cache()  # each round reads the last one's result several times
        reported = _reported(members)
        scores = members.filter(members.flagged & (members.tier != NOT_REPORTED)).group_by("campaign_id").aggregate(
            _score=members.campaign_score.max())
        if scores.count().execute() == 0:
            break
        line = ibis.least(ibis.literal(score.flag_threshold), scores._score * score.flag_fraction)
        own_floor = (line / scores._score).min().execute()  # the least own suspicion any campaign can flag
        suspects = indicators.filter(indicators.measured & (indicators.suspicion >= own_floor)).select(b_actor="actor")
        suspects = suspects.anti_join(reported.select(b_actor="actor"), "b_actor")
        e = _both_ways(fused)
        outside = e.anti_join(reported.select(a_actor="actor"), "a_actor")
        # ties to other suspects outside every reported campaign are neither for nor against: an
        # operation's unclustered accounts are tied to each other as much as to its reported core
        counted = outside.anti_join(suspects, "b_actor")
        total = counted.group_by(actor=counted.a_actor).aggregate(_all=counted.weight.sum())
        into = outside.join(reported.select(b_actor="actor", campaign_id="campaign_id"), "b_actor")
        per = into.group_by(actor=into.a_actor, campaign_id=into.campaign_id).aggregate(strength=into.weight.sum())
        rank = ibis.row_number().over(group_by=per.actor, order_by=[ibis.desc(per.strength), per.campaign_id])
        per = per.mutate(_rank=rank).filter(lambda t: t._rank == 0).join(total, "actor")
        per = per.filter((per.strength >= params.min_strength) & (per.strength >= params.attach_share * per._all))
        per = per.join(scores, "campaign_id").join(indicators.filter(indicators.measured), "actor")
        tie = 1.0 - (-per.strength).exp()
        line = ibis.least(ibis.literal(score.flag_threshold), per._score * score.flag_fraction)
        per = per.filter(per._score * tie * per.suspicion >= line)
        new = per.select("actor", "campaign_id", posts=per.strength, own=per.suspicion)
        if new.count().execute() == 0:
            break
        members = recruit_accounts(members, new, indicators)
    return members


def consolidate(members: ibis.Table, fused: ibis.Table, indicators: ibis.Table, score: ScoreParams = ScoreParams(),
                params: ConsolidateParams = ConsolidateParams()) -> ibis.Table:
    """Merge, attach, merge again: an attached account can be the tie two parts lacked."""
    if not params.enabled:
        return members
    members = merge_reported(members.cache(), fused, score, params)
    members = attach_suspicious(members, fused, indicators, score, params)
    return merge_reported(members, fused, score, params)


__all__ = ["ConsolidateParams", "attach_suspicious", "consolidate", "merge_reported"]
