"""Compile a street graph for routing: the largest strongly connected part as scipy CSR arrays.

Routing runs on arrays, not on networkx: one CSR matrix of profile costs (metres times the profile's
multiplier), with aligned arrays of real lengths, edge keys and undirected edge ids, and its transpose for
"distance to a node" searches. Shortest-path trees come from :func:`scipy.sparse.csgraph.dijkstra`
(with predecessors, optionally bounded by ``limit``); sums along a tree (metres, repeated metres) are
computed for the reached nodes at once by pointer jumping.

Caches. A compiled graph is kept in memory per graph object (a weak reference: the compiled form never
keeps its graph alive) and per profile table, and is valid while the graph's edge data that decides costs
(every edge's ``length`` and ``highway``, the node and edge counts) is unchanged: a re-weighted graph is
compiled again. A graph loaded through :func:`routemap.load_network`'s cache carries its cache key, and its
compiled form is also stored next to the network cache as arrays (``.npz``), so a new process plans
without compiling.

Regions. :func:`reach_region` keeps the nodes a route of a given length through given stops can reach
(an ellipse per leg around the straight stop chain), so that planning cost follows the stops and the
target length, not the size of the network.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from routemap._arrays import unique_inverse
from routemap._crs import utm_crs
from routemap._edgedata import EdgeData
from routemap.errors import NetworkError
from routemap.route.profiles import edge_multiplier, profile_weights

#: Smallest edge cost, so that zero-length edges still cost something (keeps trees well ordered).
MIN_COST = 0.01

#: Layout of the on-disk compiled graph (part of its file name: a new layout never reads an old file).
COMPILED_LAYOUT = 1


#: Relative slack of a reach region over the route length: straight lines in the UTM zone are shorter
#: than great-circle edge lengths by at most the zone's scale error (0.1%); 2% more keeps rounding and
#: snapped stops well inside.
REGION_SLACK = 1.02
#: Absolute slack of a reach region in metres (stops snap to nodes up to this far from their point).
REGION_MARGIN_M = 100.0
#: A region holding at least this share of the graph's nodes is not cut out: searches are bounded
#: anyway (by ellipses and cost limits), and the whole graph's cached turn graph, node grid and
#: KD-trees are already built, where a cut region would build its own for every plan.
REGION_WHOLE_SHARE = 0.9

#: A search for places up to L metres away stops at a cost of L times this (:func:`search_limit`). Costs
#: per metre are the profile multipliers (0.7 to 2 on ordinary streets, 6 and 25 on trunks and
#: motorways) times 5 on streets already used: a place whose best path costs more than 2.5 per metre runs
#: mostly on used or shunned streets, and loses to the places within the limit anyway.
SEARCH_COST_PER_M = 1.5


@dataclass(eq=False)
class CompiledGraph:
    """The largest strongly connected part of a graph as CSR arrays (indices 0..n-1).

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        The graph compiled (a weak reference: the compiled form does not keep it alive).
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

    graph_ref: Callable[[], nx.MultiDiGraph | None]
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
    #: the compiled graph this one is a region of (None: the whole strongly connected part)
    parent: CompiledGraph | None = field(default=None, repr=False)
    #: of a region: the position of each CSR entry in the whole compiled graph's (``root``'s) arrays
    root_pos: np.ndarray | None = field(default=None, repr=False)

    @property
    def root(self) -> CompiledGraph:
        """Return the whole compiled graph this is a region of (itself when it is not a region)."""
        cg = self
        while cg.parent is not None:
            cg = cg.parent
        return cg

    @property
    def graph(self) -> nx.MultiDiGraph:
        """Return the networkx graph this was compiled from (held weakly: it must still be alive)."""
        G = self.graph_ref()
        if G is None:
            raise NetworkError("the street graph of this compiled graph was freed; compile the graph again")
        return G

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
        from routemap.route.kernels import edge_lookup

        pos = edge_lookup(
            self.cost.indptr, self.cost.indices, np.asarray(i, np.int64), np.asarray(j, np.int64)
        )
        return checked_edges(pos)

    def penalized(self, used: np.ndarray | None, factor: float) -> tuple[csr_matrix, csr_matrix]:
        """Return (cost, transposed cost) with the undirected edges flagged in ``used`` costing ``factor`` x."""
        if used is None or not used.any():
            return self.cost, self.cost_t
        data = self.cost.data * np.where(used[self.eid], factor, 1.0)
        fwd = csr_matrix((data, self.cost.indices, self.cost.indptr), shape=self.cost.shape)
        rev = csr_matrix((data[self.perm_t], self.cost_t.indices, self.cost_t.indptr), shape=self.cost.shape)
        return fwd, rev


