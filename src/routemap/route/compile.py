"""Compile a street graph for routing: the largest strongly connected part as scipy CSR arrays.

Routing runs on arrays, not on networkx: one CSR matrix of profile costs (metres times the profile's
multiplier), with aligned arrays of real lengths, edge keys and undirected edge ids, and its transpose for
"distance to a node" searches. Shortest-path trees come from :func:`scipy.sparse.csgraph.dijkstra`
(with predecessors); sums along a tree (metres, repeated metres) are computed for all nodes at once by
pointer jumping.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from routemap.errors import NetworkError
from routemap.route.profiles import edge_multiplier, profile_weights

#: Smallest edge cost, so that zero-length edges still cost something (keeps trees well ordered).
MIN_COST = 0.01


@dataclass
class CompiledGraph:
    """The largest strongly connected part of a graph as CSR arrays (indices 0..n-1).

    Attributes
    ----------
    node_ids : numpy.ndarray
        Graph node id of each index.
    lon, lat, ux, uy : numpy.ndarray
        Node coordinates in degrees and in the local UTM zone (metres).
    cost, cost_t : scipy.sparse.csr_matrix
        Profile costs, and the transposed matrix (for searches towards a node).
    length, key, eid : numpy.ndarray
        Aligned with ``cost.data``: real metres, the MultiDiGraph edge key, the undirected edge id.
    perm_t : numpy.ndarray
        ``cost_t.data == cost.data[perm_t]``.
    kept_node_share, kept_length_share : float
        Share of the graph's nodes and street length kept in the strongly connected part.
    """

    graph: nx.MultiDiGraph
    node_ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    ux: np.ndarray
    uy: np.ndarray
    utm_crs: pyproj.CRS
    cost: csr_matrix
    cost_t: csr_matrix
    length: np.ndarray
    key: np.ndarray
    eid: np.ndarray
    perm_t: np.ndarray
    row: np.ndarray
    kept_node_share: float
    kept_length_share: float
    weights: dict[str, float]
    cache: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        """Return the number of nodes."""
        return len(self.node_ids)

    @property
    def col(self) -> np.ndarray:
        """Return the head index of every CSR entry."""
        return self.cost.indices

    @property
    def through(self) -> np.ndarray:
        """Return a mask of the nodes that are not dead ends (two or more neighbours in and out)."""
        mask = self.cache.get("_through")
        if mask is None:
            mask = self.cache["_through"] = (np.diff(self.cost.indptr) >= 2) & (
                np.diff(self.cost_t.indptr) >= 2
            )
        return mask

    def index_of(self, node_ids: object) -> np.ndarray:
        """Return the indices of graph node ids (-1 for nodes outside the compiled part)."""
        index = self.cache.get("_index")
        if index is None:
            index = self.cache["_index"] = pd.Index(self.node_ids)
        return index.get_indexer(np.atleast_1d(np.asarray(node_ids, dtype=np.int64)))

    def edge_pos(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Return the CSR position of the edges i->j (arrays of equal length; the edges must exist)."""
        keys = self.cache.get("_pairkeys")
        if keys is None:
            keys = self.cache["_pairkeys"] = self.row.astype(np.int64) * self.n + self.col
        return np.searchsorted(keys, np.asarray(i, np.int64) * self.n + np.asarray(j, np.int64))

    def penalized(self, used: np.ndarray | None, factor: float) -> tuple[csr_matrix, csr_matrix]:
        """Return (cost, transposed cost) with the undirected edges flagged in ``used`` costing ``factor`` x."""
        if used is None or not used.any():
            return self.cost, self.cost_t
        data = self.cost.data * np.where(used[self.eid], factor, 1.0)
        fwd = csr_matrix((data, self.cost.indices, self.cost.indptr), shape=self.cost.shape)
        rev = csr_matrix((data[self.perm_t], self.cost_t.indices, self.cost_t.indptr), shape=self.cost.shape)
        return fwd, rev


