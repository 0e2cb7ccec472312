"""Length search: a node path through fixed stops whose length is within a tolerance of a target.

The general search has five levels; each returns candidates ranked by the one objective
(:mod:`routemap.route.objective`), and each stops early once a candidate runs (almost) nothing twice:

1. :func:`routemap.route.plan._search` (in ``plan.py``) decides the *attempt*: a quick search, a
   thorough one, then one on the ``shortest`` profile (whose streets reach targets near the minimum the
   profile's preferred streets cannot). It stops at the first route that meets the limits
   (:func:`~routemap.route.objective.meets_limits`), else reports the best failure.
2. :func:`plan_with_splits` decides the *stops*: the given ones, then (when no route meets the limits)
   each leg split by a via stop off to one side, left then right, up to ``max_depth`` times. It stops
   at the first route that meets the limits.
3. :func:`plan_target` decides *where the extra length goes*: in proportion to the legs' shortest
   lengths, evenly, or all on one of the :data:`MAX_SINGLE_LEG_PLACEMENTS` longest legs. It stops when a
   placement runs at most :data:`GOOD_OVERLAP_SHARE` of the target twice.
4. :func:`plan_legs` walks the legs in order with one placement, each leg avoiding the streets of the
   legs before it (they cost :data:`USED_PENALTY` times more); the last leg takes what is left of the
   target. It gives up when a leg cannot be planned.
5. :func:`plan_leg` decides one leg a -> b of a leg target: first the exact finish from a itself, then
   via nodes w on ellipses with foci a and b (:func:`via_points`), each followed by the exact finish.
   It stops at the first via node whose best ending runs at most :data:`GOOD_OVERLAP_SHARE` twice, or
   no more than the leg's own best path does (after the route before it; a dead-end stop makes every
   ending run its spur twice): the stops ask for that much.

A route that ends where it starts (one stop and a target: a loop; A -> B -> A) is first *grown*
(:func:`plan_closed`; the way out of an out-and-back with one stop likewise, :func:`plan_out`):

a. Seeds: petals (the start and two via points on a circle through it, :func:`petal_points`) in four
   directions, or the stops joined leg by leg (:func:`seed_route`), at about :data:`LOOP_SEED_SHARE`
   of the target. The :data:`LOOP_SEEDS_GROWN` seeds running least twice are grown; the search stops
   at the first grown route running at most :data:`LOOP_GOOD_OVERLAP_SHARE` of the target twice.
b. :func:`grow_route` repeats steps: cut the route into :data:`LOOP_GROW_PIECES` stretches (and at
   every stop), find for each stretch the longer ways round that avoid the rest of the route and what
   runs alongside it (:func:`near_edges`), and take the one running least twice with the largest gain
   that does not pass the target. It stops in the band, when nothing lengthens the route, or when the
   recent gains cannot reach the target in the steps left (a network too small: refused quickly).

``plan.py`` returns a grown route that meets the limits; otherwise only its quick attempt follows.

The exact finish (:func:`finish`): from one forward tree out of w and one reverse tree into b (both
penalizing edges already used, so the way back avoids them), every node v whose
``len(a->w) + len(w->v) + len(v->b)`` lies in the band is a possible ending; the objective's screen
orders them by estimated overlap and cost, and the first :data:`TOP_K` are measured exactly.
"""

from __future__ import annotations

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
from routemap.route.objective import (
    DEFAULT_OBJECTIVE,
    Candidate,
    Objective,
    cannot_beat,
    measure,
    measure_better,
    meets_limits,
    overlap_floor,
    path_doubled_m,
    path_edges,
)

__all__ = [
    "Candidate",
    "finish",
    "path_doubled_m",
    "path_edges",
    "plan_leg",
    "plan_legs",
    "plan_target",
    "plan_with_splits",
    "via_points",
]