def checked_edges(pos: np.ndarray) -> np.ndarray:
    """Return CSR positions found for node pairs (:func:`routemap.route.kernels.edge_lookup`), raising
    ValueError when a pair is not an edge (-1)."""
    if len(pos) and pos.min() < 0:
        raise ValueError("a node pair given is not an edge of this compiled graph")
    return pos


def compile_graph(
    G: nx.MultiDiGraph, profile: str = "run", weights: Mapping[str, float] | None = None
) -> CompiledGraph:
    """Return the routing arrays of ``G``'s largest strongly connected part under ``profile``.

    Results are cached per graph object (held weakly), profile and weights while every edge's ``length``
    and ``highway`` stay the same; a graph that came from :func:`routemap.load_network`'s cache also
    finds its compiled form on disk (see the module docstring).

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
    table_sig = tuple(sorted(table.items()))
    per_graph = _CACHE.setdefault(G, {}) if _weakrefable(G) else {}
    hit = per_graph.get(table_sig)
    if hit is not None and hit[0].unchanged(G):
        return hit[1]
    snap = CostSnapshot.of(G)
    compiled = None
    disk = compiled_cache_path(G, table_sig, snap)
    if disk is not None:
        compiled = _load_compiled(disk, G, table)
    if compiled is None:
        compiled = _compile(G, table)
        if disk is not None:
            _store_compiled(disk, compiled)
    per_graph[table_sig] = (snap, compiled)
    return compiled


#: graph -> {profile table: (CostSnapshot, CompiledGraph)}; the values never refer to their graph
#: strongly (CompiledGraph.graph_ref is a weak reference), so a freed graph frees its compiled forms.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def tracked_state(G: nx.MultiDiGraph) -> tuple[int, object] | None:
    """Return a token that changes whenever ``G``'s edges change, or None when that is not known cheaply.

    Known for a graph routemap built and compiled (see :class:`CostSnapshot`): the EdgeData version
    and networkx's structure mark. Caches of other per-graph figures (the cue sheet's named streets) key
    on it.
    """
    per_graph = _CACHE.get(G) if _weakrefable(G) else None
    cache = getattr(G, "__networkx_cache__", None)
    if not per_graph or not isinstance(cache, dict):
        return None
    for snap, _ in per_graph.values():
        if snap.still_marked(G):
            return EdgeData.version, cache.get(STRUCTURE_MARK)
    return None


def _weakrefable(G: object) -> bool:
    try:
        weakref.ref(G)
    except TypeError:
        return False
    return True


#: The key of a compiled graph's mark in the graph's ``__networkx_cache__``, which networkx empties
#: on every change to the graph's nodes or edges (networkx >= 3.3).
STRUCTURE_MARK = "routemap_compiled"


@dataclass(eq=False)
class CostSnapshot:
    """What decided a graph's routing costs when it was compiled: its edges' ``length`` and ``highway``.

    Holds the edge attribute dicts themselves (not the graph), so checking them again is one pass in C
    over the values (``==`` on lists, object identity first) and no walk through the graph's nested dicts.

    When every edge's attributes are :class:`routemap._edgedata.EdgeData` (graphs routemap builds) and
    networkx keeps its structure cache, the check is O(1): no ``EdgeData`` changed since
    (:attr:`EdgeData.version <routemap._edgedata.EdgeData.version>`) and the mark left in the graph's
    ``__networkx_cache__`` is still there (networkx empties it when nodes or edges are added or removed).
    """

    n_nodes: int
    n_pairs: int
    n_edges: int
    keydicts: list[dict]
    edges: list[dict]
    lengths: list
    highways: list
    tracked: bool = False
    version: int = -1
    mark: object = None

    @classmethod
    def of(cls, G: nx.MultiDiGraph) -> CostSnapshot:
        """Return the snapshot of ``G`` now."""
        succ = G._succ
        keydicts = list(chain.from_iterable(map(dict.values, succ.values())))
        edges = list(chain.from_iterable(map(dict.values, keydicts)))
        snap = cls(
            n_nodes=len(succ),
            n_pairs=len(keydicts),
            n_edges=len(edges),
            keydicts=keydicts,
            edges=edges,
            lengths=list(map(dict.get, edges, repeat("length"))),
            highways=list(map(dict.get, edges, repeat("highway"))),
            tracked=set(map(type, edges)) <= {EdgeData},
        )
        snap._mark(G)
        return snap

    def _mark(self, G: nx.MultiDiGraph) -> None:
        """Record the EdgeData version and leave a fresh mark in networkx's structure cache."""
        cache = getattr(G, "__networkx_cache__", None)
        if not self.tracked or not isinstance(cache, dict):
            return
        self.version = EdgeData.version
        # one mark per structure: every profile compiled from this state of the graph shares it
        self.mark = cache.setdefault(STRUCTURE_MARK, object())

    def still_marked(self, G: nx.MultiDiGraph) -> bool:
        """Return True when the O(1) check holds: a tracked graph, no EdgeData changed, the mark in place."""
        if self.mark is None or EdgeData.version != self.version or len(G._succ) != self.n_nodes:
            return False
        cache = getattr(G, "__networkx_cache__", None)
        return isinstance(cache, dict) and cache.get(STRUCTURE_MARK) is self.mark

    def unchanged(self, G: nx.MultiDiGraph) -> bool:
        """Return True when ``G`` still has these edges with these lengths and highway classes.

        O(1) when the graph is tracked (see the class docstring) and nothing changed. Otherwise nodes
        and joined node pairs are counted in ``G``; an edge removed through networkx empties its key
        dict, and one added to a known pair grows it, so the snapshot's key dicts must still hold as many
        edges; then every edge's ``length`` and ``highway`` are compared.
        """
        if self.still_marked(G):
            return True
        succ = G._succ
        same = (
            len(succ) == self.n_nodes
            and sum(map(len, succ.values())) == self.n_pairs
            and sum(map(len, self.keydicts)) == self.n_edges
            and list(map(dict.get, self.edges, repeat("length"))) == self.lengths
            and list(map(dict.get, self.edges, repeat("highway"))) == self.highways
        )
        if same:
            self._mark(G)  # checked in full: the fast check holds again from here
        return same


