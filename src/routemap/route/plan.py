"""``plan_route``: stops (and a target length) -> a :class:`Route` on a street graph."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix

from routemap.errors import RoutemapError, StopError, TargetLengthError, UnreachableStopError
from routemap.route.compile import (
    MIN_COST,
    REGION_MARGIN_M,
    CompiledGraph,
    compile_graph,
    dijkstra_reaching,
    reach_region,
    same_region,
    search_limit,
    shortest_tree,
)
from routemap.route.model import Route, RouteStop
from routemap.route.stops import ResolvedStop, pick_candidates, resolve_stop
from routemap.route.target import path_edges, plan_with_splits
from routemap.settings import (
    LENGTH_TOLERANCE,
    MAX_REPEATED_SHARE,
    MAX_SNAP_DISTANCE_M,
    METERS_PER_MILE,
)

_UNITS = {
    "": 1.0, "m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0,
    "km": 1000.0, "kilometer": 1000.0, "kilometers": 1000.0, "kilometre": 1000.0,
    "kilometres": 1000.0, "mi": METERS_PER_MILE, "mile": METERS_PER_MILE, "miles": METERS_PER_MILE,
}  # fmt: skip
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

    Exact dynamic programming over the stops: each layer is one Dijkstra search from a virtual source
    joined to the previous layer's candidates by their best distance so far.
    """
    n = cg.n
    offsets = np.zeros(len(cands[0]))
    preds = []
    for i in range(1, len(cands)):
        prev = cands[i - 1]
        finite = np.isfinite(offsets)
        indptr = np.concatenate([graph.indptr, [graph.indptr[-1] + int(finite.sum())]])
        aug = csr_matrix(
            (
                np.concatenate([graph.data, offsets[finite] + MIN_COST]),
                np.concatenate([graph.indices, prev[finite]]),
                indptr,
            ),
            shape=(n + 1, n + 1),
        )
        # [issue 16] bounded by the straight distance between the layers, widened until all are reached
        dist, pred = dijkstra_reaching(aug, n, cands[i], _layer_limit(cg, prev, cands[i], offsets[finite]))
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


def _layer_limit(cg: CompiledGraph, prev: np.ndarray, cur: np.ndarray, offsets: np.ndarray) -> float:
    """Return a first search limit for a layer of :func:`_layered_best` (exactness does not depend on it)."""
    if len(offsets) == 0:
        return np.inf
    span = np.hypot(
        np.ptp(np.concatenate([cg.ux[prev], cg.ux[cur]])), np.ptp(np.concatenate([cg.uy[prev], cg.uy[cur]]))
    )
    return float(offsets.max()) + MIN_COST + search_limit(span) + REGION_MARGIN_M


def _fit_areas(
    cg: CompiledGraph, resolved: list[ResolvedStop], nodes: list[int], target_m: float
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
    cg = compile_graph(G, profile, weights)
    if len(stops) == 0:
        raise StopError("no stops given; give at least a start (and a target length) or two stops")
    resolved = [
        resolve_stop(cg, s, max_snap_m=max_snap_m, neighborhoods=neighborhoods, online=online) for s in stops
    ]
    pick_candidates(cg, resolved)
    if len(resolved) == 1:
        if target_m is None:
            raise StopError("one stop makes a route only with a target length (a loop); add one")
        resolved = [resolved[0], resolved[0]]
    minimum = None
    if target_m is not None:
        # [issue 16] planning cost follows the stops and the target, not the network's size
        cg, resolved, minimum = _restrict_to_reach(cg, resolved, target_m * (1 + tolerance))
    cands = [s.candidates for s in resolved]
    nodes, _ = _layered_best(cg, cands, cg.cost)
    metadata = {
        "network_kept_share": cg.kept_length_share,
        "network_kept_node_share": cg.kept_node_share,
        "tolerance": tolerance,
        "max_repeated_share": max_repeated_share,
    }
    if target_m is None:
        path, stop_idx = _join_legs(cg, nodes)
        if len(path) < 2:
            raise StopError("all stops snap to the same street node; give stops that are apart")
    else:
        if minimum is None:
            _, minimum = _layered_best(cg, cands, _length_graph(cg))
        if target_m * (1 + tolerance) < minimum:
            raise TargetLengthError(
                f"target {_fmt_len(target_m)} is shorter than the shortest route through the stops, "
                f"{_fmt_len(minimum)}; raise the target or drop stops",
                minimum_m=minimum,
            )
        path, stop_idx = _search(
            cg, resolved, nodes, target_m, tolerance, max_repeated_share, profile, weights
        )
    return _to_route(G, cg, path, stop_idx, resolved, target_m, profile, name, metadata)


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


def _search(cg, resolved, nodes, target_m, tolerance, max_repeated_share, profile, weights):
    best = None
    attempts = [(False, False), (False, True)] + ([(True, True)] if profile != "shortest" else [])
    for use_shortest, thorough in attempts:
        # a quick search, then a thorough one; then without the profile, whose preferred streets may
        # all be too long for a target near the minimum
        # [issue 16] the shortest-profile graph is cut to the same region as cg
        graph = same_region(compile_graph(cg.graph, "shortest"), cg) if use_shortest else cg
        stop_nodes = _fit_areas(graph, resolved, _translate(cg, graph, nodes), target_m)
        found = plan_with_splits(
            graph, stop_nodes, target_m, tolerance, max_repeated_share, thorough, 2 if thorough else 1
        )
        for path, stop_idx in found:
            pos = path_edges(graph, path)
            lengths = graph.length[pos]
            total = float(lengths.sum())
            _, first = np.unique(graph.eid[pos], return_index=True)
            repeated = float(lengths.sum() - lengths[first].sum())
            ok = abs(total - target_m) <= tolerance * target_m and repeated <= max_repeated_share * total
            if ok:
                return _translate(graph, cg, path), stop_idx
            score = (repeated / total, abs(total - target_m))
            if best is None or score < best[0]:
                best = (score, total, repeated)
    if best is None:
        raise TargetLengthError(
            f"no route of {_fmt_len(target_m)} within {tolerance:.1%} was found through these stops; "
            "try another target, a larger tolerance or other stops"
        )
    raise TargetLengthError(
        f"the best route of {_fmt_len(target_m)} found repeats {best[0][0]:.1%} of its length "
        f"(limit {max_repeated_share:.0%}); raise max_repeated_share, change the target or the stops"
    )


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


def _to_route(G, cg, path, stop_idx, resolved, target_m, profile, name, metadata) -> Route:
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