def compile_graph(
    G: nx.MultiDiGraph, profile: str = "run", weights: Mapping[str, float] | None = None
) -> CompiledGraph:
    """Return the routing arrays of ``G``'s largest strongly connected part under ``profile``.

    Results are cached per graph object (and profile and weights) while the graph's node and edge counts
    stay the same.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        An osmnx-compatible graph (``x``/``y`` in degrees, edge ``length`` in metres).
    profile : str
        A key of :data:`routemap.route.PROFILES`.
    weights : mapping, optional
        Multipliers per ``highway`` class overriding the profile's.

    Returns
    -------
    CompiledGraph
    """
    table = profile_weights(profile, weights)
    # number of nodes and of joined node pairs: cheap, and they change when streets are added or cut
    pairs = sum(map(len, G.succ.values()))
    sig = (G.number_of_nodes(), pairs, tuple(sorted(table.items())))
    per_graph = _CACHE.setdefault(G, {}) if _weakrefable(G) else {}
    hit = per_graph.get(sig)
    if hit is not None:
        return hit
    compiled = _compile(G, table)
    per_graph[sig] = compiled
    return compiled


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _weakrefable(G: object) -> bool:
    try:
        weakref.ref(G)
    except TypeError:
        return False
    return True


def _compile(G: nx.MultiDiGraph, table: dict[str, float]) -> CompiledGraph:
    if G.number_of_edges() == 0:
        raise NetworkError("the street network has no edges; load a larger area or another source")
    all_ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
    all_index = pd.Index(all_ids)
    m = G.number_of_edges()
    us = np.empty(m, np.int64)
    vs = np.empty(m, np.int64)
    ks = np.empty(m, np.int64)
    lengths = np.empty(m, float)
    mults = np.empty(m, float)
    for e, (u, v, k, d) in enumerate(G.edges(keys=True, data=True)):
        us[e], vs[e], ks[e] = u, v, k
        lengths[e] = float(d.get("length", 0.0))
        mults[e] = edge_multiplier(d.get("highway"), table)
    ui = all_index.get_indexer(us)
    vi = all_index.get_indexer(vs)
    total_length = float(lengths.sum())
    raw_u, raw_v, raw_len = ui, vi, lengths
    keep = ui != vi
    ui, vi, ks, lengths, mults = ui[keep], vi[keep], ks[keep], lengths[keep], mults[keep]
    costs = np.maximum(lengths, MIN_COST) * mults
    # one edge per (u, v): the cheapest parallel edge, ties by key
    order = np.lexsort((ks, costs, vi, ui))
    ui, vi, ks, lengths, costs = ui[order], vi[order], ks[order], lengths[order], costs[order]
    first = np.ones(len(ui), bool)
    first[1:] = (ui[1:] != ui[:-1]) | (vi[1:] != vi[:-1])
    ui, vi, ks, lengths, costs = ui[first], vi[first], ks[first], lengths[first], costs[first]

    n_all = len(all_ids)
    full = csr_matrix((np.ones(len(ui)), (ui, vi)), shape=(n_all, n_all))
    _, labels = connected_components(full, directed=True, connection="strong")
    sizes = np.bincount(labels)
    # the largest part; ties go to the part holding the smallest node index
    best = int(np.argmax(sizes))
    node_keep = labels == best
    ekeep = node_keep[ui] & node_keep[vi]
    new_index = np.full(n_all, -1, np.int64)
    new_index[node_keep] = np.arange(int(node_keep.sum()))
    row, col = new_index[ui[ekeep]], new_index[vi[ekeep]]
    ks, lengths, costs = ks[ekeep], lengths[ekeep], costs[ekeep]
    n = int(node_keep.sum())
    if n < 2:
        raise NetworkError(
            "the street network has no connected part of two or more nodes; "
            "load a larger area or a walkable network type"
        )
    # kept arrays are already sorted by (row, col) since new_index preserves order
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n))])
    cost = csr_matrix((costs, col, indptr), shape=(n, n))
    lo, hi = np.minimum(row, col), np.maximum(row, col)
    _, eid = np.unique(lo * n + hi, return_inverse=True)
    perm_t = np.lexsort((row, col))
    indptr_t = np.concatenate([[0], np.cumsum(np.bincount(col, minlength=n))])
    cost_t = csr_matrix((costs[perm_t], row[perm_t], indptr_t), shape=(n, n))

    node_ids = all_ids[node_keep]
    lon = np.array([G.nodes[i]["x"] for i in node_ids], float)
    lat = np.array([G.nodes[i]["y"] for i in node_ids], float)
    utm = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").estimate_utm_crs()
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", utm, always_xy=True)
    ux, uy = to_utm.transform(lon, lat)
    kept_len = float(raw_len[node_keep[raw_u] & node_keep[raw_v]].sum())
    return CompiledGraph(
        graph=G,
        node_ids=node_ids,
        lon=lon,
        lat=lat,
        ux=np.asarray(ux),
        uy=np.asarray(uy),
        utm_crs=utm,
        cost=cost,
        cost_t=cost_t,
        length=lengths,
        key=ks,
        eid=eid.astype(np.int64),
        perm_t=perm_t,
        row=row,
        kept_node_share=n / n_all,
        kept_length_share=kept_len / total_length if total_length > 0 else 1.0,
        weights=table,
    )


