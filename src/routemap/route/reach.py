"""Reach: how many people live within a buffer of a route, counted once each, fast enough for a search.

A :class:`ReachField` lays a grid of :data:`CELL_M` cells (in the graph's UTM zone) over the street graph.
Each cell holds its share of every tract count (the tract's count times the cell's share of the tract's
area; the tract a cell belongs to is the one holding its centre): areal weighting, as
:func:`routemap.demographics.route_demographics` does with the exact buffer polygon. Each undirected edge
knows the cells whose centre lies within ``buffer_m`` of it. A route's reach is the sum over the *union*
of its edges' cells, so two streets whose buffers overlap count their common residents once, never a sum
over segments. Building a field takes a few seconds per graph and buffer; it is cached on the compiled
graph, and a route's reach then costs a few milliseconds.

This module takes tracts as an argument; only when none are given does it import the embedded ones
(lazily, so ``import routemap.route`` loads no demographics).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from routemap._arrays import unique, unique_index
from routemap.errors import RoutemapError
from routemap.route.compile import CompiledGraph

#: The census counts a route can be planned to reach (the tract columns of routemap.demographics).
REACH_COLUMNS = ("population", "foreign_born", "hispanic", "asian", "limited_english")
#: Grid cell side (metres): a tenth of the usual 400 m buffer keeps the union's area within a few
#: percent of the exact buffer, and a 15-mile route touches ~10^4 cells (a millisecond to sum).
CELL_M = 100.0


def check_reach_column(reach: str) -> str:
    """Return ``reach`` when it names a count of :data:`REACH_COLUMNS`; raise a one-line error otherwise."""
    if reach not in REACH_COLUMNS:
        raise RoutemapError(f"unknown reach {reach!r}; choose one of: {', '.join(REACH_COLUMNS)}")
    return reach


@dataclass
class ReachField:
    """Residents per grid cell and the cells near each undirected edge of a compiled graph.

    Attributes
    ----------
    buffer_m : float
        The distance from a route within which residents count.
    cell_m : float
        Grid cell side in metres.
    counts : dict of str to numpy.ndarray
        Per count column (:data:`REACH_COLUMNS`), residents of each cell.
    edge_ptr, edge_cells : numpy.ndarray
        CSR layout: the cells near undirected edge ``e`` are ``edge_cells[edge_ptr[e]:edge_ptr[e + 1]]``.
    """

    buffer_m: float
    cell_m: float
    counts: dict[str, np.ndarray]
    edge_ptr: np.ndarray
    edge_cells: np.ndarray
    _edge_reach: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def n_cells(self) -> int:
        """Return the number of grid cells."""
        return len(next(iter(self.counts.values())))

    def cells_of(self, eids: np.ndarray) -> np.ndarray:
        """Return the distinct cells near any of the undirected edges ``eids``."""
        eids = unique(np.asarray(eids, np.int64))
        if len(eids) == 0:
            return np.zeros(0, np.int64)
        starts, ends = self.edge_ptr[eids], self.edge_ptr[eids + 1]
        sizes = ends - starts
        idx = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + np.arange(sizes.sum())
        mask = np.zeros(self.n_cells, bool)
        mask[self.edge_cells[idx]] = True
        return np.nonzero(mask)[0]

    def reach(self, eids: np.ndarray, column: str = "population") -> float:
        """Return the residents (``column``) living near any of the edges ``eids``, each counted once."""
        return float(self.counts[check_reach_column(column)][self.cells_of(eids)].sum())

    def edge_reach(self, column: str) -> np.ndarray:
        """Return, per undirected edge, the residents near it alone (a density for biasing a search)."""
        hit = self._edge_reach.get(column)
        if hit is None:
            counts = self.counts[check_reach_column(column)]
            per = (
                np.add.reduceat(counts[self.edge_cells], self.edge_ptr[:-1]) if len(self.edge_cells) else None
            )
            sizes = np.diff(self.edge_ptr)
            hit = np.where(sizes > 0, per if per is not None else 0.0, 0.0)
            self._edge_reach[column] = hit
        return hit


def reach_field(cg: CompiledGraph, buffer_m: float = 400.0, tracts: Any = None) -> ReachField:
    """Return the reach field of ``cg`` for ``buffer_m`` (cached on ``cg`` when ``tracts`` is None).

    Parameters
    ----------
    cg : CompiledGraph
        The compiled street graph.
    buffer_m : float
        The distance from a route within which residents count.
    tracts : GeoDataFrame, optional
        Tract polygons with the :data:`REACH_COLUMNS` counts (as :func:`routemap.load_tracts` returns);
        default the embedded LA County tracts.
    """
    if not buffer_m > 0:
        raise RoutemapError(f"reach_buffer_m must be a positive number of metres, got {buffer_m!r}")
    key = ("_reach_field", float(buffer_m), CELL_M)
    if tracts is None:
        hit = cg.cache.get(key)
        if hit is not None:
            return hit
        from routemap.demographics import load_tracts  # only when needed: route/ does not depend on it

        built = _build(cg, load_tracts(), float(buffer_m), CELL_M)
        cg.cache[key] = built
        return built
    return _build(cg, tracts, float(buffer_m), CELL_M)


def _build(cg: CompiledGraph, tracts: Any, buffer_m: float, cell_m: float) -> ReachField:
    import geopandas as gpd

    x0, x1 = cg.ux.min() - buffer_m - cell_m, cg.ux.max() + buffer_m + cell_m
    y0, y1 = cg.uy.min() - buffer_m - cell_m, cg.uy.max() + buffer_m + cell_m
    nx_, ny_ = int(np.ceil((x1 - x0) / cell_m)), int(np.ceil((y1 - y0) / cell_m))
    gx, gy = np.meshgrid(x0 + (np.arange(nx_) + 0.5) * cell_m, y0 + (np.arange(ny_) + 0.5) * cell_m)
    cx, cy = gx.ravel(), gy.ravel()
    # cells: residents of the tract holding the centre, times the cell's share of that tract's area
    src = tracts.to_crs(cg.utm_crs)
    src = src[src.geometry.notna() & ~src.geometry.is_empty].reset_index(drop=True)
    centres = gpd.GeoSeries(gpd.points_from_xy(cx, cy), crs=cg.utm_crs)
    cell_i, tract_i = gpd.GeoSeries(src.geometry).sindex.query(centres.values, predicate="within")
    # a centre on a shared border belongs to the first tract only
    cell_i, first = unique_index(cell_i)
    tract_i = tract_i[first]
    area = src.geometry.area.to_numpy()
    counts: dict[str, np.ndarray] = {}
    for col in REACH_COLUMNS:
        values = src[col].to_numpy(dtype=float) if col in src else np.zeros(len(src))
        values = np.where(np.isnan(values), 0.0, values)
        per = np.zeros(len(cx))
        per[cell_i] = values[tract_i] * (cell_m * cell_m) / np.maximum(area[tract_i], 1.0)
        counts[col] = per
    # edges: straight node-to-node segments (a simplified edge's bends are far inside a 400 m buffer)
    n_e = int(cg.eid.max()) + 1
    first_pos = np.full(n_e, -1, np.int64)
    first_pos[cg.eid[::-1]] = np.arange(len(cg.eid))[::-1]
    u, v = cg.row[first_pos], cg.col[first_pos]
    lines = shapely.linestrings(
        np.stack([np.column_stack([cg.ux[u], cg.uy[u]]), np.column_stack([cg.ux[v], cg.uy[v]])], axis=1)
    )
    tree = shapely.STRtree(shapely.points(cx, cy))
    e_i, c_i = tree.query(lines, predicate="dwithin", distance=buffer_m)
    order = np.lexsort((c_i, e_i))
    e_i, c_i = e_i[order], c_i[order]
    ptr = np.concatenate([[0], np.cumsum(np.bincount(e_i, minlength=n_e))]).astype(np.int64)
    return ReachField(
        buffer_m=buffer_m, cell_m=cell_m, counts=counts, edge_ptr=ptr, edge_cells=c_i.astype(np.int64)
    )


def path_reach(cg: CompiledGraph, path: list[int], field_: ReachField, column: str) -> float:
    """Return the residents (``column``) within the field's buffer of the node path ``path``."""
    if len(path) < 2:
        return 0.0
    p = np.asarray(path, np.int64)
    return field_.reach(cg.eid[cg.edge_pos(p[:-1], p[1:])], column)