#: Cost multiplier of an edge already on the route (either direction) when planning what follows: high
#: enough that a detour of a few blocks beats running a street again, low enough that a bridge or the
#: only street out of a dead-end area stays usable.
USED_PENALTY = 5.0
#: How many of the best-looking final nodes v per via candidate are measured exactly (doubled-back
#: metres need the geometry): the screen's estimate is good, ten covers its misses.
TOP_K = 10
#: A thorough search measures this many times more final nodes.
THOROUGH_TOP_K_FACTOR = 3
#: Running at most this share of a leg (or route) twice is as good as it gets: the search ends there.
GOOD_OVERLAP_SHARE = 0.005
#: Ellipse sizes tried for via nodes, as the share of the leg's length spent reaching the via node and
#: back (0.5: the via node half-way round; 0.85: most of the length in the loop, little for the finish).
VIA_ELLIPSE_SHARES_THOROUGH = (0.5, 0.7, 0.85)
#: The quick search tries the middle size only.
VIA_ELLIPSE_SHARES_QUICK = (0.7,)
#: An ellipse narrower than this (semi-major axis over half the a-b distance) is almost the a-b line
#: itself: its via nodes add no length, so it is skipped.
MIN_SEMI_AXIS_RATIO = 1.02
#: Angle between via points on an ellipse (degrees); with coincident foci (a loop) the circle is
#: sampled more finely, since no direction is favoured.
VIA_ANGLE_STEP_DEG = 30
LOOP_VIA_ANGLE_STEP_DEG = 45
#: Street distance over straight distance assumed between a and b: measured (from the tree) but kept
#: between these bounds (a grid is about 1.27; 1.6 is a river or a freeway between them), or the
#: default when a and b coincide.
DETOUR_MIN = 1.1
DETOUR_DEFAULT = 1.3
DETOUR_MAX = 1.6
#: How far back along both trees a U-turn at v is followed when estimating a spike (edges).
SPIKE_DEPTH = 12
#: The longest legs that each get all the extra length in one placement (more legs: more time, rarely
#: a better route).
MAX_SINGLE_LEG_PLACEMENTS = 3
#: A middle leg's band: the route's band, or this share of its extra length when larger, since any
#: error there is made up by the last leg.
MIDDLE_LEG_BAND_SHARE = 0.05
#: A middle leg with less extra length than this (metres) is just its best path.
MIN_LEG_EXTRA_M = 1.0
#: A split point sits on the ellipse that spends this share of the leg's length reaching it (then each
#: half gets its own loop), assuming :data:`DETOUR_DEFAULT`.
SPLIT_SHARE = 0.5
#: Placements are told apart by their shares rounded to this many decimals.
SHARE_DECIMALS = 6


def _measure(
    cg: CompiledGraph,
    path: list[int],
    used_count: np.ndarray,
    *,
    prior: list[int] | None = None,
    objective: Objective = DEFAULT_OBJECTIVE,
) -> Candidate:
    return measure(cg, path, used_count=used_count, prior=prior, objective=objective)


def via_points(
    cg: CompiledGraph,
    a: int,
    b: int,
    *,
    leg_target: float,
    detour: float,
    thorough: bool = False,
) -> list[int]:
    """Return node indices near points of ellipses with foci a and b (on both sides of the a-b line).

    The ellipses are sized so that a -> w -> b spends a share (:data:`VIA_ELLIPSE_SHARES_THOROUGH`,
    :data:`VIA_ELLIPSE_SHARES_QUICK`) of ``leg_target`` at ``detour`` street metres per straight metre.
    """
    ax, ay, bx, by = cg.ux[a], cg.uy[a], cg.ux[b], cg.uy[b]
    cx, cy = (ax + bx) / 2, (ay + by) / 2
    f = np.hypot(bx - ax, by - ay) / 2
    if f > 1e-6:
        ux_, uy_ = (bx - ax) / (2 * f), (by - ay) / (2 * f)
    else:
        ux_, uy_ = 1.0, 0.0
    nx_, ny_ = -uy_, ux_
    points = []
    for share in VIA_ELLIPSE_SHARES_THOROUGH if thorough else VIA_ELLIPSE_SHARES_QUICK:
        semi = leg_target * share / detour / 2
        if semi <= f * MIN_SEMI_AXIS_RATIO:
            continue
        minor = np.sqrt(semi**2 - f**2)
        step = VIA_ANGLE_STEP_DEG if f > 1e-6 else LOOP_VIA_ANGLE_STEP_DEG
        for t in np.deg2rad(np.arange(0, 360, step)):
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
    idx = nearest_through(cg, np.array(points))
    return list(dict.fromkeys(int(i) for i in idx if int(i) not in (a, b)))


def nearest_through(cg: CompiledGraph, points: np.ndarray) -> np.ndarray:
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


def spike_metres(
    cg: CompiledGraph, fwd: Tree, rev: Tree, v: np.ndarray, *, depth: int = SPIKE_DEPTH
) -> np.ndarray:
    """Return the metres by which the way into each v and the way out of it coincide (a spike).

    Walks back from v along both trees while the forward parent equals the next hop back (a U-turn at v
    that goes on for several edges), up to ``depth`` edges (:func:`routemap.route.kernels.spike_walk`).
    """
    from routemap.route.kernels import spike_walk

    return spike_walk(fwd.pred, rev.pred, fwd.metres, np.asarray(v, np.int64), int(depth))


