"""``plan_route``: stops (and a target length) -> a :class:`Route` on a street graph."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix

from routemap.errors import RoutemapError, StopError, TargetLengthError, UnreachableStopError
from routemap.route.compile import (
    MIN_COST,
    CompiledGraph,
    compile_graph,
    node_scratch,
    reach_region,
    same_region,
    shortest_tree,
)
from routemap.route.model import Route, RouteStop
from routemap.route.objective import (
    DEFAULT_OBJECTIVE,
    Candidate,
    EdgeCost,
    Objective,
    apply_cost,
    get_objective,
    limits_shortfall,
    meets_limits,
    path_doubled_m,
    path_edges,
)
from routemap.route.reach import (
    REACH_STRAIGHTEN_TOP,
    ReachField,
    check_reach_column,
    measure_reach,
    reach_field,
    reach_rank,
    search_reach,
)
from routemap.route.stops import ResolvedStop, Resolver, pick_candidates, resolve_stop
from routemap.route.target import LOOP_GOOD_OVERLAP_SHARE, plan_closed, plan_out, plan_with_splits
from routemap.route.turns import straighten
from routemap.settings import (
    LENGTH_TOLERANCE,
    MAX_REPEATED_SHARE,
    MAX_SNAP_DISTANCE_M,
    METERS_PER_MILE,
    ROUTE_BUFFER_M,
)

_UNITS = {
    "": 1.0, "m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0,
    "km": 1000.0, "kilometer": 1000.0, "kilometers": 1000.0, "kilometre": 1000.0,
    "kilometres": 1000.0, "mi": METERS_PER_MILE, "mile": METERS_PER_MILE, "miles": METERS_PER_MILE,
}  # fmt: skip
#: Share of the tolerance a straightened route may move away from the target: half, so that a route
#: the length search put on target stays well inside the tolerance after losing its staircases.
STRAIGHTEN_TOLERANCE_SHARE = 0.5
#: Straightening never lets the route run alongside itself over more than this share of its length.
MAX_DOUBLED_SHARE = 0.01
_LENGTH = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_length(value: str | float | int) -> float:
    """Return a length in metres from ``"15mi"``, ``"24km"``, ``"24000m"``, ``"24000"`` or a number (metres).

    Raises
    ------
    TargetLengthError
        When the text is not a positive number with an optional unit (m, km, mi).
    """
    if isinstance(value, bool):
        raise TargetLengthError(f"length {value!r} is not a length; write e.g. '15mi', '24km' or 24000")
    if isinstance(value, (int, float, np.integer, np.floating)):
        metres = float(value)
    else:
        m = _LENGTH.match(str(value))
        unit = m.group(2).lower() if m else None
        if m is None or unit not in _UNITS:
            raise TargetLengthError(
                f"length {value!r} is not understood; write a number with m, km or mi, e.g. '15mi'"
            )
        metres = float(m.group(1)) * _UNITS[unit]
    if not np.isfinite(metres) or metres <= 0:
        raise TargetLengthError(f"length {value!r} must be a positive distance, e.g. '15mi' or '24km'")
    return metres


def _fmt_len(metres: float) -> str:
    return f"{metres / METERS_PER_MILE:.2f} mi ({metres / 1000:.2f} km)"


def _layered_best(cg: CompiledGraph, cands: list[np.ndarray], graph: csr_matrix) -> tuple[list[int], float]:
    """Return one node per stop minimizing the summed shortest distances on ``graph``, and that sum.

    Exact dynamic programming over the stops: each layer is one Dijkstra search from the previous
    layer's candidates at once, each starting at its best distance so far (as from a virtual source
    joined to them), stopped once the layer's candidates are settled.
    """
    from routemap.route.kernels import layer_search

    n = cg.n
    work = node_scratch(cg)
    offsets = np.zeros(len(cands[0]))
    preds = []
    for i in range(1, len(cands)):
        prev = np.asarray(cands[i - 1], np.int64)
        finite = np.isfinite(offsets)
        dist = np.full(n, np.inf)
        pred = np.full(n, -1, np.int64)
        # from every candidate of the layer before at once, only as far as this layer's candidates
        layer_search(
            graph.indptr,
            graph.indices,
            graph.data,
            prev[finite],
            offsets[finite] + MIN_COST,
            np.asarray(cands[i], np.int64),
            n,
            dist,
            pred,
            work,
        )
        preds.append(pred)
        offsets = dist[cands[i]] - MIN_COST
    if not np.isfinite(offsets).any():
        raise UnreachableStopError("the stops cannot be joined on the network; check their order")
    j = int(np.lexsort((cands[-1], offsets))[0])
    chosen = [int(cands[-1][j])]
    total = float(offsets[j])
    for pred in reversed(preds):
        v = chosen[-1]
        while pred[v] != n:
            v = int(pred[v])
        chosen.append(v)
    chosen.reverse()
    return chosen, total


def _fit_areas(
    cg: CompiledGraph, resolved: list[ResolvedStop], nodes: list[int], *, target_m: float
) -> list[int]:
    """Move a first or last area stop to the node inside it that brings the route closest to the target.

    Starting (or ending) deeper inside the area needs less of a detour later; the through-route never
    goes over the target.
    """
    nodes = list(nodes)
    for i, stop in enumerate(resolved):
        if not stop.is_area or len(stop.candidates) < 2 or 0 < i < len(resolved) - 1:
            continue  # an area in the middle is entered where the best route passes it
        legs = [shortest_tree(cg, nodes[j]).metres[nodes[j + 1]] for j in range(len(nodes) - 1)]
        here = (legs[i - 1] if i > 0 else 0.0) + (legs[i] if i < len(legs) else 0.0)
        rest = sum(legs) - here
        c = stop.candidates
        through = np.zeros(len(c))
        if i > 0:
            through += shortest_tree(cg, nodes[i - 1]).metres[c]
        if i < len(nodes) - 1:
            through += shortest_tree(cg, nodes[i + 1], reverse=True).metres[c]
        total = rest + through
        fits = total <= target_m
        if not fits.any():
            continue
        pick = np.nonzero(fits)[0]
        best = pick[np.lexsort((c[pick], -total[pick]))[0]]
        nodes[i] = int(c[best])
    return nodes


def plan_route(
    G: nx.MultiDiGraph,
    stops: Sequence[Any],
    target_length: str | float | None = None,
    profile: str = "run",
    tolerance: float = LENGTH_TOLERANCE,
    *,
    max_snap_m: float = MAX_SNAP_DISTANCE_M,
    weights: Mapping[str, float] | None = None,
    max_repeated_share: float = MAX_REPEATED_SHARE,
    name: str | None = None,
    online: bool = False,
    neighborhoods: Any = None,
    resolver: Resolver | None = None,
    objective: str | Objective | None = "cost",
    cost: EdgeCost | None = None,
    out_and_back: bool = False,
    reach: str = "population",
    reach_buffer_m: float = ROUTE_BUFFER_M,
    tracts: Any = None,
    reach_field_: ReachField | None = None,
    _avoid: tuple[Collection[tuple[int, int]], float] | None = None,
) -> Route:
    """Return a route through ``stops`` in order, of ``target_length`` within ``tolerance``.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        An osmnx-compatible street graph; routing uses its largest strongly connected part
        (``route.network_kept_share`` says how much of the street length that kept).
    stops : sequence
        In order. Each one is a ``(lat, lon)`` pair; a ``"lat,lon"`` string; an intersection
        ``"Wilshire Blvd & S Union Ave"`` (street names matched to the edges' ``name`` tags, case and
        abbreviations such as St, Ave, Blvd, N, S ignored); a named place (named graph nodes, then the
        embedded gazetteer, :func:`routemap.places.find_place`); a neighborhood name (an area stop via
        :func:`routemap.demographics.find_neighborhood`: the route enters the polygon, or starts or ends
        inside it when first or last); with ``online=True``, any place osmnx can geocode; or a
        :class:`Stop`. A single stop with a target length makes a loop back to it.
    target_length : str or float, optional
        ``"15mi"``, ``"24km"``, ``"24000m"``, ``"24000"`` or a number of metres (see :func:`parse_length`).
        Without it, the best route through the stops under the profile.
    profile : str
        ``"run"``, ``"march"`` or ``"shortest"`` (see :data:`PROFILES` and :mod:`routemap.route.profiles`).
    tolerance : float
        Allowed relative difference between the route's length and the target.
    max_snap_m : float
        A stop farther than this from any street is an error.
    weights : mapping of str to float, optional
        Cost multipliers per ``highway`` class laid over the profile's (key ``"default"`` for others).
    max_repeated_share : float
        Most of the route that may run over streets already used (either direction).
    name : str, optional
        The route's name.
    online : bool
        Geocode names the data does not know with osmnx (needs the internet).
    neighborhoods : GeoDataFrame, optional
        The neighborhood layer for area stops (default: the embedded one).
    resolver : callable, optional
        ``resolver(name, bbox) -> Stop`` for names the network does not hold (see
        :data:`routemap.route.stops.Resolver`); default :func:`routemap.resolve.default_resolver` with
        ``neighborhoods`` and ``online``.
    objective : str or Objective, optional
        What ranks candidate routes (see :mod:`routemap.route.objective`). ``"cost"`` (the default):
        least run twice, then closest to the target (in steps of
        :data:`~routemap.route.objective.DEVIATION_STEP_M`), then the profile cost plus a cost per turn.
        ``"length"``: the same without turns, closest to the target to 0.1 m. ``"reach"``: among routes
        within the tolerance and the repeated-length limit, the one with the most people (the ``reach``
        count) living within ``reach_buffer_m`` of it, each counted once (see
        :mod:`routemap.route.reach`). With a target, under every objective the route is then
        straightened by a turn cost (see :mod:`routemap.route.turns`); without one it is the profile's
        best path (``"reach"``: the best path under a reach-discounted cost reaching the most people).
    cost : EdgeCost, optional
        Edge costs from an edge attribute or a function instead of the profile's multipliers.
    out_and_back : bool
        Go out through the stops in order (with one stop and a target: out to a turnaround at half the
        target) and come back along the same streets. The repeated-length limit does not apply; the
        route's ``metadata["out_and_back"]`` is True and ``metadata["turnaround_m"]`` says where it
        turns. With several stops, a finish stop back at the start is added.
    reach : str
        The census count to reach: ``population``, ``foreign_born``, ``hispanic``, ``asian`` or
        ``limited_english``.
    reach_buffer_m : float
        The distance from the route within which people count as reached.
    tracts : GeoDataFrame, optional
        Tract counts for the reach objective (default: the embedded LA County tracts).
    reach_field_ : ReachField, optional
        A precomputed reach field (:func:`routemap.route.reach.reach_field`) of this graph and profile.
    _avoid : (collection of (u, v), float), optional
        Streets (graph node pairs, either direction) whose cost is multiplied by the factor: how
        :func:`routemap.route.alternatives.plan_routes` steers away from routes found before.

    Returns
    -------
    Route

    Raises
    ------
    UnknownPlaceError, StopTooFarError, UnreachableStopError
        A stop cannot be resolved, is off the network or cannot be reached.
    TargetLengthError
        The target is shorter than the shortest route through the stops (the message gives that
        minimum), or no route within the tolerance and the repeated-length limit was found.
    """
    target_m = None if target_length is None else parse_length(target_length)
    if not 0 < tolerance < 1:
        raise TargetLengthError(f"tolerance {tolerance!r} must be between 0 and 1, e.g. 0.01 for 1%")
    chosen = get_objective(objective)
    check_reach_column(reach)
    base_cg = cg = apply_cost(compile_graph(G, profile, weights), cost)
    if _avoid is not None:
        cg = _with_avoided(cg, *_avoid)
    if len(stops) == 0:
        raise StopError("no stops given; give at least a start (and a target length) or two stops")
    resolved = [
        resolve_stop(
            cg, s, max_snap_m=max_snap_m, neighborhoods=neighborhoods, online=online, resolver=resolver
        )
        for s in stops
    ]
    pick_candidates(cg, resolved)
    one_stop = len(resolved) == 1
    if one_stop:
        if target_m is None:
            kind = "an out-and-back" if out_and_back else "a loop"
            raise StopError(f"one stop makes a route only with a target length ({kind}); add one")
        resolved = [resolved[0], resolved[0]]
    minimum = None
    if target_m is not None and chosen.name != "reach":
        # planning cost follows the stops and the target, not the network's size. The reach
        # objective keeps the whole graph: its reach field is indexed by the whole graph's edges.
        cg, resolved, minimum = _restrict_to_reach(cg, resolved, target_m * (1 + tolerance))
    cands = [s.candidates for s in resolved]
    if target_m is not None and all(len(c) == 1 for c in cands):
        # one node per stop: nothing to choose (whether they can be joined, the minimum below checks)
        nodes = [int(c[0]) for c in cands]
    else:
        nodes, _ = _layered_best(cg, cands, cg.cost)
    metadata: dict[str, Any] = {
        "network_kept_share": base_cg.kept_length_share,
        "network_kept_node_share": base_cg.kept_node_share,
        "tolerance": tolerance,
        "max_repeated_share": max_repeated_share,
    }
    field_ = None
    if chosen.name == "reach":
        field_ = reach_field_ if reach_field_ is not None else reach_field(base_cg, reach_buffer_m, tracts)
        metadata.update(objective="reach", reach=reach, reach_buffer_m=float(field_.buffer_m))
    else:
        metadata.update(objective=chosen.name)
    # an out-and-back plans its way out (half the target) and comes back the same way
    goal_m = None if target_m is None else (target_m / 2 if out_and_back else target_m)
    if one_stop and out_and_back:
        assert goal_m is not None
        path, stop_idx = _out_from(cg, nodes[0], target_m=goal_m, tolerance=tolerance, objective=chosen)
    elif goal_m is None:
        if field_ is not None:
            found = search_reach(
                cg, lambda g, stops: [_join_legs(g, stops)], stop_nodes=nodes, field_=field_,
                column=reach, target_m=None, tolerance=tolerance, max_repeated_share=max_repeated_share,
            )  # fmt: skip
            path, stop_idx = found[0].path, found[0].stop_idx
        else:
            path, stop_idx = _join_legs(cg, nodes)
        if len(path) < 2:
            raise StopError("all stops snap to the same street node; give stops that are apart")
        # no straightening: without a target the route is exactly the profile's best path
    else:
        if minimum is None:
            _, minimum = _layered_best(cg, cands, _length_graph(cg))
        if goal_m * (1 + tolerance) < minimum:
            assert target_m is not None
            floor = 2 * minimum if out_and_back else minimum
            raise TargetLengthError(
                f"target {_fmt_len(target_m)} is shorter than the shortest route through the stops"
                f"{' and back' if out_and_back else ''}, {_fmt_len(floor)}; raise the target or drop stops",
                minimum_m=floor,
            )
        found = []
        if field_ is not None:
            stop_nodes = _fit_areas(cg, resolved, nodes, target_m=goal_m)
            found = search_reach(
                cg,
                lambda g, stops: _quick_candidates(
                    g, stops, target_m=goal_m, tolerance=tolerance,
                    max_repeated_share=max_repeated_share, objective=chosen,
                ),
                stop_nodes=stop_nodes,
                field_=field_, column=reach, target_m=goal_m, tolerance=tolerance,
                max_repeated_share=max_repeated_share,
            )  # fmt: skip
        options = [(c.path, c.stop_idx) for c in found if not c.key(goal_m, tolerance, max_repeated_share)[0]]
        if not options:
            options = [
                _search(
                    cg,
                    resolved,
                    nodes,
                    target_m=goal_m,
                    tolerance=tolerance,
                    max_repeated_share=max_repeated_share,
                    profile=profile,
                    objective=chosen,
                )
            ]
        finished = []
        for path, stop_idx in options[:REACH_STRAIGHTEN_TOP]:
            # a straightened route may use this share of the tolerance (it keeps any deviation it had)
            length = _path_m(cg, path)
            slack = STRAIGHTEN_TOLERANCE_SHARE * tolerance * goal_m
            band = min(length, goal_m - slack), max(length, goal_m + slack)
            path, stop_idx = _straighten(cg, path, stop_idx, band, field_, reach)
            if field_ is None:
                break
            rank = reach_rank(measure_reach(cg, path, stop_idx, field_, reach), cg)
            finished.append((rank, path, stop_idx))
            if not any(rank[:2]):
                break  # few turns, little overlap: the next candidate reaches fewer people
        if finished:
            _, path, stop_idx = min(finished, key=lambda f: f[0])
    if out_and_back:
        metadata["out_and_back"] = True
        metadata["turnaround_m"] = float(cg.length[path_edges(cg, path)].sum()) if len(path) > 1 else 0.0
        path = path + path[-2::-1]
        if one_stop:
            stop_idx = [0, len(path) - 1]
        else:
            stop_idx = [*stop_idx, len(path) - 1]
            resolved = [*resolved, resolved[0]]  # the finish: back at the start
    if field_ is not None:
        metadata["reach_people"] = measure_reach(cg, path, stop_idx, field_, reach).reach
    return _to_route(
        G, cg, path, stop_idx=stop_idx, resolved=resolved, target_m=target_m, profile=profile, name=name,
        metadata=metadata,
    )  # fmt: skip


def _out_from(
    cg: CompiledGraph, a: int, *, target_m: float, tolerance: float, objective: Objective
) -> tuple[list[int], list[int]]:
    """Return the best way out from ``a`` of ``target_m`` metres (to a turnaround), and [0, its end]."""
    found = plan_out(cg, a, target_m=target_m, tolerance=tolerance, objective=objective)
    if not found:
        raise TargetLengthError(
            f"no way out of {_fmt_len(target_m)} (half the target) was found from the start within "
            f"{tolerance:.1%}; try a shorter target or another start"
        )
    cand, _ = found[0]
    return cand.path, [0, len(cand.path) - 1]


#: Cache entries of a compiled graph that do not depend on its costs (a re-costed copy shares them).
_COST_FREE_CACHE = (
    "_turn_graph", "_turn_attrs", "_turn_attrs_root", "_kdtree_through", "_through",
    "_index", "_xy", "_entry_figures_t",
)  # fmt: skip


def _with_avoided(cg: CompiledGraph, pairs: Collection[tuple[int, int]], factor: float) -> CompiledGraph:
    """Return a copy of ``cg`` whose streets between the node id ``pairs`` cost ``factor`` times more."""
    ids = np.asarray([p for pair in pairs for p in pair], np.int64).reshape(-1, 2)
    idx = cg.index_of(ids.ravel()).reshape(-1, 2)
    idx = idx[(idx >= 0).all(axis=1)]
    hit = np.zeros(int(cg.eid.max()) + 1, bool)
    if len(idx):
        both = np.concatenate([idx, idx[:, ::-1]])
        keys = cg.row.astype(np.int64) * cg.n + cg.col
        want = both[:, 0].astype(np.int64) * cg.n + both[:, 1]
        hit[cg.eid[np.isin(keys, want)]] = True
    fwd, rev = cg.penalized(hit, factor)
    # the turn graph depends on geometry and names only: the copy shares it
    shared = {k: v for k, v in cg.cache.items() if k in _COST_FREE_CACHE}
    return dataclasses.replace(cg, cost=fwd, cost_t=rev, cache=shared)


def _quick_candidates(
    cg: CompiledGraph,
    stop_nodes: list[int],
    *,
    target_m: float,
    tolerance: float,
    max_repeated_share: float,
    objective: Objective,
) -> list[tuple[list[int], list[int]]]:
    """Return the quick length search's routes on ``cg``: grown loops for a route back to its start."""
    if stop_nodes[0] == stop_nodes[-1]:
        found = plan_closed(cg, stop_nodes, target_m=target_m, tolerance=tolerance, objective=objective)
    else:
        found = plan_with_splits(
            cg, stop_nodes, target_m, tolerance=tolerance, max_repeated_share=max_repeated_share,
            max_depth=SPLIT_DEPTH_QUICK, objective=objective,
        )  # fmt: skip
    return [(c.path, idx) for c, idx in found]


