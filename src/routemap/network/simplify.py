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

from routemap._arrays import sorted_lookup, unique, unique_index
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
    # the distinct directed pairs and the first segment of each (networkx keeps the first insertion's
    # order), looked up by binary search (a dict of millions of pairs costs GBs)
    pair_codes, pair_first = unique_index(u * np.int64(n_nodes) + v)
    first_seg = (pair_codes, pair_first)
    flat, sizes = _chain_paths(pair_codes, pair_first, is_end, n_nodes)

    # the interior nodes of the paths go: all but the first and last node of each
    removed = np.zeros(n_nodes, dtype=bool)
    inner = np.ones(len(flat), dtype=bool)
    last = np.cumsum(sizes) - 1
    inner[last] = False
    inner[last - sizes + 1] = False
    removed[flat[inner]] = True
    del inner, last
    keep_seg = ~(removed[u] | removed[v])
    eu, ev = u[keep_seg], v[keep_seg]
    datas: list[dict[str, Any]] = [
        EdgeData(way_attrs[k], reversed=r, length=d)
        for k, r, d in zip(w[keep_seg].tolist(), rev[keep_seg].tolist(), length[keep_seg].tolist())
    ]
    if len(sizes):
        pu, pv, pdata = _path_edges(flat, sizes, first_seg, n_nodes, xs, ys, w, rev, length, way_attrs)
        eu, ev = np.concatenate([eu, pu]), np.concatenate([ev, pv])
        datas.extend(pdata)
    del flat, sizes
    kept = ~removed
    kept &= ~_ring_nodes(eu, ev, is_end, n_nodes)
    if not kept.all():
        ok = kept[eu] & kept[ev]
        eu, ev = eu[ok], ev[ok]
        datas = [d for d, keep in zip(datas, ok.tolist()) if keep]
    return kept, (eu, ev, datas)


