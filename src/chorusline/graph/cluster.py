"""Clusters of the fused graph: Leiden (leidenalg on python-igraph), then pruning.

Only the thresholded fused edges leave the engine (``probability >= min_probability``): a campaign
is a dense knot of strong ties, and the weak tail of chance co-occurrences would only blur it.
Leiden optimises the weighted modularity (``RBConfigurationVertexPartition``, resolution 0.3 by
default: an operation's shifts and API accounts are one campaign) under a fixed seed, on a graph whose vertices are sorted by name, so the same edges give
the same clusters. Pruning then removes the periphery: within each cluster, members with fewer
than ``min_degree`` neighbours inside it are dropped (repeatedly: the cluster's k-core), and
clusters smaller than ``min_size`` are not clusters. Output: one row per kept member with its
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
    min_degree: int = 2
    min_size: int = 3


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
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for community in np.unique(membership):  # per cluster (few), not per row
        sub = g.subgraph(np.flatnonzero(membership == community).tolist())
        core = sub.induced_subgraph(np.flatnonzero(np.array(sub.coreness()) >= params.min_degree).tolist())
        if core.vcount() < params.min_size:
            continue
        kept.append((np.array(core.vs["name"], dtype=object), np.array(core.degree()),
                     np.array(core.strength(weights="weight"))))
    if not kept:
        return empty
    kept.sort(key=lambda k: (-len(k[0]), min(k[0])))  # largest first; ties by name, for determinism
    return pa.table({"actor": pa.array(np.concatenate([k[0] for k in kept]).tolist(), pa.string()),
                     "cluster": pa.array(np.concatenate([np.full(len(k[0]), i) for i, k in enumerate(kept)]), pa.int64()),
                     "degree": pa.array(np.concatenate([k[1] for k in kept]), pa.int64()),
                     "strength": pa.array(np.concatenate([k[2] for k in kept]), pa.float64())})
