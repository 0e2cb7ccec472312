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

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from routemap._arrays import unique, unique_index
from routemap.route.compile import (
    UTM_SLACK,
    CompiledGraph,
    min_rate,
    node_xy,
    thread_scratch,
)
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


def turn_attrs(cg: CompiledGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return per CSR entry of ``cg``: the street-name id, and the bearings (degrees) leaving its tail
    and entering its head (cached; they depend on geometry and names only).

    They are read from the graph once per edge of the whole compiled graph (``cg.root``), and only for
    the edges asked for: a region planned on (:func:`routemap.route.compile.reach_region`) reads its
    own edges, and the next region reuses what the last one read.
    """
    hit = cg.cache.get("_turn_attrs")
    if hit is not None:
        return hit
    root = cg.root
    pos = cg.root_pos if cg.root_pos is not None else np.arange(len(cg.length))
    store = root.cache.get("_turn_attrs_root")
    if store is None:
        m = len(root.length)
        store = root.cache["_turn_attrs_root"] = {
            "done": np.zeros(m, bool),
            "name_id": np.full(m, -1, np.int64),
            "b_in": np.zeros(m),
            "b_out": np.zeros(m),
            "names": {},
            "coslat": math.cos(math.radians(float(np.mean(root.lat)))),
        }
    todo = unique(pos[~store["done"][pos]])
    if len(todo):
        _read_turn_attrs(root, todo, store)
    hit = cg.cache["_turn_attrs"] = (store["name_id"][pos], store["b_in"][pos], store["b_out"][pos])
    return hit


def _read_turn_attrs(root: CompiledGraph, todo: np.ndarray, store: dict) -> None:
    """Fill ``store``'s name ids and bearings of the root's CSR entries ``todo`` from the graph."""
    import shapely

    succ = root.graph._succ
    ids = root.node_ids
    datas = [
        succ[u][v][k]
        for u, v, k in zip(
            ids[root.row[todo]].tolist(), ids[root.col[todo]].tolist(), root.key[todo].tolist()
        )
    ]
    names: dict[str, int] = store["names"]
    keys: dict[object, int] = {}
    name_id = np.full(len(todo), -1, np.int64)
    for e, d in enumerate(datas):
        name = d.get("name")
        if isinstance(name, list):
            name = name[0] if name else None
        if isinstance(name, str) and name:
            nid = keys.get(name)
            if nid is None:
                nid = keys[name] = names.setdefault(street_key(name), len(names))
            name_id[e] = nid
    # first two and last two points of each edge, tail to head: the geometry's, else the end nodes'
    ux, uy = root.lon[root.row[todo]], root.lat[root.row[todo]]
    vx, vy = root.lon[root.col[todo]], root.lat[root.col[todo]]
    p0 = np.column_stack([ux, uy])
    p1 = np.column_stack([vx, vy])
    q0, q1 = p0.copy(), p1.copy()  # the last segment: second-last point, last point
    geoms = [d.get("geometry") for d in datas]
    has = np.fromiter((g is not None for g in geoms), dtype=bool, count=len(geoms))
    if has.any():
        coords, index = shapely.get_coordinates(
            np.array([g for g in geoms if g is not None], dtype=object), return_index=True
        )
        counts = np.bincount(index, minlength=int(has.sum()))
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        last = first + counts - 1
        a0, a1, b0, b1 = coords[first], coords[first + 1], coords[last - 1], coords[last]
        # a geometry drawn head to tail is read backwards (as the cue sheet and the map do)
        at = np.flatnonzero(has)
        tail = p0[at]
        flip = ((a0 - tail) ** 2).sum(axis=1) > ((b1 - tail) ** 2).sum(axis=1)
        p0[at] = np.where(flip[:, None], b1, a0)
        p1[at] = np.where(flip[:, None], b0, a1)
        q0[at] = np.where(flip[:, None], a1, b0)
        q1[at] = np.where(flip[:, None], a0, b1)
    coslat = store["coslat"]
    store["b_out"][todo] = np.degrees(np.arctan2((p1[:, 0] - p0[:, 0]) * coslat, p1[:, 1] - p0[:, 1]))
    store["b_in"][todo] = np.degrees(np.arctan2((q1[:, 0] - q0[:, 0]) * coslat, q1[:, 1] - q0[:, 1]))
    store["name_id"][todo] = name_id
    store["done"][todo] = True


def turn_graph(cg: CompiledGraph) -> TurnGraph:
    """Return the edge graph of ``cg`` (cached on it; it does not depend on the costs, so a copy of ``cg``
    with other costs may share it)."""
    hit = cg.cache.get("_turn_graph")
    if hit is not None:
        return hit
    from routemap.route.kernels import edge_graph

    name_id, b_in, b_out = turn_attrs(cg)
    indptr, arc_from, arc_to, arc_turn = edge_graph(
        cg.cost.indptr, cg.row, cg.col, name_id, b_in, b_out, BEND_DEG, STRAIGHT_DEG
    )
    tg = TurnGraph(
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
    p = np.asarray(path, np.int64)
    return pos_turns(cg, cg.edge_pos(p[:-1], p[1:]))


def pos_turns(cg: CompiledGraph, pos: np.ndarray) -> int:
    """Return :func:`path_turns` of the path whose edges are at CSR positions ``pos``, in order."""
    if len(pos) < 2:
        return 0
    from routemap.route.kernels import count_turns

    name_id, b_in, b_out = turn_attrs(cg)
    return int(count_turns(name_id, b_in, b_out, pos, cg.length, STRAIGHT_DEG, BEND_DEG, JOG_M))


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
    pos = cg.edge_pos(np.asarray(path[:-1]), np.asarray(path[1:]))
    cum = np.concatenate([[0.0], np.cumsum(cg.length[pos])])
    repeats = _repeats(cg, pos)
    count = np.bincount(cg.eid[pos], minlength=int(cg.eid.max()) + 1)
    best_already: list[tuple[int, int]] = []  # windows (i, j) whose path is the best way through
    for window_m in WINDOW_M:
        i = 1
        while i < len(path) - 1:
            # the window ends before the next stop after i, about window_m further on
            next_stop = min((s for s in stop_idx if s > i), default=len(path) - 1)
            j = int(np.searchsorted(cum, cum[i] + window_m))
            j = min(max(j, i + 2), next_stop)
            if j - i < 2:
                i = next_stop if next_stop > i else i + 1
                continue
            old_turns = pos_turns(cg, pos[i - 1 : j + 1])  # path[i - 1 : j + 2]'s edges
            # a replacement longer than this would take the route past hi_m: the search stays within it
            max_new_m = float(cum[j] - cum[i]) + hi_m - float(cum[-1])
            # a window inside one found to be the best way through already is one too: every part of
            # a best path is a best path (its alternatives cost as much or more, and fit the larger
            # window's length band), so it is not searched again
            known = any(a <= i and j <= b for a, b in best_already)
            search = old_turns > 0 and not known
            new = _best_window(cg, tg, path, pos, i, j, max_new_m, count) if search else None
            if new is not None and new == path[i : j + 1]:
                best_already.append((i, j))
                new = None  # the window is already the best way through it
            if new is not None:
                candidate = path[: i + 1] + new[1:-1] + path[j:]
                # the candidate's edges: the route's before and after the window, the new way's between
                way = np.asarray(new, np.int64)
                cpos = np.concatenate([pos[:i], cg.edge_pos(way[:-1], way[1:]), pos[j:]])
                total = float(cg.length[cpos].sum())
                ok = lo_m <= total <= hi_m and _repeats(cg, cpos) <= repeats + 1e-6
                if ok:  # the cheap checks first: turns, then doubling back, then the reach
                    # the edges of candidate[i - 1 : i + len(new) + 1]
                    new_turns = pos_turns(cg, cpos[i - 1 : i + len(new)])
                    ok = new_turns < old_turns
                if ok:
                    new_overlap = _overlap_m(cg, candidate)
                    ok = new_overlap <= min(overlap + DOUBLED_SLACK_M, max_overlap_m)
                if ok and score is not None:
                    ok = score(candidate) >= REACH_KEEP * base_score
                if ok:
                    shift = len(candidate) - len(path)
                    stop_idx = [s + shift if s >= j else s for s in stop_idx]
                    # windows wholly before or after the change keep their edges (those after move)
                    best_already = [
                        (a, b) if b <= i - 1 else (a + shift, b + shift)
                        for a, b in best_already
                        if b <= i - 1 or a >= j + 1
                    ]
                    path = candidate
                    overlap = new_overlap
                    np.subtract.at(count, cg.eid[pos[i:j]], 1)
                    np.add.at(count, cg.eid[cpos[i : i + len(new) - 1]], 1)
                    pos = cpos
                    cum = np.concatenate([[0.0], np.cumsum(cg.length[pos])])
                    repeats = _repeats(cg, pos)
                    j += shift
            i = j
    return path, stop_idx


def _repeats(cg: CompiledGraph, pos: np.ndarray) -> float:
    lengths = cg.length[pos]
    _, first = unique_index(cg.eid[pos])
    return float(lengths.sum() - lengths[first].sum())


@contextlib.contextmanager
def _taken(count: np.ndarray, eids: np.ndarray) -> Iterator[np.ndarray]:
    """Take one use of each street in ``eids`` from ``count`` for the block, and give it back after."""
    np.subtract.at(count, eids, 1)
    try:
        yield count
    finally:
        np.add.at(count, eids, 1)


def _best_window(
    cg: CompiledGraph,
    tg: TurnGraph,
    path: list[int],
    pos: np.ndarray,
    i: int,
    j: int,
    max_new_m: float,
    count: np.ndarray,
) -> list[int] | None:
    """Return the turn-aware best path path[i] -> path[j] of at most ``max_new_m`` metres, arriving on
    the route's edge into path[i], or None.

    The search runs on the part of the edge graph a path of that length can use: the nodes inside the
    ellipse with foci path[i] and path[j] whose straight distances sum to ``max_new_m`` (a longer way
    round could not keep the route in its length band), and is bounded by the window's own turn-aware
    cost. Its cost follows the window, not the network. ``count`` holds the route's uses of each
    street (``cg.eid``); it is the same after the call.
    """
    from routemap.route.kernels import scratch, window_path

    base = cg.cache.get("_turn_weights")
    if base is None:  # per arc: the next edge's profile cost plus the turn cost
        base = cg.cache["_turn_weights"] = cg.cost.data[tg.arc_to] + TURN_COST_M * tg.arc_turn
    src = int(pos[i - 1])
    inside = pos[i:j]
    a, b = path[i], path[j]
    # streets used outside the window cost more, as in the length search: a street is used outside
    # when the route runs it more often than the window (with the edge into path[i]) does: the
    # route's uses less the window's, taken from ``count`` for the search and given back after it
    with _taken(count, cg.eid[pos[i - 1 : j]]) as outside:
        step = cg.cost.data[inside] * np.where(outside[cg.eid[inside]] > 0, USED_PENALTY, 1.0)
        old_cost = float(step.sum() + TURN_COST_M * tg.is_turn(pos[i - 1 : j - 1], pos[i:j]).sum())
        limit = old_cost + 1.0
        # the states (edges) whose both ends lie in the ellipse, and the route's edge into path[i]
        reach_m = min(max_new_m, limit / min_rate(cg)) * UTM_SLACK + 1.0
        if reach_m < np.hypot(cg.ux[b] - cg.ux[a], cg.uy[b] - cg.uy[a]):
            return None
        # the entries arriving at path[j], in CSR order, and the turn onto the route's next edge
        into = cg.perm_t[cg.cost_t.indptr[b] : cg.cost_t.indptr[b + 1]]
        ends = np.sort(into)
        extra = np.zeros(len(ends))
        if j < len(path) - 1:
            extra = TURN_COST_M * tg.is_turn(ends, np.full(len(ends), pos[j])).astype(float)
        found = window_path(
            tg.indptr,
            tg.arc_to,
            base,
            tg.arc_eid,
            cg.cost.data,
            USED_PENALTY - 1.0,
            outside,
            cg.row,
            cg.col,
            node_xy(cg),
            src,
            float(cg.ux[a]),
            float(cg.uy[a]),
            float(cg.ux[b]),
            float(cg.uy[b]),
            float(reach_m),
            float(limit),
            ends,
            extra,
            min_rate(cg) / UTM_SLACK,
            thread_scratch(cg, "states", lambda: scratch(cg.n, len(cg.length), len(tg.arc_to))),
        )
    if len(found) < 2:
        return None  # no way through, or the window starts and ends on one node: nothing to straighten
    out = [int(cg.row[found[1]]), *cg.col[found[1:]].tolist()]
    return out if out[0] == path[i] and out[-1] == path[j] else None