def finish(
    cg: CompiledGraph,
    prefix: list[int],
    prefix_m: float,
    *,
    fwd: Tree,
    rev: Tree,
    lo: float,
    hi: float,
    used_count: np.ndarray,
    goal: float,
    top_k: int = TOP_K,
    prior: list[int] | None = None,
    objective: Objective = DEFAULT_OBJECTIVE,
    best_only: bool = False,
) -> list[Candidate]:
    """Return the best exact candidates prefix + (p -> v) + (v -> b) with length in [lo, hi], best first.

    ``fwd`` grows from the prefix's last node p, ``rev`` grows towards b; ``prefix_m`` is the prefix's
    length. The endings v are screened by the objective on tree estimates, the first ``top_k`` measured.
    Endings that give the same path as one before them (v on the way from an earlier ending to b) are
    measured once: the list holds each path once. ``best_only``: the first candidate is all the caller
    wants, so an ending whose key cannot beat the best so far is left out unmeasured
    (:func:`~routemap.route.objective.measure_better`); the first is the same.
    """
    from routemap.route.kernels import band_endings

    v, _ = band_endings(prefix_m, fwd.metres, rev.metres, fwd.cost, rev.cost, lo, hi, False)
    if len(v) == 0:
        return []
    proxy = fwd.repeat[v] + rev.repeat[v] + spike_metres(cg, fwd, rev, v)
    order = objective.screen_order(proxy, fwd.cost[v] + rev.cost[v], v)
    out: list[Candidate] = []
    seen: set[tuple[int, ...]] = set()
    bound: tuple[float, ...] | None = None
    for i in v[order[:top_k]]:
        path = prefix[:-1] + fwd.path(int(i))[:-1] + rev.path(int(i))
        # the same path from another ending measures the same: half the endings of a leg repeat one
        sig = tuple(path)
        if sig in seen:
            continue
        seen.add(sig)
        cand = measure_better(
            cg, path, goal=goal, bound=bound, used_count=used_count, prior=prior, objective=objective
        )
        if cand is None:
            continue
        out.append(cand)
        if best_only:  # without it, no bound: every ending is measured
            key = objective.key(cand, goal)
            bound = key if bound is None else min(bound, key)
    out.sort(key=lambda c: objective.key(c, goal))
    return out


def _detour(cg: CompiledGraph, a: int, b: int, tree_a: Tree) -> float:
    """Return the street metres per straight metre between a and b, within the detour bounds."""
    if a != b and np.isfinite(tree_a.metres[b]):
        straight = max(float(np.hypot(cg.ux[b] - cg.ux[a], cg.uy[b] - cg.uy[a])), 1.0)
        detour = max(DETOUR_MIN, float(tree_a.metres[b]) / straight)
    else:
        detour = DETOUR_DEFAULT
    return min(detour, DETOUR_MAX)


def plan_leg(
    cg: CompiledGraph,
    a: int,
    b: int,
    *,
    leg_target: float | None = None,
    band: float = 0.0,
    used_count: np.ndarray,
    thorough: bool = False,
    prior: list[int] | None = None,
    objective: Objective = DEFAULT_OBJECTIVE,
) -> Candidate | None:
    """Return the best path a -> b of length ``leg_target`` +- ``band`` (None: the penalized best path).

    Edges in ``used_count`` (> 0) cost :data:`USED_PENALTY` times more and count as repeated.
    ``thorough`` tries more via points and checks more final nodes. ``prior`` is the route before this
    leg: running alongside it counts against a candidate like running on its edges.
    """
    top_k = TOP_K * THOROUGH_TOP_K_FACTOR if thorough else TOP_K
    used = used_count > 0
    if leg_target is None:  # the path to b only: a search that stops once it gets there
        fwd_a = tree_reaching(cg, a, b, used=used, factor=USED_PENALTY)
    else:  # searches stop where no place within the leg's length lies (compile.search_limit), and
        # stay inside the ellipse of the paths a -> b no longer than the leg may be
        reach = search_limit(leg_target + band)
        leg_ellipse = (a, b, leg_target + band)
        fwd_a = shortest_tree(cg, a, used=used, factor=USED_PENALTY, limit=reach, within=leg_ellipse)
    if leg_target is None:
        if a == b:
            return Candidate([a], 0.0, 0.0, 0.0)
        return _measure(cg, fwd_a.path(b), used_count, prior=prior, objective=objective)
    rev_b = shortest_tree(
        cg, b, reverse=True, used=used, factor=USED_PENALTY, limit=reach, within=leg_ellipse
    )
    lo, hi = leg_target - band, leg_target + band
    good_enough = GOOD_OVERLAP_SHARE * leg_target
    common = dict(lo=lo, hi=hi, used_count=used_count, goal=leg_target, top_k=top_k, prior=prior)
    best = finish(
        cg,
        [a],
        0.0,
        fwd=fwd_a,
        rev=rev_b,
        objective=objective,
        best_only=True,
        **common,  # type: ignore[arg-type]
    )[:1]
    if best and best[0].overlap_m <= good_enough:
        return best[0]
    if best and np.isfinite(fwd_a.cost[b]):
        # what the leg's own best path runs twice (after the route before it) no ending can avoid
        # either, as a rule: an ending that runs no more than that is as good as the via points get
        own = _measure(cg, fwd_a.path(b), used_count, prior=prior, objective=objective)
        good_enough = max(good_enough, own.overlap_m)
        if best[0].overlap_m <= good_enough:
            return best[0]
    detour = _detour(cg, a, b, fwd_a)
    for w in via_points(cg, a, b, leg_target=leg_target, detour=detour, thorough=thorough):
        if not np.isfinite(fwd_a.cost[w]):
            continue
        head = fwd_a.path(w)
        if fwd_a.metres[w] >= hi:
            continue
        if best:
            # every ending through w begins with the head: when the head alone runs more twice than
            # the best so far, none can beat it (nor be good enough: the best is not), so w is not
            # searched; the best leg is the same
            bound = min(objective.key(c, leg_target) for c in best)
            floor = overlap_floor(cg, head, used_count=used_count, prior=prior)
            if cannot_beat(objective, floor, bound):
                continue
        used_w = used.copy()  # the streets used before, and the head's
        used_w[cg.eid[path_edges(cg, head)]] = True
        head_m = float(fwd_a.metres[w])
        reach_w = search_limit(hi - head_m)  # bounded like fwd_a
        rest = (w, b, hi - head_m)  # the ellipse of the paths w -> b the rest of the leg may take
        fwd_w = shortest_tree(cg, w, used=used_w, factor=USED_PENALTY, limit=reach_w, within=rest)
        rev_bw = shortest_tree(
            cg, b, reverse=True, used=used_w, factor=USED_PENALTY, limit=reach_w, within=rest
        )
        found = finish(
            cg,
            head,
            head_m,
            fwd=fwd_w,
            rev=rev_bw,
            objective=objective,
            best_only=True,
            **common,  # type: ignore[arg-type]
        )
        best.extend(found[:1])
        if found and found[0].overlap_m <= good_enough:
            break
    if not best:
        return None
    best.sort(key=lambda c: objective.key(c, leg_target))
    return best[0]


