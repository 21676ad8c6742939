"""Scores: a campaign score per cluster, the tier it is reported in, and a score per member
(docs/DETECTION.md §4).

- A member's **tie** to its cluster is ``1 − exp(−s)``, s its summed fused weight inside the
  cluster (one edge at P = 0.6 gives 0.6; several strong ones approach 1).
- A member is **measured** when it has at least one authenticity indicator (``suspicion.py``);
  an account with none is unknown, not authentic.
- A cluster's **coordination** is its core members' mean tie; its **coverage** the share of them
  measured; its **inauthenticity** the measured core members' mean suspicion; it is **sustained**
  when its core's strong ties fired on ``min_active_days`` different days or more (a burst during
  one live event is one evening; an operation keeps meeting).
- Its **signature** is the weaker of its two strongest shared traits (``_signature``): an
  operation shares its clock, its registration burst, its supply of text, which the mean of every
  member's mean dilutes with what each member does not show.
- **Tiers.** Where authenticity was measured (coverage ≥ ``min_coverage``) the score is
  coordination × max(inauthenticity, signature) and a cluster at ``campaign_threshold`` or more is reported as
  ``inauthentic``: tightly coordinated and not who they claim to be. A fan club is coordinated and
  authentic; it is measured and scores low. Where it could not be measured (social data without
  profiles or clocks) the score is coordination × sustained and a cluster over the threshold is
  reported as ``coordinated``: coordinated beyond chance, authenticity not established. Never
  silently dropped; the tier says what the evidence is. Everything else is ``not reported``.
- A member's **score** in the inauthentic tier is ``coordination × inauthenticity × tie ×
  (1 − own_weight + own_weight × own)`` (``member_basis``: the signature reports a campaign, it
  does not lower what a member must show), own its suspicion when measured, else the measured members' inauthenticity
  (no measurement of its own: it is what its campaign shows). An account well tied in that itself
  looks inauthentic scores near the campaign; a measured, ordinary account that slipped in at the
  edge scores low. A periphery member (``graph/cluster.py``: many weak ties, no strong one) gets no
  floor: its score is ``basis × tie × own``. In the coordinated tier own is 1: there,
  ties are the evidence, and the tier says so.
Accounts are flagged when their member score reaches ``flag_threshold`` in a reported campaign."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import ibis

from chorusline.campaigns.suspicion import INDICATORS, SuspicionParams, account_indicators


TIERS = ("inauthentic", "coordinated", "not reported")
NOT_REPORTED = TIERS[2]
# a campaign's own figures, repeated on every member row of campaign_members
CAMPAIGN_COLUMNS = ("coordination", "coverage", "inauthenticity", "signature", "signature_of", "active_days", "sustained",
                    "campaign_score", "tier")


@dataclass(frozen=True)
class ScoreParams:
    own_weight: float = 0.8
    campaign_threshold: float = 0.3
    flag_threshold: float = 0.2
    # in a campaign scoring close to the line a member is flagged from this share of the campaign's
    # score (ties and its own suspicion as strong as its campaign's usual member), not only from
    # flag_threshold: otherwise a campaign just over the line flags only its most suspicious few
    flag_fraction: float = 0.4
    min_coverage: float = 0.5  # share of core members measured for authenticity to count as measured
    min_active_days: int = 3  # a cluster whose strong ties fired on fewer days is one episode
    min_part_size: int = 6  # a knot inside an unreported cluster this large may be reported on its own
    quiet_knots: bool = True  # in a reported cluster, a knot that would not be reported on its own is not flagged
    writers_knot: float = 0.5  # ghostwriting indicator from which a member belongs to its cluster's writers' knot
    # a campaign's signature: its strongest indicators, each measured on this share of its core or more
    signature_share: float = 0.6  # over half: a trait of one platform's members alone (API or social) is not the campaign's
    signature_min_core: int = 6  # fewer core members and a shared trait is as likely a coincidence
    suspicion: SuspicionParams = SuspicionParams()


def _traits(core: ibis.Table, params: ScoreParams) -> dict[str, ibis.FloatingValue]:
    """Per indicator, as aggregates of ``core`` grouped by campaign: its mean over the core members
    measured on it, counted only when measured on ``signature_share`` of the core (and the core has
    ``signature_min_core`` members), else 0."""
    enough = core.count() >= params.signature_min_core
    return {f"_t_{n}": ibis.ifelse(enough & (core[n].count() >= params.signature_share * core.count()),
                                   core[n].mean().fill_null(0.0), 0.0) for n in INDICATORS}


def _signature(per: ibis.Table) -> tuple[ibis.FloatingValue, ibis.StringValue]:
    """A campaign's signature: the weaker of its two strongest traits (``_traits``, columns of
    ``per``), and their names. An operation shares its traits — one clock, one registration burst, one supply
    of text — which the mean of every member's mean dilutes with the indicators each member does not
    show. A benign group shares one trait of its own kind (syndication answers news fast, a
    copywriting batch job asks for personas, a lab keeps office hours); two is what an operation
    shows and a crowd's scattered oddities average away."""
    # The traits are columns of the aggregate, not expressions: Ibis inlines expressions into one
    # SELECT, and the traits nested in every use of the second highest made Spark's generated code
    # outgrow the JVM's 64 KB (and the query took a minute to plan on smoke).
    trait = {n: per[f"_t_{n}"] for n in INDICATORS}
    # the second highest: the highest of the pairs' lower
    second = ibis.greatest(*(ibis.least(trait[a], trait[b]) for a, b in itertools.combinations(INDICATORS, 2)))
    # a trait is named when at most one other is higher (the top two, and any tied with them: two
    # means of equal shares can differ in their last bit, hence the tolerance)
    higher = {n: sum((trait[o] > v + 1e-9).cast("int64") for o in INDICATORS if o != n) for n, v in trait.items()}
    named = [ibis.ifelse((v > 0) & (higher[n] <= 1), ibis.literal(f"{n} ").concat(v.round(2).cast("string")), "")
             for n, v in trait.items()]
    names = ibis.literal(", ").join(named).re_replace(r"(, )+", ", ").re_replace(r"^, |, $", "")
    return ibis.greatest(second, 0.0), names