def _digest(table_sig: tuple, snap: CostSnapshot) -> str:
    """Return a hex digest of a profile table and a cost snapshot (for the on-disk cache)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((COMPILED_LAYOUT, snap.n_nodes, snap.n_pairs, snap.n_edges, table_sig)).encode())
    h.update(np.asarray(snap.lengths, dtype=float).tobytes())
    h.update(repr(snap.highways).encode())
    return h.hexdigest()


def compiled_cache_path(G: nx.MultiDiGraph, table_sig: tuple, snap: CostSnapshot) -> Path | None:
    """Return the ``.npz`` file of ``G``'s compiled form next to the network cache, or None.

    Only a graph that carries its network cache key (set by :func:`routemap.load_network`) has one; the
    name holds the profile table and a digest of the cost snapshot, so an edited graph never reads stale
    costs.
    """
    from routemap.network.load import COMPILED_KEY_ATTR

    key = G.graph.get(COMPILED_KEY_ATTR)
    if not isinstance(key, str) or not key.isalnum():
        return None
    from routemap import settings

    return settings.cache_dir() / "networks" / f"{key}.{_digest(table_sig, snap)}.compiled.npz"


_ARRAYS = ("node_ids", "lon", "lat", "ux", "uy", "length", "key", "eid", "perm_t", "row")


def _store_compiled(path: Path, cg: CompiledGraph) -> None:
    """Write ``cg``'s arrays to ``path`` atomically (a failed write leaves no file)."""
    from routemap._files import atomic_write

    arrays = {name: getattr(cg, name) for name in _ARRAYS}
    arrays.update(
        cost_data=cg.cost.data,
        cost_indices=cg.cost.indices,
        cost_indptr=cg.cost.indptr,
        cost_t_indices=cg.cost_t.indices,
        cost_t_indptr=cg.cost_t.indptr,
        shares=np.array([cg.kept_node_share, cg.kept_length_share]),
        utm_crs=np.array(cg.utm_crs.to_wkt()),
    )
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **arrays)


