"""Property tests: random stops and targets on the real LA network keep the route's invariants or raise
one of the documented errors (hypothesis, derandomized)."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from route_graphs import DEG_PER_M, grid
from test_route import check_route, load_la

from routemap.errors import (
    StopError,
    StopTooFarError,
    TargetLengthError,
    UnreachableStopError,
)
from routemap.route import plan_route

SETTINGS = settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def la(request):
    return load_la(request)


@pytest.fixture(scope="module")
def scc_nodes(la):
    return sorted(max(nx.strongly_connected_components(la), key=len))


@SETTINGS
@given(
    picks=st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=4),
    target_km=st.one_of(st.none(), st.floats(1.0, 30.0)),
    profile=st.sampled_from(["run", "march", "shortest"]),
)
def test_random_node_stops(la, scc_nodes, picks, target_km, profile):
    nodes = [scc_nodes[int(p * (len(scc_nodes) - 1))] for p in picks]
    stops = [(la.nodes[n]["y"], la.nodes[n]["x"]) for n in nodes]
    target = None if target_km is None else target_km * 1000
    try:
        route = plan_route(la, stops, target, profile=profile)
    except TargetLengthError as exc:
        assert target is not None
        if exc.minimum_m is not None:
            assert exc.minimum_m > target * 1.01
        return
    except StopError:
        assert len(set(nodes)) == 1  # every stop on one node, no length to make
        return
    check_route(la, route, target, max_repeated_share=0.03 if target else 1.0)
    assert len(route.stops) == len(stops)


@SETTINGS
@given(
    lat=st.floats(34.00, 34.08),
    lon=st.floats(-118.32, -118.20),
    target_km=st.floats(3.0, 12.0),
)
def test_random_coordinates(la, lat, lon, target_km):
    try:
        route = plan_route(la, [(lat, lon), "Union Station"], target_km * 1000)
    except (StopTooFarError, UnreachableStopError, TargetLengthError) as exc:
        assert str(exc) and "\n" not in str(exc)
        if isinstance(exc, StopTooFarError):
            assert exc.distance_m > 500
        return
    check_route(la, route, target_km * 1000)
    assert route.stops[0].snap_distance_m <= 500


# -- on generated grids a route exists: the planner must find it -----------------------------------------
GRID_SETTINGS = settings(max_examples=25, derandomize=True, deadline=None)


@st.composite
def grid_case(draw):
    """A w x h grid (100 m blocks), stops a, b in different columns, and a target a simple path reaches.

    The path goes from a straight up or down its column to row r, along row r to b's column, then to b:
    (|xa - xb| + |ya - r| + |r - yb|) blocks with no street twice. r is outside [ya, yb] by ``k`` rows.
    """
    w = draw(st.integers(3, 7))
    h = draw(st.integers(3, 7))
    xa, xb = draw(st.lists(st.integers(0, w - 1), min_size=2, max_size=2, unique=True))
    ya, yb = draw(st.integers(0, h - 1)), draw(st.integers(0, h - 1))
    lo, hi = min(ya, yb), max(ya, yb)
    room = max(lo, h - 1 - hi)
    k = draw(st.integers(0, room))
    blocks = abs(xa - xb) + abs(ya - yb) + 2 * k
    jitter = draw(st.floats(-0.004, 0.004))
    return w, h, (xa, ya), (xb, yb), blocks * 100.0 * (1 + jitter)


@GRID_SETTINGS
@given(case=grid_case(), profile=st.sampled_from(["run", "shortest"]))
def test_grid_targets_that_a_simple_path_reaches_are_planned(case, profile):
    w, h, (xa, ya), (xb, yb), target = case
    G = grid(w, h)
    stops = [(ya * 100 * DEG_PER_M, xa * 100 * DEG_PER_M), (yb * 100 * DEG_PER_M, xb * 100 * DEG_PER_M)]
    route = plan_route(G, stops, target, profile=profile)  # must not raise: such a route exists
    assert abs(route.length_m - target) <= 0.01 * target
    assert route.repeated_length_m <= 0.03 * route.length_m
    assert route.nodes[0] == xa * h + ya and route.nodes[-1] == xb * h + yb


@GRID_SETTINGS
@given(
    w=st.integers(3, 8),
    h=st.integers(3, 8),
    data=st.data(),
)
def test_grid_loops_round_a_block_rectangle_are_planned(w, h, data):
    # from a corner of the grid, the rectangle p x q blocks round it is a loop with no street twice
    p = data.draw(st.integers(1, w - 1))
    q = data.draw(st.integers(1, h - 1))
    target = 2 * (p + q) * 100.0
    G = grid(w, h)
    route = plan_route(G, [(0.0, 0.0)], target)
    assert abs(route.length_m - target) <= 0.01 * target
    assert route.repeated_length_m <= 0.03 * route.length_m
    assert route.nodes[0] == route.nodes[-1] == 0