def campaign_figures(core: ibis.Table, key: str, params: ScoreParams, signature_where: str | None = None) -> ibis.Table:
    """key, coordination, coverage, inauthenticity (the measured members' mean suspicion), signature
    and signature_of (``_signature``), sustained, campaign_score, tier, _measured_tier: the campaign
    figures of the core members grouped by ``key``. Measured, the score is coordination × the higher
    of inauthenticity and signature (with ``signature_where``, a boolean column of ``core``: the
    signature only for groups where it holds for every member; elsewhere inauthenticity alone)."""
    per = core.group_by(key).aggregate(
        coordination=core.tie.mean(), coverage=core.measured.cast("float64").mean(),
        inauthenticity=core.suspicion.mean(where=core.measured),
        sustained=(core.active_days >= params.min_active_days).cast("float64").max(), _core=core.count(),
        **({"_gate": core[signature_where].min()} if signature_where else {}),
        **_traits(core, params))
    signature, names = _signature(per)
    if signature_where:
        signature, names = ibis.ifelse(per._gate, signature, 0.0), ibis.ifelse(per._gate, names, "")
    per = per.mutate(inauthenticity=per.inauthenticity.fill_null(0.0), signature=signature, signature_of=names)
    per = per.drop(*[f"_t_{n}" for n in INDICATORS], *(["_gate"] if signature_where else []))
    measured = per.coverage >= params.min_coverage
    score = ibis.ifelse(measured, per.coordination * ibis.greatest(per.inauthenticity, per.signature),
                        per.coordination * per.sustained)
    tier = ibis.ifelse(score >= params.campaign_threshold, ibis.ifelse(measured, TIERS[0], TIERS[1]), NOT_REPORTED)
    return per.mutate(campaign_score=score, tier=tier, _measured_tier=measured)


def member_basis(t: ibis.Table, params: ScoreParams) -> ibis.FloatingValue:
    """What a member's score scales: its campaign's score, except that a measured campaign's
    signature decides whether it is reported, not how little of its own evidence a member needs
    (coordination × inauthenticity: an account that slipped into an operation's cluster does not
    share the operation's traits by being there)."""
    return ibis.ifelse(t.coverage >= params.min_coverage, t.coordination * t.inauthenticity, t.campaign_score)