def placements(base_m: list[float]) -> list[np.ndarray]:
    """Return the distinct ways to share extra length between legs (each sums to 1), in trial order."""
    legs = len(base_m)
    base = np.asarray(base_m, float)
    shares: list[np.ndarray] = []
    if base.sum() > 0:
        shares.append(base / base.sum())
    shares.append(np.full(legs, 1.0 / legs))
    for i in np.argsort(-base, kind="stable")[: min(legs, MAX_SINGLE_LEG_PLACEMENTS)]:
        one = np.zeros(legs)
        one[i] = 1.0
        shares.append(one)
    seen: set[tuple[float, ...]] = set()
    out = []
    for share in shares:
        sig = tuple(np.round(share, SHARE_DECIMALS))
        if sig not in seen:
            seen.add(sig)
            out.append(share)
    return out


def plan_target(
    cg: CompiledGraph,
    stops: list[int],
    base_m: list[float],
    *,
    target_m: float,
    tolerance: float,
    thorough: bool = False,
    objective: Objective = DEFAULT_OBJECTIVE,
) -> list[tuple[Candidate, list[int]]]:
    """Return candidate routes (measured path, index of each stop in the path) of about ``target_m``
    metres, best first.

    Parameters
    ----------
    stops : list of int
        Node index of each stop, in order (at least two).
    base_m : list of float
        Length of each leg's cost-optimal path.
    """
    extra = max(target_m - sum(base_m), 0.0)
    band = tolerance * target_m / 2
    results: list[tuple[Candidate, list[int]]] = []
    floor_m: float | None = None
    tried: list[tuple[np.ndarray, np.ndarray]] = []
    for share in placements(base_m):
        goals, bands = leg_goals(base_m, extra * share, band)
        if any((np.abs(goals - g) <= b).all() for g, b in tried):
            continue  # every leg's goal lies in the band of a placement tried: the same legs again
        tried.append((goals, bands))
        got = plan_legs(
            cg, stops, base_m, extras=extra * share, target_m=target_m, band=band, thorough=thorough,
            objective=objective,
        )  # fmt: skip
        if got is not None:
            results.append(got)
            if got[0].overlap_m <= GOOD_OVERLAP_SHARE * target_m:
                break  # (almost) nothing run twice: no other placement can do much better
            if floor_m is None:
                floor_m = measure(cg, seed_route(cg, stops)[0]).overlap_m
            if got[0].overlap_m <= floor_m:
                break  # no more than the stops' own shortest route runs twice: the stops ask for it
    results.sort(key=lambda r: objective.key(r[0], target_m))
    return results


def leg_goals(base_m: list[float], extras: np.ndarray, band: float) -> tuple[np.ndarray, np.ndarray]:
    """Return each leg's goal and band in metres as :func:`plan_legs` aims them (the last leg's goal is
    its share of the target, which it reaches within ``band``)."""
    base = np.asarray(base_m, float)
    goals = base + extras
    bands = np.where(extras > MIN_LEG_EXTRA_M, np.maximum(band, MIDDLE_LEG_BAND_SHARE * extras), band)
    bands[-1] = band
    return goals, bands