def _straighten(
    cg: CompiledGraph,
    path: list[int],
    stop_idx: list[int],
    band: tuple[float, float],
    field_: ReachField | None,
    reach: str,
) -> tuple[list[int], list[int]]:
    """Return the path straightened within the length ``band`` (keeping its reach, when one is given)."""
    score = None
    if field_ is not None:
        score = lambda p: measure_reach(cg, p, [], field_, reach).reach  # noqa: E731
    return straighten(
        cg, path, stop_idx, lo_m=band[0], hi_m=band[1], score=score,
        max_overlap_m=max(path_doubled_m(cg, path), MAX_DOUBLED_SHARE * band[0]),
    )  # fmt: skip


def _path_m(cg: CompiledGraph, path: list[int]) -> float:
    return float(cg.length[path_edges(cg, path)].sum()) if len(path) > 1 else 0.0


#: The search's attempts, in order: (on the ``shortest`` profile, thorough). A quick search, a thorough
#: one, then the thorough one without the profile, whose preferred streets may all be too long for a
#: target near the minimum.
SEARCH_ATTEMPTS: tuple[tuple[bool, bool], ...] = ((False, False), (False, True), (True, True))
#: Attempts of the general search after a route back to its start could not be grown within the limits.
CLOSED_ATTEMPTS = 1
#: Split depth (see :func:`routemap.route.target.plan_with_splits`) of a quick and of a thorough attempt.
SPLIT_DEPTH_QUICK = 1
SPLIT_DEPTH_THOROUGH = 2


