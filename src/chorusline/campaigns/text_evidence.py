"""What a campaign's texts show, for its explanation: the ties by meaning (``signals.semantic``) with
the two texts side by side, how similar, how soon and in which languages.

Only the members' own matches are read (a few hundred accounts) and only the examples leave the
engine; language identification runs on those examples alone."""

from __future__ import annotations

import ibis

from chorusline.signals.semantic import MATCH_TABLE, SemanticParams


def _language(texts: list[str | None]) -> list[str | None]:
    from chorusline.signals.language_mismatch import identify

    found = identify([t for t in texts if t])
    it = iter(found)
    return [next(it) if t else None for t in texts]


def paraphrase_ties(store, m: ibis.Table, examples: int = 8) -> dict:
    """The members' posts tied to the members' API calls by meaning: how many, by how many
    personas, how many of them not near-verbatim (cosine < 0.95: what word matching misses), how
    many across languages (in the examples), and examples with both texts."""
    if MATCH_TABLE not in store.backend.list_tables():
        return {"posts": 0, "personas": 0, "paraphrased": 0, "examples": []}
    s = store.table(MATCH_TABLE)
    s = s.semi_join(m.select(api_actor=m.actor), "api_actor").semi_join(m.select(persona_actor=m.actor),
                                                                         "persona_actor")
    best = ibis.row_number().over(group_by=s.post_id, order_by=[ibis.desc(s.similarity), s.lag, s.call_id])
    s = s.mutate(_r=best).filter(ibis._._r == 0)
    counts = s.aggregate(posts=s.count(), personas=s.persona_actor.nunique(),
                         paraphrased=(s.similarity < 0.95).sum()).to_pyarrow().to_pylist()[0]
    calls, posts = store.table("llm_calls"), store.table("posts")
    source_text = ibis.coalesce(calls.output, calls.prompt)
    # examples across the range of similarity, among the timely matches (those the links can accept)
    timely = s.filter((s.similarity < 0.95) & (s.lag <= SemanticParams().timely_lag))
    n = int(timely.count().execute())
    step = max(1, n // examples)
    order = ibis.row_number().over(order_by=[ibis.desc(timely.similarity), timely.post_id])
    picked = timely.mutate(_k=order).filter(lambda t: t._k % step == 0).limit(examples)
    j = picked.join(calls.select("call_id", source=source_text), "call_id").join(
        posts.select("post_id", post=posts.text), "post_id")
    rows = j.select("api_actor", "persona_actor", "call_id", "post_id", "similarity", "lag", "source_kind",
                    "source", "post").order_by([ibis.desc("similarity"), "post_id"]).to_pyarrow().to_pylist()
    langs = _language([r["source"] for r in rows] + [r["post"] for r in rows])
    for i, r in enumerate(rows):
        r["similarity"] = round(r["similarity"], 3)
        r["lag_minutes"] = round(r.pop("lag") / 60, 1)
        r["source_language"], r["post_language"] = langs[i], langs[len(rows) + i]
    crossed = sum(1 for r in rows if r["source_language"] and r["post_language"]
                  and r["source_language"] != r["post_language"])
    return {"posts": int(counts["posts"] or 0), "personas": int(counts["personas"] or 0),
            "paraphrased": int(counts["paraphrased"] or 0), "cross_language_examples": crossed, "examples": rows}


def machine_text_distribution(store, m: ibis.Table) -> dict:
    """The AI-text detector's pooled score (``machine_text:pooled_probability``, accounts with at
    least 20 scored posts) for the members against every scored account: quantiles, and the share
    above the detector's account threshold."""
    from chorusline.aitext import ACCOUNT_THRESHOLD, MIN_POSTS

    f = store.table("account_features")
    posts = f.filter(f.feature == "machine_text:posts").select("actor", n=f.value)
    pooled = f.filter(f.feature == "machine_text:pooled_probability").select("actor", p=f.value)
    scored = pooled.join(posts, "actor").filter(lambda t: t.n >= MIN_POSTS)
    out = {"threshold": ACCOUNT_THRESHOLD, "min_posts": MIN_POSTS}
    for name, t in (("members", scored.semi_join(m.select("actor"), "actor")), ("population", scored)):
        row = t.aggregate(accounts=t.count(), p10=t.p.quantile(0.1), median=t.p.quantile(0.5),
                          p90=t.p.quantile(0.9), above=(t.p > ACCOUNT_THRESHOLD).sum()).to_pyarrow().to_pylist()[0]
        n = int(row["accounts"] or 0)
        out[name] = {"accounts": n, **{k: (round(row[k], 3) if n else None) for k in ("p10", "median", "p90")},
                     "share_above": round(int(row["above"] or 0) / n, 3) if n else None}
    return out