# -- planning for reach ------------------------------------------------------------------------------
#: Strengths of the reach discount tried, in order: an edge's cost is multiplied by exp(-beta * z), z its
#: residents per cell relative to the dense end of the map (:data:`DENSE_QUANTILE`), capped at
#: :data:`Z_MAX`. 0.5 bends the route towards people without giving up the profile (1.0 and 1.5
#: measured no better on the demo and cost a second each); 0 is the default search itself, so a reach
#: route never reaches fewer people than the default route's candidates.
REACH_BETAS = (0.5, 0.0)
#: The density that counts as "dense" (z = 1): this quantile of the edges' residents per cell.
DENSE_QUANTILE = 0.95
#: Densities above the dense one earn no further discount (a single tower block should not steer a route).
Z_MAX = 1.5
#: A reach route running twice (same streets or alongside) over more than this share of its length ranks
#: after every route that does not: organizers publish routes that do not come back on themselves.
REACH_MAX_OVERLAP_SHARE = 0.01
#: A reach route with more turns per mile than this ranks after every route with fewer: a route an
#: organizer publishes fits its cue sheet on a card, and stays a street route rather than a maze.
REACH_MAX_TURNS_PER_MILE = 2.5
#: How many of the best reach candidates are straightened (:mod:`routemap.route.turns`) and compared
#: again when the best one stays twisty or runs twice: straightening changes the turns and the reach.
REACH_STRAIGHTEN_TOP = 2