def _search(
    cg: CompiledGraph,
    resolved: list[ResolvedStop],
    nodes: list[int],
    *,
    target_m: float,
    tolerance: float,
    max_repeated_share: float,
    profile: str,
    objective: Objective = DEFAULT_OBJECTIVE,
) -> tuple[list[int], list[int]]:
    """Return the path (node indices of ``cg``) and stop indices of the first route meeting the limits.

    Raises TargetLengthError naming the best failure (by the objective's key) when none does.
    """
    best: Candidate | None = None
    attempts = SEARCH_ATTEMPTS
    # routes meeting the limits, when more than the first is weighed (routes back to their start)
    pool: list[tuple[Candidate, list[int]]] = []
    closed = nodes[0] == nodes[-1]
    if closed:
        # a route back to its start (a loop, A -> B -> A): grow one (target.plan_closed); unless it
        # hardly runs anything twice, the general search's quick attempt is weighed against it
        stop_nodes = _fit_areas(cg, resolved, list(nodes), target_m=target_m)
        for cand, stop_idx in plan_closed(
            cg, stop_nodes, target_m=target_m, tolerance=tolerance, objective=objective
        ):
            if meets_limits(cand, target_m, tolerance=tolerance, max_repeated_share=max_repeated_share):
                if cand.overlap_m <= LOOP_GOOD_OVERLAP_SHARE * target_m:
                    return cand.path, stop_idx
                pool.append((cand, stop_idx))
            elif best is None or limits_shortfall(cand, target_m) < limits_shortfall(best, target_m):
                best = cand
        attempts = SEARCH_ATTEMPTS[:CLOSED_ATTEMPTS]
    for use_shortest, thorough in attempts:
        if use_shortest and profile == "shortest":
            continue
        # the shortest-profile graph is cut to the same region as cg
        graph = same_region(compile_graph(cg.graph, "shortest"), cg) if use_shortest else cg
        stop_nodes = _fit_areas(graph, resolved, _translate(cg, graph, nodes), target_m=target_m)
        found = plan_with_splits(
            graph, stop_nodes, target_m, tolerance=tolerance, max_repeated_share=max_repeated_share,
            thorough=thorough, max_depth=SPLIT_DEPTH_THOROUGH if thorough else SPLIT_DEPTH_QUICK,
            objective=objective,
        )  # fmt: skip
        for cand, stop_idx in found:
            if meets_limits(cand, target_m, tolerance=tolerance, max_repeated_share=max_repeated_share):
                if not closed:
                    return _translate(graph, cg, cand.path), stop_idx
                pool.append((cand, stop_idx))  # closed routes run on cg only: no translation
                break
            if best is None or limits_shortfall(cand, target_m) < limits_shortfall(best, target_m):
                best = cand
    if pool:
        cand, stop_idx = min(pool, key=lambda p: objective.key(p[0], target_m))
        return cand.path, stop_idx
    if best is None and closed:
        raise TargetLengthError(
            f"no route of {_fmt_len(target_m)} back to the start within {tolerance:.1%} fits these streets; "
            "try a shorter target, a larger tolerance or an out-and-back"
        )
    if best is None:
        raise TargetLengthError(
            f"no route of {_fmt_len(target_m)} within {tolerance:.1%} was found through these stops; "
            "try another target, a larger tolerance or other stops"
        )
    raise TargetLengthError(
        f"the best route of {_fmt_len(target_m)} found repeats {best.repeated_m / best.metres:.1%} of its "
        f"length (limit {max_repeated_share:.0%}); raise max_repeated_share, change the target or the stops"
    )