def plan_legs(
    cg: CompiledGraph,
    stops: list[int],
    base_m: list[float],
    *,
    extras: np.ndarray,
    target_m: float,
    band: float,
    thorough: bool = False,
    objective: Objective = DEFAULT_OBJECTIVE,
) -> tuple[Candidate, list[int]] | None:
    """Return the route through ``stops`` with ``extras[i]`` metres added to leg i, and its stop indices.

    Middle legs aim at ``base_m[i] + extras[i]``; the last leg takes what is left of ``target_m`` within
    ``band``. None when a leg cannot be planned.
    """
    used_count = np.zeros(int(cg.eid.max()) + 1, np.int64)
    path = [stops[0]]
    stop_idx = [0]
    done_m = 0.0
    legs = len(stops) - 1
    goals, bands = leg_goals(base_m, extras, band)
    for i in range(legs):
        a, b = stops[i], stops[i + 1]
        goal: float | None
        leg_band = float(bands[i])
        if i == legs - 1:
            goal = target_m - done_m
        elif extras[i] > MIN_LEG_EXTRA_M:
            goal = float(goals[i])
        else:
            goal = None
        if goal is not None and goal <= 0:
            return None
        leg = plan_leg(
            cg, a, b, leg_target=goal, band=leg_band, used_count=used_count, thorough=thorough, prior=path,
            objective=objective,
        )  # fmt: skip
        if leg is None:
            return None
        if len(leg.path) > 1:
            np.add.at(used_count, cg.eid[path_edges(cg, leg.path)], 1)
        path.extend(leg.path[1:])
        stop_idx.append(len(path) - 1)
        done_m += leg.metres
    return measure(cg, path, objective=objective), stop_idx


def split_point(cg: CompiledGraph, a: int, b: int, *, leg_goal: float, side: float) -> int | None:
    """Return a node off to one side of a -> b (``side`` +1 left, -1 right) so a -> m -> b spans about
    :data:`SPLIT_SHARE` of ``leg_goal``; None when the leg is too short to split."""
    ax, ay, bx, by = cg.ux[a], cg.uy[a], cg.ux[b], cg.uy[b]
    f = np.hypot(bx - ax, by - ay) / 2
    semi = leg_goal * SPLIT_SHARE / DETOUR_DEFAULT / 2
    if semi <= f * MIN_SEMI_AXIS_RATIO:
        return None
    ux_, uy_ = ((bx - ax) / (2 * f), (by - ay) / (2 * f)) if f > 1e-6 else (1.0, 0.0)
    minor = np.sqrt(semi**2 - f**2)
    px = (ax + bx) / 2 - side * minor * uy_
    py = (ay + by) / 2 + side * minor * ux_
    idx = int(nearest_through(cg, np.array([[px, py]]))[0])
    return None if idx in (a, b) else idx


def plan_with_splits(
    cg: CompiledGraph,
    stops: list[int],
    target_m: float,
    *,
    tolerance: float,
    max_repeated_share: float,
    thorough: bool = False,
    max_depth: int = 2,
    objective: Objective = DEFAULT_OBJECTIVE,
) -> list[tuple[Candidate, list[int]]]:
    """Return candidate routes like :func:`plan_target`; when none meets the limits, split long legs.

    A leg too long for one loop gets a via stop off to one side (then each half gets its own loop),
    up to ``max_depth`` times. Returns just the first route that meets the limits when one does.
    """
    results: list[tuple[Candidate, list[int]]] = []
    frontier = [(list(stops), list(range(len(stops))))]
    for depth in range(max_depth + 1):
        next_frontier = []
        for nodes, real in frontier:
            base = [path_metres(cg, a, b) for a, b in zip(nodes[:-1], nodes[1:])]  # bounded
            found = plan_target(
                cg, nodes, base, target_m=target_m, tolerance=tolerance, thorough=thorough,
                objective=objective,
            )  # fmt: skip
            for cand, idx in found:
                results.append((cand, [idx[i] for i in real]))
                if meets_limits(cand, target_m, tolerance=tolerance, max_repeated_share=max_repeated_share):
                    return [results[-1]]
            if depth == max_depth:
                continue
            extra = max(target_m - sum(base), 0.0)
            total = sum(base)
            for side in (1.0, -1.0):
                split, pos_of = [nodes[0]], [0]
                for i, (a, b) in enumerate(zip(nodes[:-1], nodes[1:])):
                    share = base[i] / total if total > 0 else 1.0 / len(base)
                    m = split_point(cg, a, b, leg_goal=base[i] + extra * share, side=side)
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


# -- routes back to their start (loops, A -> B -> A), and out-and-back halves: grown --------------------
#: A grown route running at most this share of the target twice (same streets or alongside) ends the
#: search: within the 5% a loop may double back, with room for measuring on the edge geometry.
LOOP_GOOD_OVERLAP_SHARE = 0.03
#: Within this distance (metres) and angle of the route so far an edge runs alongside it (the doubled-back
#: measure's radius and angle, :mod:`routemap.route.overlap`): later legs avoid it like a used edge.
NEAR_RADIUS_M = 35.0
NEAR_MIN_COS = 0.7
#: Cost multiplier, in grown routes, of edges used or alongside the route so far (as USED_PENALTY).
LOOP_PENALTY = 5.0
#: Spacing of the route samples matched against edges (metres).
NEAR_SPACING_M = 10.0


def _edge_frames(cg: CompiledGraph) -> tuple[cKDTree, np.ndarray]:
    """Return a KD-tree of the undirected edges' midpoints and their unit directions (cached)."""
    hit = cg.cache.get("_edge_frames")
    if hit is None:
        n_e = int(cg.eid.max()) + 1
        first = np.full(n_e, -1, np.int64)
        first[cg.eid[::-1]] = np.arange(len(cg.eid))[::-1]
        u, v = cg.row[first], cg.col[first]
        mx, my = (cg.ux[u] + cg.ux[v]) / 2, (cg.uy[u] + cg.uy[v]) / 2
        dx, dy = cg.ux[v] - cg.ux[u], cg.uy[v] - cg.uy[u]
        norm = np.maximum(np.hypot(dx, dy), 1e-9)
        hit = cg.cache["_edge_frames"] = (
            cKDTree(np.column_stack([mx, my])),
            np.column_stack([dx, dy]) / norm[:, None],
        )
    return hit


