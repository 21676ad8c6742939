"""lifecycle (features): when a persona turned political, and whether it slept before it woke.

Influence personas first build credibility with neutral posts (sports, food, travel) and then
pivot to politics; bought or recycled accounts lie dormant, then wake up. Per account, from its
authored posts (``topics.political`` marks each), in the engine: daily counts, cumulative sums
over days, and for every candidate day d the political share of the posts before d against the
share from d on (at least ``min_side`` posts on each side). The pivot is the day whose rise is
least likely a steady mix's chance: the largest z, the rise over its standard error under one
share for all the account's posts. The largest raw rise is not evidence: over a few dozen posts
and as many candidate days, a steady mix shows rises of 0.3–0.6 by chance (news feeds, fans and
ordinary users alike); a rise counts only at ``min_z`` standard errors or more (the scan over
every candidate day makes 2 too lenient).

Features: ``lifecycle:pivot_gain`` (share after − share before at the pivot, 0..1; 0 where the
rise stays under ``min_z``), ``lifecycle:pivot_z`` (its z),
``lifecycle:political_before``, ``lifecycle:political_after``, ``lifecycle:days_to_pivot`` (from
the first post), ``lifecycle:political_share`` (all posts), ``lifecycle:dormancy_days`` (the longest
silence between creation or a post and the next post). Evidence: the pivot day."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from chorusline.signals.topics import political

DAY = 86_400


@dataclass(frozen=True)
class LifecycleParams:
    min_side: int = 5  # posts needed on each side of a pivot
    min_posts: int = 5  # fewer posts give no lifecycle features
    min_z: float = 3.0  # a rise this many standard errors over a steady mix is a pivot (the day scan included)


def lifecycle_features(posts: ibis.Table, accounts: ibis.Table | None = None,
                       params: LifecycleParams = LifecycleParams()) -> ibis.Table:
    authored = posts.filter(posts.kind != "repost")
    p = authored.select(actor=authored.platform.concat(":", authored.account_id),
                        day=(authored.ts.epoch_seconds() // DAY).cast("int64"),
                        pol=political(authored.text).cast("int64"))
    daily = p.group_by(["actor", "day"]).aggregate(n=p.count(), pol=p.pol.sum())
    per_actor = daily.group_by("actor").aggregate(tot_n=daily.n.sum(), tot_pol=daily.pol.sum(), first_day=daily.day.min())
    per_actor = per_actor.filter(per_actor.tot_n >= params.min_posts)
    upto = ibis.window(group_by=daily.actor, order_by=daily.day, rows=(None, 0))
    before = ibis.window(group_by=daily.actor, order_by=daily.day, rows=(None, -1))
    daily = daily.mutate(pre_n=(daily.n.sum().over(upto) - daily.n), pre_pol=(daily.pol.sum().over(upto) - daily.pol),
                         prev_day=daily.day.max().over(before))
    d = daily.join(per_actor, "actor")
    d = d.mutate(post_n=d.tot_n - d.pre_n, post_pol=d.tot_pol - d.pre_pol)
    ok = d.filter((d.pre_n >= params.min_side) & (d.post_n >= params.min_side))
    ok = ok.mutate(before_share=ok.pre_pol.cast("float64") / ok.pre_n.cast("float64"),
                   after_share=ok.post_pol.cast("float64") / ok.post_n.cast("float64"))
    share = ok.tot_pol.cast("float64") / ok.tot_n.cast("float64")
    se = (share * (1.0 - share) * (1.0 / ok.pre_n.cast("float64") + 1.0 / ok.post_n.cast("float64"))).sqrt()
    ok = ok.mutate(gain=ok.after_share - ok.before_share)
    # all posts political or none: no rise is possible, z 0
    ok = ok.mutate(z=ibis.ifelse(se > 0, ok.gain / ibis.ifelse(se > 0, se, 1.0), 0.0))
    best = ibis.row_number().over(group_by=ok.actor, order_by=[ibis.desc(ok.z), ibis.desc(ok.gain), ok.day])
    pivot = ok.mutate(_rank=best).filter(lambda t: t._rank == 0)
    evidence = ibis.literal('["pivot ').concat(
        (pivot.day * DAY).as_timestamp("s").strftime("%Y-%m-%d"), '"]')
    pivot = pivot.select("actor", gain=ibis.ifelse(pivot.z >= params.min_z, pivot.gain, 0.0),  # z ≥ min_z > 0: a rise
                         z="z", before_share="before_share", after_share="after_share",
                         to_pivot=(pivot.day - pivot.first_day).cast("float64"), evidence=evidence)

    # silences: between consecutive active days, and from creation to the first post
    gaps = d.select("actor", gap=(d.day - d.prev_day).cast("float64"))
    if accounts is not None:
        created = accounts.filter(accounts.created_at.notnull()).select(
            actor=accounts.platform.concat(":", accounts.account_id),
            created_day=(accounts.created_at.epoch_seconds() // DAY).cast("int64"))
        first = per_actor.join(created, "actor")
        gaps = gaps.union(first.select("actor", gap=(first.first_day - first.created_day).cast("float64")), distinct=False)
    dormancy = gaps.group_by("actor").aggregate(value=(gaps.gap.max().fill_null(1.0) - 1.0))
    dormancy = dormancy.join(per_actor.select("actor"), "actor")

    def feature(table, name, value, evidence=None):
        return table.select("actor", feature=ibis.literal(f"lifecycle:{name}"), value=value.cast("float64"),
                            evidence=ibis.literal("[]") if evidence is None else evidence)

    parts = [feature(pivot, "pivot_gain", pivot.gain, pivot.evidence),
             feature(pivot, "pivot_z", pivot.z, pivot.evidence),
             feature(pivot, "political_before", pivot.before_share, pivot.evidence),
             feature(pivot, "political_after", pivot.after_share, pivot.evidence),
             feature(pivot, "days_to_pivot", pivot.to_pivot, pivot.evidence),
             feature(per_actor, "political_share", per_actor.tot_pol.cast("float64") / per_actor.tot_n.cast("float64")),
             feature(dormancy, "dormancy_days", ibis.greatest(dormancy.value, 0.0))]
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out
