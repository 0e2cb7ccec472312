"""Topological simplification on segment arrays, with the result of ``osmnx.simplify_graph``.

osmnx simplifies a built networkx graph: it copies it, walks it through networkx views and makes one shapely
LineString per edge from Point objects, which dominates the load time of a large extract. The same rules run
here on plain arrays and dicts before the graph is built (endpoints of osmnx's ``_is_endpoint`` with default
options, paths of ``_build_path``, attributes aggregated as osmnx does, isolated rings removed), and the
geometries are made in one vectorized ``shapely.linestrings`` call. Unique attribute values that differ
along a path become a sorted list (osmnx's order is that of a Python set).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from routemap._arrays import unique, unique_index
from routemap._edgedata import EdgeData


def endpoints_mask(u: np.ndarray, v: np.ndarray, n_nodes: int) -> np.ndarray:
    """Return which nodes (indices ``0..n_nodes-1``) are endpoints by osmnx's strict rules.

    A node is an endpoint if it self-loops, has no in- or no out-edges, or does not have exactly two
    neighbors with a degree of 2 or 4 (``osmnx.simplification._is_endpoint``).
    """
    indeg = np.bincount(v, minlength=n_nodes)
    outdeg = np.bincount(u, minlength=n_nodes)
    loop = np.zeros(n_nodes, dtype=bool)
    loop[u[u == v]] = True
    a = np.concatenate([u, v])
    b = np.concatenate([v, u])
    pairs = unique(a * np.int64(n_nodes) + b)
    n_neighbors = np.bincount(pairs // n_nodes, minlength=n_nodes)
    degree = indeg + outdeg
    return loop | (indeg == 0) | (outdeg == 0) | ~((n_neighbors == 2) & ((degree == 2) | (degree == 4)))


def simplify_segments(
    xs: np.ndarray,
    ys: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    w: np.ndarray,
    rev: np.ndarray,
    length: np.ndarray,
    way_attrs: list[dict[str, Any]],
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]]:
    """Return ``(kept_nodes, (u, v, attrs))`` of the simplified graph of directed segments.

    Parameters
    ----------
    xs, ys
        Node coordinates by node index.
    u, v
        Segment end node indices, in the order osmnx would add the edges.
    w, rev, length
        Per segment: the index of its way in ``way_attrs``, whether it runs against the way, its length.
    way_attrs
        Attributes of each way (``osmid``, ``highway``, ``name``, ``oneway``...).

    Returns
    -------
    kept_nodes
        Boolean mask of the node indices that remain.
    edges
        ``(u_index, v_index, attrs)``: two index arrays and a list of attribute dicts, in insertion
        order (parallel sequences, not millions of tuples): unmerged segments keep their attributes,
        merged paths get aggregated attributes, summed ``length`` and a ``geometry``.
    """
    n_nodes = len(xs)
    is_end = endpoints_mask(u, v, n_nodes)
    # first segment of each directed pair, and successors in first-insertion order (networkx's order)
    pair = u * np.int64(n_nodes) + v
    pair_codes, pair_first = unique_index(pair)
    # the first segment of each pair, looked up by binary search (a dict of millions of pairs costs GBs)
    first_seg = (pair_codes, pair_first)
    first = np.sort(pair_first)
    succ: dict[int, list[int]] = {}
    for a, b in zip(u[first].tolist(), v[first].tolist()):
        succ.setdefault(a, []).append(b)

    ends = np.flatnonzero(is_end).tolist()
    end_set = set(ends)
    paths = []
    for e in ends:
        for s in succ.get(e, ()):
            if s not in end_set:
                paths.append(_build_path(succ, e, s, end_set))

    removed = np.zeros(n_nodes, dtype=bool)
    # the walk's structures are done: free them before the edges (most of a big build's memory) are made
    del succ, end_set, ends
    interior = np.fromiter((n for p in paths for n in p[1:-1]), dtype=np.int64)
    removed[interior] = True
    del interior
    keep_seg = ~(removed[u] | removed[v])
    eu, ev = u[keep_seg], v[keep_seg]
    datas: list[dict[str, Any]] = [
        EdgeData(way_attrs[k], reversed=r, length=d)
        for k, r, d in zip(w[keep_seg].tolist(), rev[keep_seg].tolist(), length[keep_seg].tolist())
    ]
    if paths:
        pu, pv, pdata = _path_edges(paths, first_seg, n_nodes, xs, ys, w, rev, length, way_attrs)
        eu, ev = np.concatenate([eu, pu]), np.concatenate([ev, pv])
        datas.extend(pdata)
    del paths
    kept = ~removed
    kept &= ~_ring_nodes(eu, ev, is_end, n_nodes)
    if not kept.all():
        ok = kept[eu] & kept[ev]
        eu, ev = eu[ok], ev[ok]
        datas = [d for d, keep in zip(datas, ok.tolist()) if keep]
    return kept, (eu, ev, datas)


def _build_path(succ: dict[int, list[int]], e: int, s: int, ends: set[int]) -> list[int]:
    """Return the node path from endpoint ``e`` through ``s`` to the next endpoint (osmnx's rules)."""
    path = [e, s]
    seen = {e, s}
    for nxt in succ.get(s, ()):
        if nxt in seen:
            continue
        node = nxt
        path.append(node)
        seen.add(node)
        while node not in ends:
            options = [n for n in succ.get(node, ()) if n not in seen]
            if len(options) == 1:
                node = options[0]
                path.append(node)
                seen.add(node)
            elif not options:
                if e in succ.get(node, ()):
                    path.append(e)  # the end of a self-looping chain
                return path
            else:  # pragma: no cover - a node with two ways out is an endpoint by definition
                raise RuntimeError(f"impossible simplification pattern near node index {node}")
        return path
    return path


def _path_edges(paths, first_seg, n_nodes, xs, ys, w, rev, length, way_attrs):
    """Return the merged edges of ``paths`` with aggregated attributes and vectorized geometries."""
    flat = np.fromiter((n for p in paths for n in p), dtype=np.int64)
    sizes = np.fromiter((len(p) for p in paths), dtype=np.int64, count=len(paths))
    path_id = np.repeat(np.arange(len(paths)), sizes)
    geoms = shapely.linestrings(np.column_stack([xs[flat], ys[flat]]), indices=path_id)
    # segment index of each consecutive pair in each path
    same = path_id[1:] == path_id[:-1]
    keys = (flat[:-1] * np.int64(n_nodes) + flat[1:])[same]
    pair_codes, pair_first = first_seg
    segs = pair_first[np.searchsorted(pair_codes, keys)]
    seg_path = path_id[:-1][same]
    starts = np.searchsorted(seg_path, np.arange(len(paths)))
    total = np.add.reduceat(length[segs], starts)
    seg_w = w[segs].tolist()
    seg_rev = rev[segs].tolist()
    bounds = [*starts.tolist(), len(segs)]
    datas = []
    for i in range(len(paths)):
        lo, hi = bounds[i], bounds[i + 1]
        ws = seg_w[lo:hi]
        # each way once (a path runs many segments of few ways): the merge is the same
        distinct = list(dict.fromkeys(ws))
        attrs = _aggregate([way_attrs[k] for k in distinct]) if len(distinct) > 1 else way_attrs[ws[0]]
        rv = set(seg_rev[lo:hi])
        reversed_ = rv.pop() if len(rv) == 1 else sorted(rv)
        datas.append(EdgeData(attrs, reversed=reversed_, length=float(total[i]), geometry=geoms[i]))
    ends = np.fromiter((n for p in paths for n in (p[0], p[-1])), dtype=np.int64, count=2 * len(paths))
    return ends[0::2], ends[1::2], datas


def _aggregate(dicts: list[dict[str, Any]]) -> dict[str, Any]:
    """Return one value per key where all agree, else the sorted unique values (osmnx's merge)."""
    out: dict[str, Any] = {}
    for k in dict.fromkeys(k for d in dicts for k in d):  # keys in order of first appearance
        vals = [d[k] for d in dicts if k in d]
        first = vals[0]
        if len(vals) == 1 or all(v == first for v in vals[1:]):
            out[k] = first
            continue
        uniq = set(vals)
        if len(uniq) == 1:  # equal but not identical values (1 and True): as a set, one
            out[k] = first
        elif all(type(x) is type(first) for x in uniq):
            out[k] = sorted(uniq)  # one type (osmids, names): the same order as by (type, value)
        else:
            out[k] = sorted(uniq, key=lambda x: (str(type(x)), x))
    return out


def _ring_nodes(a: np.ndarray, b: np.ndarray, is_end: np.ndarray, n_nodes: int) -> np.ndarray:
    """Return a mask of nodes in components without any endpoint (isolated rings osmnx removes)."""
    if not len(a):
        return np.zeros(n_nodes, dtype=bool)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=True, connection="weak")
    has_end = np.zeros(labels.max() + 1, dtype=bool)
    has_end[labels[is_end]] = True
    used = np.zeros(n_nodes, dtype=bool)
    used[a] = True
    used[b] = True
    return used & ~has_end[labels]


def street_counts(u: np.ndarray, v: np.ndarray, keys: np.ndarray, n_nodes: int) -> np.ndarray:
    """Return osmnx's ``street_count`` per node index: undirected edges (parallel ones apart) at it."""
    loop = u == v
    lo = np.minimum(u, v)[~loop]
    hi = np.maximum(u, v)[~loop]
    k = keys[~loop]
    if len(lo):
        # one code per (lo, hi, key): fits int64 for any real network (n_nodes**2 * keys < 2**63)
        span = np.int64(k.max()) + 1
        codes = unique((lo * np.int64(n_nodes) + hi) * span + k) // span
        counts = np.bincount(codes // n_nodes, minlength=n_nodes) + np.bincount(
            codes % n_nodes, minlength=n_nodes
        )
    else:
        counts = np.zeros(n_nodes, dtype=np.int64)
    loops = unique(u[loop])
    counts[loops] += 2
    return counts
