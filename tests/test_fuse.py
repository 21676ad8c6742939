"""fuse: evidence against a configuration-model null, max within a signal family, noisy-OR across
families; cluster: Leiden on the fused graph with strength pruning, deterministic."""

import math

import ibis
import numpy as np
import pyarrow as pa
import pytest

from chorusline.graph.cluster import ClusterParams, cluster_members
from chorusline.graph.fuse import FuseParams, fuse, signal_evidence

T0 = 1_700_000_000


def _edges(rows):
    cols = ["a_actor", "b_actor", "signal", "weight", "n_events"]
    data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    data["first_ts"] = [T0] * len(rows)
    data["last_ts"] = [T0 + 60] * len(rows)
    data["evidence"] = ["[]"] * len(rows)
    t = pa.table(data)
    t = t.set_column(5, "first_ts", t["first_ts"].cast(pa.timestamp("s", tz="UTC")))
    return t.set_column(6, "last_ts", t["last_ts"].cast(pa.timestamp("s", tz="UTC")))


def _store_edges(store, rows):
    store.backend.create_table("edges", _edges(rows), overwrite=True)
    return store.table("edges")


def test_evidence_follows_the_configuration_model(any_store):
    # a busy hub shares one object with each of four accounts; a and b share five objects
    rows = [("a", "b", "coshare:url", 5.0, 5)] + [("hub", f"u{i}", "coshare:url", 1.0, 1) for i in range(4)]
    got = {(r["a_actor"], r["b_actor"]): r for r in signal_evidence(_store_edges(any_store, rows)).to_pyarrow().to_pylist()}
    total = 9.0  # Σ n
    e_ab = 5 * 5 / (2 * total)
    assert got[("a", "b")]["expected"] == pytest.approx(e_ab)
    assert got[("a", "b")]["evidence"] == pytest.approx(1 - math.exp(-(5 - e_ab) / 3))
    e_hub = 4 * 1 / (2 * total)
    assert got[("hub", "u0")]["evidence"] == pytest.approx(1 - math.exp(-(1 - e_hub) / 3))
    assert got[("a", "b")]["evidence"] > 3 * got[("hub", "u0")]["evidence"]


def test_signals_own_nulls_and_rarity():
    rows = [("a", "b", "synchrony", 4.0, 8), ("a", "b", "infrastructure:ip", 0.5, 2), ("c", "d", "infrastructure:ip", 2.0, 2)]
    got = {(r["a_actor"], r["signal"]): r for r in signal_evidence(ibis.memtable(_edges(rows))).to_pyarrow().to_pylist()}
    assert got[("a", "synchrony")]["expected"] == 2.0  # 8 observed at 4 × chance
    # a shared key of rarity 0.25 counts a quarter of one of rarity 1
    ip = got[("a", "infrastructure:ip")]
    assert ip["evidence"] == pytest.approx(1 - math.exp(-(2 - ip["expected"]) * 0.25 / 3))


def test_independent_families_count_more_than_one_repeated():
    rows = [("a", "b", "coshare:url", 3.0, 3), ("a", "b", "coshare:hashtag", 3.0, 3),  # one family, twice
            ("c", "d", "coshare:url", 3.0, 3), ("c", "d", "near_duplicate:posts", 3.0, 3)]  # two families
    ev = {(r["a_actor"], r["signal"]): r["evidence"] for r in signal_evidence(ibis.memtable(_edges(rows))).to_pyarrow().to_pylist()}
    fused = {r["a_actor"]: r for r in fuse(ibis.memtable(_edges(rows))).to_pyarrow().to_pylist()}
    assert fused["a"]["n_families"] == 1
    assert fused["a"]["probability"] == pytest.approx(max(ev[("a", "coshare:url")], ev[("a", "coshare:hashtag")]))
    both = 1 - (1 - ev[("c", "coshare:url")]) * (1 - ev[("c", "near_duplicate:posts")])
    assert fused["c"]["probability"] == pytest.approx(both)
    assert fused["c"]["weight"] == pytest.approx(-math.log(1 - both))
    assert fused["c"]["families"].startswith('["coshare=')


def test_saturation_per_family_from_params():
    rows = [("a", "b", "coshare:url", 3.0, 3), ("c", "d", "coshare:url", 3.0, 3)]
    loose = signal_evidence(ibis.memtable(_edges(rows))).to_pyarrow()["evidence"][0].as_py()
    strict = signal_evidence(ibis.memtable(_edges(rows)), FuseParams(saturation={"coshare": 30.0})).to_pyarrow()
    assert strict["evidence"][0].as_py() < loose / 5


def _fused(pairs):
    day = 86_400
    return ibis.memtable(pa.table({"a_actor": [a for a, _, _ in pairs], "b_actor": [b for _, b, _ in pairs],
                                   "weight": [-math.log(1 - p) for _, _, p in pairs],
                                   "probability": [p for _, _, p in pairs],
                                   # each tie first fires on day i % 5 and last two days later
                                   "first_ts": pa.array([T0 + (i % 5) * day for i in range(len(pairs))],
                                                        pa.timestamp("s", "UTC")),
                                   "last_ts": pa.array([T0 + (i % 5 + 2) * day for i in range(len(pairs))],
                                                       pa.timestamp("s", "UTC"))}))