def _load_compiled(path: Path, G: nx.MultiDiGraph, table: dict[str, float]) -> CompiledGraph | None:
    """Return the compiled graph stored at ``path`` for ``G``, or None (missing or unreadable: recompile)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            a = {name: z[name] for name in z.files}
        n = len(a["node_ids"])
        cost = csr_matrix((a["cost_data"], a["cost_indices"], a["cost_indptr"]), shape=(n, n))
        cost_t = csr_matrix(
            (a["cost_data"][a["perm_t"]], a["cost_t_indices"], a["cost_t_indptr"]), shape=(n, n)
        )
        utm = pyproj.CRS.from_wkt(str(a["utm_crs"]))
    except (OSError, ValueError, KeyError, EOFError, pyproj.exceptions.CRSError):
        return None
    return CompiledGraph(
        graph_ref=weakref.ref(G),
        **{name: a[name] for name in _ARRAYS},
        utm_crs=utm,
        cost=cost,
        cost_t=cost_t,
        kept_node_share=float(a["shares"][0]),
        kept_length_share=float(a["shares"][1]),
        weights=table,
    )


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
    ui = all_index.get_indexer(pd.Index(us))
    vi = all_index.get_indexer(pd.Index(vs))
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
    _, eid = unique_inverse(lo * n + hi)
    perm_t = np.lexsort((row, col))
    indptr_t = np.concatenate([[0], np.cumsum(np.bincount(col, minlength=n))])
    cost_t = csr_matrix((costs[perm_t], row[perm_t], indptr_t), shape=(n, n))

    node_ids = all_ids[node_keep]
    lon = np.array([G.nodes[i]["x"] for i in node_ids], float)
    lat = np.array([G.nodes[i]["y"] for i in node_ids], float)
    utm = utm_crs(gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326"))
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", utm, always_xy=True)
    ux, uy = to_utm.transform(lon, lat)
    kept_len = float(raw_len[node_keep[raw_u] & node_keep[raw_v]].sum())
    return CompiledGraph(
        graph_ref=weakref.ref(G),
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


def reach_region(
    cg: CompiledGraph,
    stops: Sequence[np.ndarray | int],
    length_m: float,
    *,
    whole_share: float = REGION_WHOLE_SHARE,
) -> CompiledGraph:
    """Return the part of ``cg`` that a route of at most ``length_m`` through ``stops`` in order can use.

    A node ``p`` a route passes between stops ``i`` and ``i + 1`` makes that route at least as long as the
    straight chain ``stop 0 -> ... -> stop i -> p -> stop i+1 -> ... -> last stop``; nodes whose shortest
    such chain (over all legs) exceeds ``length_m`` (with :data:`REGION_SLACK` and
    :data:`REGION_MARGIN_M`) cannot be on the route. Per leg the kept area is an ellipse with the two stops
    as foci; a loop (first stop = last stop) keeps a disc. Searches on the region find every route the
    whole graph offers within that length, at a cost that follows the stops and the length.

    Parameters
    ----------
    cg : CompiledGraph
    stops : sequence of int or numpy.ndarray
        Per stop, in order, its node index or the indices of its candidate nodes (an area stop).
    length_m : float
        The longest route of interest (e.g. the target plus its tolerance).
    whole_share : float
        A region holding at least this share of ``cg``'s nodes is not cut out: ``cg`` is returned.

    Returns
    -------
    CompiledGraph
        ``cg`` itself when the region is all or most of it (``whole_share``); else the region, whose
        ``parent`` is ``cg`` (node indices differ: translate through ``node_ids`` /
        :meth:`CompiledGraph.index_of`).
    """
    from routemap.route.kernels import reach_mask

    cands = [np.atleast_1d(np.asarray(c, dtype=np.int64)) for c in stops]
    if len(cands) == 1:
        cands = cands * 2
    centres = np.array([[cg.ux[c].mean(), cg.uy[c].mean()] for c in cands])
    radii = np.array(
        [np.hypot(cg.ux[c] - x, cg.uy[c] - y).max() for c, (x, y) in zip(cands, centres)], dtype=float
    )
    # the straight chain between consecutive stops, each stop shrunk to its centre +- its radius
    gaps = np.maximum(np.hypot(*np.diff(centres, axis=0).T) - radii[:-1] - radii[1:], 0.0)
    before = np.concatenate([[0.0], np.cumsum(gaps)])
    budget = length_m * REGION_SLACK + REGION_MARGIN_M
    keep = reach_mask(cg.ux, cg.uy, centres, radii, before, float(budget))
    keep[np.concatenate(cands)] = True
    if keep.mean() >= whole_share:
        return cg
    return restrict(cg, keep)


def restrict(cg: CompiledGraph, keep: np.ndarray) -> CompiledGraph:
    """Return the compiled graph of the nodes flagged in ``keep`` and the edges between them.

    The part need not be strongly connected: searches reach what they can (unreached nodes cost inf).
    Undirected edge ids are renumbered; ``parent`` is ``cg``.
    """
    from routemap.route.kernels import region_entries

    keep = np.asarray(keep, dtype=bool)
    nodes = np.flatnonzero(keep)
    n = len(nodes)
    # the kept nodes' rows, read from the CSR arrays: the cost follows the region, not the graph
    ekeep, row, col = region_entries(cg.cost.indptr, cg.cost.indices, nodes, cg.n)
    # rows stay sorted (kept nodes keep their order), so the CSR layout carries over
    costs = cg.cost.data[ekeep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n))])
    cost = csr_matrix((costs, col, indptr), shape=(n, n))
    perm_t = np.lexsort((row, col))
    indptr_t = np.concatenate([[0], np.cumsum(np.bincount(col, minlength=n))])
    cost_t = csr_matrix((costs[perm_t], row[perm_t], indptr_t), shape=(n, n))
    _, eid = unique_inverse(cg.eid[ekeep])
    return CompiledGraph(
        graph_ref=cg.graph_ref,
        node_ids=cg.node_ids[nodes],
        lon=cg.lon[nodes],
        lat=cg.lat[nodes],
        ux=cg.ux[nodes],
        uy=cg.uy[nodes],
        utm_crs=cg.utm_crs,
        cost=cost,
        cost_t=cost_t,
        length=cg.length[ekeep],
        key=cg.key[ekeep],
        eid=eid.astype(np.int64),
        perm_t=perm_t,
        row=row,
        kept_node_share=cg.kept_node_share,
        kept_length_share=cg.kept_length_share,
        weights=cg.weights,
        parent=cg,
        root_pos=cg.root_pos[ekeep] if cg.root_pos is not None else ekeep,
    )


def same_region(cg: CompiledGraph, like: CompiledGraph) -> CompiledGraph:
    """Return ``cg`` (a whole compiled graph, e.g. another profile) cut to the region ``like`` covers."""
    if like.parent is None:
        return cg
    regions = like.cache.setdefault("_same_region", {})
    sig = tuple(sorted(cg.weights.items()))
    hit = regions.get(sig)
    if hit is None:
        keep = np.zeros(cg.n, dtype=bool)
        idx = cg.index_of(like.node_ids)
        keep[idx[idx >= 0]] = True
        hit = regions[sig] = restrict(cg, keep)
    return hit


@dataclass
class Tree:
    """A shortest-path tree: from ``root`` (forward) or towards it (``reverse``), with tree sums.

    ``cost`` is the profile cost along the tree, ``metres`` the real length, ``repeat`` the metres on
    edges flagged as already used (arrays over all nodes; 0 where unreached); ``pred`` the parent
    (forward) or next hop (reverse); -1 at the root and for unreachable nodes (whose cost is inf).
    """

    root: int
    reverse: bool
    cost: np.ndarray
    pred: np.ndarray
    metres: np.ndarray
    repeat: np.ndarray

    def path(self, v: int) -> list[int]:
        """Return the node indices from the root to ``v`` (forward) or from ``v`` to the root (reverse)."""
        from routemap.route.kernels import tree_walk

        out = tree_walk(self.pred, self.root, int(v))
        if len(out) == 0:
            raise ValueError("node not reached by this tree")
        return (out if self.reverse else out[::-1]).tolist()


#: Straight metres in the UTM zone per metre of edge length, at most (the zone's scale error, with room):
#: a path of L metres stays inside the ellipse whose foci are its ends and whose distances sum to
#: ``L * UTM_SLACK``.
UTM_SLACK = 1.002


def shortest_tree(
    cg: CompiledGraph,
    root: int,
    reverse: bool = False,
    used: np.ndarray | None = None,
    factor: float = 1.0,
    limit: float = np.inf,
    within: tuple[int, int, float] | None = None,
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
    limit : float
        Stop the search at this cost: nodes farther away are left unreached (cost inf, no parent); the
        nodes within it get exactly the tree of the unbounded search.
    within : (int, int, float), optional
        ``(a, b, metres)``: search only inside the ellipse of the paths from node a to node b of at
        most ``metres`` (:func:`routemap.route.kernels.inside_ellipse`); the root must lie inside. Nodes outside are left
        unreached, and the tree holds the best paths that stay inside: a route that must be at most
        that long between a and b can use no other node, so its search costs what the ellipse holds.
    """
    return _kernel_tree(cg, root, reverse, used, factor, limit, within, -1)


