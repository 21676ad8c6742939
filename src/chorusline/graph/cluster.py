"""Clusters of the fused graph: Leiden (leidenalg on python-igraph), then pruning.

Only the thresholded fused edges leave the engine (``probability >= min_probability``): a campaign
is a dense knot of strong ties, and the weak tail of chance co-occurrences would only blur it.
Leiden optimises the weighted modularity (``RBConfigurationVertexPartition``, resolution 0.3 by
default: an operation's shifts and API accounts are one campaign) under a fixed seed, on a graph whose vertices are sorted by name, so the same edges give
the same clusters. Pruning then removes the periphery by weighted degree (strength) centrality:
within each cluster, members whose summed fused weight inside it is below ``min_strength`` are
dropped, repeatedly until none is (one tie at P ≥ 0.7 is enough: a persona whose only strong tie
is the API account that writes for it is a member; an account hanging on by a weak chance tie is
not). Clusters tied to each other by at least ``merge_share`` of the smaller one's own tie weight
are merged: modularity likes to split an operation's stars (an API
account and the personas it writes for) from its core. Clusters smaller than ``min_size`` are not
clusters. Output: one row per kept member with its
cluster (numbered by size, largest first), its degree and strength inside the cluster."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class ClusterParams:
    min_probability: float = 0.6  # fused edges weaker than this do not enter the graph
    resolution: float = 0.3  # below 1 an operation's shifts stay one cluster
    seed: int = 42
    min_strength: float = 1.2  # −ln(1 − 0.7): one tie at P = 0.7
    min_size: int = 3
    merge_share: float = 0.25  # clusters tied to each other this strongly (vs the smaller's own ties) merge


def _graph(edges: pa.Table):
    import igraph as ig

    a = edges["a_actor"].to_numpy(zero_copy_only=False)
    b = edges["b_actor"].to_numpy(zero_copy_only=False)
    names, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    pairs = codes.reshape(2, -1).T
    g = ig.Graph(n=len(names), edges=pairs.tolist(), directed=False)
    g.vs["name"] = names.tolist()
    g.es["weight"] = edges["weight"].to_numpy(zero_copy_only=False).tolist()
    return g


def _prune(sub, min_strength: float):
    """Drop members whose strength inside the cluster is below ``min_strength``, until none is."""
    while sub.vcount():
        weak = np.flatnonzero(np.array(sub.strength(weights="weight")) < min_strength)
        if not len(weak):
            break
        sub = sub.induced_subgraph(np.setdiff1d(np.arange(sub.vcount()), weak).tolist())
    return sub


def cluster_members(fused: ibis.Table, params: ClusterParams = ClusterParams()) -> pa.Table:
    """actor, cluster, degree, strength (inside its cluster), from the fused edges."""
    strong = fused.filter(fused.probability >= params.min_probability).select("a_actor", "b_actor", "weight")
    edges = strong.to_pyarrow()
    empty = pa.table({"actor": pa.array([], pa.string()), "cluster": pa.array([], pa.int64()),
                      "degree": pa.array([], pa.int64()), "strength": pa.array([], pa.float64())})
    if edges.num_rows == 0:
        return empty
    import leidenalg

    g = _graph(edges.sort_by([("a_actor", "ascending"), ("b_actor", "ascending")]))
    partition = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                         resolution_parameter=params.resolution, seed=params.seed)
    membership = np.array(partition.membership)
    groups = []
    for community in np.unique(membership):  # per cluster (few), not per row
        core = _prune(g.subgraph(np.flatnonzero(membership == community).tolist()), params.min_strength)
        if core.vcount() >= 2:
            groups.append(np.array(core.vs["name"], dtype=object))
    groups = _merge(fused.filter(fused.probability >= params.min_probability), groups, g, params.merge_share)
    index = {name: i for i, name in enumerate(g.vs["name"])}
    kept = []
    for names in groups:
        if len(names) < params.min_size:
            continue
        sub = g.subgraph(sorted(index[n] for n in names))
        kept.append((np.array(sub.vs["name"], dtype=object), np.array(sub.degree()),
                     np.array(sub.strength(weights="weight"))))
    if not kept:
        return empty
    kept.sort(key=lambda k: (-len(k[0]), min(k[0])))  # largest first; ties by name, for determinism
    return pa.table({"actor": pa.array(np.concatenate([k[0] for k in kept]).tolist(), pa.string()),
                     "cluster": pa.array(np.concatenate([np.full(len(k[0]), i) for i, k in enumerate(kept)]), pa.int64()),
                     "degree": pa.array(np.concatenate([k[1] for k in kept]), pa.int64()),
                     "strength": pa.array(np.concatenate([k[2] for k in kept]), pa.float64())})


def _merge(fused: ibis.Table, groups: list[np.ndarray], g, share: float) -> list[np.ndarray]:
    """Join clusters whose strong ties to each other weigh at least ``share`` of the smaller one's
    internal ties: modularity splits an operation's stars (an API account and the personas it
    writes for) from its core even when they are tied to it."""
    if len(groups) < 2 or share <= 0:
        return groups
    label = pa.table({"actor": pa.array(np.concatenate(groups).tolist(), pa.string()),
                      "group": pa.array(np.concatenate([np.full(len(n), i) for i, n in enumerate(groups)]), pa.int64())})
    lab = ibis.memtable(label)
    la = lab.select(a_actor=lab.actor, ga=lab.group)
    lb = lab.select(b_actor=lab.actor, gb=lab.group)
    cross = fused.select("a_actor", "b_actor", "weight").join(la, "a_actor").join(lb, "b_actor")
    cross = cross.filter(cross.ga != cross.gb)
    cross = cross.mutate(lo=ibis.least(cross.ga, cross.gb), hi=ibis.greatest(cross.ga, cross.gb))
    between = cross.group_by(["lo", "hi"]).aggregate(w=cross.weight.sum()).to_pyarrow().to_pylist()
    index = {name: i for i, name in enumerate(g.vs["name"])}
    internal = [sum(g.subgraph(sorted(index[n] for n in names)).es["weight"]) for names in groups]
    parent = list(range(len(groups)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for row in sorted(between, key=lambda r: (-r["w"], r["lo"], r["hi"])):  # cluster pairs (few), not rows
        if row["w"] >= share * min(internal[row["lo"]], internal[row["hi"]]):
            parent[root(row["hi"])] = root(row["lo"])
    merged: dict[int, list[np.ndarray]] = {}
    for i, names in enumerate(groups):
        merged.setdefault(root(i), []).append(names)
    return [np.concatenate(parts) for parts in merged.values()]
