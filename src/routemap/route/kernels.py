"""Compiled kernels of the route planner (numba): its searches, the doubled-back measure, a path's turns.

The planner's searches are small: a leg's trees and a straightening window's turn-aware search each look
only at the nodes of an ellipse around their ends (:func:`inside_ellipse`), and stop at a cost limit.
Gathering that ellipse as its own CSR graph for :func:`scipy.sparse.csgraph.dijkstra` cost more than the
search itself, so these kernels search the whole graph's CSR arrays directly, testing a node's place in
the ellipse when the search first meets it, and applying the used-street penalty as they go (no
penalized copy of the costs). They are compiled on first use and cached on disk (``cache=True``).

The searches give what scipy's ``dijkstra(..., limit=)`` gives on the graph with every entry leaving the
ellipse removed: the same distances, and the same tree wherever the best path is unique (between paths
of exactly equal cost the choice may differ). ``sum_m = inf`` searches the whole graph. The other kernels
keep the arithmetic of the numpy code they replaced, so routes are the same.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Per node (or state) marks of one search, relative to the search's ``base`` (see :func:`scratch`):
# below base: not met yet (whatever an earlier search left), then inside / outside the ellipse, settled.
_INSIDE, _OUTSIDE, _SETTLED = 1, 2, 3


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


def scratch(n: int, m: int, pushes: int) -> tuple[np.ndarray, ...]:
    """Return the work arrays a search borrows on a graph of ``n`` nodes and ``m`` states (edges):
    node marks, state marks, state distances and parents, the heap's keys and ids (room for ``pushes``),
    and the next search's base mark.

    Marks count up from one search to the next (each takes four values), so nothing is cleared between
    searches and a search costs what it touches, not the graph's size. One set serves one thread: the
    kernels run without the GIL.
    """
    return (
        np.zeros(n, np.int64),
        np.zeros(m, np.int64),
        np.empty(m, np.float64),
        np.empty(m, np.int64),
        np.empty(pushes + 1, np.float64),
        np.empty(pushes + 1, np.int64),
        np.full(1, 4, np.int64),
    )


# A 4-ary heap of (key, id) in ``hk``/``hv`` (node i's children are 4i + 1 .. 4i + 4: half the levels of
# a binary heap, and the four children side by side in memory; a search took a third less time than with
# a binary heap); an id may be in it more than once (pushed again at a lower key): the searches skip an
# id taken that is settled already.
_ARITY = 4


@njit(cache=True, nogil=True, inline="always")
def _push(hk, hv, size, v, key):  # pragma: no cover - compiled
    i = size
    while i > 0:
        parent = (i - 1) // _ARITY
        if not key < hk[parent]:
            break
        hk[i] = hk[parent]
        hv[i] = hv[parent]
        i = parent
    hk[i] = key
    hv[i] = v
    return size + 1


@njit(cache=True, nogil=True, inline="always")
def _pop(hk, hv, size):  # pragma: no cover - compiled
    """Drop the top (read ``hk[0]``, ``hv[0]`` first); return the new size."""
    size -= 1
    if size == 0:
        return 0
    key = hk[size]
    v = hv[size]
    i = 0
    while True:
        first = _ARITY * i + 1
        if first >= size:
            break
        c = first  # the smallest child (the first of equals)
        ck = hk[first]
        for q in range(first + 1, min(first + _ARITY, size)):
            if hk[q] < ck:
                c = q
                ck = hk[q]
        if not ck < key:
            break
        hk[i] = ck
        hv[i] = hv[c]
        i = c
    hk[i] = key
    hv[i] = v
    return size


@njit(cache=True, nogil=True, inline="always")
def _guess(v, xy, bx, by, rate):  # pragma: no cover - compiled
    """A* guess of the cost from node v to (bx, by): ``rate`` times the straight metres, a hair less
    (so that rounding never makes it more than the true cost)."""
    if rate == 0.0:
        return 0.0
    return rate * (1.0 - 1e-9) * math.sqrt((xy[v, 0] - bx) ** 2 + (xy[v, 1] - by) ** 2)


@njit(cache=True, nogil=True, inline="always")
def _inside(v, mark, base, xy, ax, ay, bx, by, sum_m):  # pragma: no cover - compiled
    """Return whether node v is in the ellipse and not settled yet (``mark`` remembers the test)."""
    s = mark[v] - base
    if s < 0:
        x, y = xy[v, 0], xy[v, 1]
        d = math.sqrt((x - ax) ** 2 + (y - ay) ** 2) + math.sqrt((x - bx) ** 2 + (y - by) ** 2)
        s = _INSIDE if d <= sum_m else _OUTSIDE
        mark[v] = base + s
    return s == _INSIDE


@njit(cache=True, nogil=True, inline="always")
def _next_base(gen):  # pragma: no cover - compiled
    base = gen[0]
    gen[0] = base + 4
    return base


@njit(cache=True, nogil=True)
def node_tree(
    indptr,
    indices,
    weight,
    length,
    eid,
    used,
    factor,
    xy,
    root,
    ax,
    ay,
    bx,
    by,
    sum_m,
    limit,
    target,
    rate,
    dist,
    pred,
    metres,
    repeat,
    work,
):  # pragma: no cover - compiled
    """Fill ``dist``/``pred``/``metres``/``repeat`` (size n: inf, -1, 0, 0) with the tree from ``root``.

    ``indptr``/``indices``/``weight`` are the CSR graph searched (the transposed one for a tree towards
    the root), ``length`` and ``eid`` its entries' metres and undirected edge ids. An edge whose id is
    ``used`` costs ``factor`` times its weight (an empty ``used``: none is) and its metres count in
    ``repeat``. Only nodes inside the ellipse (``xy``: the nodes' projected coordinates; and the root)
    are entered, and none beyond ``limit``. With a ``target`` (>= 0) the search stops once it is
    settled, and the nodes met but not settled are left unreached, so every node the tree reaches is
    exact; the search is then A* towards it with ``rate`` (see :func:`window_path`; 0: Dijkstra).
    ``work`` is :func:`scratch`. Returns the number settled.
    """
    mark, _, _, _, hk, hv, gen = work
    base = _next_base(gen)
    mark[root] = base + _INSIDE
    has_used = len(used) > 0
    if target < 0:
        rate = 0.0
    tx, ty = (xy[target, 0], xy[target, 1]) if target >= 0 else (0.0, 0.0)
    dist[root] = 0.0
    size = _push(hk, hv, 0, root, _guess(root, xy, tx, ty, rate))
    settled = 0
    while size > 0:
        u = hv[0]
        size = _pop(hk, hv, size)
        if mark[u] == base + _SETTLED:
            continue
        mark[u] = base + _SETTLED
        settled += 1
        if u == target:
            for i in range(size):  # met, not settled: their figures are not final
                v = hv[i]
                if mark[v] != base + _SETTLED:
                    dist[v] = np.inf
                    pred[v] = -1
                    metres[v] = 0.0
                    repeat[v] = 0.0
            break
        # a node's metres go with its distance, read along u's row (not at random afterwards)
        d = dist[u]
        mu = metres[u]
        ru = repeat[u]
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            w = weight[k]
            again = has_used and used[eid[k]]
            if again:
                w = w * factor
            nd = d + w
            # the ellipse last: most entries lead to a node reached at a lower cost already
            if nd <= limit and nd < dist[v] and _inside(v, mark, base, xy, ax, ay, bx, by, sum_m):
                dist[v] = nd
                pred[v] = u
                metres[v] = mu + length[k]
                repeat[v] = ru + length[k] if again else ru
                size = _push(hk, hv, size, v, nd + _guess(v, xy, tx, ty, rate))
    return settled


@njit(cache=True, nogil=True)
def layer_search(
    indptr, indices, weight, sources, start, targets, virtual, dist, pred, work
):  # pragma: no cover
    """Fill ``dist``/``pred`` (size n: inf, -1) from several sources at once, each starting at its
    ``start`` cost with parent ``virtual``, until every target is settled (or nothing is left).

    What scipy's Dijkstra gives from a virtual node joined to each source by an edge of its ``start``
    cost, at every node settled; the nodes met but not settled are left unreached.
    """
    mark, _, _, _, hk, hv, gen = work
    base = _next_base(gen)
    left = 0
    for t in targets:
        if mark[t] != base + _INSIDE:
            mark[t] = base + _INSIDE  # here: "a target not settled yet"
            left += 1
    size = 0
    for i in range(len(sources)):
        v = sources[i]
        if start[i] < dist[v]:
            dist[v] = start[i]
            pred[v] = virtual
            size = _push(hk, hv, size, v, start[i])
    while size > 0 and left > 0:
        u = hv[0]
        size = _pop(hk, hv, size)
        if mark[u] == base + _SETTLED:
            continue
        if mark[u] == base + _INSIDE:
            left -= 1
        mark[u] = base + _SETTLED
        d = dist[u]
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            if mark[v] == base + _SETTLED:
                continue
            nd = d + weight[k]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                size = _push(hk, hv, size, v, nd)
    for i in range(size):  # met, not settled
        v = hv[i]
        if mark[v] != base + _SETTLED:
            dist[v] = np.inf
            pred[v] = -1


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
    xy,
    src,
    ax,
    ay,
    bx,
    by,
    sum_m,
    limit,
    ends,
    end_extra,
    rate,
    work,
):  # pragma: no cover - compiled
    """Return the states (CSR entries) of the best path on the edge graph from state ``src`` to one of
    ``ends`` (src first), or an empty array.

    An arc ``a`` costs ``arc_weight[a]``, plus ``penalty * cost[arc_to[a]]`` when its street
    (``arc_eid[a]``) is used ``outside``. A state is entered only when both its nodes lie in the
    ellipse, and not beyond ``limit``. An end's final cost is its distance plus ``end_extra``; the
    lowest wins, ties going to the earlier end in ``ends``. The search stops once no unsettled state
    can beat the best end settled. ``work`` is :func:`scratch` (with room for a push per arc).

    The search is A*: a state is taken in the order of its distance plus ``rate`` times the straight
    metres from its head node to the ends' node (b). ``rate`` must be at most the cost of a metre of
    straight distance on any edge (:func:`routemap.route.compile.min_rate`, over the projection's
    slack), so that guess never overestimates and every state taken has its final distance; 0 gives
    Dijkstra's order. Either way the best end and its cost are the same.
    """
    if len(ends) == 0:
        return np.zeros(0, np.int64)
    node_mark, mark, dist, pred, hk, hv, gen = work
    base = _next_base(gen)
    dist[src] = 0.0
    pred[src] = -1
    mark[src] = base + _INSIDE
    size = _push(hk, hv, 0, src, _guess(col[src], xy, bx, by, rate))
    best = np.inf
    best_i = -1
    while size > 0:
        if hk[0] > best:  # no state left can end below the best: its distance and guess are lower bounds
            break
        u = hv[0]
        size = _pop(hk, hv, size)
        if mark[u] == base + _SETTLED:
            continue
        mark[u] = base + _SETTLED
        d = dist[u]
        if col[u] == col[ends[0]]:
            for i in range(len(ends)):
                if ends[i] == u:
                    final = d + end_extra[i]
                    if final < best or (final == best and i < best_i):
                        best, best_i = final, i
        for a in range(arc_ptr[u], arc_ptr[u + 1]):
            v = arc_to[a]
            mv = mark[v] - base
            if mv == _SETTLED:
                continue
            w = arc_weight[a]
            if outside[arc_eid[a]] > 0:
                w = w + penalty * cost[v]
            nd = d + w
            if (
                nd <= limit
                and (mv < 0 or nd < dist[v])
                # the ellipse last (most arcs lead to a state met at a lower cost already); the node
                # marks take the state marks' base: one search, one base
                and _inside(row[v], node_mark, base, xy, ax, ay, bx, by, sum_m)
                and _inside(col[v], node_mark, base, xy, ax, ay, bx, by, sum_m)
            ):
                dist[v] = nd
                pred[v] = u
                mark[v] = base + _INSIDE  # met: its distance is set
                size = _push(hk, hv, size, v, nd + _guess(col[v], xy, bx, by, rate))
    if best_i < 0:
        return np.zeros(0, np.int64)
    chain = [ends[best_i]]
    while chain[-1] != src:
        chain.append(pred[chain[-1]])
    out = np.empty(len(chain), np.int64)
    for i in range(len(chain)):
        out[i] = chain[len(chain) - 1 - i]
    return out


#: A line's grid has at most this many cells a side (its cells grow beyond ``radius`` on longer lines).
_GRID_SIDE = 1024


@njit(cache=True, nogil=True)
def line_grid(x, y, radius):  # pragma: no cover - compiled
    """Return a grid of the points for :func:`alongside`: ``(geometry, start, order)``.

    ``geometry`` is (x0, y0, cell, columns, rows) as floats; the points of cell (cx, cy) are
    ``order[start[k]:start[k + 1]]`` with ``k = cx * rows + cy``, so the three cells cy - 1 .. cy + 1 of
    a column are one range. Cells are ``radius`` wide (wider on a line longer than
    :data:`_GRID_SIDE` cells), so every point within ``radius`` of a point is in its 3 x 3 cells.
    """
    n = len(x)
    if n == 0:
        return np.zeros(5), np.zeros(2, np.int64), np.zeros(0, np.int64)
    x0, y0 = x.min(), y.min()
    cell = max(radius, max(x.max() - x0, y.max() - y0) / (_GRID_SIDE - 1))
    cols = np.int64((x.max() - x0) // cell) + 1
    rows = np.int64((y.max() - y0) // cell) + 1
    k = np.empty(n, np.int64)
    for i in range(n):
        k[i] = np.int64((x[i] - x0) // cell) * rows + np.int64((y[i] - y0) // cell)
    start = np.zeros(cols * rows + 1, np.int64)
    for i in range(n):
        start[k[i] + 1] += 1
    for c in range(cols * rows):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        order[fill[k[i]]] = i
        fill[k[i]] += 1
    geometry = np.array([x0, y0, cell, float(cols), float(rows)])
    return geometry, start, order


@njit(cache=True, nogil=True, inline="always")
def _near_earlier(sj, xj, yj, uxj, uyj, line, grid, r2, gap, min_cos):  # pragma: no cover - compiled
    """Return whether a point of a gridded line lies within ``r2`` squared metres of (xj, yj), more than
    ``gap`` before ``sj`` along the route and along the same line (|cos| >= min_cos)."""
    s, x, y, ux, uy = line
    geometry, start, order = grid
    if len(s) == 0:
        return False
    x0, y0, cell = geometry[0], geometry[1], geometry[2]
    cols, rows = np.int64(geometry[3]), np.int64(geometry[4])
    cx = np.int64(math.floor((xj - x0) / cell))
    cy = np.int64(math.floor((yj - y0) / cell))
    lo_y, hi_y = max(cy - 1, 0), min(cy + 1, rows - 1)
    if lo_y > hi_y:
        return False
    for c in range(max(cx - 1, 0), min(cx + 1, cols - 1) + 1):
        for t in range(start[c * rows + lo_y], start[c * rows + hi_y + 1]):
            i = order[t]
            if not sj - s[i] > gap:
                continue
            ddx = x[i] - xj
            ddy = y[i] - yj
            if ddx * ddx + ddy * ddy <= r2 and abs(ux[i] * uxj + uy[i] * uyj) >= min_cos:
                return True
    return False


@njit(cache=True, nogil=True)
def alongside(before, before_grid, line, radius, gap, min_cos):  # pragma: no cover - compiled
    """Return, per sample of ``line``, whether it runs alongside an earlier sample of ``line`` or of
    ``before`` (the route so far).

    ``before`` and ``line`` are (s, x, y, ux, uy): positions along the route, points, unit directions;
    ``before_grid`` is :func:`line_grid` of ``before``, kept by the caller for the many lines measured
    after one route. Sample j is flagged when a sample i lies within ``radius`` of it (distance <=
    radius), ``s[j] - s[i] > gap`` (it was passed that much earlier) and their directions are within
    ``|cos| >= min_cos`` (parallel or opposite). Each sample looks at the 3 x 3 grid cells around it.
    """
    s, x, y, ux, uy = line
    grid = line_grid(x, y, radius)
    r2 = radius * radius
    flags = np.zeros(len(s), np.bool_)
    for j in range(len(s)):
        sj, xj, yj, uxj, uyj = s[j], x[j], y[j], ux[j], uy[j]
        flags[j] = _near_earlier(sj, xj, yj, uxj, uyj, before, before_grid, r2, gap, min_cos) or (
            _near_earlier(sj, xj, yj, uxj, uyj, line, grid, r2, gap, min_cos)
        )
    return flags


@njit(cache=True, nogil=True)
def edge_lookup(indptr, indices, tail, head):  # pragma: no cover - compiled
    """Return the CSR position of each edge tail -> head (the first of equal entries: a row's columns are
    sorted), or -1 where there is none."""
    out = np.empty(len(tail), np.int64)
    for e in range(len(tail)):
        u, v = tail[e], head[e]
        out[e] = -1
        for k in range(indptr[u], indptr[u + 1]):
            if indices[k] == v:
                out[e] = k
                break
    return out


@njit(cache=True, nogil=True, inline="always")
def _block_sum(a, lo, n):  # pragma: no cover - compiled
    # a run of at most 128 as numpy's ``pairwise_sum`` (numpy/_core/src/umath/loops_utils.h) sums it
    if n < 8:
        res = -0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True, nogil=True)
def np_sum(a):  # pragma: no cover - compiled
    """Return ``a.sum()`` for a 1-D float array, to the last bit as numpy sums it: from 0, pairwise
    (runs longer than 128 halved at a multiple of 8, each half summed so, the halves added).

    The halving runs on a stack of its own (numba's cache cannot hold a recursive function).
    """
    lo_s = np.empty(64, np.int64)
    n_s = np.empty(64, np.int64)
    stage = np.empty(64, np.int64)  # 0: nothing summed yet, 1: left half summed (in ``left``)
    left = np.empty(64)
    top = 1
    lo_s[0], n_s[0], stage[0] = 0, len(a), 0
    val = 0.0
    while top > 0:
        f = top - 1
        n = n_s[f]
        if n > 128 and stage[f] == 0:  # split: the left half first
            half = n // 2
            half -= half % 8
            lo_s[top], n_s[top], stage[top] = lo_s[f], half, 0
            top += 1
            continue
        val = _block_sum(a, lo_s[f], n)  # a run of at most 128 (a frame waiting for its right half is
        # never on top: the loop below completes it)
        top -= 1
        # hand the value up: a left half waits for its right half; a right half completes its parent
        while top > 0:
            p = top - 1
            if stage[p] == 0:
                left[p] = val
                stage[p] = 1
                half = n_s[p] // 2
                half -= half % 8
                lo_s[top], n_s[top], stage[top] = lo_s[p] + half, n_s[p] - half, 0
                top += 1
                break
            val = left[p] + val
            top -= 1
    return 0.0 + val


@njit(cache=True, nogil=True)
def path_figures(indptr, indices, length, cost, eid, used_count, path, seen, gen):  # pragma: no cover
    """Return a node path's CSR positions (-1 for a missing edge), metres, repeated metres and cost.

    A traversal is repeated when its street (``eid``) has ``used_count`` > 0 or came earlier in the path
    (:func:`routemap.route.objective.repeated_m`); ``used_count`` empty: nothing before. The sums are
    numpy's (:func:`np_sum`), so the figures are those of the numpy code. ``seen``/``gen`` are per-street
    marks and their next base (:func:`_next_base`, :func:`scratch`'s way: nothing is cleared between calls).
    """
    n = len(path) - 1
    pos = edge_lookup(indptr, indices, path[:-1], path[1:])
    lengths = np.empty(n)
    costs = np.empty(n)
    again = np.empty(n)
    base = _next_base(gen)
    r = 0
    for e in range(n):
        k = pos[e]
        if k < 0:
            return pos, 0.0, 0.0, 0.0
        lengths[e] = length[k]
        costs[e] = cost[k]
        s = eid[k]
        if seen[s] == base or (len(used_count) > 0 and used_count[s] > 0):
            again[r] = length[k]
            r += 1
        seen[s] = base
    return pos, np_sum(lengths), np_sum(again[:r]), np_sum(costs)


@njit(cache=True, nogil=True)
def band_endings(base, fwd_metres, rev_metres, fwd_cost, rev_cost, lo, hi, above):  # pragma: no cover
    """Return the nodes v (ascending) reached by both trees whose route ``base + fwd_metres[v] +
    rev_metres[v]`` lies in [lo, hi] (``above``: in (lo, hi]), and those totals.

    The arithmetic is the numpy expression's, so the endings are the same.
    """
    n = len(fwd_metres)
    v = np.empty(n, np.int64)
    total = np.empty(n)
    k = 0
    for i in range(n):
        if not (np.isfinite(fwd_cost[i]) and np.isfinite(rev_cost[i])):
            continue
        t = base + fwd_metres[i] + rev_metres[i]
        if (t > lo if above else t >= lo) and t <= hi:
            v[k] = i
            total[k] = t
            k += 1
    return v[:k].copy(), total[:k].copy()


@njit(cache=True, nogil=True)
def spike_walk(fwd_pred, rev_pred, fwd_metres, v, depth):  # pragma: no cover - compiled
    """Return, per node of ``v``, the metres by which the way in (``fwd_pred``) and the way out
    (``rev_pred``) coincide, up to ``depth`` edges back: :func:`routemap.route.target.spike_metres`."""
    out = np.zeros(len(v))
    for i in range(len(v)):
        x = v[i]
        for _ in range(depth):
            px = fwd_pred[x]
            if px != rev_pred[x] or px < 0:
                break
            out[i] += fwd_metres[x] - fwd_metres[px]  # the tree edge px -> x
            x = px
    return out


@njit(cache=True, nogil=True)
def tree_walk(pred, root, v):  # pragma: no cover - compiled
    """Return the nodes from v along ``pred`` to ``root`` (v first), or an empty array when the walk
    meets a node with no parent before the root."""
    n = 1
    u = v
    while u != root:
        u = pred[u]
        if u < 0:
            return np.zeros(0, np.int64)
        n += 1
    out = np.empty(n, np.int64)
    u = v
    for i in range(n):
        out[i] = u
        u = pred[u] if i < n - 1 else u
    return out


@njit(cache=True, nogil=True)
def sample_line(x, y, spacing, offset):  # pragma: no cover - compiled
    """Return the samples of a polyline every ``spacing`` metres: positions, points, unit directions
    and the line's total length, for :meth:`routemap.route.overlap.Samples.of` (which documents it).
    An empty ``s`` with total -1: the line has no length.

    The arithmetic is numpy's (``np.arange`` positions, ``np.interp`` points), in loops.
    """
    # drop repeated points (a segment of no length has no direction)
    px = np.empty(len(x))
    py = np.empty(len(y))
    m = 0
    for i in range(len(x)):
        if i == 0 or math.hypot(x[i] - x[i - 1], y[i] - y[i - 1]) > 1e-9:
            px[m] = x[i]
            py[m] = y[i]
            m += 1
    empty = np.zeros(0)
    if m < 2:
        return empty, empty, empty, empty, empty, -1.0
    d = np.empty(m)  # position of each point along the line
    d[0] = 0.0
    acc = 0.0
    for i in range(1, m):
        acc += math.hypot(px[i] - px[i - 1], py[i] - py[i - 1])
        d[i] = acc
    for i in range(m):
        d[i] += offset
    first = spacing / 2 + math.ceil(max(offset - spacing / 2, 0.0) / spacing) * spacing
    count = max(int(math.ceil((d[m - 1] - first) / spacing)), 0)
    s = np.empty(count)
    sx = np.empty(count)
    sy = np.empty(count)
    ux = np.empty(count)
    uy = np.empty(count)
    j = 0
    k = 0
    for i in range(count):
        si = first + i * spacing
        if offset > 0 and si < offset:
            continue
        while j < m - 2 and d[j + 1] <= si:
            j += 1
        dx = px[j + 1] - px[j]
        dy = py[j + 1] - py[j]
        if si == d[j]:
            sx[k], sy[k] = px[j], py[j]
        else:
            sx[k] = dx / (d[j + 1] - d[j]) * (si - d[j]) + px[j]
            sy[k] = dy / (d[j + 1] - d[j]) * (si - d[j]) + py[j]
        seg = math.hypot(dx, dy)
        s[k] = si
        ux[k] = dx / seg
        uy[k] = dy / seg
        k += 1
    return s[:k], sx[:k], sy[:k], ux[:k], uy[:k], d[m - 1]


@njit(cache=True, nogil=True)
def count_turns(name_id, b_in, b_out, pos, length, straight_deg, bend_deg, jog_m):  # pragma: no cover
    """Return :func:`routemap.route.turns.path_turns` of the path whose edges are at ``pos``."""
    count = 0
    net = 0.0
    named = False
    last_m = -np.inf
    cum = 0.0
    for k in range(len(pos) - 1):
        e = pos[k]
        f = pos[k + 1]
        cum += length[e]  # the position of the node between e and f
        delta = (b_out[f] - b_in[e] + 180.0) % 360.0 - 180.0
        renamed = name_id[e] != name_id[f]
        if not (abs(delta) > straight_deg and (renamed or abs(delta) > bend_deg)):
            continue
        if cum - last_m < jog_m:
            net += delta
            named |= renamed
        else:
            count += int(_is_turn(net, named, straight_deg, bend_deg))
            net = delta
            named = renamed
        last_m = cum
    return count + int(_is_turn(net, named, straight_deg, bend_deg))


@njit(cache=True, nogil=True, inline="always")
def _is_turn(delta, renamed, straight_deg, bend_deg):  # pragma: no cover - compiled
    """Return whether a heading change of ``delta`` degrees is a turn: more than ``bend_deg``, or more than
    ``straight_deg`` onto a street of another name (:func:`routemap.route.turns._turn_flags`, one pair)."""
    a = abs((delta + 180.0) % 360.0 - 180.0)
    return a > bend_deg or (renamed and a > straight_deg)


@njit(cache=True, nogil=True)
def reach_mask(ux, uy, centres, radii, before, budget):  # pragma: no cover - compiled
    """Return, per node, whether its shortest straight chain through the stops is within ``budget``:
    :func:`routemap.route.compile.reach_region`'s test (which documents it), with its arithmetic.

    A node farther than ``budget`` from every stop's disc (its bounding box first) is left out at once,
    so a county graph costs a comparison per node outside the region.
    """
    n = len(ux)
    k = len(centres)
    keep = np.zeros(n, np.bool_)
    x0 = (centres[:, 0] - radii).min() - budget
    x1 = (centres[:, 0] + radii).max() + budget
    y0 = (centres[:, 1] - radii).min() - budget
    y1 = (centres[:, 1] + radii).max() + budget
    total = before[k - 1]
    for v in range(n):
        x, y = ux[v], uy[v]
        if x < x0 or x > x1 or y < y0 or y > y1:
            continue
        best = np.inf
        d1 = max(math.hypot(x - centres[0, 0], y - centres[0, 1]) - radii[0], 0.0)
        for i in range(k - 1):
            d0 = d1
            d1 = max(math.hypot(x - centres[i + 1, 0], y - centres[i + 1, 1]) - radii[i + 1], 0.0)
            best = min(best, before[i] + d0 + d1 + (total - before[i + 1]))
        keep[v] = best <= budget
    return keep


@njit(cache=True, nogil=True)
def region_entries(indptr, indices, nodes, n):  # pragma: no cover - compiled
    """Return the CSR positions of the entries between the (sorted) ``nodes`` of an n-node graph, and
    their rows and columns numbered by place in ``nodes``; positions come in CSR order."""
    label = np.full(n, -1, np.int64)
    for i in range(len(nodes)):
        label[nodes[i]] = i
    count = 0
    for i in range(len(nodes)):
        v = nodes[i]
        for k in range(indptr[v], indptr[v + 1]):
            if label[indices[k]] >= 0:
                count += 1
    pos = np.empty(count, np.int64)
    row = np.empty(count, np.int64)
    col = np.empty(count, np.int64)
    c = 0
    for i in range(len(nodes)):
        v = nodes[i]
        for k in range(indptr[v], indptr[v + 1]):
            j = label[indices[k]]
            if j >= 0:
                pos[c] = k
                row[c] = i
                col[c] = j
                c += 1
    return pos, row, col


@njit(cache=True, nogil=True)
def edge_graph(indptr, row, col, name_id, b_in, b_out, bend_deg, straight_deg):  # pragma: no cover
    """Return the arcs of the edge graph of a CSR graph: per pair of entries e (u -> v), f (v -> w)
    with w != u (no U-turns), in the order of e then f: ``(arc_ptr, arc_from, arc_to, arc_turn)``.

    ``arc_turn`` is :func:`_is_turn` of the pair (:func:`routemap.route.turns._turn_flags`' arithmetic).
    """
    m = len(row)
    count = 0
    for e in range(m):
        v = col[e]
        for f in range(indptr[v], indptr[v + 1]):
            if col[f] != row[e]:
                count += 1
    arc_ptr = np.zeros(m + 1, np.int64)
    arc_from = np.empty(count, np.int64)
    arc_to = np.empty(count, np.int64)
    arc_turn = np.empty(count, np.bool_)
    a = 0
    for e in range(m):
        v = col[e]
        for f in range(indptr[v], indptr[v + 1]):
            if col[f] == row[e]:
                continue
            arc_from[a] = e
            arc_to[a] = f
            arc_turn[a] = _is_turn(b_out[f] - b_in[e], name_id[e] != name_id[f], straight_deg, bend_deg)
            a += 1
        arc_ptr[e + 1] = a
    return arc_ptr, arc_from, arc_to, arc_turn
