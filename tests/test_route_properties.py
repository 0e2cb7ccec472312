"""Property tests: random stops and targets on the real LA network keep the route's invariants or raise
one of the documented errors (hypothesis, derandomized)."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
