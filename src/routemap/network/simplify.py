"""Topological simplification: merge chains of interstitial nodes, with osmnx's result."""

from __future__ import annotations

import networkx as nx


def simplify_graph(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Return ``G`` simplified exactly as ``osmnx.simplify_graph`` does (default options)."""
    import osmnx as ox

    return ox.simplify_graph(G)