def _kernel_tree(
    cg: CompiledGraph,
    root: int,
    reverse: bool,
    used: np.ndarray | None,
    factor: float,
    limit: float,
    within: tuple[int, int, float] | None,
    target: int,
) -> Tree:
    """Return :func:`shortest_tree` (and, with a ``target`` >= 0, only as far as it) from the kernel.

    The compiled kernel (:func:`routemap.route.kernels.node_tree`) searches the whole graph's CSR
    arrays, applies the used-edge factor as it goes (no penalized copy of the costs) and enters only the
    nodes inside the ellipse ``within`` (:func:`routemap.route.kernels.inside_ellipse`, and the root), summing metres as
    it settles them, so a search costs what it settles, not what the ellipse or the graph holds.
    """
    from routemap.route.kernels import node_tree

    penal = used is not None and bool(used.any())
    if within is None:
        ax = ay = bx = by = 0.0
        sum_m = np.inf
    else:
        a, b, metres_max = within
        ax, ay, bx, by = float(cg.ux[a]), float(cg.uy[a]), float(cg.ux[b]), float(cg.uy[b])
        sum_m = float(metres_max * UTM_SLACK + 1.0)
    base = cg.cost_t if reverse else cg.cost
    length, eid = _entry_figures(cg, reverse)
    n = cg.n
    dist = np.full(n, np.inf)
    pred = np.full(n, -1, np.int64)
    metres = np.zeros(n)
    repeat = np.zeros(n)
    node_tree(
        base.indptr,
        base.indices,
        base.data,
        length,
        eid,
        used if penal else _EMPTY_BOOL,
        float(factor),
        node_xy(cg),
        int(root),
        ax,
        ay,
        bx,
        by,
        sum_m,
        float(limit),
        int(target),
        min_rate(cg) / UTM_SLACK,
        dist,
        pred,
        metres,
        repeat,
        node_scratch(cg),
    )
    return Tree(int(root), reverse, dist, pred, metres, repeat)


