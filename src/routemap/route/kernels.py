"""Compiled search kernels: bounded Dijkstra searches inside an ellipse, without building a subgraph.

The planner's searches are small: a leg's trees and a straightening window's turn-aware search each look
only at the nodes of an ellipse around their ends (:func:`inside_ellipse`), and stop at a cost limit.
Gathering that ellipse as its own CSR graph for :func:`scipy.sparse.csgraph.dijkstra` cost more than the
search itself, so these kernels (numba; compiled on first use and cached on disk) search the whole
graph's CSR arrays directly, testing a node's place in the ellipse when the search first meets it, and
applying the used-street penalty as they go (no penalized copy of the costs).

They give what scipy's ``dijkstra(..., limit=)`` gives on the graph with every entry leaving the ellipse
removed: the same distances, and the same tree wherever the best path is unique (between paths of
exactly equal cost the choice may differ). ``sum_m = inf`` searches the whole graph.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_UNKNOWN, _INSIDE, _OUTSIDE = 0, 1, 2


def inside_ellipse(
    x: np.ndarray, y: np.ndarray, a: tuple[float, float], b: tuple[float, float], sum_m: float
) -> np.ndarray:
    """Return whether each point (metres, projected) lies in the ellipse with foci ``a`` and ``b`` whose
    distances sum to at most ``sum_m``: the kernels' test, with the same arithmetic.

    Every node of a path from a to b no longer than ``sum_m`` lies inside (in a projected CRS, up to
    its scale error: :data:`routemap.route.compile.UTM_SLACK`).
    """
    da = np.sqrt((x - a[0]) ** 2 + (y - a[1]) ** 2)
    db = np.sqrt((x - b[0]) ** 2 + (y - b[1]) ** 2)
    return da + db <= sum_m


# An indexed binary heap over node (or state) ids keyed by ``dist``: ``heap`` holds ids, ``where[v]`` is
# v's place in it (-1: not in it), so a shorter distance moves the id up instead of adding a copy.


@njit(cache=True, nogil=True, inline="always")
def _less(dist, a, b):  # pragma: no cover - compiled
    return dist[a] < dist[b]


@njit(cache=True, nogil=True, inline="always")
def _sift_up(heap, where, dist, i, v):  # pragma: no cover - compiled
    while i > 0:
        parent = (i - 1) >> 1
        p = heap[parent]
        if not _less(dist, v, p):
            break
        heap[i] = p
        where[p] = i
        i = parent
    heap[i] = v
    where[v] = i


@njit(cache=True, nogil=True, inline="always")
def _push_or_lower(heap, where, size, dist, v):  # pragma: no cover - compiled
    """Put v in the heap (or move it up after its distance fell); return the new size."""
    i = where[v]
    if i < 0:
        i = size
        size += 1
    _sift_up(heap, where, dist, i, v)
    return size


@njit(cache=True, nogil=True, inline="always")
def _pop(heap, where, size, dist):  # pragma: no cover - compiled
    """Remove the id of least distance (heap[0]); return the new size."""
    top = heap[0]
    where[top] = -1
    size -= 1
    if size == 0:
        return 0
    v = heap[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and _less(dist, heap[c + 1], heap[c]):
            c += 1
        if not _less(dist, heap[c], v):
            break
        heap[i] = heap[c]
        where[heap[c]] = i
        i = c
    heap[i] = v
    where[v] = i
    return size


@njit(cache=True, nogil=True, inline="always")
def _inside(v, side, ux, uy, ax, ay, bx, by, sum_m):  # pragma: no cover - compiled
    s = side[v]
    if s == _UNKNOWN:
        x, y = ux[v], uy[v]
        d = math.sqrt((x - ax) ** 2 + (y - ay) ** 2) + math.sqrt((x - bx) ** 2 + (y - by) ** 2)
        s = _INSIDE if d <= sum_m else _OUTSIDE
        side[v] = s
    return s == _INSIDE


@njit(cache=True, nogil=True)
def node_tree(
    indptr,
    indices,
    weight,
    fpos,
    length,
    eid,
    used,
    factor,
    ux,
    uy,
    root,
    ax,
    ay,
    bx,
    by,
    sum_m,
    limit,
    target,
    dist,
    pred,
    metres,
    repeat,
):  # pragma: no cover - compiled
    """Fill ``dist``/``pred``/``metres``/``repeat`` (size n: inf, -1, 0, 0) with the tree from ``root``.

    ``indptr``/``indices``/``weight`` are the CSR graph searched (the transposed one for a tree towards
    the root); ``fpos[k]`` is entry k's position in the arrays ``length`` and ``eid`` are aligned with
    (an empty ``fpos``: the same position). An edge whose undirected id is ``used`` costs ``factor``
    times its weight (an empty ``used``: none is) and its metres count in ``repeat``. Only nodes inside
    the ellipse (and the root) are entered, and none beyond ``limit``. With a ``target`` (>= 0) the
    search stops once it is settled, and the nodes met but not settled are left unreached, so every node
    the tree reaches is exact. Returns the number settled.
    """
    n = len(indptr) - 1
    side = np.zeros(n, np.uint8)
    done = np.zeros(n, np.bool_)
    via = np.full(n, -1, np.int64)  # the position (in length/eid order) of each node's tree edge
    side[root] = _INSIDE
    has_fpos = len(fpos) > 0
    has_used = len(used) > 0
    heap = np.empty(n, np.int64)
    where = np.full(n, -1, np.int64)
    dist[root] = 0.0
    size = _push_or_lower(heap, where, 0, dist, root)
    settled = 0
    while size > 0:
        u = heap[0]
        d = dist[u]
        size = _pop(heap, where, size, dist)
        done[u] = True
        settled += 1
        if u == target:
            for i in range(size):  # met, not settled: their distances are not final
                v = heap[i]
                dist[v] = np.inf
                pred[v] = -1
        p = pred[u]
        if p >= 0:
            e = via[u]
            metres[u] = metres[p] + length[e]
            if has_used and used[eid[e]]:
                repeat[u] = repeat[p] + length[e]
            else:
                repeat[u] = repeat[p]
        if u == target:
            break
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            if done[v] or not _inside(v, side, ux, uy, ax, ay, bx, by, sum_m):
                continue
            f = fpos[k] if has_fpos else k
            w = weight[k]
            if has_used and used[eid[f]]:
                w = w * factor
            nd = d + w
            if nd <= limit and nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                via[v] = f
                size = _push_or_lower(heap, where, size, dist, v)
    return settled


@njit(cache=True, nogil=True)
def window_path(
    arc_ptr,
    arc_to,
    arc_weight,
    arc_eid,
    cost,
    penalty,
    outside,
    row,
    col,
    ux,
    uy,
    src,
    ax,
    ay,
    bx,
    by,
    sum_m,
    limit,
    ends,
    end_extra,
):  # pragma: no cover - compiled
    """Return the states (CSR entries) of the best path on the edge graph from state ``src`` to one of
    ``ends`` (src first), or an empty array.

    An arc ``a`` costs ``arc_weight[a]``, plus ``penalty * cost[arc_to[a]]`` when its street
    (``arc_eid[a]``) is used ``outside``. A state is entered only when both its nodes lie in the
    ellipse, and not beyond ``limit``. An end's final cost is its distance plus ``end_extra``; the
    lowest wins, ties going to the earlier end in ``ends``. The search stops once no unsettled state
    can beat the best end settled.
    """
    m = len(row)
    n = len(ux)
    side = np.zeros(n, np.uint8)
    dist = np.full(m, np.inf)
    pred = np.full(m, -1, np.int64)
    done = np.zeros(m, np.bool_)
    end_at = np.full(m, -1, np.int64)
    for i in range(len(ends)):
        end_at[ends[i]] = i
    heap = np.empty(m, np.int64)
    where = np.full(m, -1, np.int64)
    dist[src] = 0.0
    size = _push_or_lower(heap, where, 0, dist, src)
    best = np.inf
    best_i = -1
    while size > 0:
        u = heap[0]
        d = dist[u]
        if d > best:
            break
        size = _pop(heap, where, size, dist)
        done[u] = True
        i = end_at[u]
        if i >= 0:
            final = d + end_extra[i]
            if final < best or (final == best and i < best_i):
                best, best_i = final, i
        for a in range(arc_ptr[u], arc_ptr[u + 1]):
            v = arc_to[a]
            if done[v]:
                continue
            if not (
                _inside(row[v], side, ux, uy, ax, ay, bx, by, sum_m)
                and _inside(col[v], side, ux, uy, ax, ay, bx, by, sum_m)
            ):
                continue
            w = arc_weight[a]
            if outside[arc_eid[a]] > 0:
                w = w + penalty * cost[v]
            nd = d + w
            if nd <= limit and nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                size = _push_or_lower(heap, where, size, dist, v)
    if best_i < 0 or m == 0:
        return np.zeros(0, np.int64)
    chain = [ends[best_i]]
    while chain[-1] != src:
        chain.append(pred[chain[-1]])
    out = np.empty(len(chain), np.int64)
    for i in range(len(chain)):
        out[i] = chain[len(chain) - 1 - i]
    return out
