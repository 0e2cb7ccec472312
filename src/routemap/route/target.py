"""Length search: a node path through fixed stops whose length is within a tolerance of a target.

Per leg a -> b with a leg target T: a via node w (geometric candidates on an ellipse with foci a and b,
snapped to nodes), routed a -> w, then an exact final adjustment: among all nodes v, from one forward tree
from w and one reverse tree towards b (both penalizing edges already used, so the way back avoids them),
pick v so that len(a->w) + len(w->v) + len(v->b) lies within the band around T, with the least repeated
length (then the lowest profile cost). The leg with the extra length is tried in several placements; the
best whole route wins (least repeated, then closest to target, then cost).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from routemap.route.compile import (
    CompiledGraph,
    Tree,
    path_metres,
    search_limit,
    shortest_tree,
    tree_reaching,
)
from routemap.route.overlap import doubled_back_m

#: Cost multiplier of an edge already on the route (either direction) when planning what follows.
USED_PENALTY = 5.0
#: How many of the best-looking final nodes v per via candidate are checked exactly.
TOP_K = 10
#: A leg whose metres run twice (same edges or alongside) are at most this share of it ends the search.
GOOD_OVERLAP_SHARE = 0.005


@dataclass
class Candidate:
    """A path (node indices) and what it measures."""

    path: list[int]
    metres: float
    repeated_m: float
    cost: float
    doubled_m: float = 0.0

    @property
    def overlap_m(self) -> float:
        """Return the metres run twice: on the same edges, or alongside (a sidewalk, a parallel way)."""
        return max(self.repeated_m, self.doubled_m)

    def key(self, target: float) -> tuple[float, float, float]:
        """Return the ranking key: metres run twice (to 10 m), distance to target, cost."""
        return (round(self.overlap_m, -1), round(abs(self.metres - target), 1), self.cost)


def path_doubled_m(cg: CompiledGraph, path: list[int], prior: list[int] | None = None) -> float:
    """Return the metres of ``path`` that run alongside itself or ``prior`` (the route before it)."""
    nodes = np.asarray((list(prior[:-1]) if prior else []) + list(path), np.int64)
    from_m = 0.0
    if prior and len(prior) > 1:
        p = np.asarray(prior, np.int64)
        from_m = float(np.hypot(np.diff(cg.ux[p]), np.diff(cg.uy[p])).sum())
    return doubled_back_m(cg.ux[nodes], cg.uy[nodes], from_m=from_m)


def path_edges(cg: CompiledGraph, path: list[int]) -> np.ndarray:
    """Return the CSR positions of the edges along ``path``."""
    p = np.asarray(path, np.int64)
    return cg.edge_pos(p[:-1], p[1:])


def _measure(
    cg: CompiledGraph, path: list[int], used_count: np.ndarray, prior: list[int] | None = None
) -> Candidate:
    pos = path_edges(cg, path)
    eids = cg.eid[pos]
    lengths = cg.length[pos]
    # a traversal is repeated when its street was used before (earlier legs or earlier in this path)
    order = np.argsort(eids, kind="stable")
    se = eids[order]
    seen_here = np.zeros(len(se), bool)
    seen_here[1:] = se[1:] == se[:-1]
    before = np.empty(len(eids), bool)
    before[order] = seen_here
    repeated = (used_count[eids] > 0) | before
    return Candidate(
        list(path),
        float(lengths.sum()),
        float(lengths[repeated].sum()),
        float(cg.cost.data[pos].sum()),
        path_doubled_m(cg, path, prior),
    )


def _via_points(
    cg: CompiledGraph, a: int, b: int, leg_target: float, detour: float, thorough: bool = False
) -> list[int]:
    """Return node indices near points of ellipses with foci a and b (on both sides of the a-b line)."""
    ax, ay, bx, by = cg.ux[a], cg.uy[a], cg.ux[b], cg.uy[b]
    cx, cy = (ax + bx) / 2, (ay + by) / 2
    f = np.hypot(bx - ax, by - ay) / 2
    if f > 1e-6:
        ux_, uy_ = (bx - ax) / (2 * f), (by - ay) / (2 * f)
    else:
        ux_, uy_ = 1.0, 0.0
    nx_, ny_ = -uy_, ux_
    points = []
    for share in (0.5, 0.7, 0.85) if thorough else (0.7,):
        semi = leg_target * share / detour / 2
        if semi <= f * 1.02:
            continue
        minor = np.sqrt(semi**2 - f**2)
        angles = np.deg2rad(np.arange(0, 360, 30 if f > 1e-6 else 45))
        for t in angles:
            if f > 1e-6 and (np.isclose(np.sin(t), 0)):
                continue  # on the a-b axis: behind a or beyond b, rarely a good loop
            points.append(
                (
                    cx + semi * np.cos(t) * ux_ + minor * np.sin(t) * nx_,
                    cy + semi * np.cos(t) * uy_ + minor * np.sin(t) * ny_,
                )
            )
    if not points:
        return []
    idx = _nearest_through(cg, np.array(points))
    return list(dict.fromkeys(int(i) for i in idx if int(i) not in (a, b)))


def _nearest_through(cg: CompiledGraph, points: np.ndarray) -> np.ndarray:
    """Return the nearest through node (not a dead end: no way back but the way in) to each point."""
    hit = cg.cache.get("_kdtree_through")
    if hit is None:
        through = np.nonzero(cg.through)[0]
        if len(through) == 0:
            through = np.arange(cg.n)
        hit = cg.cache["_kdtree_through"] = (
            cKDTree(np.column_stack([cg.ux[through], cg.uy[through]])),
            through,
        )
    tree, through = hit
    _, idx = tree.query(np.atleast_2d(points))
    return through[np.atleast_1d(idx)]


def _spike_metres(cg: CompiledGraph, fwd: Tree, rev: Tree, v: np.ndarray, depth: int = 12) -> np.ndarray:
    """Return the metres by which the way into each v and the way out of it coincide (a spike).

    Walks back from v along both trees while the forward parent equals the next hop back (a U-turn at v
    that goes on for several edges), up to ``depth`` edges.
    """
    out = np.zeros(len(v))
    x = v.copy()
    y = v.copy()
    active = np.ones(len(v), bool)
    for _ in range(depth):
        px, py = fwd.pred[x], rev.pred[y]
        active &= (px == py) & (px >= 0)
        if not active.any():
            break
        i = np.nonzero(active)[0]
        out[i] += cg.length[cg.edge_pos(px[i], x[i])]
        x = np.where(active, px, x)
        y = np.where(active, py, y)
    return out


def _finish(
    cg: CompiledGraph,
    prefix: list[int],
    prefix_m: float,
    fwd: Tree,
    rev: Tree,
    lo: float,
    hi: float,
    used_count: np.ndarray,
    goal: float,
    top_k: int = TOP_K,
    prior: list[int] | None = None,
) -> list[Candidate]:
    """Return the best exact candidates prefix + (p -> v) + (v -> b) with length in [lo, hi]."""
    total = prefix_m + fwd.metres + rev.metres
    ok = np.isfinite(fwd.cost) & np.isfinite(rev.cost) & (total >= lo) & (total <= hi)
    v = np.nonzero(ok)[0]
    if len(v) == 0:
        return []
    proxy = fwd.repeat[v] + rev.repeat[v] + _spike_metres(cg, fwd, rev, v)
    cost = fwd.cost[v] + rev.cost[v]
    order = np.lexsort((v, cost, np.round(proxy, -1)))
    out = []
    for i in v[order[:top_k]]:
        path = prefix[:-1] + fwd.path(int(i))[:-1] + rev.path(int(i))
        out.append(_measure(cg, path, used_count, prior))
    out.sort(key=lambda c: c.key(goal))
    return out


def plan_leg(
    cg: CompiledGraph,
    a: int,
    b: int,
    leg_target: float | None,
    band: float,
    used_count: np.ndarray,
    thorough: bool = False,
    prior: list[int] | None = None,
) -> Candidate | None:
    """Return the best path a -> b of length ``leg_target`` +- ``band`` (None: the penalized best path).

    Edges in ``used_count`` (> 0) cost :data:`USED_PENALTY` times more and count as repeated.
    ``thorough`` tries more via points and checks more final nodes. ``prior`` is the route before this
    leg: running alongside it counts against a candidate like running on its edges.
    """
    top_k = TOP_K * 3 if thorough else TOP_K
    used = used_count > 0
    if leg_target is None:  # [issue 16] the path to b only: a search that stops once it gets there
        fwd_a = tree_reaching(cg, a, b, used=used, factor=USED_PENALTY)
    else:  # [issue 16] searches stop where no place within the leg's length lies (compile.search_limit)
        reach = search_limit(leg_target + band)
        fwd_a = shortest_tree(cg, a, used=used, factor=USED_PENALTY, limit=reach)
    if leg_target is None:
        if a == b:
            return Candidate([a], 0.0, 0.0, 0.0)
        return _measure(cg, fwd_a.path(b), used_count, prior)
    rev_b = shortest_tree(cg, b, reverse=True, used=used, factor=USED_PENALTY, limit=reach)
    lo, hi = leg_target - band, leg_target + band
    good_enough = GOOD_OVERLAP_SHARE * leg_target
    best = _finish(cg, [a], 0.0, fwd_a, rev_b, lo, hi, used_count, leg_target, top_k, prior)[:1]
    if best and best[0].overlap_m <= good_enough:
        return best[0]
    if a != b and np.isfinite(fwd_a.metres[b]):
        detour = max(1.1, fwd_a.metres[b] / max(np.hypot(cg.ux[b] - cg.ux[a], cg.uy[b] - cg.uy[a]), 1.0))
    else:
        detour = 1.3
    detour = min(detour, 1.6)
    for w in _via_points(cg, a, b, leg_target, detour, thorough):
        if not np.isfinite(fwd_a.cost[w]):
            continue
        head = fwd_a.path(w)
        head_pos = path_edges(cg, head)
        count = used_count.copy()
        np.add.at(count, cg.eid[head_pos], 1)
        if fwd_a.metres[w] >= hi:
            continue
        used_w = count > 0
        head_m = float(fwd_a.metres[w])
        reach_w = search_limit(hi - head_m)  # [issue 16] bounded like fwd_a
        fwd_w = shortest_tree(cg, w, used=used_w, factor=USED_PENALTY, limit=reach_w)
        rev_bw = shortest_tree(cg, b, reverse=True, used=used_w, factor=USED_PENALTY, limit=reach_w)
        found = _finish(cg, head, head_m, fwd_w, rev_bw, lo, hi, used_count, leg_target, top_k, prior)
        best.extend(found[:1])
        if found and found[0].overlap_m <= good_enough:
            break
    if not best:
        return None
    best.sort(key=lambda c: c.key(leg_target))
    return best[0]


def plan_target(
    cg: CompiledGraph,
    stops: list[int],
    base_m: list[float],
    target_m: float,
    tolerance: float,
    thorough: bool = False,
) -> list[tuple[list[int], list[int]]]:
    """Return candidate routes (path, index of each stop in the path) of about ``target_m`` metres.

    Parameters
    ----------
    stops : list of int
        Node index of each stop, in order (at least two).
    base_m : list of float
        Length of each leg's cost-optimal path.
    """
    legs = len(stops) - 1
    extra = max(target_m - sum(base_m), 0.0)
    shares: list[np.ndarray] = []
    base = np.asarray(base_m, float)
    if base.sum() > 0:
        shares.append(base / base.sum())
    shares.append(np.full(legs, 1.0 / legs))
    for i in np.argsort(-base, kind="stable")[: min(legs, 3)]:
        one = np.zeros(legs)
        one[i] = 1.0
        shares.append(one)
    seen = set()
    band = tolerance * target_m / 2
    results: list[tuple[tuple, list[int], list[int]]] = []
    for share in shares:
        sig = tuple(np.round(share, 6))
        if sig in seen:
            continue
        seen.add(sig)
        got = _plan_with_shares(cg, stops, base, extra * share, target_m, band, thorough)
        if got is not None:
            results.append(got)
            if got[0][0] <= GOOD_OVERLAP_SHARE * target_m:
                break  # (almost) nothing run twice: no other placement can do much better
    results.sort(key=lambda r: r[0])
    return [(path, idx) for _, path, idx in results]


def _plan_with_shares(cg, stops, base, extras, target_m, band, thorough):
    used_count = np.zeros(int(cg.eid.max()) + 1, np.int64)
    path = [stops[0]]
    stop_idx = [0]
    done_m = 0.0
    cost = 0.0
    legs = len(stops) - 1
    for i in range(legs):
        a, b = stops[i], stops[i + 1]
        if i == legs - 1:
            goal, leg_band = target_m - done_m, band
        elif extras[i] > 1.0:
            goal, leg_band = base[i] + extras[i], max(band, 0.05 * extras[i])
        else:
            goal, leg_band = None, band
        if goal is not None and goal <= 0:
            return None
        leg = plan_leg(cg, a, b, goal, leg_band, used_count, thorough, prior=path)
        if leg is None:
            return None
        if len(leg.path) > 1:
            np.add.at(used_count, cg.eid[path_edges(cg, leg.path)], 1)
        path.extend(leg.path[1:])
        stop_idx.append(len(path) - 1)
        done_m += leg.metres
        cost += leg.cost
    pos = path_edges(cg, path)
    lengths = cg.length[pos]
    _, first = np.unique(cg.eid[pos], return_index=True)
    repeated = float(lengths.sum() - lengths[first].sum())
    overlap = max(repeated, path_doubled_m(cg, path))
    key = (round(overlap, -1), round(abs(done_m - target_m), 1), cost)
    return key, path, stop_idx


def _split_point(cg: CompiledGraph, a: int, b: int, leg_goal: float, side: float) -> int | None:
    """Return a node off to one side of a -> b, so that a -> m -> b spans about half of ``leg_goal``."""
    ax, ay, bx, by = cg.ux[a], cg.uy[a], cg.ux[b], cg.uy[b]
    f = np.hypot(bx - ax, by - ay) / 2
    semi = leg_goal * 0.5 / 1.3 / 2
    if semi <= f * 1.02:
        return None
    ux_, uy_ = ((bx - ax) / (2 * f), (by - ay) / (2 * f)) if f > 1e-6 else (1.0, 0.0)
    minor = np.sqrt(semi**2 - f**2)
    px = (ax + bx) / 2 - side * minor * uy_
    py = (ay + by) / 2 + side * minor * ux_
    idx = int(_nearest_through(cg, np.array([[px, py]]))[0])
    return None if idx in (a, b) else idx


def plan_with_splits(
    cg: CompiledGraph,
    stops: list[int],
    target_m: float,
    tolerance: float,
    max_repeated_share: float,
    thorough: bool = False,
    max_depth: int = 2,
) -> list[tuple[list[int], list[int]]]:
    """Return candidate routes like :func:`plan_target`; when none meets the limits, split long legs.

    A leg too long for one loop gets a via stop off to one side (then each half gets its own loop),
    up to ``max_depth`` times.
    """
    results: list[tuple[list[int], list[int]]] = []
    frontier = [(list(stops), list(range(len(stops))))]
    for depth in range(max_depth + 1):
        next_frontier = []
        for nodes, real in frontier:
            base = [path_metres(cg, a, b) for a, b in zip(nodes[:-1], nodes[1:])]  # [issue 16] bounded
            for path, idx in plan_target(cg, nodes, base, target_m, tolerance, thorough):
                results.append((path, [idx[i] for i in real]))
                if _meets(cg, path, target_m, tolerance, max_repeated_share):
                    return [results[-1]]
            if depth == max_depth:
                continue
            extra = max(target_m - sum(base), 0.0)
            total = sum(base)
            for side in (1.0, -1.0):
                split, pos_of = [nodes[0]], [0]
                for i, (a, b) in enumerate(zip(nodes[:-1], nodes[1:])):
                    share = base[i] / total if total > 0 else 1.0 / len(base)
                    m = _split_point(cg, a, b, base[i] + extra * share, side)
                    if m is not None:
                        split.append(m)
                    split.append(b)
                    pos_of.append(len(split) - 1)
                if len(split) > len(nodes):
                    next_frontier.append((split, [pos_of[r] for r in real]))
        frontier = next_frontier
        if not frontier:
            break
    return results


def _meets(cg, path, target_m, tolerance, max_repeated_share) -> bool:
    pos = path_edges(cg, path)
    lengths = cg.length[pos]
    total = float(lengths.sum())
    _, first = np.unique(cg.eid[pos], return_index=True)
    repeated = float(lengths.sum() - lengths[first].sum())
    return abs(total - target_m) <= tolerance * target_m and repeated <= max_repeated_share * total