def _chain_paths(
    pair_codes: np.ndarray, pair_first: np.ndarray, is_end: np.ndarray, n_nodes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return the paths of osmnx's ``_build_path`` as one flat array of node indices and each path's size.

    Parameters
    ----------
    pair_codes, pair_first
        The distinct directed pairs ``u * n_nodes + v`` (sorted) and the index of each one's first segment.
    is_end
        The endpoint mask (:func:`endpoints_mask`).
    n_nodes
        The number of nodes.

    Returns
    -------
    flat, sizes
        The nodes of all paths one after the other, and the number of nodes of each path. The paths come
        in osmnx's order: by start endpoint, then by successor in networkx's order (first insertion).

    Notes
    -----
    osmnx walks a path from each endpoint ``e`` through each successor ``s`` that is no endpoint. An
    interior node has exactly two distinct neighbours, so its walk has one way on: to the neighbour it did
    not come from, if the edge there exists (else the path stops, a digitization quirk osmnx keeps). The
    walk stops at the first endpoint (``e`` itself closes a self-looping chain) and never meets an interior
    node twice (it would have a third neighbour). All paths advance in lockstep, one numpy step per node.
    """
    a = pair_codes // n_nodes
    b = pair_codes % n_nodes
    # both neighbours of each interior node, and whether the edge to each exists
    inner = np.flatnonzero(~is_end)
    nbr = unique(np.concatenate([pair_codes, b * np.int64(n_nodes) + a]))
    at = np.searchsorted(nbr, inner * np.int64(n_nodes))
    nb0 = np.zeros(n_nodes, dtype=np.int64)
    nb1 = np.zeros(n_nodes, dtype=np.int64)
    nb0[inner] = nbr[at] % n_nodes
    nb1[inner] = nbr[at + 1] % n_nodes
    del nbr, at
    out0 = np.zeros(n_nodes, dtype=bool)
    out1 = np.zeros(n_nodes, dtype=bool)
    out0[inner] = sorted_lookup(pair_codes, inner * np.int64(n_nodes) + nb0[inner])[1]
    out1[inner] = sorted_lookup(pair_codes, inner * np.int64(n_nodes) + nb1[inner])[1]
    del inner

    start = np.flatnonzero(is_end[a] & ~is_end[b])
    start = start[np.lexsort((pair_first[start], a[start]))]
    n_paths = len(start)
    ids = np.arange(n_paths)
    prev, head = a[start], b[start]
    chains, nodes = [ids, ids], [prev, head]
    while len(ids):
        other = nb0[head] == prev  # came from the first neighbour: go on to the second
        nxt = np.where(other, nb1[head], nb0[head])
        ok = np.where(other, out1[head], out0[head])
        ids, prev, head = ids[ok], head[ok], nxt[ok]
        chains.append(ids)
        nodes.append(head)
        go = ~is_end[head]
        ids, prev, head = ids[go], prev[go], head[go]
    chain = np.concatenate(chains)
    # the steps were recorded in order: a stable sort by path keeps each path's nodes in order
    flat = np.concatenate(nodes)[np.argsort(chain, kind="stable")]
    return flat, np.bincount(chain, minlength=n_paths)


def _path_edges(flat, sizes, first_seg, n_nodes, xs, ys, w, rev, length, way_attrs):
    """Return the merged edges of the paths ``flat``/``sizes`` with aggregated attributes and vectorized
    geometries."""
    n_paths = len(sizes)
    path_id = np.repeat(np.arange(n_paths), sizes)
    geoms = shapely.linestrings(np.column_stack([xs[flat], ys[flat]]), indices=path_id).tolist()
    # segment index of each consecutive pair in each path
    last = np.cumsum(sizes) - 1
    same = np.ones(len(flat) - 1, dtype=bool)
    same[last[:-1]] = False
    keys = (flat[:-1] * np.int64(n_nodes) + flat[1:])[same]
    pair_codes, pair_first = first_seg
    segs = pair_first[np.searchsorted(pair_codes, keys)]
    first = last - sizes + 1
    starts = first - np.arange(n_paths)  # a path of k nodes has k - 1 segments
    total = np.add.reduceat(length[segs], starts).tolist()
    seg_w, seg_rev = w[segs], rev[segs]
    # most paths run along one way in one direction: they take the way's attributes as they are
    w_lo, w_hi = np.minimum.reduceat(seg_w, starts), np.maximum.reduceat(seg_w, starts)
    r_lo, r_hi = np.minimum.reduceat(seg_rev, starts), np.maximum.reduceat(seg_rev, starts)
    attrs = [way_attrs[k] for k in w_lo.tolist()]
    reversed_: list[Any] = r_lo.tolist()
    for i in np.flatnonzero(r_lo != r_hi).tolist():
        reversed_[i] = [False, True]  # osmnx's sorted set of both
    mixed = np.flatnonzero(w_lo != w_hi)
    if len(mixed):
        # the ways along each path of several, once per run of segments of one way (a path runs many
        # segments of few ways: the merge is the same)
        run = np.ones(len(segs), dtype=bool)
        run[1:] = seg_w[1:] != seg_w[:-1]
        run[starts] = True
        run &= np.repeat(w_lo != w_hi, sizes - 1)
        run_w = seg_w[run].tolist()
        run_end = np.cumsum(np.add.reduceat(run, starts, dtype=np.int64)[mixed]).tolist()
        lo = 0
        for i, hi in zip(mixed.tolist(), run_end):
            attrs[i] = _aggregate([way_attrs[k] for k in dict.fromkeys(run_w[lo:hi])])
            lo = hi
    datas = [
        EdgeData(a, reversed=r, length=d, geometry=g) for a, r, d, g in zip(attrs, reversed_, total, geoms)
    ]
    return flat[first], flat[last], datas


def _aggregate(dicts: list[dict[str, Any]]) -> dict[str, Any]:
    """Return one value per key where all agree, else the sorted unique values (osmnx's merge)."""
    # keys in order of first appearance, each with its first value; the values that differ from the
    # first are collected (a value equal to the first adds nothing to the set of values)
    out = dict(dicts[0])
    differ: dict[str, list[Any]] = {}
    for d in dicts[1:]:
        for k, x in d.items():
            if k not in out:
                out[k] = x
            elif x != out[k]:
                if k in differ:
                    differ[k].append(x)
                else:
                    differ[k] = [out[k], x]
    for k, vals in differ.items():
        uniq = set(vals)
        if len(uniq) == 1:  # unequal but one as a set (the same NaN): osmnx keeps it
            continue
        first = vals[0]
        if all(type(x) is type(first) for x in uniq):
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
