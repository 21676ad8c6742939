"""Co-sharing with CooRTweet's semantics, exactly, as Ibis expressions (DuckDB and Spark alike).

CooRTweet 2.1.3 (`detect_groups` → `generate_coordinated_network`), step by step:

1. drop accounts with fewer than ``min_participation`` shares;
2. every pair of shares of one object whose times differ by at most ``time_window`` seconds
   (inclusive) — found with one equi-join on (object, time bucket) instead of a per-object
   cartesian product, so viral objects stay bounded by the window;
3. remove loops: the same account, the same content, or the object being one of the contents;
4. keep a pair when either content belongs to an account with at least ``min_participation``
   shares among the contents that appear in pairs;
5. orient each pair older → newer (equal times: in CooRTweet's row order);
6. aggregate per unordered account pair: weight (pairs), mean time delta, distinct older/newer
   contents, ``edge_symmetry_score`` = min/max of those, the objects;
7. ``weight_threshold`` = weight > the ``edge_weight`` quantile of all weights (R's type 7).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np

from chorusline.engine import reused
from chorusline.schema import EDGES


_PACK_LIMIT = 2**62  # the packed pair order must stay below this (64-bit, room for igraph's offsets)


@dataclass(frozen=True)
class CoshareParams:
    time_window: int = 10  # seconds, inclusive
    min_participation: int = 2
    remove_loops: bool = True
    edge_weight: float = 0.5  # quantile of weights above which an edge is kept in the subgraph


def detect_groups(shares: ibis.Table, params: CoshareParams) -> ibis.Table:
    """CooRTweet's `detect_groups`. ``shares`` has object_id, account_id, content_id, ts (whole
    seconds) and ``rid`` (input order). Returns object_id, content_id, content_id_y, time_delta,
    account_id, account_id_y (``_y`` = the newer share), and the keys that order the pairs as
    CooRTweet produces them: ``_obj`` (the object's rank), ``_i`` and ``_j`` (the two rows' ranks
    within their object), plus ``_t``/``_t_y`` (the two times)."""
    tw = int(params.time_window)
    x = shares.select("object_id", "account_id", "content_id", "ts", "rid")
    mp = params.min_participation
    # CooRTweet's pre-filter (`x[, if (.N >= mp) .SD, by = account_id]`) also regroups the rows by
    # account, in order of each account's first row; pairs are then taken in that order, which
    # decides how a pair with equal times is oriented. Reproduce the order: (account's first row, row).
    per_account = x.group_by("account_id").aggregate(_n=x.count(), _first=x.rid.min())
    if mp > 1:
        per_account = per_account.filter(per_account._n >= mp)
    # accounts also get integer codes in the order of their ids, so that edges are grouped on one
    # integer rather than two strings (and least/greatest of codes = of ids)
    per_account = per_account.mutate(_acode=ibis.row_number().over(order_by=per_account.account_id).cast("int64"))
    x = x.join(per_account, "account_id").select("object_id", "account_id", "content_id", "ts", "rid", "_first",
                                                 "_acode")
    # a row's rank within its object in that order, and the objects ranked by their first row
    x = x.mutate(_r=ibis.row_number().over(group_by=x.object_id, order_by=[x._first, x.rid]).cast("int64"),
                 _bucket=(x.ts // (tw + 1)).cast("int64"))
    firsts = x.filter(x._r == 0)
    objects = firsts.select(object_id=firsts.object_id,
                            _obj=ibis.row_number().over(order_by=[firsts._first, firsts.rid]).cast("int64"))
    # pairs are joined on the object's integer rank; x is read four times below, so it is
    # computed once (its window functions would otherwise be evaluated per reference)
    x = reused(x.join(objects, "object_id"))
    # Each pair once, older share first (equal times: the earlier in that order). With buckets
    # one window + 1 wide, the newer share is in the older one's bucket or the next: one equi-join
    # on (object, bucket) against the older side taken twice, so a viral object costs its
    # within-window pairs, not its cartesian product.
    older = x.mutate(_nb=x._bucket).union(x.mutate(_nb=x._bucket + 1), distinct=False)
    newer = x.view()
    joined = older.join(newer, [older._obj == newer._obj, older._nb == newer._bucket,
                                (older.ts < newer.ts) | ((older.ts == newer.ts) & (older._r < newer._r))])
    pairs = joined.select(object_id=older.object_id, content_id=older.content_id, content_id_y=newer.content_id,
                          time_delta=newer.ts - older.ts, account_id=older.account_id,
                          account_id_y=newer.account_id, _i=ibis.least(older._r, newer._r),
                          _j=ibis.greatest(older._r, newer._r), _t=older.ts, _t_y=newer.ts, _obj=older._obj,
                          _a=older._acode, _a_y=newer._acode)
    pairs = pairs.filter(pairs.time_delta <= tw)
    if params.remove_loops:
        pairs = pairs.filter((pairs.object_id != pairs.content_id) & (pairs.object_id != pairs.content_id_y)
                             & (pairs.content_id != pairs.content_id_y) & (pairs.account_id != pairs.account_id_y))
    if mp > 1:  # with 1, every content in a pair qualifies: the step keeps everything
        pairs = _min_participation(x, reused(pairs), mp)  # the pass reads the pairs three times
    return pairs.select("object_id", "content_id", "content_id_y", "time_delta", "account_id", "account_id_y",
                        "_obj", "_j", "_i", "_t", "_t_y", "_a", "_a_y")


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
    first. `group_stats` counts `from` ends, so this orientation is part of the peer's results.
    An edge's place in that list is its first pair in CooRTweet's order (object, newer, older),
    packed into one integer when the sizes allow, else ranked by a window over all pairs."""
    a, a_y = groups._a.cast("int64"), groups._a_y.cast("int64")
    g = groups.mutate(_e=ibis.least(a, a_y) * ibis.literal(2**32, "int64") + ibis.greatest(a, a_y))
    g = g.mutate(_pos=_pair_order(g))
    # distinct contents per edge, counted from distinct (edge, content) rows: cheaper than
    # count(distinct) in a group-by with millions of groups
    older = g.select("_e", "content_id").distinct()
    older = older.group_by("_e").aggregate(n_content_id=older.count())
    newer = g.select("_e", "content_id_y").distinct()
    newer = newer.group_by("_e").aggregate(n_content_id_y=newer.count())
    objects = g.select("_e", "object_id").distinct()
    objects = objects.group_by("_e").aggregate(object_ids=objects.object_id.collect())
    edges = g.group_by("_e").aggregate(
        # every pair of an edge names the same two accounts: any row's names will do
        _from=ibis.ifelse(g._a < g._a_y, g.account_id, g.account_id_y).arbitrary(),
        _to=ibis.ifelse(g._a < g._a_y, g.account_id_y, g.account_id).arbitrary(),
        _pos=g._pos.min(),
        weight=g.count(),
        avg_time_delta=g.time_delta.mean(),
    ).join(older, "_e").join(newer, "_e").join(objects, "_e")
    edges = reused(edges)  # read three times below
    # igraph's vertex numbering: first appearance as a first end, else (after all of those) as a second end
    as_first = edges.group_by(_w=edges._from).aggregate(_k=edges._pos.min())
    as_second = edges.group_by(_w=edges._to).aggregate(_k2=edges._pos.min())
    keys = as_second.join(as_first, "_w", how="outer")
    after_firsts = ibis.literal(2**62)
    keys = keys.select(_w=ibis.coalesce(keys._w, keys._w_right),
                       _key=ibis.coalesce(keys._k, keys._k2 + after_firsts))
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


