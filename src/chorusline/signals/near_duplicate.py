"""near_duplicate: near-identical texts from different accounts within a time window, found by
MinHash LSH in the engine (posts, and API outputs).

Steps, all engine expressions (no per-text Python):
1. normalise (lower case, URLs and punctuation out) and cut into word bigrams — the shingles; a
   text with fewer than ``min_shingles`` distinct shingles is too short to be evidence;
2. hash each shingle to 31 bits and take, for each of ``bands * rows`` universal hash functions
   ``(a*h + b) mod p`` (p = 2^31 - 1), the minimum over the text's shingles: the signature;
3. band the signature: ``rows`` consecutive minima make a band key (exact values, no second
   hash, so a key collision is a true signature agreement);
4. candidate pairs: texts with an equal band key whose times are at most ``time_window`` apart,
   joined on (band, key, time bucket) the way coshare joins shares, so a template posted ten
   thousand times costs its within-window pairs, not its square;
5. verify: the exact Jaccard similarity of the two shingle sets (array intersection / union in the
   engine), kept at ``threshold`` or above.

Boilerplate is left out first: a text whose exact shingle set more than ``max_actors`` accounts
wrote (an assistant's stock phrase, a shop's signature) ties nobody to anybody.

With bands=8, rows=4 a pair at Jaccard 0.8 becomes a candidate with probability
1 - (1 - 0.8^4)^8 = 0.985 (0.9: 0.9999; 0.7: 0.87); `bench/near_duplicate.py` measures it."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np

from chorusline.engine import reused

_P = 2**31 - 1  # Mersenne prime: hashes and minima live in [0, p)
SIGNAL = "near_duplicate"


@dataclass(frozen=True)
class NearDuplicateParams:
    threshold: float = 0.8  # Jaccard of the word-bigram sets
    time_window: int | None = 3600  # seconds; None compares texts at any distance in time
    bands: int = 8
    rows: int = 4
    min_shingles: int = 3
    seed: int = 20261127
    # a text (its exact set of shingles) written by more accounts than this is boilerplate ("Here is
    # a simple explanation."): evidence of nothing, and its copies would pair with each other hour
    # after hour (on the `large` scenario, 7 such outputs made 798 M candidate pairs)
    max_actors: int = 1000


def post_texts(posts: ibis.Table) -> ibis.Table:
    """Authored post texts (reposts copy their original's text: that is co-sharing, not writing)."""
    rows = posts.filter(posts.text.notnull() & ~posts.kind.fill_null("post").isin(["repost", "like", "follow"]))
    return rows.select(doc_id=rows.post_id, actor=rows.platform.concat(":", rows.account_id),
                       ts=rows.ts.epoch_seconds().cast("int64"), text=rows.text)


def output_texts(calls: ibis.Table) -> ibis.Table:
    """The text each API call produced."""
    rows = calls.filter(calls.output.notnull())
    return rows.select(doc_id=rows.call_id, actor=rows.platform.concat(":", rows.account_id),
                       ts=rows.ts.epoch_seconds().cast("int64"), text=rows.output)


def shingles(texts: ibis.Table, min_shingles: int = 3, cache: bool = True) -> ibis.Table:
    """doc_id, actor, ts and ``sh``: the distinct 31-bit hashes of the text's word bigrams.
    ``cache=False``: a plain expression (the live window compiles it once and reruns the SQL)."""
    norm = texts.text.lower().re_replace(r"https?://\S+", " ").re_replace(r"[^\w\s]+", " ").strip()
    keep = [c for c in ("doc_id", "actor", "ts", "_source") if c in texts.columns]
    words = texts.select(*keep, _w=norm.re_split(r"\s+"))
    words = reused(words) if cache else words
    n = words._w.length()
    bigrams = ibis.range(0, n - 1).map(lambda i: words._w[i].concat(" ", words._w[i + 1]))
    p = ibis.literal(_P, "int64")
    # engines differ in their hash (DuckDB 64-bit, Spark 32-bit Murmur3): reduced to 31 bits either
    # way; adding 2p (> 2^31, so a 64-bit literal everywhere) keeps Spark's 32-bit sum from overflowing
    hashed = bigrams.map(lambda s: ((s.hash() % p) + ibis.literal(2 * _P, "int64")) % p).unique()
    out = words.select(*keep, sh=hashed)
    out = reused(out) if cache else out
    return out.filter(out.sh.length() >= min_shingles)


def signatures(docs: ibis.Table, params: NearDuplicateParams) -> ibis.Table:
    """One row per (doc, band): doc_id, ts, band, key1, key2 (the band's ``rows`` minima packed in
    two integers; rows <= 4)."""
    if not 1 <= params.rows <= 4:
        raise ValueError("rows per band must be 1..4 (the minima are packed in two 62-bit keys)")
    rng = np.random.default_rng(params.seed)
    k = params.bands * params.rows
    a, b = rng.integers(1, _P, k), rng.integers(0, _P, k)
    p = ibis.literal(_P, "int64")
    minima = [docs.sh.map(lambda h, ai=ibis.literal(int(ai), "int64"), bi=ibis.literal(int(bi), "int64"):
                          (h * ai + bi) % p).mins() for ai, bi in zip(a, b)]
    shift = ibis.literal(2**31, "int64")
    parts = []
    for band in range(params.bands):
        m = minima[band * params.rows:(band + 1) * params.rows] + [ibis.literal(0, "int64")] * (4 - params.rows)
        parts.append(docs.select("doc_id", "ts", *(["_source"] if "_source" in docs.columns else []),
                                 band=ibis.literal(band, "int64"),
                                 key1=m[0] * shift + m[1], key2=m[2] * shift + m[3]))
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out


def near_duplicate_pairs(texts: ibis.Table, params: NearDuplicateParams = NearDuplicateParams(),
                         sources: ibis.Table | None = None) -> ibis.Table:
    """Verified pairs: doc_id, doc_id_y, actor, actor_y, ts, ts_y (the first is the older text),
    jaccard — texts of different actors only.

    With ``sources`` (texts in the same columns), only pairs from an older source text to a newer
    text of ``texts`` are looked for — the provenance question (which output became which post) —
    and the pairs among the texts themselves, most of the work otherwise, are never formed."""
    if sources is not None:
        texts = texts.mutate(_source=ibis.literal(False)).union(sources.mutate(_source=ibis.literal(True)),
                                                                distinct=False)
    docs = shingles(texts, params.min_shingles)
    if params.max_actors is not None:
        keyed = docs.mutate(_key=docs.sh.sort().hash())
        spread = keyed.group_by("_key").aggregate(_n=keyed.actor.nunique())
        docs = reused(keyed.anti_join(spread.filter(spread._n > params.max_actors), "_key").drop("_key"))
    sig = signatures(docs, params)
    width = (params.time_window + 1) if params.time_window is not None else None
    bucket = (sig.ts // width).cast("int64") if width else ibis.literal(0, "int64")
    sig = reused(sig.mutate(_bucket=bucket))
    older, newer = sig, sig.view()
    if sources is not None:
        older, newer = sig.filter(sig._source), sig.filter(~sig._source).view()
    older = older.mutate(_nb=older._bucket)
    if width:  # the newer text is in the older one's time bucket or the next
        older = older.union(older.mutate(_nb=older._bucket + 1), distinct=False)
    joined = older.join(newer, [older.band == newer.band, older.key1 == newer.key1, older.key2 == newer.key2,
                                older._nb == newer._bucket,
                                (older.ts < newer.ts) | ((older.ts == newer.ts) & (older.doc_id < newer.doc_id))])
    cand = joined.select(doc_id=older.doc_id, doc_id_y=newer.doc_id, _dt=newer.ts - older.ts)
    if params.time_window is not None:
        cand = cand.filter(cand._dt <= params.time_window)
    # cached: with the candidates' true (small) size known, DuckDB joins them to the texts first
    # instead of joining texts to texts under the actor inequality (a nested loop, minutes)
    cand = reused(cand.select("doc_id", "doc_id_y").distinct())
    left = docs.select(doc_id=docs.doc_id, actor=docs.actor, ts=docs.ts, _sh=docs.sh)
    right = docs.select(doc_id_y=docs.doc_id, actor_y=docs.actor, ts_y=docs.ts, _sh_y=docs.sh)
    pairs = cand.join(left, "doc_id").join(right, "doc_id_y")
    pairs = pairs.filter(pairs.actor != pairs.actor_y)
    inter = pairs._sh.intersect(pairs._sh_y).length().cast("float64")
    union = pairs._sh.union(pairs._sh_y).length().cast("float64")
    pairs = pairs.mutate(jaccard=inter / union)
    pairs = pairs.filter(pairs.jaccard >= params.threshold)
    return pairs.select("doc_id", "doc_id_y", "actor", "actor_y", "ts", "ts_y", "jaccard")


def near_duplicate_edges(texts: ibis.Table, params: NearDuplicateParams = NearDuplicateParams(),
                         signal: str = SIGNAL) -> ibis.Table:
    """Edges (ARCHITECTURE §4): per actor pair, the near-duplicate text pairs (n_events; weight =
    their summed Jaccard), first and last time, and up to 10 of the pairs as evidence
    ("doc~doc")."""
    p = near_duplicate_pairs(texts, params)
    p = p.mutate(a=ibis.least(p.actor, p.actor_y), b=ibis.greatest(p.actor, p.actor_y),
                 _ev=p.doc_id.replace('"', "'").concat("~", p.doc_id_y.replace('"', "'")))
    e = p.group_by(["a", "b"]).aggregate(n=p.count(), w=p.jaccard.sum(), first=p.ts.min(), last=p.ts_y.max(),
                                         ev=p._ev.collect())
    evidence = ibis.literal('["').concat(e.ev[:10].join('","'), '"]')
    return e.select(a_actor=e.a, b_actor=e.b, signal=ibis.literal(signal), weight=e.w, n_events=e.n,
                    first_ts=e.first.as_timestamp("s"), last_ts=e["last"].as_timestamp("s"), evidence=evidence)

