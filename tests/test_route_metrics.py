"""Route metrics on hand-built scenes: turns (Route.turns, the planner's stand-in), street shares, crossings."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from route_graphs import street_scene as scene

from routemap.compare import route_row
from routemap.route.compile import compile_graph
from routemap.route.metrics import major_crossings, street_class, street_class_shares
from routemap.route.model import Route
from routemap.route.turns import path_turns
from routemap.settings import METERS_PER_MILE

LON0, LAT0 = -118.25, 34.05
M_LAT = 1 / 111_320.0
M_LON = 1 / (111_320.0 * math.cos(math.radians(LAT0)))


def turns_both_ways(G: nx.MultiDiGraph, nodes: list[int]) -> tuple[int, int]:
    """Return Route.turns and the planner's stand-in (path_turns on the compiled graph)."""
    route = Route.from_nodes(G, nodes)
    cg = compile_graph(G, "run")
    return route.turns, path_turns(cg, [int(i) for i in cg.index_of(nodes)])


def test_a_straight_street_has_no_turns():
    G = scene(
        {1: (0, 0), 2: (0, 200), 3: (0, 400), 4: (0, 600), 5: (150, 200)},
        [(1, 2, "residential", "Main Street"), (2, 3, "residential", "Main Street"),
         (3, 4, "residential", "Main Street"), (2, 5, "residential", "Side Street")],
    )  # fmt: skip
    assert turns_both_ways(G, [1, 2, 3, 4]) == (0, 0)


def test_an_l_has_one_turn():
    G = scene(
        {1: (0, 0), 2: (0, 300), 3: (300, 300)},
        [(1, 2, "residential", "Main Street"), (2, 3, "residential", "1st Street")],
    )
    assert turns_both_ways(G, [1, 2, 3]) == (1, 1)
    route = Route.from_nodes(G, [1, 2, 3])
    assert route.turns_per_mile == pytest.approx(1 / (route.length_m / METERS_PER_MILE))


def test_a_zigzag_turns_at_every_corner():
    # north on A, east on B, north on C, east on D: three corners, each 100 m or more apart
    pts = {1: (0, 0), 2: (0, 150), 3: (150, 150), 4: (150, 300), 5: (300, 300)}
    ways = [(1, 2, "residential", "A Street"), (2, 3, "residential", "B Street"),
            (3, 4, "residential", "C Street"), (4, 5, "residential", "D Street")]  # fmt: skip
    G = scene(pts, ways)
    assert turns_both_ways(G, [1, 2, 3, 4, 5]) == (3, 3)


def test_a_bend_in_one_street_or_a_new_name_straight_on_is_no_turn():
    # Main Street bends 15 degrees, then becomes Grand Avenue bending 15 degrees back: nothing to do
    G = scene(
        {1: (0, 0), 2: (0, 200), 3: (200 * math.sin(math.radians(15)), 200 + 200 * math.cos(math.radians(15))),
         4: (200 * math.sin(math.radians(15)), 500 + 200 * math.cos(math.radians(15)))},
        [(1, 2, "residential", "Main Street"), (2, 3, "residential", "Main Street"),
         (3, 4, "residential", "Grand Avenue")],
    )  # fmt: skip
    assert turns_both_ways(G, [1, 2, 3, 4]) == (0, 0)


def test_a_crosswalk_jog_between_sidewalks_is_no_turn():
    # north on the west sidewalk of Main Street, 15 m across a crosswalk, north on the east sidewalk
    pts = {1: (-8, 0), 2: (-8, 200), 3: (7, 200), 4: (7, 400), 10: (0, -50), 11: (0, 450)}
    ways = [(10, 11, "residential", "Main Street"), (1, 2, "footway", None), (2, 3, "footway", None),
            (3, 4, "footway", None)]  # fmt: skip
    G = scene(pts, ways)
    assert turns_both_ways(G, [1, 2, 3, 4]) == (0, 0)


def test_street_classes_and_major_crossings_from_the_graph():
    # along Main Street (residential) then a footpath, across a primary road it does not follow
    pts = {1: (0, 0), 2: (0, 100), 3: (0, 250), 4: (-100, 100), 5: (100, 100)}
    ways = [(1, 2, "residential", "Main Street"), (2, 3, "footway", None),
            (4, 2, "primary", "Broadway"), (2, 5, "primary", "Broadway")]  # fmt: skip
    G = scene(pts, ways)
    route = Route.from_nodes(G, [1, 2, 3])
    shares = street_class_shares(route)
    first = G.edges[1, 2, 0]["length"]
    assert shares["residential"] == pytest.approx(first / route.length_m)
    assert shares["footway"] == pytest.approx(1 - first / route.length_m)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert major_crossings(route) == 1
    assert street_class("primary_link") == "primary" and street_class("bus_stop") == "other"


def test_compare_row_reports_the_routes_turns():
    G = scene(
        {1: (0, 0), 2: (0, 300), 3: (300, 300)},
        [(1, 2, "residential", "Main Street"), (2, 3, "residential", "1st Street")],
    )
    route = Route.from_nodes(G, [1, 2, 3])
    row = route_row(route)
    assert row["turns"] == route.turns == 1
    assert row["share_residential_pct"] == pytest.approx(100.0)
