"""Operations, not fragments: after scoring, reported campaigns that are one operation are joined,
and suspicious accounts tied mostly into reported campaigns are brought into the one they are
most tied to.

Clustering sees only strong ties (``ClusterParams.min_probability``). An operation whose API
accounts each write for one or two personas is, in that graph, a scatter of small stars (an API
account and its personas): each star is reported on its own, and the accounts that hold the stars
together are in no cluster. Their ties are many but each is weak: shared egress, payment and
prompt templates, two families agreeing at P ≈ 0.5. On the random-scenario sweep such an
account had 40 or more ties, 85 % of its tie weight going into the operation, and not one tie
over the strong-graph line. The weak tail is no evidence one tie at a time; summed over the
reported part and most of an account's ties, it is.

1. **Merge.** Two reported campaigns of the same tier whose flagged members' ties to each other
   weigh at least ``merge_share`` of the smaller one's ties inside itself (all its members') and at
   least ``min_strength``, counting only ties where ``merge_min_families`` independent families
   agree, are one campaign, when the merged campaign is still reported (if the whole chain of
   merges would fall under the line, none of it is made). One family's weak tail between two large
   campaigns (co-sharing the same trending posts) grows with the product of their sizes, hence the
   agreeing families. Only reported campaigns merge, so a merge never carries a benign cluster into
   a report. The merged campaign takes the lowest id of its parts (the others disappear) and its
   figures are recomputed over all its core members; members keep the scores and flags they earned
   in their part (a member flagged under a part's lower line stays flagged). Two reported
   campaigns of the same tier also merge, whatever the families, when their ties are far denser
   than chance: for each of the two, the share of its own leaving tie weight that goes to the
   other is at least ``merge_lift`` times the other's share of the rest of the population, on at
   least ``merge_lift_strength`` of weight (an operation run by several teams, each clustered on
   its own, shares templates and outputs the population does not).
2. **Attach.** An account in no reported campaign joins the reported campaign it is most tied to
   (``recruited``) when its *ties* — into that campaign's flagged members, of any family, plus its
   ties into the other reported campaigns where ``merge_min_families`` families agree — weigh at
   least ``min_strength`` and ``attach_share`` of all its ties (or its agreeing ties into reported
   campaigns make that share of its agreeing ties: an operation's writer can hold hundreds of
   one-family chance ties that swamp a share of everything), and campaign score × tie × own
   suspicion (a periphery member's rule: many weak ties, no floor) reaches the flag line. An
   operation reported as fragments that did not merge shares its accounts' ties out among them,
   hence the other campaigns' agreeing ties; one family's ties into several campaigns — the
   trending posts operations amplify — are everyone's, hence agreeing only. Ties to other
   *suspects* (accounts in no reported campaign, suspicious enough for some reported campaign to
   flag them) count neither way: an operation's unclustered accounts are tied to each other as much
   as to its core. Two accounts whose one strong tie is to each other (an API account and the one
   persona it writes for: a group too small to be a cluster) are attached as one, their ties
   summed, and each is scored like a core member (the ``own_weight`` floor: their strong tie is
   evidence). An account nothing was measured on is never attached; a member of an unreported
   cluster that is attached leaves its cluster's standing behind (`links.recruit_accounts`).
   ``rounds`` rounds, the later ones counting the earlier ones' accounts as members; then merge
   again.

Everything but the union of campaign pairs and the per-campaign sums (a few dozen rows) stays in
the engine."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from chorusline.campaigns.links import recruit_accounts
from chorusline.campaigns.score import CAMPAIGN_COLUMNS, NOT_REPORTED, ScoreParams, campaign_figures, member_basis
from chorusline.graph.cluster import merge_tied


@dataclass(frozen=True)
class ConsolidateParams:
    enabled: bool = True
    merge_share: float = 0.25  # ties between two reported campaigns vs the smaller one's own ties
    # families a tie between two campaigns must join to count towards merging them: one family's
    # weak tail (co-sharing the same trending posts) grows with the product of two campaigns' sizes
    merge_min_families: int = 2
    # ...or any family, when the ties between them are this many times denser than chance: for
    # each one, the share of its own leaving tie weight that goes to the other over the other's
    # share of the rest of the population (an operation's teams, each clustered on its own, share
    # templates and outputs that the population does not; 0 switches the rule off)
    merge_lift: float = 6.0
    # the least tie weight between them for that rule, −ln(1 − 0.95): between small campaigns a
    # tie or two is "dense" by chance
    merge_lift_strength: float = 3.0
    # −ln(1 − 0.7): the least summed tie weight that merges two campaigns or attaches an account
    min_strength: float = 1.2
    attach_share: float = 0.5  # of all the account's tie weight
    rounds: int = 2
    # two accounts whose one strong tie is to each other (an API account and the one persona it
    # writes for: too small a group to be a cluster) are attached as one, their ties summed
    pair_probability: float = 0.6


def _both_ways(fused: ibis.Table) -> ibis.Table:
    e = fused.select("a_actor", "b_actor", "weight", "n_families")
    return e.union(e.select(a_actor=e.b_actor, b_actor=e.a_actor, weight=e.weight, n_families=e.n_families),
                   distinct=False)


SCRATCH_PREFIX = "consolidate_"  # its scratch tables: dropped by whoever stores the result


def _kept(table: ibis.Table, name: str) -> ibis.Table:
    """``table`` written to the scratch table ``consolidate_<name>`` and read back. Not ``.cache()``:
    Spark caches lazily, so a cached plan still carries (and re-analyses) everything before it,
    round after round, and loses the memtables it was built on."""
    backend = table.get_backend()
    backend.create_table(SCRATCH_PREFIX + name, table, overwrite=True)
    return backend.table(SCRATCH_PREFIX + name)


def _reported(members: ibis.Table) -> ibis.Table:
    """actor, campaign_id: the flagged members of reported campaigns."""
    return members.filter(members.flagged & (members.tier != NOT_REPORTED)).select("actor", "campaign_id")


def _mergeable(between: list[dict], e: ibis.Table, reported: ibis.Table, population: int,
               params: ConsolidateParams) -> list[dict]:
    """The campaign pairs (lo, hi, w) that may merge: ties where families agree weighing
    ``min_strength`` (``merge_reported`` then asks for ``merge_share`` of the smaller one's own),
    or ties of any family far denser than chance (``merge_lift``; those pairs pass the share test
    whatever their weight)."""
    agreeing = [r for r in between if r["w"] and r["w"] >= params.min_strength]
    if not params.merge_lift or population <= 0:
        return agreeing
    sizes = {r["campaign_id"]: r["n"] for r in
             reported.group_by("campaign_id").aggregate(n=reported.count()).to_pyarrow().to_pylist()}
    # each campaign's tie weight leaving its flagged members (to anyone outside them)
    mine = reported.select(a_actor="actor", _c="campaign_id")
    out = e.join(mine, "a_actor").left_join(reported.select(b_actor="actor", _cb="campaign_id"), "b_actor")
    out = out.filter(out._cb.isnull() | (out._cb != out._c))
    leaving = {r["_c"]: r["w"] for r in out.group_by("_c").aggregate(w=out.weight.sum()).to_pyarrow().to_pylist()}

    def lift(c: int, other: int, w: float) -> float:
        """The share of c's leaving ties that go to ``other``, over the share ``other``'s size
        would draw if c's ties fell anywhere in the rest of the population."""
        rest = population - sizes[c]
        if not leaving.get(c) or rest <= 0:
            return 0.0
        return (w / leaving[c]) / (sizes[other] / rest)

    dense = [dict(r, w=float("inf")) for r in between if r["w_all"] >= params.merge_lift_strength
             and min(lift(r["lo"], r["hi"], r["w_all"]), lift(r["hi"], r["lo"], r["w_all"])) >= params.merge_lift]
    keep = {(r["lo"], r["hi"]) for r in dense}
    return dense + [r for r in agreeing if (r["lo"], r["hi"]) not in keep]


def merge_reported(members: ibis.Table, fused: ibis.Table, score: ScoreParams = ScoreParams(),
                   params: ConsolidateParams = ConsolidateParams(), scratch: str = "merge",
                   population: int = 0) -> ibis.Table:
    """``members`` with the reported campaigns that are tied into one merged (see the module);
    ``population``: the accounts ties could fall on (0: no lift rule)."""
    members = _kept(members, scratch)  # read four times below (each call its own scratch name: a
    # table cannot be rewritten from itself)
    reported = _reported(members)
    e = _both_ways(fused)
    # between two campaigns: ties of their flagged members; inside one: ties of all its members (a
    # campaign whose flagged members share no tie is not thereby an easy merge)
    ra = reported.select(a_actor="actor", ca="campaign_id")
    rb = reported.select(b_actor="actor", cb="campaign_id")
    tied = e.join(ra, "a_actor").join(rb, "b_actor")
    tied = tied.filter(tied.ca < tied.cb)  # each pair of campaigns once, each edge once
    agree = tied.n_families >= params.merge_min_families
    between = tied.group_by(lo="ca", hi="cb").aggregate(w=tied.weight.sum(where=agree), w_all=tied.weight.sum())
    floor = min(params.min_strength, params.merge_lift_strength) if params.merge_lift else params.min_strength
    between = between.filter(between.w_all >= floor).to_pyarrow().to_pylist()  # campaign pairs (few)
    between = _mergeable(between, e, reported, population, params)
    if not between:
        return members
    everyone = members.filter(members.tier != NOT_REPORTED).select("actor", "campaign_id")
    inside = fused.join(everyone.select(a_actor="actor", _ca="campaign_id"), "a_actor").join(
        everyone.select(b_actor="actor", _cb="campaign_id"), "b_actor")
    inside = inside.filter(inside._ca == inside._cb)
    own = {r["c"]: r["w"] for r in inside.group_by(c="_ca").aggregate(w=inside.weight.sum()).to_pyarrow().to_pylist()}
    flagged = members.filter(members.flagged & (members.tier != NOT_REPORTED))
    tiers = {r["campaign_id"]: r["tier"] for r in flagged.select("campaign_id", "tier").distinct().to_pyarrow().to_pylist()}
    own = {c: own.get(c, 0.0) for c in tiers}
    into = merge_tied(between, own, params.merge_share, tiers)
    if not into:
        return members
    # the few merged ids as an expression, not a memtable: Spark caches lazily, and a memtable's view
    # is gone by the time a cached plan built on it runs
    merged_id = ibis.cases(*((members.campaign_id == c, ibis.literal(to, "int64")) for c, to in sorted(into.items())),
                           else_=members.campaign_id)
    m = members.mutate(_merged=merged_id)
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


def _pairs(fused: ibis.Table, settled: ibis.Table, params: ConsolidateParams) -> ibis.Table:
    """actor, unit: accounts outside every reported campaign (``settled``) whose one strong tie is to each other
    (an API account and the one persona it writes for: a group too small to be a cluster), both
    named by the first of the two."""
    strong = fused.filter(fused.probability >= params.pair_probability).select("a_actor", "b_actor")
    strong = strong.anti_join(settled.select(a_actor="actor"), "a_actor").anti_join(
        settled.select(b_actor="actor"), "b_actor")
    ends = strong.select(actor=strong.a_actor).union(strong.select(actor=strong.b_actor), distinct=False)
    lone = ends.group_by("actor").aggregate(_n=ends.count())
    lone = lone.filter(lone._n == 1).select("actor")
    pairs = strong.semi_join(lone.select(a_actor="actor"), "a_actor").semi_join(lone.select(b_actor="actor"), "b_actor")
    unit = ibis.least(pairs.a_actor, pairs.b_actor)
    return pairs.select(actor=pairs.a_actor, unit=unit).union(pairs.select(actor=pairs.b_actor, unit=unit),
                                                              distinct=False)


def attach_suspicious(members: ibis.Table, fused: ibis.Table, indicators: ibis.Table,
                      score: ScoreParams = ScoreParams(), params: ConsolidateParams = ConsolidateParams()) -> ibis.Table:
    """``members`` with the accounts whose ties go mostly into reported campaigns, and whose own
    suspicion carries them over the flag line, flagged in the one they are most tied to
    (``recruited``; see the module)."""
    for round_ in range(params.rounds):
        members = _kept(members, f"attach{round_}")  # each round reads the last one's result several times
        reported = _reported(members)
        scores = members.filter(members.flagged & (members.tier != NOT_REPORTED)).group_by("campaign_id").aggregate(
            _score=member_basis(members, score).max())
        scores = scores.filter(scores._score > 0)
        if scores.count().execute() == 0:
            break
        # every member of a reported campaign stays where scoring put it, flagged or not (a quiet
        # knot of colleagues inside an operation's cluster is left unflagged on purpose)
        settled = members.filter(members.tier != NOT_REPORTED).select(a_actor="actor")
        line = ibis.least(ibis.literal(score.flag_threshold), scores._score * score.flag_fraction)
        own_floor = (line / scores._score).min().execute()  # the least own suspicion any campaign can flag
        suspects = indicators.filter(indicators.measured & (indicators.suspicion >= own_floor)).select(b_actor="actor")
        suspects = suspects.anti_join(reported.select(b_actor="actor"), "b_actor")
        units = _pairs(fused, settled.select(actor="a_actor"), params)
        e = _both_ways(fused)
        outside = e.anti_join(settled, "a_actor")
        ua = units.select(a_actor="actor", _unit="unit")
        ub = units.select(b_actor="actor", _ub="unit")
        outside = outside.left_join(ua, "a_actor").select(outside, _unit=ua._unit)
        outside = outside.left_join(ub, "b_actor").select(outside, _ub=ub._ub)
        outside = outside.mutate(_unit=outside._unit.coalesce(outside.a_actor))
        outside = outside.filter(outside._ub.isnull() | (outside._ub != outside._unit))  # a unit's own ties count neither way
        # ties to other suspects outside every reported campaign are neither for nor against: an
        # operation's unclustered accounts are tied to each other as much as to its reported core
        counted = outside.anti_join(suspects, "b_actor")
        agree = counted.n_families >= params.merge_min_families
        total = counted.group_by(unit=counted._unit).aggregate(_all=counted.weight.sum(),
                                                               _all2=counted.weight.sum(where=agree).fill_null(0.0))
        into = outside.join(reported.select(b_actor="actor", campaign_id="campaign_id"), "b_actor")
        per = into.group_by(unit=into._unit, campaign_id=into.campaign_id).aggregate(
            strength=into.weight.sum(), _strength2=into.weight.sum(where=into.n_families >= params.merge_min_families))
        # the unit joins the campaign it is most tied to, counting its ties into the other reported
        # campaigns where families agree: an operation reported as fragments that did not merge (stars
        # of an API account and its personas) shares its accounts' ties out among them; one family's
        # ties into several campaigns (the trending posts operations amplify) are everyone's
        per = per.mutate(_strength2=per._strength2.fill_null(0.0))
        rank = ibis.row_number().over(group_by=per.unit, order_by=[ibis.desc(per.strength), per.campaign_id])
        # a window, not a second aggregate joined back: Spark would run the ties' pipeline again
        per = per.mutate(_rank=rank, _into2=per._strength2.sum().over(group_by=per.unit))
        per = per.filter(per._rank == 0).join(total, "unit")
        per = per.mutate(_into=per.strength + per._into2 - per._strength2)
        # most of all its ties, or of the ties where independent families agree (the weak single-family
        # tail — chance text matches, shared big networks — can be most of an operation account's ties)
        share = (per._into >= params.attach_share * per._all) | (
            (per._into2 > 0) & (per._into2 >= params.attach_share * per._all2))
        per = per.filter((per._into >= params.min_strength) & share)
        # back to accounts: a unit's members, or the account itself
        lone = per.select(actor=per.unit, unit=per.unit).anti_join(units.select(actor="actor"), "actor")
        who = units.mutate(_paired=ibis.literal(True)).union(lone.mutate(_paired=ibis.literal(False)))
        per = per.join(who, "unit").join(scores, "campaign_id").join(indicators.filter(indicators.measured), "actor")
        tie = 1.0 - (-per._into).exp()
        # a member of a strongly tied pair is a core of its own (the core's floor); a lone account's
        # many weak ties are not, so its own suspicion carries it alone
        paired = per._paired
        own = ibis.ifelse(paired, 1.0 - score.own_weight + score.own_weight * per.suspicion, per.suspicion)
        line = ibis.least(ibis.literal(score.flag_threshold), per._score * score.flag_fraction)
        per = per.filter(per._score * tie * own >= line)
        new = _kept(per.select("actor", "campaign_id", posts=per._into, own=own), f"new{round_}")
        if new.count().execute() == 0:
            break
        members = recruit_accounts(members, new, indicators)
    return members


def consolidate(members: ibis.Table, fused: ibis.Table, indicators: ibis.Table, score: ScoreParams = ScoreParams(),
                params: ConsolidateParams = ConsolidateParams()) -> ibis.Table:
    """Merge, attach, merge again: an attached account can be the tie two parts lacked."""
    if not params.enabled:
        return members
    population = int(indicators.count().execute()) if params.merge_lift else 0  # the density rule's only use
    members = merge_reported(members, fused, score, params, "merge0", population)
    members = attach_suspicious(members, fused, indicators, score, params)
    return merge_reported(members, fused, score, params, "merge1", population)


__all__ = ["SCRATCH_PREFIX", "ConsolidateParams", "attach_suspicious", "consolidate", "merge_reported"]
