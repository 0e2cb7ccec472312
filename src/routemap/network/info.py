"""``network_info``: what a street graph holds, as an ordered dict for people and the CLI."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from routemap.settings import METERS_PER_MILE


def network_info(G: nx.MultiDiGraph) -> dict[str, Any]:
    """Return an ordered summary of ``G``.

    Parameters
    ----------
    G
        A graph from :func:`routemap.network.load_network` (or any osmnx graph).

    Returns
    -------
    dict
        ``source``, ``network_type``, ``nodes``, ``edges``, ``street_km``, ``street_mi`` (undirected
        street length, each street counted once), ``bbox`` (west, south, east, north),
        ``osm_timestamp``, ``largest_scc_nodes_share``, ``largest_scc_length_share`` (the strongly
        connected part routing keeps), ``cache_hit``.
    """
    import osmnx as ox

    meta = G.graph.get("routemap_source") or {}
    if not isinstance(meta, dict):
        meta = {}
    paths = meta.get("paths") or []
    source = f"{meta.get('kind') or 'graph'}: " + (
        ", ".join(paths) if paths else meta.get("query", "in memory")
    )
    xs = np.fromiter((d["x"] for _, d in G.nodes(data=True)), dtype=float, count=len(G))
    ys = np.fromiter((d["y"] for _, d in G.nodes(data=True)), dtype=float, count=len(G))
    street_m = float(sum(d for *_, d in ox.convert.to_undirected(G).edges(data="length", default=0)))
    total_m = float(sum(d for *_, d in G.edges(data="length", default=0)))
    if len(G):
        scc = max(nx.strongly_connected_components(G), key=len)
        scc_m = float(sum(d for *_, d in G.subgraph(scc).edges(data="length", default=0)))
        node_share = len(scc) / len(G)
    else:
        scc_m, node_share = 0.0, 0.0
    return {
        "source": source,
        "network_type": meta.get("network_type", G.graph.get("network_type")),
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "street_km": street_m / 1000.0,
        "street_mi": street_m / METERS_PER_MILE,
        "bbox": tuple(round(float(v), 6) for v in (xs.min(), ys.min(), xs.max(), ys.max()))
        if len(G)
        else None,
        "osm_timestamp": meta.get("osm_timestamp"),
        "largest_scc_nodes_share": node_share,
        "largest_scc_length_share": scc_m / total_m if total_m else 0.0,
        "cache_hit": meta.get("cache_hit"),
    }
