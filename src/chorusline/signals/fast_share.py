"""fast_share: accounts that repost the same originals within seconds of their publication.

A repost made within ``lag`` seconds (default 10) of its original is a fast share; automation
and coordinated amplification produce them, people rarely do. Two accounts that fast-share the
same originals are tied once per original (weight = originals in common). This is co-sharing over
derived objects — the fast reposts of each original — so it runs on the coshare machinery with a
window of ``lag`` (two reposts each within ``lag`` of the original are within ``lag`` of each
other, and reposts are never before their original)."""

from __future__ import annotations

import ibis

from chorusline.signals.coshare import CoshareParams, coshare_edges

SIGNAL = "fast_share"


def fast_reposts(posts: ibis.Table, lag: int = 10) -> ibis.Table:
    """Reposts made within ``lag`` seconds after their original (both must be in ``posts``), in the
    shares-view columns: the object is the original post."""
    reposts = posts.filter((posts.kind == "repost") & posts.target_post_id.notnull())
    originals = posts.select(platform=posts.platform, target_post_id=posts.post_id, _orig_ts=posts.ts)
    joined = reposts.join(originals, ["platform", "target_post_id"])
    delay = joined.ts.epoch_seconds() - joined._orig_ts.epoch_seconds()
    fast = joined.filter((delay >= 0) & (delay <= lag))
    return fast.select(platform=fast.platform, account_id=fast.account_id, object_type=ibis.literal("fast_repost"),
                       object_id=fast.target_post_id, content_id=fast.post_id,
                       ts=fast.ts.epoch_seconds().cast("int64"))


def fast_share_edges(posts: ibis.Table, lag: int = 10, min_participation: int = 1) -> ibis.Table:
    """Edges (ARCHITECTURE §4): pairs of accounts fast-reposting the same originals; weight and
    n_events = co-shared originals; evidence = up to 10 of those originals."""
    params = CoshareParams(time_window=lag, min_participation=min_participation)
    return coshare_edges(fast_reposts(posts, lag), params, ["fast_repost"], signal=SIGNAL)
