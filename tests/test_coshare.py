"""coshare: exact agreement with CooRTweet and the toolkit on their own outputs, on DuckDB and
Spark, and with a brute-force reference of CooRTweet's algorithm on random inputs."""

import math
from collections import Counter
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chorusline.signals.coshare import (
    PAIR_COLUMNS, CoshareParams, account_stats, coordinated_edges, coshare_edges, detect_groups,
    group_stats, toolkit_network, with_threshold,
)
from chorusline.signals.share_files import load_share_file
from conftest import SHARED, needs_shared

EXPECTED = SHARED / "peers" / "expected"


def frame(expr) -> pd.DataFrame:
    return expr.to_pyarrow().to_pandas()


@needs_shared
@pytest.mark.parametrize("mp", [2, 1])
def test_russian_data_exactly_as_coortweet_and_the_toolkit(any_store, mp):
    backend = any_store.backend
    shares = load_share_file(backend, SHARED / "peers" / "russian_coord_tweets.csv", "coortweet").table
    params = CoshareParams(time_window=60, min_participation=mp, edge_weight=0.5)
    groups = detect_groups(shares, params).cache()  # computed once, read by every statistic below
    got = frame(groups.select(*PAIR_COLUMNS)).astype(str)
    want = pd.read_csv(EXPECTED / f"coortweet_russian_tw60_mp{mp}_ew0.5_detect_groups.csv", dtype=str)
    assert Counter(map(tuple, got[list(PAIR_COLUMNS)].values)) == Counter(map(tuple, want[list(PAIR_COLUMNS)].values))

    edges = with_threshold(coordinated_edges(groups).cache(), 0.5).cache()
    got = frame(edges).sort_values(["from", "to"]).reset_index(drop=True)
    want = pd.read_csv(EXPECTED / f"coortweet_russian_tw60_mp{mp}_ew0.5_edges_full.csv").sort_values(["from", "to"]).reset_index(drop=True)
    assert list(got["from"]) == list(want["from"]) and list(got["to"]) == list(want["to"])  # igraph's orientation too
    for col in ("weight", "n_content_id", "n_content_id_y", "weight_threshold"):
        assert list(got[col]) == list(want[col]), col
    for col in ("avg_time_delta", "edge_symmetry_score"):
        assert (got[col] - want[col]).abs().max() < 1e-9, col
    assert [set(o) for o in got.object_ids] == [set(o.split(",")) for o in want.object_ids]

    stats = frame(account_stats(edges, groups)).set_index("account_id").sort_index()
    want = pd.read_csv(EXPECTED / f"coortweet_russian_tw60_mp{mp}_ew0.5_account_stats.csv").set_index("account_id").sort_index()
    assert list(stats.index) == list(want.index)
    assert list(stats.unique_shares_count) == list(want.unique_shares_count)
    assert (stats.avg_time_delta - want.avg_time_delta).abs().max() < 1e-9
    assert (stats.avg_edge_symmetry_score - want.avg_edge_symmetry_score).abs().max() < 1e-9

    objects = frame(group_stats(edges)).set_index("object_id").num_accounts.to_dict()
    want = pd.read_csv(EXPECTED / f"coortweet_russian_tw60_mp{mp}_ew0.5_group_stats.csv").set_index("object_id").num_accounts.to_dict()
    assert objects == want

    kept = frame(edges.filter(edges.weight_threshold == 1))
    accounts = set(kept["from"]) | set(kept["to"])
    want = pd.read_csv(EXPECTED / f"coortweet_russian_tw60_mp{mp}_ew0.5_subgraph1_accounts.csv", dtype=str)
    assert accounts == set(want.account_id)

    directed = frame(toolkit_network(shares, 60))  # the toolkit's weights, from the same shares
    for min_weight in (1, 2):
        cnt_file = EXPECTED / f"cnt_russian_tw60_mew{min_weight}_edges.csv"
        if mp != 1 or not cnt_file.exists():
            continue
        cnt = pd.read_csv(cnt_file, dtype={"source": str, "target": str})
        ours = directed[directed.weight >= min_weight]
        assert set(zip(ours.source, ours.target, ours.weight)) == set(zip(cnt.source, cnt.target, cnt.weight))


