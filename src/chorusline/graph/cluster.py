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
clusters.

Then the **periphery**: an account outside every cluster whose ties of any strength into one
cluster sum to ``min_strength`` or more, and make at least ``attach_share`` of all its ties, joins
it as a non-core member. An operation's quieter accounts meet the core a few times
each, never strongly with any one account, yet keep meeting it; a chance co-sharer meets a cluster
once or twice. A second round (``attach_rounds``) counts the first round's accounts as members.

Output: one row per member with its cluster (numbered by size of the core, largest first), its
degree and strength inside the cluster, ``core`` (from the strong-tie graph, or the periphery) and
the cluster's ``active_days``: the distinct UTC days on which its core's strong ties began or
last fired (a burst during one televised debate is one evening; an operation keeps meeting), and
its ``part``: the knot it belongs to inside the cluster (Leiden at ``part_resolution`` on the
cluster's own ties; −1 for the periphery), which scoring can report on its own."""

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
    attach_share: float = 0.5  # a periphery account's ties into its cluster vs all its ties
    attach_rounds: int = 2  # rounds of periphery (the second counts the first's members)
    part_resolution: float = 1.0  # Leiden inside each cluster: the knots scoring may report on their own


def _graph(edges: pa.Table):
    import igraph as ig

    a = edges["a_actor"].to_numpy(zero_copy_only=False)
    b = edges["b_actor"].to_numpy(zero_copy_only=False)
    names, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    pairs = codes.reshape(2, -1).T
    g = ig.Graph(n=len(names), edges=pairs.tolist(), directed=False)
    g.vs["name"] = names.tolist()
    g.es["weight"] = edges["weight"].to_numpy(zero_copy_only=False).tolist()
    g.es["first"] = edges["first"].to_numpy(zero_copy_only=False).tolist()
    g.es["last"] = edges["last"].to_numpy(zero_copy_only=False).tolist()
    return g


def _parts(sub, params: ClusterParams) -> np.ndarray:
    """Each vertex's community in ``sub`` at ``part_resolution``: the dense knots inside a cluster,
    which scoring weighs on their own (a tight cell absorbed into a loud benign cluster)."""
    if sub.vcount() < 2 * params.min_size:
        return np.zeros(sub.vcount(), dtype=np.int64)
    import leidenalg

    found = leidenalg.find_partition(sub, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                     resolution_parameter=params.part_resolution, seed=params.seed)
    return np.asarray(found.membership, dtype=np.int64)


def _active_days(sub) -> int:
    """Distinct UTC days among the first and last events of the edges of ``sub``."""
    times = np.concatenate([np.asarray(sub.es["first"], dtype=float), np.asarray(sub.es["last"], dtype=float)])
    return len(np.unique(np.floor(times / 86_400.0)))


def _with_times(fused: ibis.Table) -> ibis.Table:
    return fused.select("a_actor", "b_actor", "weight", first=fused.first_ts.epoch_seconds().cast("float64"),
                        last=fused.last_ts.epoch_seconds().cast("float64"))


def _prune(sub, min_strength: float):
    """Drop members whose strength inside the cluster is below ``min_strength``, until none is."""
    while sub.vcount():
        weak = np.flatnonzero(np.array(sub.strength(weights="weight")) < min_strength)
        if not len(weak):
            break
        sub = sub.induced_subgraph(np.setdiff1d(np.arange(sub.vcount()), weak).tolist())
    return sub


MEMBER_SCHEMA = pa.schema([("actor", pa.string()), ("cluster", pa.int64()), ("degree", pa.int64()),
                           ("strength", pa.float64()), ("core", pa.bool_()), ("active_days", pa.int64()),
                           ("part", pa.int64())])


def cluster_members(fused: ibis.Table, params: ClusterParams = ClusterParams()) -> pa.Table:
    """actor, cluster, degree, strength (inside its cluster), core, active_days, from the fused edges."""
    edges = _with_times(fused.filter(fused.probability >= params.min_probability)).to_pyarrow()
    empty = MEMBER_SCHEMA.empty_table()
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
                     np.array(sub.strength(weights="weight")), np.full(len(names), _active_days(sub)),
                     _parts(sub, params)))
    if not kept:
        return empty
    kept.sort(key=lambda k: (-len(k[0]), min(k[0])))  # largest first; ties by name, for determinism
    core = pa.table({"actor": pa.array(np.concatenate([k[0] for k in kept]).tolist(), pa.string()),
                     "cluster": pa.array(np.concatenate([np.full(len(k[0]), i) for i, k in enumerate(kept)]), pa.int64()),
                     "degree": pa.array(np.concatenate([k[1] for k in kept]), pa.int64()),
                     "strength": pa.array(np.concatenate([k[2] for k in kept]), pa.float64()),
                     "core": pa.array(np.ones(sum(len(k[0]) for k in kept), dtype=bool)),
                     "active_days": pa.array(np.concatenate([k[3] for k in kept]), pa.int64()),
                     "part": pa.array(np.concatenate([k[4] for k in kept]), pa.int64())},
                    schema=MEMBER_SCHEMA)
    members = core
    for _ in range(params.attach_rounds):  # the periphery's own periphery: a chain of quiet accounts
        added = _periphery(fused, members, params)
        if added.num_rows == 0:
            break
        members = pa.concat_tables([members, added])
    return members


