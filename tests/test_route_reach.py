"""The reach objective: the reach field against shapely and route_demographics, the planner's promises."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from route_graphs import DEG_PER_M, grid
from shapely import LineString, box
from test_route import check_route

import routemap
from routemap.errors import RoutemapError, TargetLengthError
from routemap.route import plan_route
from routemap.route.compile import compile_graph
from routemap.route.reach import REACH_COLUMNS, path_reach, reach_field
from routemap.settings import METERS_PER_MILE

SPACING = 100.0


def check_grid_route(G, route, target_m, tolerance=0.01, max_repeated_share=0.03) -> None:
    """Assert the route's promises from the graph alone: edges exist, length, repeated, stops in order."""
    lengths = [G.edges[u, v, k]["length"] for u, v, k in route.edges]
    assert [u for u, _, _ in route.edges] == route.nodes[:-1]
    total = float(np.sum(lengths))
    assert abs(total - target_m) <= tolerance * target_m
    seen: dict[frozenset, int] = {}
    repeated = 0.0
    for (u, v, _), length in zip(route.edges, lengths):
        street = frozenset((u, v))
        repeated += length if street in seen else 0.0
        seen[street] = 1
    assert repeated <= max_repeated_share * total + 1e-6
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    last = -1
    for stop in route.stops:
        at = [
            i
            for i, n in enumerate(route.nodes)
            if n == stop.node and i >= last and abs(cum[i] - stop.position_m) < 1e-6
        ]
        assert at, f"stop {stop.name} is not on the route at its position"
        last = at[0]
    assert route.nodes[0] == route.stops[0].node and route.nodes[-1] == route.stops[-1].node