def discounted(cg: CompiledGraph, field_: ReachField, column: str, beta: float) -> CompiledGraph:
    """Return ``cg`` with each edge's cost discounted by the residents near it (cached on ``cg``)."""
    import dataclasses

    from scipy.sparse import csr_matrix

    if beta == 0:
        return cg
    key = ("_reach_discount", id(field_), column, float(beta))
    hit = cg.cache.get(key)
    if hit is not None and hit[0] is field_:
        return hit[1]
    ncell = np.diff(field_.edge_ptr)
    density = field_.edge_reach(column) / np.maximum(ncell, 1)
    dense = float(np.quantile(density[ncell > 0], DENSE_QUANTILE)) if (ncell > 0).any() else 0.0
    z = np.clip(density / dense, 0.0, Z_MAX) if dense > 0 else np.zeros(len(density))
    data = cg.cost.data * np.exp(-beta * z[cg.eid])
    fwd = csr_matrix((data, cg.cost.indices, cg.cost.indptr), shape=cg.cost.shape)
    rev = csr_matrix((data[cg.perm_t], cg.cost_t.indices, cg.cost_t.indptr), shape=cg.cost.shape)
    out = dataclasses.replace(cg, cost=fwd, cost_t=rev, cache={})
    cg.cache[key] = (field_, out)
    return out


@dataclass
class ReachCandidate:
    """A planned path (node indices of the undiscounted graph) and the figures a reach search ranks by."""

    path: list[int]
    stop_idx: list[int]
    metres: float
    repeated_m: float
    doubled_m: float
    reach: float

    def key(self, target_m: float | None, tolerance: float, max_repeated_share: float) -> tuple:
        """Return the ranking key: limits met first, then little run twice, then the most reach."""
        within = target_m is None or abs(self.metres - target_m) <= tolerance * target_m
        meets = within and self.repeated_m <= max_repeated_share * self.metres
        overlap = max(self.repeated_m, self.doubled_m) > REACH_MAX_OVERLAP_SHARE * self.metres
        return (not meets, overlap, -round(self.reach), tuple(self.path))


def measure_reach(
    cg: CompiledGraph, path: list[int], stop_idx: list[int], field_: ReachField, column: str
) -> ReachCandidate:
    """Return ``path`` measured: length, repeated and doubled-back metres, and its reach."""
    from routemap.route.objective import path_doubled_m

    p = np.asarray(path, np.int64)
    pos = cg.edge_pos(p[:-1], p[1:])
    lengths = cg.length[pos]
    _, first = unique_index(cg.eid[pos])
    return ReachCandidate(
        path=list(path),
        stop_idx=list(stop_idx),
        metres=float(lengths.sum()),
        repeated_m=float(lengths.sum() - lengths[first].sum()),
        doubled_m=path_doubled_m(cg, path),
        reach=field_.reach(cg.eid[pos], column),
    )


def search_reach(
    cg: CompiledGraph,
    plan: Any,
    *,
    field_: ReachField,
    column: str,
    target_m: float | None,
    tolerance: float,
    max_repeated_share: float,
    stop_nodes: list[int] | None = None,
) -> list[ReachCandidate]:
    """Return candidate routes for the reach objective, best first.

    ``plan(graph, stops)`` is the length search on a (discounted) compiled graph with the same node
    indices, through the node indices ``stops``: it returns ``(path, stop_idx)`` pairs. It runs once per
    :data:`REACH_BETAS` discount through ``stop_nodes``; then, with a target, once more (on the plain
    costs) through each of :data:`HOTSPOTS` extra via stops where many people live out of the best
    route's reach (:func:`hotspots`). Every path is measured on the real graph (length, repeated, doubled back, reach)
    and ranked by :meth:`ReachCandidate.key`.
    """
    out: list[ReachCandidate] = []
    seen: set[tuple[int, ...]] = set()

    def add(found: list[tuple[list[int], list[int]]], via_at: int | None = None) -> None:
        for path, stop_idx in found:
            if via_at is not None:
                stop_idx = stop_idx[:via_at] + stop_idx[via_at + 1 :]
            if tuple(path) not in seen:
                seen.add(tuple(path))
                out.append(measure_reach(cg, path, stop_idx, field_, column))

    for beta in REACH_BETAS:
        add(plan(discounted(cg, field_, column, beta), stop_nodes))
    out.sort(key=lambda c: c.key(target_m, tolerance, max_repeated_share))
    if target_m is None or stop_nodes is None or not out:
        return out
    for w, leg in hotspots(cg, field_, column, stop_nodes, target_m=target_m, covered=out[0].path):
        # on the plain costs: the via stop already pulls the route to people, and the profile's own
        # streets keep it a route of few turns (measured: 33,200 people at 2.4 turns/mi from MacArthur
        # Park to Chinatown, 8 km, against 41,100 at 3.2 turns/mi on the discounted costs)
        add(plan(cg, stop_nodes[: leg + 1] + [w] + stop_nodes[leg + 1 :]), via_at=leg + 1)
    out.sort(key=lambda c: c.key(target_m, tolerance, max_repeated_share))
    return out


