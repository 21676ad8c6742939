"""synchrony (edges): accounts active in the same short time bins far more often than chance.

Activity is every API call and every post, cut into bins of ``bin_seconds`` (10 minutes); an
account's active bins are its sessions seen at that resolution. Two accounts sharing ``c`` active
bins are compared with what their own weekly rhythms give them by chance: with ``h_a(w)`` the
account's active bins at hour-of-week w and ``B`` the bins of one hour-of-week in the span, the
expected overlap is ``e = Σ_w h_a(w) · h_b(w) / B``. Two colleagues on the same office clock, or
two people awake the same US evening, expect to overlap a lot and are not synchronous for it;
accounts that act in the same ten minutes again and again beyond their rhythm (one operator
driving both, a script firing them together) are. A pair is an edge when ``c ≥ min_shared`` and
``(c − e) / √e ≥ min_z``.

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
    per_bin = bins.group_by("bin").aggregate(k=bins.count())
    quiet = per_bin.filter(per_bin.k <= params.max_accounts).select("bin")
    member = bins.join(quiet, "bin")
    left = member.select(a_actor=member.actor, bin=member.bin)
    right = member.select(b_actor=member.actor, bin=member.bin)
    pairs = left.join(right, (left.bin == right.bin) & (left.a_actor < right.b_actor))
    pairs = pairs.select(pairs.a_actor, pairs.b_actor, pairs.bin)
    grouped = pairs.group_by(["a_actor", "b_actor"]).aggregate(
        c=pairs.count(), first_bin=pairs.bin.min(), last_bin=pairs.bin.max(),
        some_bins=pairs.bin.collect().sort()[:10])
    grouped = reused(grouped.filter(grouped.c >= params.min_shared))
    # the rhythm null: hour-of-week profiles of both accounts (1970-01-01 was a Thursday: +72 h)
    how = (((bins.bin * params.bin_seconds) // 3600 + 72) % 168).cast("int64")
    hows = bins.mutate(how=how)
    rhythm = hows.group_by(["actor", "how"]).aggregate(h=hows.count())
    span = bins.aggregate(lo=bins.bin.min(), hi=bins.bin.max())
    per_how = span.select(b=((span.hi - span.lo + 1).cast("float64") / 168.0))
    candidates = grouped.select("a_actor", "b_actor")
    ra = rhythm.select(a_actor=rhythm.actor, how=rhythm.how, ha=rhythm.h)
    rb = rhythm.select(b_actor=rhythm.actor, how=rhythm.how, hb=rhythm.h)
    overlap = candidates.join(ra, "a_actor").join(rb, ["b_actor", "how"])
    expected = overlap.group_by(["a_actor", "b_actor"]).aggregate(
        s=(overlap.ha * overlap.hb).sum().cast("float64"))
    scored = grouped.join(expected, ["a_actor", "b_actor"]).cross_join(per_how)
    e = ibis.greatest(scored.s / ibis.greatest(scored.b, 1.0), 1e-9)
    scored = scored.mutate(e=e, z=(scored.c.cast("float64") - e) / e.sqrt())
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