_EMPTY_BOOL = np.zeros(0, np.bool_)


def thread_scratch(cg: CompiledGraph, kind: str, make: Callable[[], tuple[np.ndarray, ...]]) -> tuple:
    """Return this thread's work arrays of ``kind`` for searches on ``cg`` (made once per thread and
    kind, cached on ``cg``): :func:`routemap.route.kernels.scratch`. The kernels run without the GIL, so
    threads planning on one graph must not share them."""
    per = cg.cache.setdefault("_scratch", {})
    key = (threading.get_ident(), kind)
    hit = per.get(key)
    if hit is None:
        hit = per[key] = make()
    return hit


def node_scratch(cg: CompiledGraph) -> tuple:
    """Return this thread's work arrays for node searches on ``cg`` (:func:`thread_scratch`): room for a
    heap push per edge and per source."""
    from routemap.route.kernels import scratch

    return thread_scratch(cg, "nodes", lambda: scratch(cg.n, 0, len(cg.length) + cg.n))


def min_rate(cg: CompiledGraph) -> float:
    """Return the smallest cost per metre of any edge (cached): every edge costs at least this times
    its length, so a cost is at least this times the straight metres it covers (over ``UTM_SLACK``)."""
    rate = cg.cache.get("_min_rate")
    if rate is None:
        rate = cg.cache["_min_rate"] = float(np.min(cg.cost.data / np.maximum(cg.length, MIN_COST)))
    return rate


