"""Alternatives: a few different good routes through the same stops, best first.

:func:`plan_routes` plans the best route, then plans again with the streets of the routes found so far
made dearer (their cost multiplied by each of :data:`AVOID_FACTORS` in turn, until the new route is
different enough), so each next route is the best one that mostly leaves the earlier ones' streets.
Every route meets the same tolerance and limits as :func:`routemap.route.plan_route`'s; any two share
at most :data:`MAX_SHARED_SHARE` of the shorter one's length.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import networkx as nx

from routemap.errors import RoutemapError, TargetLengthError
from routemap.route.model import Route
from routemap.route.plan import plan_route

#: Two routes sharing more than this share of the shorter one's length are not alternatives.
MAX_SHARED_SHARE = 0.5
#: Cost multipliers laid on the streets of the routes found so far, tried in turn for each new route:
#: a mild one keeps the next route good; stronger ones push it off streets it cannot leave otherwise.
AVOID_FACTORS = (2.0, 4.0, 10.0)


def _street_lengths(route: Route) -> dict[tuple[int, int], float]:
    out: dict[tuple[int, int], float] = {}
    for (u, v, _), length in zip(route.edges, route._edge_lengths.tolist(), strict=True):
        out[(min(u, v), max(u, v))] = float(length)
    return out


def shared_share(a: Route, b: Route) -> float:
    """Return the share (0-1) of the shorter route's length on streets (node pairs) both routes use."""
    sa, sb = _street_lengths(a), _street_lengths(b)
    common = sum(length for pair, length in sa.items() if pair in sb)
    shorter = min(a.length_m, b.length_m)
    return common / shorter if shorter > 0 else 1.0


def plan_routes(
    G: nx.MultiDiGraph,
    stops: Sequence[Any],
    target_length: str | float | None = None,
    k: int = 3,
    **plan_route_options: Any,
) -> list[Route]:
    """Return up to ``k`` different routes through ``stops``, best first.

    Parameters
    ----------
    G, stops, target_length
        As for :func:`routemap.route.plan_route`.
    k : int
        How many routes to return (1 or more).
    **plan_route_options
        Any other :func:`routemap.route.plan_route` argument (``profile``, ``tolerance``, ``objective``,
        ``reach``...), the same for every route.

    Returns
    -------
    list of Route
        Each shares at most :data:`MAX_SHARED_SHARE` of the shorter length with every other. Best first:
        :func:`plan_route`'s route, then the alternatives in the order found; under
        ``objective="reach"``, by the people reached. Named ``<name>``, ``<name> (alt 2)``...
        When fewer than ``k`` such routes are found, those found (a warning says so), never duplicates.

    Raises
    ------
    RoutemapError
        ``k`` is not a whole number of 1 or more; and anything :func:`plan_route` raises for the first
        route.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise RoutemapError(f"k must be a whole number of routes, 1 or more; got {k!r}")
    options = dict(plan_route_options)
    options.pop("_avoid", None)
    first = plan_route(G, stops, target_length, **options)
    routes = [first]
    base_name = first.name
    while len(routes) < k:
        avoid = set().union(*(_street_lengths(r) for r in routes))
        found = None
        for factor in AVOID_FACTORS:
            try:
                route = plan_route(G, stops, target_length, _avoid=(avoid, factor), **options)
            except TargetLengthError:
                continue
            if all(shared_share(route, r) <= MAX_SHARED_SHARE for r in routes):
                found = route
                break
        if found is None:
            break
        routes.append(found)
    if all("reach_people" in r.metadata for r in routes):
        # the reach objective: best first means most people first (ties keep the order found)
        routes.sort(key=lambda r: -round(r.metadata["reach_people"]))
    for i, route in enumerate(routes[1:], start=2):
        route.name = f"{base_name} (alt {i})"
        route.metadata["alternative"] = i
    routes[0].name = base_name
    routes[0].metadata.pop("alternative", None)
    if len(routes) < k:
        warnings.warn(
            f"found {len(routes)} distinct route(s) of the {k} asked for; the others would share more "
            f"than {MAX_SHARED_SHARE:.0%} of their length with a route found before",
            stacklevel=2,
        )
    return routes
