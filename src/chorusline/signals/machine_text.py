"""machine_text (features): how machine-written an account's posts read, from the AI-text detector
(`chorusline.aitext`, docs/AI_TEXT.md) — the only text evidence of generation when there are no API
logs to tie posts to calls.

Each account's authored posts (a hash-ordered sample of at most ``per_account``, each at least
``min_chars`` long) are scored; the posts' log-odds are pooled by their mean (one writer's posts are
not independent evidence). Features:
- ``pooled_probability``: sigmoid of the mean log-odds (0.5 = even odds);
- ``posts``: how many posts were scored (the detector is calibrated for 20 or more);
- ``machine_share``: the share of posts above even odds.
Evidence: the scored posts and the share. The detector is trained on English tweets (TweepFake):
read it as one supporting indicator, never a verdict (the scoring caps what it can do alone)."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from chorusline.signals.sample import account_sample

FEATURE = "machine_text"


@dataclass(frozen=True)
class MachineTextParams:
    per_account: int = 100
    min_chars: int = 20


def _empty() -> pa.Table:
    return pa.table({"actor": pa.array([], pa.string()), "feature": pa.array([], pa.string()),
                     "value": pa.array([], pa.float64()), "evidence": pa.array([], pa.string())})


def machine_text_features(posts: ibis.Table, params: MachineTextParams = MachineTextParams()) -> pa.Table:
    from chorusline.aitext import machine_logits, pool

    authored = posts.filter((posts.kind.fill_null("post") != "repost") & posts.text.notnull()
                            & (posts.text.strip().length() >= params.min_chars))
    got = account_sample(authored, "post_id", {"text": authored.text}, params.per_account)
    if not got.num_rows:
        return _empty()
    pooled = pool(got.column("actor"), machine_logits(got.column("text")))
    pooled = pooled.filter(pc.greater(pooled.column("posts"), 0))
    n = pooled.num_rows
    actors = pooled.column("group").cast(pa.string())
    evidence = pc.binary_join_element_wise(
        '["posts=', pc.cast(pooled.column("posts"), pa.string()), '","machine_share=',
        pc.cast(pc.round(pooled.column("machine_share"), 2), pa.string()), '"]', "")
    parts = []
    for name, column in (("pooled_probability", "machine_probability"), ("posts", "posts"),
                         ("machine_share", "machine_share")):
        parts.append(pa.table({"actor": actors, "feature": pa.array([f"{FEATURE}:{name}"] * n, pa.string()),
                               "value": pc.cast(pooled.column(column), pa.float64()), "evidence": evidence}))
    return pa.concat_tables(parts)


__all__ = ["MachineTextParams", "machine_text_features"]