def _pair_order(g: ibis.Table):
    """Each pair's place in CooRTweet's output order (object rank, newer row, older row). Packed as
    (_obj * s + _j) * s + _i when that fits in 2^62 (s = the largest object's share count), else a
    row number over all pairs (exact, but a global sort). The sizes are read from the engine."""
    sizes = g.aggregate(objects=g._obj.max(), rows=ibis.greatest(g._i.max(), g._j.max())).to_pyarrow()
    n_obj = (sizes.column("objects")[0].as_py() or 0) + 1
    s = (sizes.column("rows")[0].as_py() or 0) + 1
    if n_obj * s * s < _PACK_LIMIT:
        base = ibis.literal(s, "int64")
        return (g._obj.cast("int64") * base + g._j.cast("int64")) * base + g._i.cast("int64")
    return ibis.row_number().over(order_by=[g._obj, g._j, g._i])


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


def toolkit_network(shares: ibis.Table, time_window: int, min_edge_weight: int = 1) -> ibis.Table:
    """coordination-network-toolkit 1.5.2's co-share network, exactly, straight from the shares
    (object_id, account_id, content_id, ts, rid): for each ordered pair of different accounts
    (source, target), weight = how many of source's messages have a share of the same object by
    target within ``time_window`` seconds either side (inclusive); a message id counts once, at
    its first row (the toolkit's ``insert or ignore``). Returns source, target, weight.

    No distinct count over all pairs of shares. Each pair of shares counts one each way, except
    where the message already met an earlier share of the same account: of the other account's
    shares in a message's window, only the first counts. A share that is not the first has its
    account's previous share within 2 × ``time_window`` — those are few, and only the pairs they
    are in are looked at again, to take back what they counted."""
    tw = int(time_window)
    # integer codes for accounts and objects: the joins and the edge keys run on 64-bit integers
    # (taken before de-duplication, so that it is computed once; unused codes are harmless)
    accounts = reused(_codes(shares, "account_id", "a"))
    x = _first_of_each_content(shares.select("object_id", "account_id", "content_id", "ts", "rid"))
    x = x.join(accounts, "account_id").join(_codes(shares, "object_id", "o"), "object_id")
    # each share's previous share of the same object by the same account, in (time, row) order
    w = ibis.window(group_by=x.o * _HIGH + x.a, order_by=[x.ts, x.rid])
    x = reused(x.select("o", "a", "ts", "rid", b=(x.ts // (tw + 1)).cast("int64"),
                        prev=x.ts.lag().over(w).fill_null(ibis.literal(-(2**62), "int64"))))
    counts = _window_pairs(x, x, tw)
    counts = reused(counts.group_by("e").aggregate(n=counts.count()))
    taken = _counted_twice(x, tw)
    edges = counts.left_join(taken, "e")
    v = edges.v.fill_null(0)
    edges = edges.select(lo=edges.e // _HIGH, hi=edges.e % _HIGH, up=edges.n - v // _HIGH,
                         down=edges.n - v % _HIGH).view()
    low = accounts.select(lo="a", low="account_id")
    high = accounts.select(hi="a", high="account_id")
    named = edges.join(low, "lo").select("hi", "up", "down", "low")
    named = named.join(high, "hi")
    # both directions from one pass (a union of two selects would compute everything twice)
    ways = named.mutate(_up=ibis.array([True, False]).unnest())
    out = ways.select(source=ibis.ifelse(ways._up, ways.low, ways.high),
                      target=ibis.ifelse(ways._up, ways.high, ways.low),
                      weight=ibis.ifelse(ways._up, ways.up, ways.down))
    return out.filter(out.weight >= min_edge_weight)


_HIGH = ibis.literal(2**32, "int64")  # two 32-bit codes packed in one 64-bit key: high * _HIGH + low


def _window_pairs(older: ibis.Table, newer: ibis.Table, tw: int) -> ibis.Table:
    """Pairs of shares (o, a, ts, rid, b, prev) of one object by two accounts, ``older`` first
    (equal times: in row order), at most ``tw`` apart: one equi-join on (object, time bucket of
    tw + 1 seconds). Each side's account, time and previous time (``_y`` for the newer), and the
    unordered account pair as one key ``e`` (the lower code in the high half)."""
    older = older.mutate(nb=older.b).union(older.mutate(nb=older.b + 1), distinct=False)
    j = older.join(newer, [older.o == newer.o, older.nb == newer.b,
                           (older.ts < newer.ts) | ((older.ts == newer.ts) & (older.rid < newer.rid))])
    j = j.select(a=older.a, ts=older.ts, prev=older.prev, a_y=newer.a, ts_y=newer.ts, prev_y=newer.prev)
    j = j.filter((j.ts_y - j.ts <= tw) & (j.a != j.a_y))
    return j.mutate(e=ibis.least(j.a, j.a_y) * _HIGH + ibis.greatest(j.a, j.a_y))


def _counted_twice(x: ibis.Table, tw: int) -> ibis.Table:
    """Per account pair ``e``, what the plain pair count over-counts, packed as (lower -> higher)
    * 2**32 + (higher -> lower): a message meets another account once however many of its shares
    fall in the message's window, so every share but the first there is taken back. Such a share
    has its account's previous share (``prev``) in that window, so within 2 tw of its own time:
    only pairs with such a share (few) are looked at."""
    near = x.filter(x.prev >= x.ts - 2 * tw)

    def packed(j, older_message, newer_message):
        # the older message counts for older -> newer (lower -> higher when the older account is
        # the lower code), the newer message for newer -> older
        up = j.a < j.a_y
        return j.select("e", v=older_message.cast("int64") * ibis.ifelse(up, _HIGH, 1)
                        + newer_message.cast("int64") * ibis.ifelse(up, 1, _HIGH))

    # the newer share is not its account's first in the older message's window (and the older
    # share may not be its account's first in the newer message's)
    j1 = _window_pairs(x, near, tw)
    j1 = packed(j1.filter(j1.prev_y >= j1.ts - tw), ibis.literal(True), j1.prev >= j1.ts_y - tw)
    # the older share alone is not its account's first (in the newer message's window)
    j2 = _window_pairs(near, x, tw)
    j2 = packed(j2.filter((j2.prev >= j2.ts_y - tw) & (j2.prev_y < j2.ts - tw)), ibis.literal(False),
                ibis.literal(True))
    taken = j1.union(j2, distinct=False)
    return reused(taken.group_by("e").aggregate(v=taken.v.sum()))


def _codes(shares: ibis.Table, column: str, code: str) -> ibis.Table:
    """Each distinct value of ``column`` with an integer code."""
    values = shares.select(column).distinct()
    return values.mutate(**{code: ibis.row_number().over().cast("int64")})


def _first_of_each_content(x: ibis.Table) -> ibis.Table:
    """Each content id's first row only (in ``rid`` order)."""
    counts = x.group_by("content_id").aggregate(_n=x.count())
    # kept apart (and tiny, usually empty): the one grouping of every row is not run again by
    # each use below
    repeated = reused(counts.filter(counts._n > 1).select("content_id"))
    suspects = x.semi_join(repeated, "content_id").select("content_id", "rid")
    later = suspects.mutate(_k=ibis.row_number().over(group_by="content_id", order_by="rid"))
    return x.anti_join(later.filter(later._k > 0).select("rid"), "rid")


def coshare_edges(shares: ibis.Table, params: CoshareParams, object_types: list[str] | None = None,
                  signal: str | None = None) -> ibis.Table:
    """The signal: edges in the contract of ARCHITECTURE §4, one set per object type (as CooRTweet's
    vignette runs detect_groups once per object column). ``shares`` is the shares view; actors are
    ``platform:account_id``. Evidence: up to 10 of the objects the pair co-shared. ``signal`` names
    the edges (default ``coshare:<object type>``); the signals built on derived objects
    (fast_share, hashtag_sequence) name their own.

    ``n_events`` counts the co-share events; ``weight`` sums their objects' rarity (``object_rarity``):
    two accounts that both post the hashtag everyone posts during a live event have co-shared
    something nobody could avoid, two that keep sharing the same obscure link have not."""
    if object_types is None:
        object_types = shares.select("object_type").distinct().to_pyarrow().column(0).to_pylist()
    out = None
    for kind in sorted(object_types):
        rows = shares.filter(shares.object_type == kind)
        rows = rows.mutate(account_id=rows.platform.concat(":", rows.account_id))
        rows = rows.mutate(rid=ibis.row_number().over(order_by=[rows.ts, rows.content_id, rows.object_id]))
        groups = detect_groups(rows, params)
        groups = groups.join(object_rarity(rows), "object_id")
        edges = groups.mutate(a=ibis.least(groups.account_id, groups.account_id_y),
                              b=ibis.greatest(groups.account_id, groups.account_id_y))
        edges = edges.group_by(["a", "b"]).aggregate(n=edges.count(), rarity=edges.rarity.sum(), first=edges._t.min(),
                                                     last=edges._t_y.max(),
                                                     objects=edges.object_id.collect(distinct=True))
        evidence = ibis.literal('["').concat(edges.objects[:10].map(lambda o: o.replace('"', "'")).join('","'), '"]')
        part = edges.select(a_actor=edges.a, b_actor=edges.b, signal=ibis.literal(signal or f"coshare:{kind}"),
                            weight=edges.rarity, n_events=edges.n,
                            first_ts=edges.first.as_timestamp("s"), last_ts=edges.last.as_timestamp("s"),
                            evidence=evidence)
        out = part if out is None else out.union(part, distinct=False)
    if out is None:  # nothing shared at all: no edges, in the contract's columns
        return ibis.memtable(EDGES.to_pyarrow().empty_table())
    return out


def object_rarity(rows: ibis.Table) -> ibis.Table:
    """object_id, rarity = ln((N + 1) / n_o) / ln(N + 1): n_o the accounts that shared the object, N
    those that shared anything of its kind. An inverse document frequency, smoothed so that an
    object every account shared still counts a little (a set holding only the suspects), near 0 for
    the hashtag everybody posts during a live event, 1 for an object one account shared. The same
    weighting ``infrastructure`` gives a shared key."""
    accounts = rows.select("object_id", "account_id").distinct()
    per_object = accounts.group_by("object_id").aggregate(n_o=accounts.count())
    total = accounts.select("account_id").distinct().count()
    n = (total + 1).cast("float64")
    return per_object.select("object_id", rarity=(n / per_object.n_o.cast("float64")).ln() / n.ln())