def _near_pairs(cg: CompiledGraph, path: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Return (distance along ``path`` of a sample, undirected edge id) for every edge alongside a sample.

    Samples every :data:`NEAR_SPACING_M`; an edge is alongside when its midpoint lies within
    :data:`NEAR_RADIUS_M` and its direction within the angle of :data:`NEAR_MIN_COS` of the path's.
    """
    tree, direction = _edge_frames(cg)
    empty = np.zeros(0), np.zeros(0, np.int64)
    if len(path) < 2:
        return empty
    p = np.asarray(path, np.int64)
    x, y = cg.ux[p], cg.uy[p]
    seg = np.hypot(np.diff(x), np.diff(y))
    d = np.concatenate([[0.0], np.cumsum(seg)])
    if d[-1] <= 0:
        return empty
    s = np.arange(0.0, d[-1], NEAR_SPACING_M)
    k = np.clip(np.searchsorted(d, s, side="right") - 1, 0, len(seg) - 1)
    sx, sy = np.interp(s, d, x), np.interp(s, d, y)
    ok = seg[k] > 1e-9
    ux = np.where(ok, np.diff(x)[k] / np.maximum(seg[k], 1e-9), 0.0)
    uy = np.where(ok, np.diff(y)[k] / np.maximum(seg[k], 1e-9), 0.0)
    pairs = cKDTree(np.column_stack([sx, sy])).sparse_distance_matrix(
        tree, NEAR_RADIUS_M, output_type="ndarray"
    )
    si, ei = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    cos = np.abs(direction[ei, 0] * ux[si] + direction[ei, 1] * uy[si])
    keep = cos >= NEAR_MIN_COS
    # distances measured on node coordinates: scale to the path's real (edge) length
    real = float(cg.length[path_edges(cg, path)].sum())
    return s[si[keep]] * (real / d[-1]), ei[keep]


def near_edges(cg: CompiledGraph, path: list[int]) -> np.ndarray:
    """Return a mask per undirected edge id: the edges running alongside ``path`` (or on it)."""
    mask = np.zeros(int(cg.eid.max()) + 1, bool)
    mask[_near_pairs(cg, path)[1]] = True
    return mask


def petal_points(cg: CompiledGraph, a: int, *, radius: float, direction_deg: float, vias: int) -> list[int]:
    """Return via nodes on a circle of ``radius`` through a, whose centre lies ``direction_deg`` from a.

    The start and the via points split the circle evenly (a triangle, a square...), in counter-clockwise
    order, snapped to the nearest through nodes.
    """
    t = np.deg2rad(direction_deg)
    cx, cy = cg.ux[a] + radius * np.cos(t), cg.uy[a] + radius * np.sin(t)
    start = t + np.pi  # the angle of a seen from the centre
    angles = start + 2 * np.pi * np.arange(1, vias + 1) / (vias + 1)
    pts = np.column_stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)])
    nodes = [int(i) for i in nearest_through(cg, pts)]
    return [w for w in dict.fromkeys(nodes) if w != a]


#: Pieces the loop is cut into when growing it: each piece in turn is replaced by a longer way round.
LOOP_GROW_PIECES = 8
#: Growth steps compare what a replacement runs twice in steps of this many metres, then its gain: a
#: coarser step grows the loop faster for a little more overlap.
LOOP_GROW_OVERLAP_STEP_M = 20.0
#: Most growth steps (each replaces one piece); the loop grows by at least one block per step.
LOOP_GROW_STEPS = 40
#: Share of the target the first petal spans before it is grown: small enough to fit a small network,
#: large enough to leave few growth steps.
LOOP_SEED_SHARE = 0.5
#: Directions (degrees from east) of the seed petals' circles from the start.
LOOP_SEED_DIRECTIONS_DEG = (0, 90, 180, 270)
#: Seeds grown at most (the ones running least twice first): a second seed rescues an unlucky first.
LOOP_SEEDS_GROWN = 2
#: Growth stops when the best gain of the last this many steps, times the steps left, cannot reach the
#: target: a network too small for the target is refused quickly.
LOOP_GROW_WINDOW = 5
#: Best endings per piece kept at each growth step (by estimate), and how many of all pieces' are
#: measured exactly.
LOOP_GROW_TOP_K = 2
LOOP_GROW_MEASURED = 8


def _cut(cg: CompiledGraph, path: list[int], pieces: int, pins: list[int]) -> list[tuple[int, int]]:
    """Return (i, j) index pairs cutting ``path`` into about ``pieces`` stretches of equal length, also
    cut at every index in ``pins`` (the stops), so that no stretch has a stop inside it."""
    d = np.concatenate([[0.0], np.cumsum(cg.length[path_edges(cg, path)])])
    marks = np.searchsorted(d, np.linspace(0, d[-1], pieces + 1))
    marks = np.unique(np.concatenate([marks, pins, [0, len(path) - 1]]))
    marks = marks[(marks >= 0) & (marks <= len(path) - 1)]
    return [(int(i), int(j)) for i, j in zip(marks[:-1], marks[1:]) if j > i]


def grow_route(
    cg: CompiledGraph,
    path: list[int],
    pins: list[int],
    *,
    target_m: float,
    band: float,
    objective: Objective = DEFAULT_OBJECTIVE,
) -> tuple[Candidate, list[int]] | None:
    """Return ``path`` grown to ``target_m`` +- ``band`` by replacing stretches with longer ways round,
    and the new index of each pinned node (the stops); None when it cannot grow into the band.

    Each step cuts the path into :data:`LOOP_GROW_PIECES` stretches (and at every stop); for each
    stretch i -> j, every node v gives a replacement i -> v -> j from a forward tree out of i and a
    reverse tree into j, both avoiding the rest of the path and what runs alongside it (the stretch
    itself too: the way round is new). The step takes the replacement that runs the least twice (in
    steps of :data:`LOOP_GROW_OVERLAP_STEP_M`) and, among those, brings the length closest to the target
    without passing it. It stops in the band, when nothing lengthens the path, or when the growth so far
    cannot reach the target within :data:`LOOP_GROW_STEPS`.
    """
    from routemap.route.kernels import band_endings

    path = list(path)
    pins = list(pins)
    lo, hi = target_m - band, target_m + band
    n_e = int(cg.eid.max()) + 1
    gains: list[float] = []
    for step in range(LOOP_GROW_STEPS):
        edges = path_edges(cg, path)
        cum = np.concatenate([[0.0], np.cumsum(cg.length[edges])])
        total = float(cum[-1])
        if lo <= total <= hi:
            return measure(cg, path, objective=objective), pins
        recent = gains[-LOOP_GROW_WINDOW:]
        if len(recent) == LOOP_GROW_WINDOW and max(recent) * (LOOP_GROW_STEPS - step) < lo - total:
            return None  # growing too slowly to get there: the network is too small for the target
        near_at, near_eid = _near_pairs(cg, path)
        path_eid = cg.eid[edges]
        estimates: list[tuple[tuple[float, float, float], int, int, int, Tree, Tree]] = []
        for i, j in _cut(cg, path, LOOP_GROW_PIECES, pins):
            avoid = np.zeros(n_e, bool)
            avoid[near_eid[(near_at <= cum[i]) | (near_at >= cum[j])]] = True
            avoid[path_eid] = True
            # the way round may be this long at most (the route stays under hi): its ellipse
            allowance = hi - (total - (cum[j] - cum[i]))
            if allowance <= 0:
                continue
            way = (path[i], path[j], allowance)
            fwd = shortest_tree(cg, path[i], used=avoid, factor=LOOP_PENALTY, within=way)
            rev = shortest_tree(cg, path[j], reverse=True, used=avoid, factor=LOOP_PENALTY, within=way)
            # the endings that lengthen the route (by more than a metre) and keep it under hi
            v, new_total = band_endings(
                total - (cum[j] - cum[i]), fwd.metres, rev.metres, fwd.cost, rev.cost, total + 1.0, hi, True
            )
            if len(v) == 0:
                continue
            short = np.maximum(lo - new_total, 0.0)
            proxy = fwd.repeat[v] + rev.repeat[v] + spike_metres(cg, fwd, rev, v)
            order = objective.screen_order(
                proxy, fwd.cost[v] + rev.cost[v], v, deviation=short, overlap_step_m=LOOP_GROW_OVERLAP_STEP_M
            )
            for k in order[:LOOP_GROW_TOP_K]:
                figures = (float(proxy[k]), float(fwd.cost[v[k]] + rev.cost[v[k]]), float(short[k]))
                estimates.append((figures, i, j, int(v[k]), fwd, rev))
        if not estimates:
            return None
        fig = np.array([e[0] for e in estimates])
        ties = np.array([e[3] for e in estimates])
        pick = objective.screen_order(
            fig[:, 0], fig[:, 1], ties, deviation=fig[:, 2], overlap_step_m=LOOP_GROW_OVERLAP_STEP_M
        )
        options = []
        for _fig, i, j, k, fwd, rev in (estimates[q] for q in pick[:LOOP_GROW_MEASURED]):
            way = fwd.path(k)[:-1] + rev.path(k)
            cand = measure(cg, path[:i] + way + path[j + 1 :], objective=objective)
            shift = len(way) - (j - i + 1)
            options.append((cand, [p + shift if p >= j else p for p in pins]))
        options.sort(key=lambda o: objective.key(o[0], target_m, overlap_step_m=LOOP_GROW_OVERLAP_STEP_M))
        cand, pins = options[0]
        gains.append(cand.metres - total)
        path = cand.path
    total = float(cg.length[path_edges(cg, path)].sum())
    return (measure(cg, path, objective=objective), pins) if lo <= total <= hi else None


def seed_route(cg: CompiledGraph, stops: list[int]) -> tuple[list[int], list[int]]:
    """Return the route through ``stops`` leg by leg, each leg avoiding the legs before it, and the
    index of each stop in it (the seed that :func:`grow_route` lengthens)."""
    used = np.zeros(int(cg.eid.max()) + 1, bool)
    path = [stops[0]]
    pins = [0]
    for b in stops[1:]:
        if b != path[-1]:
            tree = tree_reaching(cg, path[-1], b, used=used, factor=LOOP_PENALTY)
            leg = tree.path(b)
            used[cg.eid[path_edges(cg, leg)]] = True
            path.extend(leg[1:])
        pins.append(len(path) - 1)
    return path, pins


def plan_closed(
    cg: CompiledGraph,
    stops: list[int],
    *,
    target_m: float,
    tolerance: float,
    objective: Objective = DEFAULT_OBJECTIVE,
) -> list[tuple[Candidate, list[int]]]:
    """Return routes through ``stops`` that end where they start (a loop from one stop, A -> B -> A),
    of about ``target_m`` metres, best first.

    Seeds: with one stop (``stops == [a, a]``), petals through the start and two via points on circles
    in :data:`LOOP_SEED_DIRECTIONS_DEG` spanning :data:`LOOP_SEED_SHARE` of the target; with more, the
    stops joined leg by leg. The :data:`LOOP_SEEDS_GROWN` seeds running least twice are grown
    (:func:`grow_route`); stops at the first result running at most :data:`LOOP_GOOD_OVERLAP_SHARE` twice.
    """
    band = tolerance * target_m / 2
    seeds: list[tuple[Candidate, list[int]]] = []
    if len(stops) == 2 and stops[0] == stops[1]:
        a = stops[0]
        perimeter = 2 * 3 * np.sin(np.pi / 3) * DETOUR_DEFAULT
        radius = LOOP_SEED_SHARE * target_m / perimeter
        seen: set[tuple[int, ...]] = set()
        for direction in LOOP_SEED_DIRECTIONS_DEG:
            vias = petal_points(cg, a, radius=radius, direction_deg=direction, vias=2)
            if len(vias) < 2 or tuple(vias) in seen:
                continue
            seen.add(tuple(vias))
            path, _ = seed_route(cg, [a, *vias, a])
            seeds.append((measure(cg, path, objective=objective), [0, len(path) - 1]))
    else:
        path, pins = seed_route(cg, stops)
        seeds.append((measure(cg, path, objective=objective), pins))
    return _grow_seeds(cg, seeds, target_m=target_m, band=band, objective=objective)


def plan_out(
    cg: CompiledGraph,
    a: int,
    *,
    target_m: float,
    tolerance: float,
    objective: Objective = DEFAULT_OBJECTIVE,
) -> list[tuple[Candidate, list[int]]]:
    """Return ways out from ``a`` of about ``target_m`` metres to any turnaround, best first.

    Seeds: the best path from ``a`` to the through node nearest a point :data:`LOOP_SEED_SHARE` of the
    target away (at the default detour) in each of :data:`LOOP_SEED_DIRECTIONS_DEG`; then as
    :func:`plan_closed`.
    """
    band = tolerance * target_m / 2
    reach = LOOP_SEED_SHARE * target_m / DETOUR_DEFAULT
    t = np.deg2rad(np.asarray(LOOP_SEED_DIRECTIONS_DEG, float))
    points = np.column_stack([cg.ux[a] + reach * np.cos(t), cg.uy[a] + reach * np.sin(t)])
    seeds: list[tuple[Candidate, list[int]]] = []
    for v in dict.fromkeys(int(i) for i in nearest_through(cg, points)):
        if v == a:
            continue
        path, pins = seed_route(cg, [a, v])
        seeds.append((measure(cg, path, objective=objective), pins))
    return _grow_seeds(cg, seeds, target_m=target_m, band=band, objective=objective)


def _grow_seeds(
    cg: CompiledGraph,
    seeds: list[tuple[Candidate, list[int]]],
    *,
    target_m: float,
    band: float,
    objective: Objective,
) -> list[tuple[Candidate, list[int]]]:
    """Return the grown seeds (the :data:`LOOP_SEEDS_GROWN` running least twice, longest first), best
    first; stops at the first running at most :data:`LOOP_GOOD_OVERLAP_SHARE` of the target twice."""
    seeds = [s for s in seeds if s[0].metres <= target_m + band]
    seeds.sort(key=lambda s: objective.key(s[0], target_m, overlap_step_m=LOOP_GROW_OVERLAP_STEP_M))
    results: list[tuple[Candidate, list[int]]] = []
    for seed, pins in seeds[:LOOP_SEEDS_GROWN]:
        grown = grow_route(cg, seed.path, pins, target_m=target_m, band=band, objective=objective)
        if grown is None:
            continue
        results.append(grown)
        if grown[0].overlap_m <= LOOP_GOOD_OVERLAP_SHARE * target_m:
            break
    results.sort(key=lambda r: objective.key(r[0], target_m))
    return results