def score_members(members: ibis.Table, features: ibis.Table, params: ScoreParams = ScoreParams(),
                  indicators: ibis.Table | None = None) -> ibis.Table:
    """members (actor, cluster, degree, strength, core, active_days, part) → campaign_members with
    scores, indicators, the campaign's figures and tier.

    Operations, not clusters: a cluster that is not reported as a whole is looked at knot by knot
    (``part``, from ``graph/cluster.py``); a knot of ``min_part_size`` core members or more that
    would be reported on its own becomes its own campaign. A tight cell absorbed into a loud benign
    cluster is not averaged away by the hundreds of authentic accounts around it.

    ``indicators``: ``account_indicators(features, params.suspicion)`` already computed (and stored),
    so that the query does not carry it again."""
    ind = account_indicators(features, params.suspicion) if indicators is None else indicators
    m = members.left_join(ind, "actor").select(members, *[ind[n] for n in INDICATORS], suspicion=ind.suspicion,
                                               measured=ind.measured)
    m = m.mutate(suspicion=m.suspicion.fill_null(0.0), measured=m.measured.fill_null(False),
                 tie=1.0 - (-m.strength).exp(), platform=m.actor.split(":")[0],
                 # the accounts whose text comes from API accounts writing for several personas (or
                 # those accounts) are one knot whatever the co-activity graph's knots say: an
                 # operation's supply chain, however much benign amplification surrounds it
                 _knot=m.cluster.cast("string").concat(":", ibis.ifelse(m.ghostwriting >= params.writers_knot, "w",
                                                                        m.part.cast("string"))))
    core = m.filter(m.core)
    figures = ["coordination", "coverage", "inauthenticity", "signature", "signature_of", "sustained", "campaign_score",
               "tier", "_measured_tier"]
    # a cluster with several knots that could stand alone has its signature knot by knot, not as a
    # whole: in a cluster of hundreds around an operation the operation's traits are the cluster's
    # strongest, and would report the crowd with it
    sizes = core.group_by(["cluster", "_knot"]).aggregate(_n=core.count())
    knots_in = sizes.group_by("cluster").aggregate(
        _one_knot=(sizes._n >= params.min_part_size).cast("int64").sum() <= 1)
    core = core.join(knots_in, "cluster")
    whole = campaign_figures(core, "cluster", params, "_one_knot").drop("_core")
    all_knots = campaign_figures(core, "_knot", params)
    knots = all_knots.filter((all_knots.tier != NOT_REPORTED) & (all_knots._core >= params.min_part_size)).drop("_core")
    # a knot of a reported cluster that would stay below the line on its own (colleagues behind one
    # office address, a fan crowd the operation amplified) is carried by the rest: not flagged
    quiet = all_knots.filter((all_knots.tier == NOT_REPORTED) & (all_knots._core >= params.min_part_size)
                             & ibis.literal(params.quiet_knots))
    quiet = quiet.select(_quiet_knot="_knot")
    m = m.join(whole.rename(**{f"_w{c}": c for c in figures}), "cluster")
    m = m.left_join(knots.rename(**{f"_k{c}": c for c in figures}), "_knot").drop("_knot_right")
    # a knot stands on its own only in a tier its cluster's measurement allows: where the cluster was
    # measured (and found authentic as a whole), only as inauthentic, never as "not measured"
    allowed = (m._ktier == TIERS[0]) | ~m._w_measured_tier
    own_campaign = (m._wtier == NOT_REPORTED) & m._ktier.notnull() & allowed
    # the rest of a split cluster keeps the whole cluster's figures (and its "not reported")
    m = m.mutate(_key=ibis.ifelse(own_campaign, m._knot, m.cluster.cast("string")),
                 **{c: ibis.ifelse(own_campaign, m[f"_k{c}"], m[f"_w{c}"]) for c in figures})
    m = m.mutate(_knot_id=m._knot).drop(*[f"_{w}{c}" for w in "wk" for c in figures], "_knot")
    own = ibis.ifelse(m._measured_tier, ibis.ifelse(m.measured, m.suspicion, m.inauthenticity), 1.0)
    # a core member's strong ties are evidence of their own (the 1 − own_weight floor); a periphery
    # member's are many weak ones, so its score rests on its own suspicion entirely
    weight = ibis.ifelse(m.core, params.own_weight, 1.0)
    basis = member_basis(m, params)
    m = m.mutate(member_score=basis * m.tie * (1.0 - weight + weight * own))
    m = m.left_join(quiet, m._knot_id == quiet._quiet_knot)
    line = ibis.least(ibis.literal(params.flag_threshold), member_basis(m, params) * params.flag_fraction)
    flagged = (m.tier != NOT_REPORTED) & (m.member_score >= line) & m._quiet_knot.isnull()
    # campaigns numbered by cluster, a cluster's own knots after it (ranked over the few keys, not the rows)
    keys = m.select("cluster", "_key").distinct()
    keys = keys.mutate(campaign_id=ibis.dense_rank().over(order_by=[keys.cluster, keys._key.length(), keys._key])
                       .cast("int64")).drop("cluster")
    m = m.mutate(flagged=flagged).drop("_knot_id", "_quiet_knot")
    return m.join(keys, "_key").drop("_measured_tier", "_key", "cluster")


