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
        ``source``, ``nodes``, ``edges``, ``street_km``, ``street_mi`` (undirected street length,
        each street counted once), ``bbox`` (west, south, east, north), ``osm_timestamp``, ``tiles_generated`` (vector tiles: when they were made from OSM),
        ``largest_scc_nodes_share``, ``largest_scc_length_share`` (the strongly connected part
        routing keeps), ``network_type``, ``cache_hit``.
    """
    meta = G.graph.get("routemap_source") or {}
    if not isinstance(meta, dict):
        meta = {}
    paths = meta.get("paths") or []
    source = f"{meta.get('kind') or 'graph'}: " + (
        ", ".join(paths) if paths else meta.get("query", "in memory")
    )
    xs = np.fromiter((d["x"] for _, d in G.nodes(data=True)), dtype=float, count=len(G))
    ys = np.fromiter((d["y"] for _, d in G.nodes(data=True)), dtype=float, count=len(G))
    street_m = street_length_m(G)
    total_m = float(sum(d for *_, d in G.edges(data="length", default=0)))
    if len(G):
        scc = max(nx.strongly_connected_components(G), key=len)
        scc_m = float(sum(d for *_, d in G.subgraph(scc).edges(data="length", default=0)))
        node_share = len(scc) / len(G)
    else:
        scc_m, node_share = 0.0, 0.0
    return {
        "source": source,
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "street_km": street_m / 1000.0,
        "street_mi": street_m / METERS_PER_MILE,
        "bbox": tuple(round(float(v), 6) for v in (xs.min(), ys.min(), xs.max(), ys.max()))
        if len(G)
        else None,
        "osm_timestamp": meta.get("osm_timestamp"),
        **({"tiles_generated": meta["generated"]} if meta.get("generated") else {}),
        "largest_scc_nodes_share": node_share,
        "largest_scc_length_share": scc_m / total_m if total_m else 0.0,
        "network_type": meta.get("network_type", G.graph.get("network_type")),
        "cache_hit": meta.get("cache_hit"),
    }


def street_length_m(G: nx.MultiDiGraph) -> float:
    """Return the length of street in ``G`` with each street counted once, whatever its directions.

    Edges between the same two nodes with the same length are one street: a two-way street (an edge
    each way) counts once, as in ``osmnx.convert.to_undirected``; works on graphs without ``osmid``
    (vector tiles), where osmnx's function cannot tell duplicates apart.
    """
    if G.number_of_edges() == 0:
        return 0.0
    rows = np.array([(u, v, d) for u, v, d in G.edges(data="length", default=0.0)], dtype=float).reshape(
        -1, 3
    )
    u, v, length = rows[:, 0], rows[:, 1], rows[:, 2]
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    forward = u < v
    loop = u == v
    table = np.column_stack([lo, hi, np.round(length, 3)])
    _, group, counts = np.unique(table, axis=0, return_inverse=True, return_counts=True)
    group = group.ravel()
    n_fwd = np.bincount(group, weights=forward, minlength=len(counts))
    n_loop = np.bincount(group, weights=loop, minlength=len(counts))
    n_bwd = counts - n_fwd - n_loop
    streets = np.maximum(n_fwd, n_bwd) + np.ceil(n_loop / 2)
    group_length = np.bincount(group, weights=length, minlength=len(counts)) / counts
    return float(np.sum(streets * group_length))