def node_xy(cg: CompiledGraph) -> np.ndarray:
    """Return the nodes' UTM coordinates as one (n, 2) array (cached): a node's x and y side by side."""
    xy = cg.cache.get("_xy")
    if xy is None:
        xy = cg.cache["_xy"] = np.column_stack([cg.ux, cg.uy])
    return xy


def _entry_figures(cg: CompiledGraph, reverse: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return the metres and undirected edge ids of the entries of ``cg.cost`` (``reverse``: of
    ``cg.cost_t``, in its order; cached), read in the order a search walks them."""
    if not reverse:
        return cg.length, cg.eid
    hit = cg.cache.get("_entry_figures_t")
    if hit is None:
        hit = cg.cache["_entry_figures_t"] = (cg.length[cg.perm_t], cg.eid[cg.perm_t])
    return hit


def search_limit(length_m: float) -> float:
    """Return the cost at which a search for places up to ``length_m`` metres away stops."""
    return float(length_m) * SEARCH_COST_PER_M


def tree_reaching(
    cg: CompiledGraph,
    root: int,
    target: int,
    reverse: bool = False,
    used: np.ndarray | None = None,
    factor: float = 1.0,
) -> Tree:
    """Return :func:`shortest_tree` from (``reverse``: towards) ``root``, searched only as far as ``target``.

    The tree is exact for every node it reaches, ``target`` among them when reachable: the search (A*
    towards ``target``, whose guess never overestimates, so every node it settles is exact) stops once it
    settles ``target``, and leaves the nodes it met but did not settle unreached.
    """
    return _kernel_tree(cg, root, reverse, used, factor, np.inf, None, int(target))


def path_metres(cg: CompiledGraph, a: int, b: int) -> float:
    """Return the metres of the cost-optimal path from node index ``a`` to ``b`` (0 if ``b`` cannot be
    reached, as :attr:`Tree.metres` says of nodes a tree does not reach).

    The value of ``shortest_tree(cg, a).metres[b]``, from a search that goes only as far as ``b``.
    """
    return float(tree_reaching(cg, a, b).metres[b])