@dataclass
class Tree:
    """A shortest-path tree: from ``root`` (forward) or towards it (``reverse``), with tree sums.

    ``cost`` is the profile cost along the tree, ``metres`` the real length, ``repeat`` the metres on
    edges flagged as already used; ``pred`` the parent (forward) or next hop (reverse); -1 at the root and
    for unreachable nodes (whose cost is inf).
    """

    root: int
    reverse: bool
    cost: np.ndarray
    pred: np.ndarray
    metres: np.ndarray
    repeat: np.ndarray

    def path(self, v: int) -> list[int]:
        """Return the node indices from the root to ``v`` (forward) or from ``v`` to the root (reverse)."""
        out = [int(v)]
        pred = self.pred
        while out[-1] != self.root:
            p = int(pred[out[-1]])
            if p < 0:
                raise ValueError("node not reached by this tree")
            out.append(p)
        if not self.reverse:
            out.reverse()
        return out


def shortest_tree(
    cg: CompiledGraph,
    root: int,
    reverse: bool = False,
    used: np.ndarray | None = None,
    factor: float = 1.0,
) -> Tree:
    """Return the cost-optimal tree from (or, ``reverse=True``, towards) node index ``root``.

    Parameters
    ----------
    cg : CompiledGraph
    root : int
        Node index.
    reverse : bool
        Search towards ``root`` (on the transposed graph).
    used : numpy.ndarray of bool, optional
        Undirected edges already used: they cost ``factor`` times more and count in ``Tree.repeat``.
    factor : float
        Cost multiplier of used edges.
    """
    fwd, rev = cg.penalized(used, factor)
    graph = rev if reverse else fwd
    dist, pred = dijkstra(graph, directed=True, indices=int(root), return_predecessors=True)
    pred = np.where(pred < 0, -1, pred).astype(np.int64)
    has = pred >= 0
    v = np.nonzero(has)[0]
    pos = cg.edge_pos(pred[v], v) if not reverse else cg.edge_pos(v, pred[v])
    metres = np.zeros(len(dist))
    metres[v] = cg.length[pos]
    if used is not None and used.any():
        repeat = np.zeros(len(dist))
        repeat[v] = np.where(used[cg.eid[pos]], cg.length[pos], 0.0)
        metres, repeat = tree_sums(pred, metres, repeat)
    else:
        (metres,) = tree_sums(pred, metres)
        repeat = np.zeros(len(dist))
    return Tree(int(root), reverse, dist, pred, metres, repeat)


def tree_sums(pred: np.ndarray, *steps: np.ndarray) -> list[np.ndarray]:
    """Return, per ``step`` array, every node's sum of it over its tree path to the root (pointer jumping).

    ``step[v]`` is the value of the edge joining ``v`` to ``pred[v]``; ``pred`` is -1 at roots.
    """
    accs = [np.array(step, dtype=float) for step in steps]
    anc = np.array(pred, dtype=np.int64)
    live = np.nonzero(anc >= 0)[0]
    while live.size:
        up = anc[live]
        # the right-hand sides are gathered before the writes: one synchronous jump
        for acc in accs:
            acc[live] += acc[up]
        anc[live] = anc[up]
        live = live[anc[live] >= 0]
    return accs