@needs_shared
def test_simulated_ground_truth(duck_store):
    backend = duck_store.backend
    shares = load_share_file(backend, EXPECTED / "sim100k_input.parquet", "coortweet").table
    groups = detect_groups(shares, CoshareParams(time_window=60, min_participation=2))
    truth = pd.read_parquet(EXPECTED / "sim100k_ground_truth.parquet")
    truth = truth[truth.coordinated]
    got = frame(groups.select(*PAIR_COLUMNS)).astype(str)
    assert Counter(map(tuple, got.values)) == Counter(map(tuple, truth[list(PAIR_COLUMNS)].astype(str).values))
    edges = frame(with_threshold(coordinated_edges(groups), 0.5).filter(ibis._.weight_threshold == 1))
    want = pd.read_csv(EXPECTED / "coortweet_sim100k_tw60_mp2_ew0.5_subgraph1_edges.csv")
    assert set(map(frozenset, zip(edges["from"], edges["to"]))) == set(map(frozenset, zip(want["from"], want["to"])))
    cnt = pd.read_csv(EXPECTED / "cnt_sim100k_tw60_mew1_edges.csv")
    assert len(frame(toolkit_network(shares, 60))) == len(cnt)


# --- an independent, brute-force reading of CooRTweet's algorithm ---------------------------------------

def reference(rows, tw, mp, remove_loops=True):
    count = Counter(a for _, a, _, _ in rows)
    first = {}
    for i, (_, a, _, _) in enumerate(rows):
        first.setdefault(a, i)
    x = sorted(((o, a, c, t, i) for i, (o, a, c, t) in enumerate(rows) if count[a] >= mp),
               key=lambda r: (first[r[1]], r[4]))
    pairs = []
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            if x[i][0] == x[j][0] and abs(x[i][3] - x[j][3]) <= tw:
                pairs.append((x[i][0], x[i][2], x[j][2], x[i][3] - x[j][3], x[i][1], x[j][1]))
    if remove_loops:
        pairs = [p for p in pairs if p[0] != p[1] and p[0] != p[2] and p[1] != p[2] and p[4] != p[5]]
    if mp >= 1:
        contents = {p[1] for p in pairs} | {p[2] for p in pairs}
        in_pairs = [r for r in x if r[2] in contents]
        per_account = Counter(r[1] for r in in_pairs)
        keep = {r[2] for r in in_pairs if per_account[r[1]] >= mp}
        pairs = [p for p in pairs if p[1] in keep or p[2] in keep]
    out = []
    for o, c, cy, d, a, ay in pairs:
        out.append((o, cy, c, d, ay, a) if d > 0 else (o, c, cy, -d, a, ay))
    return Counter(out)


share_rows = st.lists(st.tuples(st.sampled_from(["o1", "o2", "o3", "c1"]), st.sampled_from(["a", "b", "c", "d"]),
                                st.sampled_from(["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"]),
                                st.integers(0, 40)), max_size=24)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=share_rows, tw=st.sampled_from([0, 1, 5, 10]), mp=st.integers(1, 3), loops=st.booleans())
def test_engine_equals_brute_force(rows, tw, mp, loops):
    con = ibis.duckdb.connect()
    table = pa.table({"object_id": [r[0] for r in rows], "account_id": [r[1] for r in rows],
                      "content_id": [r[2] for r in rows], "ts": pa.array([r[3] for r in rows], pa.int64()),
                      "rid": pa.array(range(len(rows)), pa.int64())},
                     schema=pa.schema([("object_id", pa.string()), ("account_id", pa.string()), ("content_id", pa.string()),
                                       ("ts", pa.int64()), ("rid", pa.int64())]))
    shares = con.create_table("shares", table)
    got = frame(detect_groups(shares, CoshareParams(tw, mp, loops)).select(*PAIR_COLUMNS))
    assert Counter(map(tuple, got.values.tolist())) == reference(rows, tw, mp, loops)