def square_tracts() -> gpd.GeoDataFrame:
    """Two tracts side by side: a dense west one over most of the grid, a sparse east one."""
    d = DEG_PER_M
    west = box(-1000 * d, -1000 * d, 600 * d, 2100 * d)
    east = box(600 * d, -1000 * d, 2100 * d, 2100 * d)
    return gpd.GeoDataFrame(
        {
            "GEOID": ["1", "2"],
            "population": [50_000.0, 5_000.0],
            "foreign_born": [20_000.0, 1_000.0],
            "hispanic": [10_000.0, 1_000.0],
            "asian": [5_000.0, 500.0],
            "limited_english": [3_000.0, 100.0],
        },
        geometry=[west, east],
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def city():
    G = grid(12, 12, SPACING)
    return G, square_tracts()


def exact_reach(G, nodes, tracts, column, buffer_m=400.0) -> float:
    """People within buffer_m of the node path: shapely buffer intersected with each tract, by area."""
    line = LineString([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in nodes])
    gs = gpd.GeoSeries([line], crs="EPSG:4326")
    crs = gs.estimate_utm_crs()
    buf = gs.to_crs(crs).iloc[0].buffer(buffer_m)
    t = tracts.to_crs(crs)
    return float(
        sum(row[column] * row.geometry.intersection(buf).area / row.geometry.area for _, row in t.iterrows())
    )


def test_field_counts_the_union_of_the_buffer_once(city):
    G, tracts = city
    cg = compile_graph(G, "run")
    field = reach_field(cg, 400.0, tracts=tracts)
    h = 12
    along = [x * h for x in range(8)]  # the bottom row, 700 m east
    idx = [int(i) for i in cg.index_of(along)]
    one_way = path_reach(cg, idx, field, "population")
    assert one_way == pytest.approx(exact_reach(G, along, tracts, "population"), rel=0.04)
    there_and_back = path_reach(cg, idx + idx[-2::-1], field, "population")
    assert there_and_back == pytest.approx(one_way)  # never a sum over segments
    # a parallel street 100 m north adds only the strip its buffer does not share
    both = idx + [int(i) for i in cg.index_of([7 * h + 1] + [x * h + 1 for x in range(6, -1, -1)])]
    exact_both = exact_reach(
        G, along + [7 * h + 1] + [x * h + 1 for x in range(6, -1, -1)], tracts, "population"
    )
    assert path_reach(cg, both, field, "population") == pytest.approx(exact_both, rel=0.04)
    assert exact_both < 1.4 * one_way
    for column in REACH_COLUMNS:
        assert field.counts[column].sum() > 0


def test_reach_objective_goes_where_people_live(city):
    G, tracts = city
    h = 12
    stops = [(G.nodes[n]["y"], G.nodes[n]["x"]) for n in (5 * h + 5, 6 * h + 6)]
    kw = dict(profile="shortest", tolerance=0.02)
    cost = plan_route(G, stops, 2000, **kw)
    reach = plan_route(G, stops, 2000, objective="reach", reach="foreign_born", tracts=tracts, **kw)
    check_grid_route(G, reach, 2000, tolerance=0.02)
    people = exact_reach(G, reach.nodes, tracts, "foreign_born")
    assert people >= exact_reach(G, cost.nodes, tracts, "foreign_born")
    assert reach.metadata["objective"] == "reach" and reach.metadata["reach"] == "foreign_born"
    assert reach.metadata["reach_people"] == pytest.approx(people, rel=0.04)
    # the loop goes west, into the dense tract: most of the route lies west of x = 600 m
    xs = np.array([G.nodes[n]["x"] / DEG_PER_M for n in reach.nodes])
    assert (xs < 600).mean() > 0.5


def test_unknown_reach_or_objective_is_one_line_listing_the_valid_ones(city):
    G, tracts = city
    stops = [(0.0, 0.0), (0.0, 500 * DEG_PER_M)]
    with pytest.raises(RoutemapError) as exc:
        plan_route(G, stops, objective="reach", reach="voters", tracts=tracts)
    assert "\n" not in str(exc.value) and all(c in str(exc.value) for c in REACH_COLUMNS)
    with pytest.raises(RoutemapError) as exc:
        plan_route(G, stops, objective="people")
    assert "\n" not in str(exc.value) and "cost" in str(exc.value) and "reach" in str(exc.value)


@settings(max_examples=10, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(st.integers(0, 143), min_size=2, max_size=3, unique=True),
    target_m=st.floats(1500.0, 4000.0),
    column=st.sampled_from(REACH_COLUMNS),
)
def test_reach_route_keeps_tolerance_limits_and_stop_order(picks, target_m, column):
    G, tracts = grid(12, 12, SPACING), square_tracts()
    stops = [(G.nodes[n]["y"], G.nodes[n]["x"]) for n in picks]
    try:
        route = plan_route(G, stops, target_m, objective="reach", reach=column, tracts=tracts)
    except TargetLengthError:
        # only where the plain length search fails too (a grid's parity can rule a length out)
        with pytest.raises(TargetLengthError):
            plan_route(G, stops, target_m, objective="length")
        return
    check_grid_route(G, route, target_m)
    assert [s.node for s in route.stops] == [picks[i] for i in range(len(picks))]


def test_demo_reach_field_agrees_with_route_demographics():
    """On the embedded corridor: the planner's reach figure is route_demographics' within a few percent,
    and the reach route reaches clearly more people than the default one."""
    from routemap.data import embedded_corridor_tiles
    from routemap.demographics import route_demographics

    G = routemap.load_network(embedded_corridor_tiles())
    stops = [
        (34.0617, -118.3040),
        "MacArthur Park",
        "Chinatown Central Plaza",
        "Metropolitan Detention Center",
    ]
    target = 15 * METERS_PER_MILE
    reach = plan_route(G, stops, "15mi", objective="reach", reach="foreign_born")
    cost = plan_route(G, stops, "15mi")
    check_route(G, reach, target)
    near = route_demographics(reach).near_route["foreign_born"]
    assert reach.metadata["reach_people"] == pytest.approx(near, rel=0.03)
    assert near >= 1.1 * route_demographics(cost).near_route["foreign_born"]
    assert reach.doubled_back_m <= 0.01 * reach.length_m