def _periphery(fused: ibis.Table, clustered: pa.Table, params: ClusterParams) -> pa.Table:
    """Accounts outside every cluster whose ties of any strength into one cluster add up to
    ``min_strength`` and ``attach_share`` of all their ties: that cluster's periphery.
    In the engine: the fused edges between outsiders and members, summed per (outsider, cluster)."""
    members = ibis.memtable(clustered.select(["actor", "cluster", "active_days"]))
    e = fused.select("a_actor", "b_actor", "weight")
    both = e.union(e.select(a_actor=e.b_actor, b_actor=e.a_actor, weight=e.weight), distinct=False)
    inside = members.select(outsider=members.actor)
    outsiders = both.anti_join(inside, both.a_actor == inside.outsider)
    every_tie = outsiders.group_by(actor=outsiders.a_actor).aggregate(_all=outsiders.weight.sum())
    into = outsiders.join(members, outsiders.b_actor == members.actor).select(
        actor=outsiders.a_actor, cluster=members.cluster, weight=outsiders.weight, active_days=members.active_days)
    per = into.group_by(["actor", "cluster"]).aggregate(degree=into.count(), strength=into.weight.sum(),
                                                        active_days=into.active_days.max())
    per = per.join(every_tie, "actor")
    per = per.mutate(_rank=ibis.row_number().over(group_by=per.actor, order_by=[ibis.desc(per.strength), per.cluster]))
    best = per.filter((per._rank == 0) & (per.strength >= params.min_strength)
                      & (per.strength >= params.attach_share * per._all))
    out = best.select("actor", "cluster", "degree", "strength", core=ibis.literal(False),
                      active_days=best.active_days, part=ibis.literal(-1, "int64")).order_by(["cluster", "actor"])
    return out.to_pyarrow().cast(MEMBER_SCHEMA)


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
    internal = {i: sum(g.subgraph(sorted(index[n] for n in names)).es["weight"]) for i, names in enumerate(groups)}
    root = merge_tied(between, internal, share)
    merged: dict[int, list[np.ndarray]] = {}
    for i, names in enumerate(groups):
        merged.setdefault(root.get(i, i), []).append(names)
    return [np.concatenate(parts) for parts in merged.values()]


def merge_tied(pairs: list[dict], own: dict, share: float, kind: dict | None = None) -> dict:
    """Union of groups tied to each other: ``pairs`` (lo, hi, w: the weight of the ties between two
    groups; few rows, not edges) join lo and hi when w is at least ``share`` of the smaller one's
    ``own`` ties (and, given ``kind``, both are of one kind). Returns group → the lowest group of its
    union, for the groups that merged."""
    parent = {k: k for k in own}

    def root(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for row in sorted(pairs, key=lambda r: (-r["w"], r["lo"], r["hi"])):
        lo, hi = row["lo"], row["hi"]
        if (kind is None or kind[lo] == kind[hi]) and row["w"] >= share * min(own[lo], own[hi]):
            a, b = root(lo), root(hi)
            parent[max(a, b)] = min(a, b)
    return {k: root(k) for k in own if root(k) != k}
