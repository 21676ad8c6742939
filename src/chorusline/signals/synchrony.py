"""synchrony (edges): accounts active in the same short time bins far more often than chance.

Activity is every API call and every post, cut into bins of ``bin_seconds`` (10 minutes); an
account's active bins are its sessions seen at that resolution. Two accounts sharing ``c`` active
bins are compared with what chance gives them: under a null in which each account spreads its
``n`` active bins over time the way the whole population does (bin b holds a share
``w_b = k_b / Σk`` of all account-bins), the expected overlap is ``e = n_a · n_b · Σ w_b²``. That
null already knows the population's daily and weekly rhythm, so two people awake at the same US
evening are not synchronous; accounts run by one shift on another continent, or fired together by
a script, are. A pair is an edge when ``c ≥ min_shared`` and ``(c − e) / √e ≥ min_z``.

Bins with more than ``max_accounts`` active accounts (a global news moment) make no pairs: their
pairs would be quadratic and say nothing. Same-organisation accounts are not excluded here (the
null model in issue 6's fusion weighs everything once more).

Edge: signal ``synchrony``, weight = c / e (how many times chance), n_events = c, evidence = up to
10 shared bin start times (a JSON list of UTC times, to the minute)."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from chorusline.engine import reused


@dataclass(frozen=True)
class SynchronyParams:
    bin_seconds: int = 600
    min_shared: int = 4
    min_z: float = 4.0
    max_accounts: int = 100  # busier bins make no pairs


def activity(calls: ibis.Table | None, posts: ibis.Table | None) -> ibis.Table:
    """actor, t (UNIX seconds) of every API call and post."""
    parts = [t.select(actor=t.platform.concat(":", t.account_id), t=t.ts.epoch_seconds().cast("int64"))
             for t in (calls, posts) if t is not None]
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out


def synchrony_edges(calls: ibis.Table | None, posts: ibis.Table | None,
                    params: SynchronyParams = SynchronyParams()) -> ibis.Table:
    events = activity(calls, posts)
    bins = events.select("actor", bin=(events.t // params.bin_seconds).cast("int64")).distinct()
    bins = reused(bins)
    per_actor = bins.group_by("actor").aggregate(n=bins.count())
    per_bin = bins.group_by("bin").aggregate(k=bins.count())
    concentration = per_bin.aggregate(s2=(per_bin.k * per_bin.k).sum().cast("float64"),
                                      s1=per_bin.k.sum().cast("float64"))
    w2 = concentration.select(w2=concentration.s2 / (concentration.s1 * concentration.s1))
    quiet = per_bin.filter(per_bin.k <= params.max_accounts).select("bin")
    member = bins.join(quiet, "bin")
    left = member.select(a_actor=member.actor, bin=member.bin)
    right = member.select(b_actor=member.actor, bin=member.bin)
    pairs = left.join(right, (left.bin == right.bin) & (left.a_actor < right.b_actor))
    pairs = pairs.select(pairs.a_actor, pairs.b_actor, pairs.bin)
    grouped = pairs.group_by(["a_actor", "b_actor"]).aggregate(
        c=pairs.count(), first_bin=pairs.bin.min(), last_bin=pairs.bin.max(),
        some_bins=pairs.bin.collect().sort()[:10])
    grouped = grouped.filter(grouped.c >= params.min_shared)
    na = per_actor.select(a_actor=per_actor.actor, na=per_actor.n)
    nb = per_actor.select(b_actor=per_actor.actor, nb=per_actor.n)
    scored = grouped.join(na, "a_actor").join(nb, "b_actor").cross_join(w2)
    expected = scored.na.cast("float64") * scored.nb.cast("float64") * scored.w2
    scored = scored.mutate(e=expected, z=(scored.c.cast("float64") - expected) / expected.sqrt())
    scored = scored.filter(scored.z >= params.min_z)
    size = params.bin_seconds
    stamps = scored.some_bins.map(lambda b: (b * size).as_timestamp("s").strftime("%Y-%m-%d %H:%M"))
    evidence = ibis.literal('["').concat(stamps.join('","'), '"]')
    return scored.select(
        a_actor=scored.a_actor, b_actor=scored.b_actor, signal=ibis.literal("synchrony"),
        weight=scored.c.cast("float64") / scored.e, n_events=scored.c.cast("int64"),
        first_ts=(scored.first_bin * size).as_timestamp("s"),
        last_ts=((scored.last_bin + 1) * size).as_timestamp("s"),
        evidence=evidence)
