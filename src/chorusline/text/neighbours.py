"""Nearest neighbours by meaning, blocked by time so the cost grows with the data's length, not its
square: each query text is compared only with the source texts of its own time window.

Queries are cut into blocks of ``block`` seconds; a block's sources are those from ``before``
seconds before its start to ``after`` seconds after its end. Within a block, faiss finds each
query's nearest sources by inner product (the vectors are unit length: cosine): an exact
``IndexFlatIP`` up to ``exact_limit`` sources, an HNSW graph above it. Neighbours outside the
query's own window, below ``threshold`` or written by the same actor are dropped, and each query
keeps its ``k`` best. Only one block's vectors are in memory at a time."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import pyarrow as pa

from chorusline.text.cache import vector_matrix, with_vectors
from chorusline.text.embed import DEFAULT_MODEL, dimension

MATCHES = pa.schema([("query_id", pa.string()), ("source_id", pa.string()), ("similarity", pa.float32())])


@dataclass(frozen=True)
class WindowSearch:
    before: int  # seconds a source may precede its query
    after: int  # seconds a source may follow its query
    threshold: float  # cosine
    k: int = 10
    block: int = 86_400
    exact_limit: int = 100_000  # sources in a block above which HNSW replaces exact search
    model: str = DEFAULT_MODEL


def _index(vectors: np.ndarray, exact_limit: int):
    import faiss

    if len(vectors) <= exact_limit:
        index = faiss.IndexFlatIP(vectors.shape[1])
    else:
        index = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 128
    index.add(vectors)
    return index


def _with_vectors(store, docs: ibis.Table, model: str) -> ibis.Table:
    # computed once (the texts' keys, their vectors), then read block by block
    return with_vectors(store, docs, model).select("id", "actor", "ts", "vector").cache()


def _fetch(docs: ibis.Table, lo: int, hi: int) -> pa.Table:
    return docs.filter((docs.ts >= lo) & (docs.ts < hi)).to_pyarrow()


def window_matches(store, sources: ibis.Table, queries: ibis.Table, search: WindowSearch) -> pa.Table:
    """query_id, source_id, similarity for every query's nearest sources in its window.
    ``sources`` and ``queries`` have columns id, actor, ts (epoch seconds, int64) and text, whose
    embeddings are already cached (`cache.ensure_embeddings`); texts without one are skipped."""
    dim = dimension(search.model)
    queries = _with_vectors(store, queries, search.model)
    sources = _with_vectors(store, sources, search.model)
    block_of = (queries.ts // search.block).name("b")
    blocks = sorted(int(b) for b in queries.select(block_of).distinct().to_pyarrow().column("b").to_pylist()
                    if b is not None)
    parts = []
    for b in blocks:
        lo, hi = b * search.block, (b + 1) * search.block
        q = _fetch(queries, lo, hi)
        s = _fetch(sources, lo - search.before, hi + search.after)
        if not q.num_rows or not s.num_rows:
            continue
        parts.append(_block_matches(q, s, search, dim))
    return pa.concat_tables(parts) if parts else MATCHES.empty_table()


def _block_matches(q: pa.Table, s: pa.Table, search: WindowSearch, dim: int) -> pa.Table:
    qv, sv = vector_matrix(q.column("vector"), dim), vector_matrix(s.column("vector"), dim)
    # a query's own window is narrower than the block's: ask for more than k and filter
    want = min(len(sv), search.k * 4)
    sims, idx = _index(sv, search.exact_limit).search(qv, want)
    q_ts = q.column("ts").to_numpy()[:, None]
    s_ts = s.column("ts").to_numpy()[np.clip(idx, 0, None)]
    q_actor = np.asarray(q.column("actor").to_numpy(zero_copy_only=False), dtype=object)[:, None]
    s_actor = np.asarray(s.column("actor").to_numpy(zero_copy_only=False), dtype=object)[np.clip(idx, 0, None)]
    keep = ((idx >= 0) & (sims >= search.threshold) & (s_ts >= q_ts - search.before)
            & (s_ts <= q_ts + search.after) & (s_actor != q_actor))
    # each query keeps its k best: faiss returns neighbours best first, so rank within the kept ones
    keep &= np.cumsum(keep, axis=1) <= search.k
    rows, cols = np.nonzero(keep)
    q_ids = q.column("id").take(pa.array(rows))
    s_ids = s.column("id").take(pa.array(idx[rows, cols]))
    return pa.table({"query_id": q_ids, "source_id": s_ids,
                     "similarity": pa.array(sims[rows, cols].astype(np.float32))}, schema=MATCHES)
