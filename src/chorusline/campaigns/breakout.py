"""A Breakout Scale estimate (Nimmo, Brookings 2020) from the platforms and audiences reached.

Categories: 1 — one platform, no breakout beyond the network's own accounts; 2 — one platform with
real engagement from outside the network, or several platforms without it; 3 — several platforms
and engagement outside the network on them; 4 — cross-over into mainstream media; 5 — amplified by
celebrities or officials; 6 — a policy response or a call for violence. The data show 1–3 (who
engaged with the members' posts, on which platforms); 4–6 need evidence from outside it, so the
estimate stops at 3 and says so. "Outside engagement" is reposts, replies and quotes of members'
posts by accounts that are not members: at least ``min_outside`` accounts."""

from __future__ import annotations

import ibis

MIN_OUTSIDE = 10


def breakout_estimate(store, m: ibis.Table, min_outside: int = MIN_OUTSIDE) -> dict:
    posts = store.table("posts")
    social = m.filter(m.platform != "llm-api").select("actor")
    p = posts.mutate(actor=posts.platform.concat(":", posts.account_id),
                     target=posts.platform.concat(":", posts.target_account_id))
    platforms = sorted(p.join(social, "actor").select("platform").distinct().platform.execute().tolist())
    engaged = p.filter(p.kind.isin(["repost", "reply", "quote"]) & p.target_account_id.notnull())
    engaged = engaged.join(social.select(target=social.actor), "target")
    outside = engaged.anti_join(social, "actor")
    per_platform = outside.group_by("platform").aggregate(accounts=outside.actor.nunique(), actions=outside.count())
    reached = {r["platform"]: r for r in per_platform.to_pyarrow().to_pylist()}
    broke_out = [pl for pl, r in reached.items() if r["accounts"] >= min_outside]
    if len(platforms) > 1 and len(broke_out) > 1:
        category = 3
    elif broke_out or len(platforms) > 1:
        category = 2
    else:
        category = 1
    return {"category": category, "platforms": platforms,
            "outside_engagement": [{"platform": pl, "accounts": r["accounts"], "actions": r["actions"]}
                                   for pl, r in sorted(reached.items())],
            "note": "estimated from the data (categories 1-3); 4-6 (mainstream media, celebrities, policy) "
                    "need outside evidence"}