def _length_graph(cg: CompiledGraph) -> csr_matrix:
    """Return ``cg``'s CSR matrix with real metres (at least MIN_COST) as weights."""
    return csr_matrix((np.maximum(cg.length, MIN_COST), cg.cost.indices, cg.cost.indptr), shape=cg.cost.shape)


def _restrict_to_reach(
    cg: CompiledGraph, resolved: list[ResolvedStop], longest_m: float
) -> tuple[CompiledGraph, list[ResolvedStop], float | None]:
    """Return (region, stops on it, shortest route length through them) for routes up to ``longest_m``.

    The region is :func:`~routemap.route.compile.reach_region`. When it is the whole graph, or the
    stops cannot be joined within ``longest_m`` inside it (the caller then reports the minimum measured
    on the whole graph), returns ``(cg, resolved, None)``.
    """
    region = reach_region(cg, [s.candidates for s in resolved], longest_m)
    if region is cg:
        return cg, resolved, None
    moved = [dataclasses.replace(s, candidates=region.index_of(cg.node_ids[s.candidates])) for s in resolved]
    try:
        _, minimum = _layered_best(region, [s.candidates for s in moved], _length_graph(region))
    except UnreachableStopError:
        return cg, resolved, None
    if minimum > longest_m:
        return cg, resolved, None
    return region, moved, minimum