def test_ties_at_exactly_the_window_count():
    rows = [("o", "a", "c1", 0), ("o", "b", "c2", 10), ("o", "c", "c3", 11)]
    assert reference(rows, 10, 1) == Counter({("o", "c1", "c2", 10, "a", "b"): 1, ("o", "c2", "c3", 1, "b", "c"): 1})
    con = ibis.duckdb.connect()
    shares = con.create_table("s", pd.DataFrame({"object_id": ["o"] * 3, "account_id": ["a", "b", "c"],
                                                 "content_id": ["c1", "c2", "c3"], "ts": [0, 10, 11], "rid": [0, 1, 2]}))
    got = frame(detect_groups(shares, CoshareParams(10, 1)).select(*PAIR_COLUMNS))
    assert Counter(map(tuple, got.values.tolist())) == reference(rows, 10, 1)


def test_signal_edges_follow_the_contract(duck_store):
    posts = pd.DataFrame({
        "platform": ["x"] * 6, "post_id": [f"p{i}" for i in range(6)],
        "account_id": ["a", "b", "a", "b", "c", "c"],
        "ts": pd.to_datetime([0, 5, 100, 103, 500, 900], unit="s", utc=True),
        "kind": ["repost"] * 4 + ["post", "post"], "target_post_id": ["t1", "t1", "t2", "t2", None, None],
    })
    for col in ("text", "lang", "target_account_id", "client", "attrs"):
        posts[col] = None
    for col in ("urls", "hashtags", "mentions", "media_hashes"):
        posts[col] = [[] for _ in range(6)]
    from chorusline.schema import POSTS

    duck_store.append_rows(POSTS, pa.Table.from_pandas(posts[POSTS.column_names], schema=POSTS.arrow_schema,
                                                       preserve_index=False))
    from chorusline.signals.shares import shares_view

    edges = frame(coshare_edges(shares_view(duck_store.table("posts"), ["repost"]), CoshareParams(10, 2)))
    assert len(edges) == 1
    edge = edges.iloc[0]
    assert (edge.a_actor, edge.b_actor, edge.signal, edge.n_events) == ("x:a", "x:b", "coshare:repost", 2)
    # weight: the two objects' rarity, each shared by both of the two accounts: ln(3/2)/ln 3
    assert edge.a_actor < edge.b_actor and edge.weight == pytest.approx(2 * math.log(1.5) / math.log(3))
    assert sorted(__import__("json").loads(edge.evidence)) == ["t1", "t2"]
    assert str(edge.first_ts)[:19] == "1970-01-01 00:00:00" and str(edge.last_ts)[:19] == "1970-01-01 00:01:43"


def test_pair_order_fallback_gives_the_same_network(monkeypatch):
    """When the packed pair order would not fit 64 bits, a window over all pairs is used instead;
    both must orient every edge the same way."""
    import numpy as np

    import chorusline.signals.coshare as coshare

    rng = np.random.default_rng(4)
    n = 400
    frame_in = pd.DataFrame({"object_id": [f"o{i}" for i in rng.integers(0, 15, n)],
                             "account_id": [f"a{i}" for i in rng.integers(0, 25, n)],
                             "content_id": [f"c{i}" for i in range(n)], "ts": rng.integers(0, 300, n), "rid": range(n)})
    shares = ibis.duckdb.connect().create_table("s", frame_in)
    groups = detect_groups(shares, CoshareParams(30, 1)).cache()
    packed = frame(coordinated_edges(groups).drop("object_ids")).sort_values(["from", "to"]).reset_index(drop=True)
    monkeypatch.setattr(coshare, "_PACK_LIMIT", 0)
    windowed = frame(coordinated_edges(groups).drop("object_ids")).sort_values(["from", "to"]).reset_index(drop=True)
    assert len(packed) > 50
    pd.testing.assert_frame_equal(packed, windowed)


