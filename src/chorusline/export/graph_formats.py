"""The fused graph of the campaigns' members as GEXF or GraphML (Gephi, Cytoscape, networkx):
nodes carry platform, campaign, member score, suspicion and flag; edges carry the fused weight,
probability and the signal families with their evidence."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from chorusline.export.shared import ExportError
from chorusline.progress import stage


@stage("export: member graph")
def member_graph(store, campaign_ids: list[int] | None = None, all_members: bool = False) -> nx.Graph:
    if "campaign_members" not in set(store.backend.list_tables()):
        raise ExportError("the store has no campaigns: run `chorusline detect` first")
    m = store.table("campaign_members")
    if campaign_ids is not None:
        m = m.filter(m.campaign_id.isin([int(c) for c in campaign_ids]))
    if not all_members:
        m = m.filter(m.flagged)
    nodes = m.select("actor", "campaign_id", "platform", "member_score", "suspicion", "flagged").to_pyarrow().to_pylist()
    if not nodes:
        raise ExportError("no campaign members to export" + ("" if campaign_ids is None else f" for {campaign_ids}"))
    f = store.table("fused_edges")
    ids = m.select("actor")
    inside = f.semi_join(ids.select(a_actor=ids.actor), "a_actor").semi_join(ids.select(b_actor=ids.actor), "b_actor")
    edges = inside.select("a_actor", "b_actor", "weight", "probability", "n_families", "families").to_pyarrow().to_pylist()
    g = nx.Graph()
    for n in nodes:
        g.add_node(n["actor"], label=n["actor"], platform=n["platform"], campaign=int(n["campaign_id"]),
                   member_score=float(n["member_score"]), suspicion=float(n["suspicion"]), flagged=bool(n["flagged"]))
    for e in edges:
        g.add_edge(e["a_actor"], e["b_actor"], weight=float(e["weight"]), probability=float(e["probability"]),
                   n_families=int(e["n_families"]), families=e["families"])
    return g


def write_graph(g: nx.Graph, path: Path, fmt: str) -> None:
    if fmt == "gexf":
        nx.write_gexf(g, path)
    elif fmt == "graphml":
        nx.write_graphml(g, path)
    else:
        raise ExportError(f"unknown graph format {fmt!r}: gexf or graphml")