def _translate(src: CompiledGraph, dst: CompiledGraph, idx: list[int]) -> list[int]:
    if src is dst:
        return list(idx)
    return [int(i) for i in dst.index_of(src.node_ids[np.asarray(idx)])]


def _join_legs(cg: CompiledGraph, nodes: list[int]) -> tuple[list[int], list[int]]:
    path = [nodes[0]]
    stop_idx = [0]
    for a, b in zip(nodes[:-1], nodes[1:]):
        if a != b:
            path.extend(shortest_tree(cg, a).path(b)[1:])
        stop_idx.append(len(path) - 1)
    return path, stop_idx


def _to_route(
    G: nx.MultiDiGraph,
    cg: CompiledGraph,
    path: list[int],
    *,
    stop_idx: list[int],
    resolved: list[ResolvedStop],
    target_m: float | None,
    profile: str,
    name: str | None,
    metadata: dict[str, Any],
) -> Route:
    """Return the Route along ``path`` (node indices of ``cg``) with each stop at its index in it."""
    ids = cg.node_ids[np.asarray(path)].tolist()
    pos = path_edges(cg, path) if len(path) > 1 else np.zeros(0, np.int64)
    edges = [(int(u), int(v), int(k)) for u, v, k in zip(ids[:-1], ids[1:], cg.key[pos].tolist())]
    cum = np.concatenate([[0.0], np.cumsum(cg.length[pos])])
    route_stops = [
        RouteStop(
            name=s.name,
            # an area stop is where the route reaches it: the node inside the polygon, not its centre
            lat=float(cg.lat[i_node]) if s.kind == "area" else s.lat,
            lon=float(cg.lon[i_node]) if s.kind == "area" else s.lon,
            node=int(ids[i]),
            position_m=float(cum[i]),
            kind=s.kind,
            snap_distance_m=float(s.snap_distance_m),
        )
        for s, i, i_node in zip(resolved, stop_idx, (path[j] for j in stop_idx))
    ]
    if len(ids) < 2:
        raise RoutemapError("the route has no length; give stops that are apart or a target length")
    return Route(
        G, ids, edges=edges, stops=route_stops, target_m=target_m, profile=profile, name=name,
        metadata=metadata,
    )  # fmt: skip