def test_nothing_shared_gives_no_edges_in_the_contract(duck_store):
    from chorusline.schema import EDGES
    from chorusline.signals.shares import shares_view

    edges = coshare_edges(shares_view(duck_store.table("posts")), CoshareParams(10, 2))
    assert edges.schema() == EDGES and edges.count().execute() == 0


# --- the toolkit's directed network, computed straight from the shares --------------------------------

def toolkit_reference(rows, tw):
    """coordination-network-toolkit's co-share query read literally: the first row of each message
    id (insert or ignore); weight(u, v) = distinct messages of u with a share of the same object by
    v within tw either side; no self-loops (the export drops them)."""
    seen, kept = set(), []
    for o, a, c, t in rows:
        if c not in seen:
            seen.add(c)
            kept.append((o, a, c, t))
    weights = Counter()
    for u in {a for _, a, _, _ in kept}:
        for v in {a for _, a, _, _ in kept} - {u}:
            n = len({c for o, a, c, t in kept if a == u
                     and any(o2 == o and a2 == v and abs(t2 - t) <= tw for o2, a2, _, t2 in kept)})
            if n:
                weights[(u, v)] = n
    return weights


def _toolkit_frame(rows):
    return pa.table({"object_id": [r[0] for r in rows], "account_id": [r[1] for r in rows],
                     "content_id": [r[2] for r in rows], "ts": pa.array([r[3] for r in rows], pa.int64()),
                     "rid": pa.array(range(len(rows)), pa.int64())},
                    schema=pa.schema([("object_id", pa.string()), ("account_id", pa.string()),
                                      ("content_id", pa.string()), ("ts", pa.int64()), ("rid", pa.int64())]))


@settings(max_examples=60, deadline=None)
@given(rows=share_rows, tw=st.sampled_from([0, 1, 5, 10]))
def test_toolkit_network_equals_brute_force(rows, tw):
    """Duplicate message ids, an account sharing one object many times (close together or not),
    ties at exactly the window."""
    shares = ibis.duckdb.connect().create_table("shares", _toolkit_frame(rows))
    got = frame(toolkit_network(shares, tw))
    assert dict(zip(zip(got.source, got.target), got.weight)) == dict(toolkit_reference(rows, tw))


def test_toolkit_network_repeats_and_the_window_edge():
    # b shares o twice within 2 tw of each other: a's message meets b twice but counts once
    rows = [("o", "a", "m1", 10), ("o", "b", "m2", 0), ("o", "b", "m3", 20), ("o", "c", "m4", 30),
            ("o", "a", "m1", 31)]  # m1 again: ignored, as the toolkit's insert-or-ignore does
    shares = ibis.duckdb.connect().create_table("s", _toolkit_frame(rows))
    got = frame(toolkit_network(shares, 10))
    weights = dict(zip(zip(got.source, got.target), got.weight))
    assert weights == {("a", "b"): 1, ("b", "a"): 2, ("b", "c"): 1, ("c", "b"): 1} == dict(toolkit_reference(rows, 10))


@needs_shared
@pytest.mark.parametrize("min_weight", [1, 2])
def test_toolkit_network_exactly_as_the_toolkit(any_store, min_weight):
    shares = load_share_file(any_store.backend, SHARED / "peers" / "russian_coord_tweets.csv", "coortweet").table
    got = frame(toolkit_network(shares, 60, min_weight))
    cnt = pd.read_csv(EXPECTED / f"cnt_russian_tw60_mew{min_weight}_edges.csv", dtype={"source": str, "target": str})
    assert len(got) == len(cnt)
    assert set(zip(got.source, got.target, got.weight)) == set(zip(cnt.source, cnt.target, cnt.weight))


@needs_shared
def test_toolkit_network_on_the_simulated_set(duck_store):
    shares = load_share_file(duck_store.backend, EXPECTED / "sim100k_input.parquet", "coortweet").table
    got = frame(toolkit_network(shares, 60))
    cnt = pd.read_csv(EXPECTED / "cnt_sim100k_tw60_mew1_edges.csv", dtype={"source": str, "target": str})
    assert set(zip(got.source, got.target, got.weight)) == set(zip(cnt.source, cnt.target, cnt.weight))