def test_leiden_finds_two_knots_and_prunes_the_periphery():
    knot1 = [f"x:a{i}" for i in range(6)]
    knot2 = [f"x:b{i}" for i in range(5)]
    pairs = [(u, v, 0.95) for k in (knot1, knot2) for i, u in enumerate(k) for v in k[i + 1:]]
    pairs += [("x:a0", "x:tail", 0.65)]  # one tie below P = 0.7: pruned
    pairs += [("x:a0", "x:leaf", 0.95)]  # one strong tie: a member (a persona and the API account writing for it)
    pairs += [("x:a1", "x:b1", 0.7)]  # a weak bridge does not merge the knots
    pairs += [("x:p", "x:q", 0.99), ("x:r", "x:s", 0.99)]  # two pairs: each too small to be a cluster
    pairs += [(u, v, 0.3) for u in knot1 for v in knot2 if (u, v) != ("x:a1", "x:b1")]  # below min_probability
    params = ClusterParams(min_probability=0.6, resolution=1.0)
    got = cluster_members(_fused(pairs), params).to_pylist()
    clusters = {}
    for r in got:
        clusters.setdefault(r["cluster"], set()).add(r["actor"])
    assert clusters == {0: set(knot1) | {"x:leaf"}, 1: set(knot2)}
    assert cluster_members(_fused(pairs), params).equals(cluster_members(_fused(list(reversed(pairs))), params))
    assert next(r for r in got if r["actor"] == "x:a3")["degree"] == 5
    assert next(r for r in got if r["actor"] == "x:a0")["degree"] == 6


def test_periphery_joins_by_many_weak_ties_it_has_nowhere_else():
    knot = [f"x:a{i}" for i in range(5)]
    pairs = [(u, v, 0.95) for i, u in enumerate(knot) for v in knot[i + 1:]]
    pairs += [("x:quiet", u, 0.4) for u in knot[:3]]  # 3 × −ln(0.6) = 1.53: keeps meeting the core
    pairs += [("x:busy", u, 0.4) for u in knot[:3]]  # as much, but most of its ties are elsewhere
    pairs += [("x:busy", f"x:o{i}", 0.5) for i in range(6)]
    pairs += [("x:chain", "x:quiet", 0.6), ("x:chain", "x:a4", 0.3)]  # the second round counts x:quiet
    pairs += [("x:once", "x:a0", 0.55)]  # one tie: not a pattern
    got = {r["actor"]: r for r in cluster_members(_fused(pairs), ClusterParams()).to_pylist()}
    assert set(got) == set(knot) | {"x:quiet", "x:chain"}
    assert not got["x:quiet"]["core"] and got["x:a0"]["core"] and got["x:quiet"]["degree"] == 3
    assert got["x:quiet"]["strength"] == pytest.approx(-3 * math.log(0.6))
    assert got["x:a0"]["active_days"] == 7  # the knot's ties fire on days 0-4 and last on days 2-6
    assert cluster_members(_fused(pairs), ClusterParams(attach_rounds=1)).num_rows == 6


def test_no_strong_edges_no_clusters():
    assert cluster_members(_fused([("x:a", "x:b", 0.2)])).num_rows == 0


def test_clusters_tied_strongly_to_each_other_merge():
    from chorusline.graph.cluster import _graph, _merge, _with_times

    core = [("x:a", "x:b", 0.95), ("x:b", "x:c", 0.95), ("x:a", "x:c", 0.95)]
    star = [("x:api", "x:p1", 0.95), ("x:api", "x:p2", 0.95)]
    bridge = [("x:a", "x:api", 0.9), ("x:b", "x:api", 0.9)]
    fused = _fused(core + star + bridge)
    g = _graph(_with_times(fused).to_pyarrow())
    groups = [np.array(["x:a", "x:b", "x:c"], dtype=object), np.array(["x:api", "x:p1", "x:p2"], dtype=object)]
    assert len(_merge(fused, groups, g, 0.25)) == 1  # bridge 4.6 ≥ 0.25 × the star's 6.0
    assert len(_merge(fused, groups, g, 0.9)) == 2


@pytest.mark.spark
def test_periphery_and_knots_on_spark(spark_store):
    """The periphery (a memtable of members joined to the store's fused edges), the knots and the
    scores that read them run on Spark and give what DuckDB gives."""
    from chorusline.campaigns.score import campaign_table, score_members

    knot = [f"x:a{i}" for i in range(6)]
    pairs = [(u, v, 0.95) for i, u in enumerate(knot) for v in knot[i + 1:]]
    pairs += [("x:quiet", u, 0.4) for u in knot[:3]]
    results = []
    for backend in (ibis.duckdb.connect(), spark_store.backend):
        fused = backend.create_table("fused_edges", _fused(pairs).to_pyarrow(), overwrite=True)
        members = cluster_members(fused, ClusterParams())
        clusters = backend.create_table("clusters", members, overwrite=True)
        features = backend.create_table("account_features", pa.table({
            "actor": knot + ["x:quiet"], "feature": ["creation_burst:burst_ratio"] * 7,
            "value": [10.0] * 7, "evidence": ["[]"] * 7}), overwrite=True)
        scored = score_members(clusters, features).to_pyarrow().sort_by("actor")
        results.append((members.sort_by("actor").to_pylist(), scored.select(["actor", "campaign_id", "tier",
                                                                             "flagged"]).to_pylist(),
                        campaign_table(score_members(clusters, features)).to_pyarrow().column("verdict").to_pylist()))
    assert results[0] == results[1]
    assert {r["actor"]: r["core"] for r in results[0][0]}["x:quiet"] is False
