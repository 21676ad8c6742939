"""Co-sharing with CooRTweet's semantics, exactly, as Ibis expressions (DuckDB and Spark alike).

CooRTweet 2.1.3 (`detect_groups` → `generate_coordinated_network`), step by step:

1. drop accounts with fewer than ``min_participation`` shares;
2. every pair of shares of one object, in input order i < j, whose times differ by at most
   ``time_window`` seconds (inclusive) — found with three equi-joins on (object, time bucket ± 1)
   instead of a per-object cartesian product, so viral objects stay bounded by the window;
3. remove loops: the same account, the same content, or the object being one of the contents;
4. keep a pair when either content belongs to an account with at least ``min_participation``
   shares among the contents that appear in pairs;
5. orient each pair older → newer (the later row first only when its share is older);
6. aggregate per unordered account pair: weight (pairs), mean time delta, distinct older/newer
   contents, ``edge_symmetry_score`` = min/max of those, the objects;
7. ``weight_threshold`` = weight > the ``edge_weight`` quantile of all weights (R's type 7).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np



_ORD_BASE = 2**31  # row-order keys: (account's first row) * base + row; rows < 2^31


@dataclass(frozen=True)
class CoshareParams:
    time_window: int = 10  # seconds, inclusive
    min_participation: int = 2
    remove_loops: bool = True
    edge_weight: float = 0.5  # quantile of weights above which an edge is kept in the subgraph


def detect_groups(shares: ibis.Table, params: CoshareParams) -> ibis.Table:
    """CooRTweet's `detect_groups`. ``shares`` has object_id, account_id, content_id, ts (whole
    seconds) and ``rid`` (input order). Returns object_id, content_id, content_id_y, time_delta,
    account_id, account_id_y (``_y`` = the newer share)."""
    tw = int(params.time_window)
    x = shares.select("object_id", "account_id", "content_id", "ts", "rid")
    mp = params.min_participation
    # CooRTweet's pre-filter (`x[, if (.N >= mp) .SD, by = account_id]`) also regroups the rows by
    # account, in order of each account's first row; pairs are then taken in that order, which
    # decides how a pair with equal times is oriented. Reproduce the order: (account's first row, row).
    per_account = x.group_by("account_id").aggregate(_n=x.count(), _first=x.rid.min())
    if mp > 1:
        per_account = per_account.filter(per_account._n >= mp)
    x = x.join(per_account, "account_id").select("object_id", "account_id", "content_id", "ts", "rid", "_first")
    x = x.mutate(_bucket=(x.ts // (tw + 1)).cast("int64"), _ord=x._first * _ORD_BASE + x.rid)
    objects = x.group_by("object_id").aggregate(_obj=x._ord.min())
    pairs = None
    for offset in (-1, 0, 1):
        a, b = x.view(), x.view()
        joined = a.join(b, [a.object_id == b.object_id, (a._bucket + offset) == b._bucket, a._ord < b._ord])
        part = joined.select(object_id=a.object_id, content_id=a.content_id, content_id_y=b.content_id,
                             time_delta=a.ts - b.ts, account_id=a.account_id, account_id_y=b.account_id,
                             _i=a._ord, _j=b._ord, _t=ibis.least(a.ts, b.ts), _t_y=ibis.greatest(a.ts, b.ts))
        part = part.filter(part.time_delta.abs() <= tw)
        pairs = part if pairs is None else pairs.union(part, distinct=False)
    if params.remove_loops:
        pairs = pairs.filter((pairs.object_id != pairs.content_id) & (pairs.object_id != pairs.content_id_y)
                             & (pairs.content_id != pairs.content_id_y) & (pairs.account_id != pairs.account_id_y))
    if mp >= 1:
        pairs = _min_participation(x, pairs, mp)
    pairs = pairs.join(objects, "object_id")
    newer_first = pairs.time_delta > 0
    return pairs.select(
        object_id=pairs.object_id,
        content_id=ibis.ifelse(newer_first, pairs.content_id_y, pairs.content_id),
        content_id_y=ibis.ifelse(newer_first, pairs.content_id, pairs.content_id_y),
        time_delta=pairs.time_delta.abs(),
        account_id=ibis.ifelse(newer_first, pairs.account_id_y, pairs.account_id),
        account_id_y=ibis.ifelse(newer_first, pairs.account_id, pairs.account_id_y),
        # the order CooRTweet produces pairs in (object's first row, newer row, older row in input
        # order); it decides how igraph later names each edge's ends (see coordinated_edges)
        _obj=pairs._obj, _j=pairs._j, _i=pairs._i, _t=pairs._t, _t_y=pairs._t_y,
    )


PAIR_COLUMNS = ("object_id", "content_id", "content_id_y", "time_delta", "account_id", "account_id_y")


def _min_participation(x: ibis.Table, pairs: ibis.Table, mp: int) -> ibis.Table:
    in_pairs = pairs.select(content_id=pairs.content_id).union(
        pairs.select(content_id=pairs.content_id_y), distinct=True)
    shared = x.semi_join(in_pairs, "content_id")
    qualified = shared.group_by("account_id").aggregate(_n=shared.count())
    keep = shared.semi_join(qualified.filter(qualified._n >= mp), "account_id").select("content_id").distinct()
    return pairs.filter(pairs.content_id.isin(keep.content_id) | pairs.content_id_y.isin(keep.content_id))


def coordinated_edges(groups: ibis.Table) -> ibis.Table:
    """The undirected weighted network of `generate_coordinated_network` (before thresholding):
    from, to, weight, avg_time_delta, n_content_id, n_content_id_y, edge_symmetry_score,
    object_ids (distinct objects of the pair).

    Weights and statistics belong to the pair (min, max) of account ids, as in CooRTweet. Which end
    is `from` follows igraph: vertices are numbered by first appearance in the aggregated edge list
    (all first ends, then all second ends) and an undirected edge lists its lower-numbered vertex
    first. `group_stats` counts `from` ends, so this orientation is part of the peer's results."""
    g = groups.mutate(_from=ibis.least(groups.account_id, groups.account_id_y),
                      _to=ibis.greatest(groups.account_id, groups.account_id_y),
                      _pos=ibis.row_number().over(order_by=[groups._obj, groups._j, groups._i]))
    edges = g.group_by(["_from", "_to"]).aggregate(
        _pos=g._pos.min(),
        weight=g.count(),
        avg_time_delta=g.time_delta.mean(),
        n_content_id=g.content_id.nunique(),
        n_content_id_y=g.content_id_y.nunique(),
        object_ids=g.object_id.collect(distinct=True),
    )
    # igraph's vertex numbering: first appearance as a first end, else (after all of those) as a second end
    as_first = edges.group_by(_w=edges._from).aggregate(_k=edges._pos.min())
    as_second = edges.group_by(_w=edges._to).aggregate(_k2=edges._pos.min())
    keys = as_second.join(as_first, "_w", how="outer")
    keys = keys.select(_w=ibis.coalesce(keys._w, keys._w_right),
                       _key=ibis.coalesce(keys._k, keys._k2 + _ORD_BASE * _ORD_BASE // 4))
    ku = keys.select(_from=keys._w, _ku=keys._key)
    kv = keys.select(_to=keys._w, _kv=keys._key)
    edges = edges.join(ku, "_from").join(kv, "_to")
    flip = edges._kv < edges._ku
    lo = ibis.least(edges.n_content_id, edges.n_content_id_y).cast("float64")
    hi = ibis.greatest(edges.n_content_id, edges.n_content_id_y).cast("float64")
    return edges.select(**{"from": ibis.ifelse(flip, edges._to, edges._from),
                           "to": ibis.ifelse(flip, edges._from, edges._to)}, weight=edges.weight,
                        avg_time_delta=edges.avg_time_delta, n_content_id=edges.n_content_id,
                        n_content_id_y=edges.n_content_id_y, edge_symmetry_score=lo / hi,
                        object_ids=edges.object_ids)


def weight_quantile(edges: ibis.Table, edge_weight: float) -> float | None:
    """R's `quantile(weights, edge_weight)` (type 7, linear interpolation). Only the weight column
    leaves the engine, and only its distinct values with their counts."""
    counts = edges.group_by("weight").aggregate(n=edges.count()).order_by("weight").to_pyarrow()
    if counts.num_rows == 0:
        return None
    values = np.repeat(np.asarray(counts.column("weight").to_numpy(), dtype=float), counts.column("n").to_numpy())
    return float(np.quantile(values, edge_weight, method="linear"))


def with_threshold(edges: ibis.Table, edge_weight: float) -> ibis.Table:
    cut = weight_quantile(edges, edge_weight)
    flag = (edges.weight > cut).cast("int64") if cut is not None else ibis.literal(0)
    return edges.mutate(weight_threshold=flag)


def account_stats(edges: ibis.Table, groups: ibis.Table) -> ibis.Table:
    """CooRTweet's `account_stats(graph, result, weight_threshold = "full")`."""
    kept = edges.filter(edges.weight_threshold == 1)
    ends = kept.select(account_id=kept["from"], avg_time_delta=kept.avg_time_delta,
                       edge_symmetry_score=kept.edge_symmetry_score).union(
        kept.select(account_id=kept["to"], avg_time_delta=kept.avg_time_delta,
                    edge_symmetry_score=kept.edge_symmetry_score), distinct=True)
    summary = ends.group_by("account_id").aggregate(avg_time_delta=ends.avg_time_delta.mean(),
                                                    avg_edge_symmetry_score=ends.edge_symmetry_score.mean())
    shares = groups.select(account_id=groups.account_id, share=groups.content_id).union(
        groups.select(account_id=groups.account_id_y, share=groups.content_id_y), distinct=True)
    counts = shares.group_by("account_id").aggregate(unique_shares_count=shares.count())
    return summary.join(counts, "account_id").order_by("account_id")


def group_stats(edges: ibis.Table) -> ibis.Table:
    """CooRTweet's `group_stats` on the thresholded graph: objects and how many accounts (as
    `from` ends of edges) shared them."""
    kept = edges.filter(edges.weight_threshold == 1)
    unnested = kept.select(source=kept["from"], object_id=kept.object_ids.unnest())
    return unnested.group_by("object_id").aggregate(num_accounts=unnested.source.nunique()).order_by(
        [ibis.desc("num_accounts"), "object_id"])


def directed_weights(groups: ibis.Table) -> ibis.Table:
    """coordination-network-toolkit's directed co-share weights: for each ordered account pair
    (u, v), how many of u's contents have a share of the same object by v within the window."""
    both = groups.select(source=groups.account_id, target=groups.account_id_y, content=groups.content_id).union(
        groups.select(source=groups.account_id_y, target=groups.account_id, content=groups.content_id_y),
        distinct=False)
    return both.group_by(["source", "target"]).aggregate(weight=both.content.nunique())


def coshare_edges(shares: ibis.Table, params: CoshareParams, object_types: list[str] | None = None) -> ibis.Table:
    """The signal: edges in the contract of ARCHITECTURE §4, one set per object type (as CooRTweet's
    vignette runs detect_groups once per object column). ``shares`` is the shares view; actors are
    ``platform:account_id``. Evidence: up to 10 of the objects the pair co-shared."""
    if object_types is None:
        object_types = shares.select("object_type").distinct().to_pyarrow().column(0).to_pylist()
    out = None
    for kind in sorted(object_types):
        rows = shares.filter(shares.object_type == kind)
        rows = rows.mutate(account_id=rows.platform.concat(":", rows.account_id))
        rows = rows.mutate(rid=ibis.row_number().over(order_by=[rows.ts, rows.content_id, rows.object_id]))
        groups = detect_groups(rows, params)
        edges = groups.mutate(a=ibis.least(groups.account_id, groups.account_id_y),
                              b=ibis.greatest(groups.account_id, groups.account_id_y))
        edges = edges.group_by(["a", "b"]).aggregate(n=edges.count(), first=edges._t.min(), last=edges._t_y.max(),
                                                     objects=edges.object_id.collect(distinct=True))
        evidence = ibis.literal('["').concat(edges.objects[:10].map(lambda o: o.replace('"', "'")).join('","'), '"]')
        part = edges.select(a_actor=edges.a, b_actor=edges.b, signal=ibis.literal(f"coshare:{kind}"),
                            weight=edges.n.cast("float64"), n_events=edges.n,
                            first_ts=edges.first.as_timestamp("s"), last_ts=edges.last.as_timestamp("s"),
                            evidence=evidence)
        out = part if out is None else out.union(part, distinct=False)
    return out