def campaign_table(scored_members: ibis.Table, params: ScoreParams = ScoreParams()) -> ibis.Table:
    """One row per campaign: size by platform, its figures and tier, flagged members."""
    m = scored_members
    out = m.group_by("campaign_id").aggregate(
        size=m.count(), api_accounts=(m.platform == "llm-api").cast("int64").sum(),
        social_accounts=(m.platform != "llm-api").cast("int64").sum(),
        coordination=m.coordination.max(), coverage=m.coverage.max(), inauthenticity=m.inauthenticity.max(),
        signature=m.signature.max(), signature_of=m.signature_of.max(),
        active_days=m.active_days.max(), sustained=m.sustained.max(), score=m.campaign_score.max(), tier=m.tier.max(),
        flagged=m.flagged.cast("int64").sum())
    out = out.mutate(verdict=verdict(out, params))
    # scoring as a campaign is not enough: someone must be flagged (a score just over the line with
    # every member's own score under flag_threshold reports nobody)
    nobody = (out.tier != NOT_REPORTED) & (out.flagged == 0)
    out = out.mutate(verdict=ibis.ifelse(nobody, ibis.literal("not reported, no member flagged: ").concat(
                         out.verdict.replace("reported, ", "scores as ")), out.verdict),
                     tier=ibis.ifelse(nobody, NOT_REPORTED, out.tier))
    out = out.mutate(above_threshold=out.tier != NOT_REPORTED)
    return out.order_by([ibis.desc(out.score), out.campaign_id])


def _num(x) -> ibis.StringValue:
    return x.round(2).cast("string")


def _pct(x) -> ibis.StringValue:
    return (x * 100).round(0).cast("int64").cast("string").concat("%")


def verdict(c: ibis.Table, params: ScoreParams = ScoreParams()) -> ibis.StringValue:
    """One sentence per campaign: its tier and the figures that put it there, for the CLI, the
    report and the exports (why a cluster was reported, or why it stayed below the line)."""
    threshold = _num(ibis.literal(params.campaign_threshold))
    measured = c.coverage >= params.min_coverage
    coverage = ibis.literal("authenticity measured on ").concat(_pct(c.coverage), " of the core")
    days = c.active_days.cast("string").concat(" day(s)")
    by_signature = c.signature > c.inauthenticity
    evidence = ibis.ifelse(by_signature, ibis.literal("signature ").concat(
        _num(c.signature), " (traits its core shares: ", c.signature_of.fill_null(""), "; members' mean inauthenticity ",
        _num(c.inauthenticity), ", ", coverage, ")"),
        ibis.literal("inauthenticity ").concat(_num(c.inauthenticity), " (", coverage, ")"))
    inauthentic = ibis.literal("coordination ").concat(_num(c.coordination), " × ", evidence, " = ", _num(c.score))
    coordinated = ibis.literal("coordination ").concat(_num(c.coordination), ", ties beyond chance on ", days, "; ",
                                                       coverage, " (under ", _pct(ibis.literal(params.min_coverage)),
                                                       ")")
    return ibis.cases(
        (c.tier == TIERS[0], ibis.literal("reported, inauthentic: ").concat(inauthentic, " ≥ ", threshold)),
        (c.tier == TIERS[1], ibis.literal("reported, coordinated (authenticity not established): ").concat(
            coordinated, "; score ", _num(c.score), " ≥ ", threshold)),
        (measured, ibis.literal("not reported: ").concat(inauthentic, " < ", threshold,
                                                         ": coordinated but measured as authentic")),
        (c.active_days < params.min_active_days, ibis.literal("not reported: ").concat(
            coverage, " and its ties fired on ", days, " (under ", ibis.literal(str(params.min_active_days)),
            "): one episode, not sustained coordination")),
        else_=ibis.literal("not reported: ").concat(coordinated, "; score ", _num(c.score), " < ", threshold))