#: Extra via stops tried by the reach search: the densest places out of the best route's reach (one:
#: each costs a length search, and a second one found no more people on the three benchmark stop sets).
HOTSPOTS = 1
#: A hotspot may take at most this share of the route's extra length (straight-line detour times
#: :data:`HOTSPOT_DETOUR`), leaving the rest for the length search to fill.
HOTSPOT_EXTRA_SHARE = 0.8
#: Streets run about this much longer than the straight line (a grid's ratio, between 1 and sqrt 2).
HOTSPOT_DETOUR = 1.3
#: Two hotspots at least this far apart (metres), so that the second is another neighbourhood.
HOTSPOT_SPACING_M = 1500.0


def hotspots(
    cg: CompiledGraph,
    field_: ReachField,
    column: str,
    stops: list[int],
    *,
    target_m: float,
    covered: list[int],
) -> list[tuple[int, int]]:
    """Return up to :data:`HOTSPOTS` (node, leg) pairs: through nodes whose streets reach the most people
    not yet within reach of the path ``covered``, that a detour from leg ``leg`` can visit within the
    route's extra length."""
    p = np.asarray(covered, np.int64)
    counts = field_.counts[column].copy()
    counts[field_.cells_of(cg.eid[cg.edge_pos(p[:-1], p[1:])])] = 0.0
    sizes = np.diff(field_.edge_ptr)
    per_edge = np.zeros(len(sizes))
    nz = sizes > 0
    per_edge[nz] = np.add.reduceat(counts[field_.edge_cells], field_.edge_ptr[:-1][nz])
    # a node scores what its best street reaches
    entry = per_edge[cg.eid]
    rows = np.diff(cg.cost.indptr) > 0
    score = np.zeros(cg.n)
    score[rows] = np.maximum.reduceat(entry, cg.cost.indptr[:-1][rows])
    score[~cg.through] = 0.0
    s = np.asarray(stops, np.int64)
    leg_straight = np.hypot(np.diff(cg.ux[s]), np.diff(cg.uy[s]))
    extra = target_m - HOTSPOT_DETOUR * float(leg_straight.sum())
    if extra <= 0:
        return []
    detour = np.full((len(s) - 1, cg.n), np.inf)
    for i in range(len(s) - 1):
        da = np.hypot(cg.ux - cg.ux[s[i]], cg.uy - cg.uy[s[i]])
        db = np.hypot(cg.ux - cg.ux[s[i + 1]], cg.uy - cg.uy[s[i + 1]])
        detour[i] = HOTSPOT_DETOUR * (da + db - leg_straight[i])
    leg = np.argmin(detour, axis=0)
    fits = detour[leg, np.arange(cg.n)] <= HOTSPOT_EXTRA_SHARE * extra
    score = np.where(fits, score, 0.0)
    chosen: list[tuple[int, int]] = []
    for w in np.lexsort((np.arange(cg.n), -score)):
        if score[w] <= 0 or len(chosen) == HOTSPOTS:
            break
        if all(np.hypot(cg.ux[w] - cg.ux[c], cg.uy[w] - cg.uy[c]) >= HOTSPOT_SPACING_M for c, _ in chosen):
            chosen.append((int(w), int(leg[w])))
    return chosen


def reach_rank(candidate: ReachCandidate, cg: CompiledGraph) -> tuple:
    """Return the final ranking key of a finished reach route: few turns and little overlap, then reach."""
    from routemap.route.turns import path_turns
    from routemap.settings import METERS_PER_MILE

    miles = candidate.metres / METERS_PER_MILE
    twisty = path_turns(cg, candidate.path) > REACH_MAX_TURNS_PER_MILE * miles
    overlap = max(candidate.repeated_m, candidate.doubled_m) > REACH_MAX_OVERLAP_SHARE * candidate.metres
    return (overlap, twisty, -round(candidate.reach), tuple(candidate.path))
