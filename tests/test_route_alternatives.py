"""plan_routes: a few different routes, each within the limits, pairwise sharing at most half."""

from __future__ import annotations

import itertools
import warnings

import networkx as nx
import numpy as np
import pytest
from route_graphs import add_street, empty_graph, grid

from routemap.errors import RoutemapError
from routemap.route import plan_routes


def shared(a, b) -> float:
    """Share of the shorter route's length on streets (node pairs) both use, recounted from the graph."""

    def streets(r):
        return {frozenset((u, v)): r.graph.edges[u, v, k]["length"] for u, v, k in r.edges}

    sa, sb = streets(a), streets(b)
    common = sum(length for s, length in sa.items() if s in sb)
    return common / min(a.length_m, b.length_m)


def test_three_alternatives_within_tolerance_and_mostly_apart():
    G = grid(14, 14, 100.0)
    stops = [(G.nodes[n]["y"], G.nodes[n]["x"]) for n in (3 * 14 + 3, 10 * 14 + 10)]
    routes = plan_routes(G, stops, 3000, k=3, tolerance=0.02)
    assert len(routes) == 3
    for r in routes:
        total = sum(G.edges[e]["length"] for e in r.edges)
        assert abs(total - 3000) <= 0.02 * 3000
        assert r.nodes[0] == 3 * 14 + 3 and r.nodes[-1] == 10 * 14 + 10
    for a, b in itertools.combinations(routes, 2):
        assert shared(a, b) <= 0.5
    assert len({r.name for r in routes}) == 3
    assert routes[0].metadata.get("alternative") is None and routes[2].metadata["alternative"] == 3


def test_fewer_routes_than_asked_are_returned_with_a_warning_never_duplicates():
    # a single street: only one route joins its ends
    G = empty_graph()
    for i in range(4):
        G.add_node(i, x=i * 100 / 111_320.0, y=0.0)
    for i in range(3):
        add_street(G, i, i + 1, 100.0)
    stops = [(0.0, 0.0), (0.0, 300 / 111_320.0)]
    with pytest.warns(UserWarning, match="1 distinct route"):
        routes = plan_routes(G, stops, k=3)
    assert len(routes) == 1
    assert routes[0].nodes == [0, 1, 2, 3]


@pytest.mark.parametrize("k", [0, -1, 1.5, "2", True])
def test_k_below_one_or_not_whole_is_a_one_line_error(k):
    G = grid(3, 3)
    with pytest.raises(RoutemapError) as exc:
        plan_routes(G, [(0.0, 0.0), (0.0, 200 / 111_320.0)], k=k)
    assert "\n" not in str(exc.value) and "k" in str(exc.value)


def test_one_alternative_is_plan_route():
    from routemap.route import plan_route

    G = grid(8, 8)
    stops = [(G.nodes[n]["y"], G.nodes[n]["x"]) for n in (9, 54)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (only,) = plan_routes(G, stops, 1800, k=1)
    assert only.nodes == plan_route(G, stops, 1800).nodes
    assert isinstance(only.graph, nx.MultiDiGraph) and np.isfinite(only.length_m)


def test_reach_alternatives_come_most_people_first():
    from test_route_reach import exact_reach, square_tracts

    G = grid(12, 12, 100.0)
    tracts = square_tracts()
    stops = [(G.nodes[n]["y"], G.nodes[n]["x"]) for n in (5 * 12 + 5, 6 * 12 + 6)]
    routes = plan_routes(
        G, stops, 2000, k=2, profile="shortest", tolerance=0.02, objective="reach", tracts=tracts
    )
    people = [exact_reach(G, r.nodes, tracts, "population") for r in routes]
    assert len(routes) == 2 and shared(*routes) <= 0.5
    assert people[0] >= people[1] * 0.97  # the field's grid and the exact buffer differ by a few percent
    assert routes[0].name == "route" and routes[1].name == "route (alt 2)"
