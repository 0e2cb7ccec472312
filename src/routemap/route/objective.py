"""What "better" means to the route search: the ranking key, repeated length, the limits, the cost hook.

Every level of the length search (:mod:`routemap.route.target`) and :func:`routemap.route.plan_route`
compares routes through this module only:

- :class:`Candidate` holds a node path and its measured figures (length, repeated and doubled-back metres,
  profile cost; ``reach`` and ``turns`` are room for objectives that need them).
- :func:`repeated_m` is the one definition of "repeated length": a traversal is repeated when its street
  (an undirected node pair) was run before, earlier on the same path or by the route before it.
- An :class:`Objective` turns a candidate's figures into a sortable key (smaller is better).
  :class:`LengthObjective` (``"length"``) ranks by metres run twice, then closeness to the
  target, then profile cost; :class:`CostObjective` (``"cost"``, ``plan_route``'s default) adds a cost
  per turn and compares lengths in coarser steps; :class:`ReachObjective` (``"reach"``) ranks as
  ``"length"`` inside the search while :mod:`routemap.route.reach` ranks whole routes by reach. A new
  objective is one new class here, registered in :data:`OBJECTIVES`; ``plan_route(..., objective=...)``
  takes its name or an instance.
- :func:`meets_limits` says whether a route is good enough to stop searching.
- :class:`EdgeCost` is the cost hook: edge costs from an edge attribute or a function instead of the
  profile's multipliers; :func:`apply_cost` lays it over a compiled graph (cached per hook).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy.sparse import csr_matrix

from routemap.errors import RoutemapError
from routemap.route.compile import MIN_COST, CompiledGraph, checked_edges, thread_scratch
from routemap.route.overlap import Samples, doubled_back_m

#: Metres run twice are compared to the nearest 10 m: below that the doubled-back measure (10 m samples)
#: cannot tell two routes apart, and a shorter-by-a-sample route should not beat a cheaper one.
OVERLAP_STEP_M = 10.0
#: Distances to the target are compared to the nearest 0.1 m: closer than that is the same length.
DEVIATION_ROUND_DECIMALS = 1
#: Under the "cost" objective, distances to the target are compared in steps of this many metres (half
#: a percent of a 15-mile route): below that a runner cannot tell two lengths apart, and the profile
#: cost and the turns should decide.
DEVIATION_STEP_M = 120.0
#: Cost of a turn in profile metres, for the "cost" objective and the straightening search
#: (:mod:`routemap.route.turns`): a runner takes a two-block detour (~200 m) rather than one more turn,
#: but not a much longer one.
TURN_COST_M = 200.0


@dataclass
class Candidate:
    """A path (node indices of a compiled graph) and what it measures.

    Attributes
    ----------
    path : list of int
        Node indices, start to finish.
    metres : float
        Length (sum of the edges' real lengths).
    repeated_m : float
        Metres on streets run before (see :func:`repeated_m`).
    cost : float
        Profile cost (sum of the edges' routing costs).
    doubled_m : float
        Metres running again alongside where the route already went (see :mod:`routemap.route.overlap`).
    reach, turns : float or None
        Figures for objectives that rank by them (people near the route, turns); None when not measured.
    """

    path: list[int]
    metres: float
    repeated_m: float
    cost: float
    doubled_m: float = 0.0
    reach: float | None = None
    turns: float | None = None

    @property
    def overlap_m(self) -> float:
        """Return the metres run twice: on the same edges, or alongside (a sidewalk, a parallel way)."""
        return max(self.repeated_m, self.doubled_m)

    def key(self, target: float, objective: Objective | None = None) -> tuple[float, ...]:
        """Return the candidate's ranking key under ``objective`` (default: :data:`DEFAULT_OBJECTIVE`)."""
        return (objective or DEFAULT_OBJECTIVE).key(self, target)


@runtime_checkable
class Objective(Protocol):
    """What makes one candidate route better than another (smaller keys are better)."""

    name: str

    def key(
        self, candidate: Candidate, target: float, *, overlap_step_m: float = OVERLAP_STEP_M
    ) -> tuple[float, ...]:
        """Return the sort key of a measured ``candidate`` for a route (or leg) of ``target`` metres.

        ``overlap_step_m``: metres run twice closer than this count alike (growing a loop uses a
        coarser step, trading a little overlap for faster growth).
        """
        ...

    def screen_order(
        self,
        overlap_m: np.ndarray,
        cost: np.ndarray,
        tie: np.ndarray,
        *,
        deviation: np.ndarray | None = None,
        overlap_step_m: float = OVERLAP_STEP_M,
    ) -> np.ndarray:
        """Return the order in which to measure many unmeasured endings (arrays of estimates).

        The exact finish (:func:`routemap.route.target.finish`) sees thousands of endings, all within the
        length band; it measures only the first few in this order. Growing a route passes how far each
        ending leaves it short of the target as ``deviation``.
        """
        ...

    def annotate(self, cg: CompiledGraph, candidate: Candidate) -> None:
        """Fill in the figures this objective ranks by that :func:`measure` does not (e.g. ``reach``)."""
        ...


class LengthObjective:
    """Rank by metres run twice (to 10 m), then distance to the target (to 0.1 m), then profile cost."""

    name: str = "length"

    def key(
        self, candidate: Candidate, target: float, *, overlap_step_m: float = OVERLAP_STEP_M
    ) -> tuple[float, ...]:
        """Return ``(overlap, |length - target|, cost)``, overlap in steps, distance to 0.1 m."""
        return (
            _steps(candidate.overlap_m, overlap_step_m),
            round(abs(candidate.metres - target), DEVIATION_ROUND_DECIMALS),
            candidate.cost,
        )

    def screen_order(
        self,
        overlap_m: np.ndarray,
        cost: np.ndarray,
        tie: np.ndarray,
        *,
        deviation: np.ndarray | None = None,
        overlap_step_m: float = OVERLAP_STEP_M,
    ) -> np.ndarray:
        """Return the endings by estimated overlap (in steps), then deviation (if given), cost, ``tie``."""
        columns = [tie, cost] + ([] if deviation is None else [deviation])
        return np.lexsort((*columns, _steps(np.asarray(overlap_m, float), overlap_step_m)))

    def annotate(self, cg: CompiledGraph, candidate: Candidate) -> None:
        """Do nothing: length, overlap and cost are measured for every candidate."""


class CostObjective(LengthObjective):
    """Rank by metres run twice, then distance to the target in steps, then profile cost plus turns.

    ``plan_route``'s default. Routes whose lengths differ by less than :data:`DEVIATION_STEP_M` are the
    same length to a runner, so among them the cheaper one wins, counting :data:`TURN_COST_M` per turn
    (:func:`routemap.route.turns.path_turns`): a route on few streets rather than a staircase.
    """

    name: str = "cost"

    def key(
        self, candidate: Candidate, target: float, *, overlap_step_m: float = OVERLAP_STEP_M
    ) -> tuple[float, ...]:
        """Return ``(overlap in steps, |length - target| in steps, cost + turn cost)``."""
        return (
            _steps(candidate.overlap_m, overlap_step_m),
            round(abs(candidate.metres - target) / DEVIATION_STEP_M),
            candidate.cost + TURN_COST_M * (candidate.turns or 0.0),
        )

    def annotate(self, cg: CompiledGraph, candidate: Candidate) -> None:
        """Count the candidate's turns."""
        from routemap.route.turns import path_turns

        candidate.turns = float(path_turns(cg, candidate.path))


class ReachObjective(LengthObjective):
    """Rank as :class:`LengthObjective` inside the length search; the reach decides above it.

    ``plan_route(..., objective="reach")`` runs the length search on graphs whose costs are discounted
    where people live, measures every route it returns with a reach field and keeps the one reaching
    the most people (:mod:`routemap.route.reach`); inside the search, closeness to the target and the
    (discounted) cost rank the candidates.
    """

    name: str = "reach"


#: The objective used when none is given.
DEFAULT_OBJECTIVE: Objective = LengthObjective()
#: Objectives by name, for ``plan_route(..., objective="...")``.
OBJECTIVES: dict[str, Objective] = {
    obj.name: obj for obj in (DEFAULT_OBJECTIVE, CostObjective(), ReachObjective())
}


def _steps(metres: Any, step: float) -> Any:
    """Return ``metres`` rounded to the nearest multiple of ``step`` (a float or an array)."""
    if step == OVERLAP_STEP_M:
        return np.round(metres, -1) if isinstance(metres, np.ndarray) else round(metres, -1)
    return (
        np.round(np.asarray(metres) / step) * step
        if isinstance(metres, np.ndarray)
        else round(metres / step) * step
    )


def get_objective(objective: str | Objective | None) -> Objective:
    """Return the objective named ``objective`` (or the instance itself; None: the default)."""
    if objective is None:
        return DEFAULT_OBJECTIVE
    if isinstance(objective, str):
        try:
            return OBJECTIVES[objective]
        except KeyError:
            raise RoutemapError(
                f"objective {objective!r} is not known; use one of {', '.join(sorted(OBJECTIVES))}"
            ) from None
    if not isinstance(objective, Objective):
        raise RoutemapError(f"objective {objective!r} has no key(); give a name or an Objective")
    return objective


# -- repeated length -----------------------------------------------------------------------------------
def repeated_m(street: np.ndarray, lengths: np.ndarray, used: np.ndarray | None = None) -> float:
    """Return the metres of a path run on streets already run, counted once per extra traversal.

    Parameters
    ----------
    street : numpy.ndarray of int
        Per traversal, in order, the id of its street (an undirected node pair; both directions alike).
    lengths : numpy.ndarray of float
        Per traversal, its length in metres.
    used : numpy.ndarray of bool, optional
        Per street id, whether the route before this path ran it already (then every traversal counts).

    Returns
    -------
    float
    """
    street = np.asarray(street, np.int64)
    lengths = np.asarray(lengths, float)
    if len(street) == 0:
        return 0.0
    order = np.argsort(street, kind="stable")
    s = street[order]
    again = np.zeros(len(s), bool)
    again[1:] = s[1:] == s[:-1]
    repeated = np.empty(len(street), bool)
    repeated[order] = again
    if used is not None:
        repeated |= used[street]
    return float(lengths[repeated].sum())


def street_ids(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Return an id per undirected node pair (u, v) (same id for (v, u)); ids are 0..k-1 in pair order."""
    u = np.asarray(u, np.int64)
    v = np.asarray(v, np.int64)
    pairs = np.column_stack([np.minimum(u, v), np.maximum(u, v)])
    if len(pairs) == 0:
        return np.zeros(0, np.int64)
    _, ids = np.unique(pairs, axis=0, return_inverse=True)
    return np.asarray(ids, np.int64).ravel()


# -- measuring paths on a compiled graph --------------------------------------------------------------
def path_edges(cg: CompiledGraph, path: list[int]) -> np.ndarray:
    """Return the CSR positions of the edges along ``path``."""
    p = np.asarray(path, np.int64)
    return cg.edge_pos(p[:-1], p[1:])


#: Sampled priors kept per compiled graph (the candidates of one leg share their prior).
PRIOR_SAMPLES_KEPT = 4


def path_doubled_m(cg: CompiledGraph, path: list[int], prior: list[int] | None = None) -> float:
    """Return the metres of ``path`` that run alongside itself or ``prior`` (the route before it).

    The prior's samples and their KD-tree are kept on ``cg`` for the next candidate with the same prior.
    """
    if not prior or len(prior) < 2:
        nodes = np.asarray(path, np.int64)
        return doubled_back_m(cg.ux[nodes], cg.uy[nodes])
    memo: dict = cg.cache.setdefault("_prior_samples", {})
    key = tuple(prior)
    line = memo.get(key)
    if line is None:
        p = np.asarray(prior, np.int64)
        line = Samples.of(cg.ux[p], cg.uy[p])
        if line is None:  # the prior has no length: the path alone
            nodes = np.asarray(path, np.int64)
            return doubled_back_m(cg.ux[nodes], cg.uy[nodes])
        if len(memo) >= PRIOR_SAMPLES_KEPT:
            memo.pop(next(iter(memo)))
        memo[key] = line
    nodes = np.asarray(path, np.int64)
    return line.doubled_after(cg.ux[nodes], cg.uy[nodes])


def measure(
    cg: CompiledGraph,
    path: list[int],
    *,
    used_count: np.ndarray | None = None,
    prior: list[int] | None = None,
    objective: Objective | None = None,
) -> Candidate:
    """Return ``path`` measured: length, repeated metres, profile cost, doubled-back metres.

    Parameters
    ----------
    cg : CompiledGraph
    path : list of int
        Node indices.
    used_count : numpy.ndarray, optional
        Per undirected edge id (``cg.eid``), how often the route before this path ran it.
    prior : list of int, optional
        The route before this path: running alongside it counts as doubling back.
    objective : Objective, optional
        Fills in any further figure it ranks by (:meth:`Objective.annotate`).
    """
    cand = _edge_figures(cg, path, used_count)
    if len(path) < 2:
        return cand
    cand.doubled_m = path_doubled_m(cg, path, prior)
    (objective or DEFAULT_OBJECTIVE).annotate(cg, cand)
    return cand


def _edge_figures(cg: CompiledGraph, path: list[int], used_count: np.ndarray | None) -> Candidate:
    """Return ``path`` with the figures its edges sum to (length, repeated metres, cost) and nothing else."""
    if len(path) < 2:
        return Candidate(list(path), 0.0, 0.0, 0.0)
    from routemap.route.kernels import path_figures

    # one kernel: the edges' positions and the numpy sums of their metres, repeated metres and costs
    seen, gen = thread_scratch(
        cg, "streets", lambda: (np.zeros(int(cg.eid.max()) + 1, np.int64), np.ones(1, np.int64))
    )
    pos, metres, repeated, cost = path_figures(
        cg.cost.indptr,
        cg.cost.indices,
        cg.length,
        cg.cost.data,
        cg.eid,
        _NO_COUNT if used_count is None else used_count,
        np.asarray(path, np.int64),
        seen,
        gen,
    )
    checked_edges(pos)
    return Candidate(list(path), float(metres), float(repeated), float(cost))


_NO_COUNT = np.zeros(0, np.int64)


def measure_better(
    cg: CompiledGraph,
    path: list[int],
    *,
    goal: float,
    bound: tuple[float, ...] | None,
    used_count: np.ndarray | None = None,
    prior: list[int] | None = None,
    objective: Objective | None = None,
) -> Candidate | None:
    """Return :func:`measure` of ``path``, or None when its key for ``goal`` must be above ``bound``.

    The objective's figures (the turns) and then the doubled-back metres (a sampled geometry, most of a
    measure's cost) are filled in only while the key so far, a lower bound of the final key, stays at
    or below ``bound``: turning and running alongside the route can only make the key larger under the
    built-in objectives (:class:`LengthObjective` and its subclasses). A candidate skipped here has a
    key larger than ``bound``, so the best of many candidates is the same as when all are measured.
    ``bound`` None, or another objective: always measured.
    """
    obj = objective or DEFAULT_OBJECTIVE
    if bound is None or len(path) < 2 or not isinstance(obj, LengthObjective):
        return measure(cg, path, used_count=used_count, prior=prior, objective=obj)
    cand = _edge_figures(cg, path, used_count)
    if obj.key(cand, goal) > bound:  # no doubling back, no turns: the least key it can have
        return None
    obj.annotate(cg, cand)
    if obj.key(cand, goal) > bound:
        return None
    cand.doubled_m = path_doubled_m(cg, path, prior)
    return cand


#: A path's repeated metres are summed again for every path that begins with it; the longer path's sum
#: may come out this much lower (rounding) though it repeats at least as much.
FLOOR_SLACK_M = 0.01


def overlap_floor(
    cg: CompiledGraph,
    path: list[int],
    *,
    used_count: np.ndarray | None = None,
    prior: list[int] | None = None,
) -> float:
    """Return the metres ``path`` runs twice (:attr:`Candidate.overlap_m`, after ``prior``): every path
    that begins with ``path`` runs at least that much twice.

    Its repeated traversals stay repeated, and its doubled-back samples (at the same places along the
    route, :mod:`routemap.route.overlap`) stay doubled back, whatever follows.
    """
    return measure(cg, path, used_count=used_count, prior=prior).overlap_m


def cannot_beat(objective: Objective, overlap_floor_m: float, bound: tuple[float, ...] | None) -> bool:
    """Return whether every candidate running at least ``overlap_floor_m`` twice has a key above
    ``bound`` (under the built-in objectives, whose keys begin with the overlap in steps of
    :data:`OVERLAP_STEP_M`); False under other objectives and without a bound."""
    if bound is None or not isinstance(objective, LengthObjective):
        return False
    return bool(_steps(overlap_floor_m - FLOOR_SLACK_M, OVERLAP_STEP_M) > bound[0])


def meets_limits(candidate: Candidate, target: float, *, tolerance: float, max_repeated_share: float) -> bool:
    """Return whether ``candidate`` is within ``tolerance`` of ``target`` and repeats little enough.

    The limit is on :attr:`Candidate.repeated_m` (the same streets again), as documented for
    ``plan_route``'s ``max_repeated_share``; doubling back alongside only ranks candidates.
    """
    return (
        abs(candidate.metres - target) <= tolerance * target
        and candidate.repeated_m <= max_repeated_share * candidate.metres
    )


def limits_shortfall(candidate: Candidate, target: float) -> tuple[float, float]:
    """Return how far ``candidate`` is from the limits (repeated share, then distance to the target):
    the planner names the failure with the smallest when no route meets them."""
    return (
        candidate.repeated_m / candidate.metres if candidate.metres else 1.0,
        abs(candidate.metres - target),
    )


# -- the cost hook ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EdgeCost:
    """Edge routing costs from the graph instead of the profile's multipliers.

    Exactly one of ``attr`` and ``func`` is given. ``attr`` names an edge attribute holding the cost
    multiplier (missing: 1.0); ``func(u, v, data)`` returns it. The cost of an edge is its length times
    the multiplier, as for profiles. ``name`` keys the cache of costed graphs: two hooks with the same
    name must give the same costs.
    """

    attr: str | None = None
    func: Callable[[int, int, Mapping[str, Any]], float] | None = None
    name: Hashable = None

    def __post_init__(self) -> None:
        if (self.attr is None) == (self.func is None):
            raise RoutemapError("an edge cost needs exactly one of an attribute name or a function")

    @property
    def cache_key(self) -> Hashable:
        """Return what decides the costs: the attribute name, or the function's name (or identity)."""
        if self.attr is not None:
            return ("attr", self.attr)
        return ("func", self.name if self.name is not None else id(self.func))

    def multiplier(self, u: int, v: int, data: Mapping[str, Any]) -> float:
        """Return the cost multiplier of edge (u, v) with attributes ``data``."""
        value = data.get(self.attr, 1.0) if self.attr is not None else self.func(u, v, data)  # type: ignore[misc]
        try:
            value = float(value)
        except (TypeError, ValueError):
            value = float("nan")
        if not np.isfinite(value) or value <= 0:
            raise RoutemapError(f"edge ({u}, {v}) has cost multiplier {value!r}; give positive numbers")
        return value


def apply_cost(cg: CompiledGraph, cost: EdgeCost | None) -> CompiledGraph:
    """Return ``cg`` with edge costs from ``cost`` (the same object when ``cost`` is None).

    The costed copy shares the arrays that do not depend on costs and is cached on ``cg`` per
    :attr:`EdgeCost.cache_key` (so it lives as long as the compiled graph, which is cached per graph).
    """
    if cost is None:
        return cg
    slot = ("_edge_cost", cost.cache_key)
    hit = cg.cache.get(slot)
    if hit is not None:
        return hit
    G = cg.graph
    u_ids = cg.node_ids[cg.row]
    v_ids = cg.node_ids[cg.col]
    mult = np.array(
        [
            cost.multiplier(int(u), int(v), G.edges[int(u), int(v), int(k)])
            for u, v, k in zip(u_ids, v_ids, cg.key)
        ]
    )
    data = np.maximum(cg.length, MIN_COST) * mult
    fwd = csr_matrix((data, cg.cost.indices, cg.cost.indptr), shape=cg.cost.shape)
    rev = csr_matrix((data[cg.perm_t], cg.cost_t.indices, cg.cost_t.indptr), shape=cg.cost.shape)
    costed = dataclasses.replace(cg, cost=fwd, cost_t=rev, cache={})
    cg.cache[slot] = costed
    return costed
