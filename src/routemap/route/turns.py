"""Turn cost: a turn-aware search that straightens a planned route without changing its length much.

The length search (:mod:`routemap.route.target`) runs on nodes, where a staircase through a street grid
costs the same as one corner: Dijkstra picks any of them, and a 15-mile run collected 68 turns. A turn
needs to know the edge a runner arrives on, so this module searches the *edge graph*: one state per
directed edge, one arc per pair of edges meeting at a node (U-turns left out), an arc costing the next
edge's profile cost plus :data:`TURN_COST_M` when the pair is a turn.

A pair is a turn (the planner's stand-in for :attr:`Route.turns`, measured on the graph) when the
heading changes by more than :data:`BEND_DEG`, or when both edges carry a street name, the names differ
and the heading changes by more than :data:`STRAIGHT_DEG`.

:func:`straighten` walks each leg of a planned path in windows of about :data:`WINDOW_M`, and replaces a
window by the turn-aware best path between its ends when that has fewer turns, runs on no street used
elsewhere on the route, keeps the route within its length band, does not add metres run alongside
itself, and (when given) loses no more than :data:`REACH_KEEP` of the route's reach. Stops stay where
they are: a window never crosses one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from routemap.route.compile import CompiledGraph
from routemap.route.cues import street_key
from routemap.route.objective import TURN_COST_M, path_doubled_m

#: A heading change above this (degrees) is a turn on any street (a corner, not a bend in the road).
BEND_DEG = 45.0
#: Changing to a differently named street is a turn unless it goes on within this many degrees.
STRAIGHT_DEG = 20.0
#: Turns closer together than this (metres) fold into one (the cue sheet's shortest stretch).
JOG_M = 40.0
#: Window lengths (metres) tried in turn: long windows remove staircases, short ones fix single jogs;
#: the last two start the windows elsewhere, so a turn on a window's end gets a second chance.
WINDOW_M = (4000.0, 2000.0, 1000.0, 3000.0, 1500.0)
#: Cost multiplier of streets used elsewhere on the route (as the length search's used penalty).
USED_PENALTY = 5.0
#: A straightened route keeps at least this share of the reach it had (reach objective).
REACH_KEEP = 0.995
#: A replacement may add at most this many metres run alongside the route (sampling noise).
DOUBLED_SLACK_M = 10.0


@dataclass
class TurnGraph:
    """The edge graph of a compiled graph: states are CSR entries, arcs are pairs meeting at a node.

    Attributes
    ----------
    arc_from, arc_to : numpy.ndarray
        The CSR entries (states) each arc joins, sorted by ``arc_from``.
    arc_turn : numpy.ndarray of bool
        Whether the arc is a turn.
    indptr : numpy.ndarray
        Row pointer of the arcs by ``arc_from``.
    """

    arc_from: np.ndarray
    arc_to: np.ndarray
    arc_turn: np.ndarray
    indptr: np.ndarray
    name_id: np.ndarray
    bearing_in: np.ndarray
    bearing_out: np.ndarray
    graph: csr_matrix  # the arcs by arc_from; its data is overwritten per search with the costs
    arc_eid: np.ndarray  # per arc: the undirected edge id of the next edge

    def is_turn(self, e: np.ndarray, f: np.ndarray) -> np.ndarray:
        """Return whether entering along CSR entry ``e`` and leaving along ``f`` is a turn."""
        return _turn_flags(self.name_id, self.bearing_in, self.bearing_out, np.asarray(e), np.asarray(f))


def _turn_flags(
    name_id: np.ndarray, b_in: np.ndarray, b_out: np.ndarray, e: np.ndarray, f: np.ndarray
) -> np.ndarray:
    delta = np.abs((b_out[f] - b_in[e] + 180.0) % 360.0 - 180.0)
    renamed = name_id[e] != name_id[f]
    return (delta > BEND_DEG) | (renamed & (delta > STRAIGHT_DEG))


def turn_graph(cg: CompiledGraph) -> TurnGraph:
    """Return the edge graph of ``cg`` (cached on it; it does not depend on the costs, so a copy of ``cg``
    with other costs may share it)."""
    hit = cg.cache.get("_turn_graph")
    if hit is not None:
        return hit
    G = cg.graph
    m = len(cg.length)
    names: dict[str, int] = {}
    name_id = np.full(m, -1, np.int64)
    b_in = np.zeros(m)
    b_out = np.zeros(m)
    coslat = math.cos(math.radians(float(np.mean(cg.lat))))
    ids = cg.node_ids
    for e, (u, v, k) in enumerate(zip(ids[cg.row].tolist(), ids[cg.col].tolist(), cg.key.tolist())):
        d = G.edges[u, v, k]
        name = d.get("name")
        if isinstance(name, list):
            name = name[0] if name else None
        if isinstance(name, str) and name:
            name_id[e] = names.setdefault(street_key(name), len(names))
        nu, nv = G.nodes[u], G.nodes[v]
        pu, pv = (nu["x"], nu["y"]), (nv["x"], nv["y"])
        geom = d.get("geometry")
        coords = list(geom.coords) if geom is not None else [pu, pv]
        if (coords[0][0] - pu[0]) ** 2 + (coords[0][1] - pu[1]) ** 2 > (coords[-1][0] - pu[0]) ** 2 + (
            coords[-1][1] - pu[1]
        ) ** 2:
            coords.reverse()
        (x0, y0), (x1, y1) = coords[0], coords[1]
        b_out[e] = math.degrees(math.atan2((x1 - x0) * coslat, y1 - y0))
        (x0, y0), (x1, y1) = coords[-2], coords[-1]
        b_in[e] = math.degrees(math.atan2((x1 - x0) * coslat, y1 - y0))
    outdeg = np.diff(cg.cost.indptr)
    reps = outdeg[cg.col]
    arc_from = np.repeat(np.arange(m), reps)
    starts = np.concatenate([[0], np.cumsum(reps)[:-1]])
    offset = np.arange(int(reps.sum())) - np.repeat(starts, reps)
    arc_to = cg.cost.indptr[cg.col[arc_from]] + offset
    keep = cg.col[arc_to] != cg.row[arc_from]  # no U-turns
    arc_from, arc_to = arc_from[keep], arc_to[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(arc_from, minlength=m))]).astype(np.int64)
    graph = csr_matrix((np.ones(len(arc_to)), arc_to, indptr), shape=(m, m))
    arc_turn = _turn_flags(name_id, b_in, b_out, arc_from, arc_to)
    tg = TurnGraph(
        graph=graph,
        arc_eid=cg.eid[arc_to],
        arc_from=arc_from,
        arc_to=arc_to,
        arc_turn=arc_turn,
        indptr=indptr,
        name_id=name_id,
        bearing_in=b_in,
        bearing_out=b_out,
    )
    cg.cache["_turn_graph"] = tg
    return tg


def path_turns(cg: CompiledGraph, path: list[int]) -> int:
    """Return the turns (this module's stand-in for :attr:`Route.turns`) along a node path.

    Turns closer together than :data:`JOG_M` fold into one whose bend is their net bend (a crosswalk jog
    between two sidewalks bends 90 degrees and back: no turn), as the cue sheet folds short stretches.
    """
    if len(path) < 3:
        return 0
    tg = turn_graph(cg)
    p = np.asarray(path, np.int64)
    pos = cg.edge_pos(p[:-1], p[1:])
    e, f = pos[:-1], pos[1:]
    delta = (tg.bearing_out[f] - tg.bearing_in[e] + 180.0) % 360.0 - 180.0
    renamed = tg.name_id[e] != tg.name_id[f]
    at = np.nonzero((np.abs(delta) > STRAIGHT_DEG) & (renamed | (np.abs(delta) > BEND_DEG)))[0]
    if len(at) == 0:
        return 0
    cum = np.concatenate([[0.0], np.cumsum(cg.length[pos])])[1:]  # position of node k + 1
    count = 0
    net, last_m, named_change = 0.0, -np.inf, False
    for k in at.tolist():
        if cum[k] - last_m < JOG_M:
            net += float(delta[k])
            named_change |= bool(renamed[k])
        else:
            count += _counts(net, named_change)
            net, named_change = float(delta[k]), bool(renamed[k])
        last_m = cum[k]
    return count + _counts(net, named_change)


def _counts(net: float, renamed: bool) -> int:
    a = abs((net + 180.0) % 360.0 - 180.0)
    return int(a > BEND_DEG or (renamed and a > STRAIGHT_DEG))


def _overlap_m(cg: CompiledGraph, path: list[int]) -> float:
    return path_doubled_m(cg, path)


def straighten(
    cg: CompiledGraph,
    path: list[int],
    stop_idx: list[int],
    *,
    lo_m: float,
    hi_m: float,
    score: Callable[[list[int]], float] | None = None,
    max_overlap_m: float = float("inf"),
) -> tuple[list[int], list[int]]:
    """Return ``(path, stop_idx)`` with windows replaced by turn-aware paths (see the module docstring).

    Parameters
    ----------
    cg : CompiledGraph
    path : list of int
        Node indices, start to finish.
    stop_idx : list of int
        Index in ``path`` of each stop (kept in place).
    lo_m, hi_m : float
        The length band the route must stay in.
    score : callable, optional
        A figure of a path to keep (the reach): a window is not replaced when the whole path's
        score would drop below :data:`REACH_KEEP` of what it was.
    max_overlap_m : float
        The most metres the route may run alongside itself (:func:`routemap.route.target.path_doubled_m`).
    """
    if len(path) < 3:
        return path, stop_idx
    tg = turn_graph(cg)
    path = list(path)
    stop_idx = list(stop_idx)
    base_score = score(path) if score is not None else 0.0
    overlap = _overlap_m(cg, path)
    for window_m in WINDOW_M:
        i = 1
        while i < len(path) - 1:
            pos = cg.edge_pos(np.asarray(path[:-1]), np.asarray(path[1:]))
            cum = np.concatenate([[0.0], np.cumsum(cg.length[pos])])
            # the window ends before the next stop after i, about window_m further on
            next_stop = min((s for s in stop_idx if s > i), default=len(path) - 1)
            j = int(np.searchsorted(cum, cum[i] + window_m))
            j = min(max(j, i + 2), next_stop)
            if j - i < 2:
                i = next_stop if next_stop > i else i + 1
                continue
            old_turns = path_turns(cg, path[i - 1 : j + 2])
            new = _best_window(cg, tg, path, pos, i, j) if old_turns > 0 else None
            if new is not None:
                candidate = path[: i + 1] + new[1:-1] + path[j:]
                cpos = cg.edge_pos(np.asarray(candidate[:-1]), np.asarray(candidate[1:]))
                total = float(cg.length[cpos].sum())
                ok = lo_m <= total <= hi_m and _repeats(cg, cpos) <= _repeats(cg, pos) + 1e-6
                if ok:
                    new_overlap = _overlap_m(cg, candidate)
                    ok = new_overlap <= min(overlap + DOUBLED_SLACK_M, max_overlap_m)
                if ok and score is not None:
                    ok = score(candidate) >= REACH_KEEP * base_score
                if ok:
                    new_turns = path_turns(cg, candidate[i - 1 : i + len(new) + 1])
                    ok = new_turns < old_turns
                if ok:
                    shift = len(candidate) - len(path)
                    stop_idx = [s + shift if s >= j else s for s in stop_idx]
                    path = candidate
                    overlap = new_overlap
                    j += shift
            i = j
    return path, stop_idx


def _repeats(cg: CompiledGraph, pos: np.ndarray) -> float:
    lengths = cg.length[pos]
    _, first = np.unique(cg.eid[pos], return_index=True)
    return float(lengths.sum() - lengths[first].sum())


def _best_window(
    cg: CompiledGraph, tg: TurnGraph, path: list[int], pos: np.ndarray, i: int, j: int
) -> list[int] | None:
    """Return the turn-aware best node path path[i] -> path[j], arriving on the route's edge into path[i]."""
    # streets used outside the window cost more, as in the length search
    outside = np.concatenate([pos[: i - 1], pos[j:]])
    used = np.zeros(int(cg.eid.max()) + 1, bool)
    used[cg.eid[outside]] = True
    graph = tg.graph
    base = cg.cache.get("_turn_weights")
    if base is None:  # per arc: the next edge's profile cost plus the turn cost
        base = cg.cache["_turn_weights"] = cg.cost.data[tg.arc_to] + TURN_COST_M * tg.arc_turn
    np.copyto(graph.data, base)
    hit = used[tg.arc_eid]
    graph.data[hit] += (USED_PENALTY - 1.0) * cg.cost.data[tg.arc_to[hit]]
    src = int(pos[i - 1])
    inside = pos[i:j]
    step = cg.cost.data[inside] * np.where(used[cg.eid[inside]], USED_PENALTY, 1.0)
    old_cost = float(step.sum() + TURN_COST_M * tg.is_turn(pos[i - 1 : j - 1], pos[i:j]).sum())
    dist, pred = dijkstra(graph, directed=True, indices=src, return_predecessors=True, limit=old_cost + 1.0)
    ends = np.nonzero(cg.col == path[j])[0]  # entries arriving at path[j]
    final = dist[ends].copy()
    if j < len(path) - 1:
        final += TURN_COST_M * tg.is_turn(ends, np.full(len(ends), pos[j]))
    if not np.isfinite(final).any():
        return None
    e = int(ends[int(np.argmin(final))])
    entries = [e]
    while entries[-1] != src:
        p = int(pred[entries[-1]])
        if p < 0:
            return None
        entries.append(p)
    entries.reverse()
    if len(entries) < 2:
        return None  # the window starts and ends on one node: nothing to straighten
    nodes = [int(cg.row[entries[1]])] + [int(cg.col[x]) for x in entries[1:]]
    return nodes if nodes[0] == path[i] and nodes[-1] == path[j] else None
