"""Cue sheets on a hand-built street scene: a sidewalk takes its street's name, turns are classified."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from route_graphs import street_scene

from routemap._edgedata import EdgeData
from routemap.route.cues import street_key
from routemap.route.model import Route, RouteStop

LON0, LAT0 = -118.25, 34.05
M_LAT = 1 / 111_320.0
M_LON = 1 / (111_320.0 * math.cos(math.radians(LAT0)))


def scene() -> nx.MultiDiGraph:
    """Main Street runs north 300 m; an unnamed sidewalk runs beside it 10 m east; 1st Street goes east
    from the sidewalk's north end, and a footpath leaves it 150 m off any street."""
    pts = {
        1: (0, 0),  # Main Street south
        2: (0, 300),  # Main Street north
        3: (10, 0),  # sidewalk south
        4: (10, 300),  # sidewalk north, on 1st Street
        5: (210, 300),  # 1st Street east
        6: (210, 450),  # footpath north end, 150 m from any street
    }
    ways = [
        (1, 2, "residential", "Main Street"),
        (3, 4, "footway", None),
        (4, 5, "residential", "East 1st Street"),
        (5, 6, "footway", None),
    ]
    return street_scene(pts, ways)


def test_sidewalk_takes_the_street_name_and_the_turn_is_right():
    G = scene()
    stops = [
        RouteStop("start", G.nodes[3]["y"], G.nodes[3]["x"], node=3),
        RouteStop("finish", G.nodes[6]["y"], G.nodes[6]["x"], node=6),
    ]
    route = Route.from_nodes(G, [3, 4, 5, 6], stops=stops)
    cues = route.cue_sheet()
    assert list(cues["turn"]) == ["depart", "right", "left", "arrive"]
    assert cues.loc[0, "street"] == "Main Street (sidewalk)"
    assert cues.loc[1, "street"] == "East 1st Street"
    assert cues.loc[1, "distance_m"] == pytest.approx(300, abs=1)
    assert cues.loc[2, "street"] == "footpath"  # 150 m from Main Street: not its sidewalk
    assert cues.loc[3, "instruction"] == "Arrive at finish"
    assert cues["distance_m"].is_monotonic_increasing


def test_street_key_folds_direction_prefixes_and_case():
    assert street_key("North Vermont Avenue") == street_key("S Vermont Avenue") == "vermont avenue"
    assert street_key("W. 4th Street") == "4th street"
    assert street_key("East") == "east"  # a street called East stays itself


def test_cue_sheet_has_km_beside_miles():
    G = scene()
    route = Route.from_nodes(G, [3, 4, 5, 6])
    cues = route.cue_sheet()
    # the turn onto 1st Street comes after the 300 m sidewalk: 0.3 km, 300 / 1609.344 mi
    assert cues.loc[1, "distance_km"] == pytest.approx(0.3, abs=0.002)
    assert cues.loc[1, "distance_mi"] == pytest.approx(300 / 1609.344, abs=0.002)
    assert (cues["distance_km"] - cues["distance_m"] / 1000).abs().max() < 1e-3


class TrackedGraph(nx.MultiDiGraph):
    """A graph whose edge attributes are EdgeData, as the graphs routemap builds."""

    edge_attr_dict_factory = EdgeData


def tracked_scene() -> nx.MultiDiGraph:
    """The scene as a built, compiled graph: its changes are seen in O(1) (``tracked_state``)."""
    from routemap.route.compile import compile_graph, tracked_state

    G = TrackedGraph()
    plain = scene()
    G.graph.update(plain.graph)
    G.add_nodes_from(plain.nodes(data=True))
    G.add_edges_from(plain.edges(keys=True, data=True))
    compile_graph(G, "run")
    assert tracked_state(G) is not None
    return G


def _counted_cue_sheets(monkeypatch) -> list[int]:
    from routemap.route import cues

    calls: list[int] = []
    real = cues.cue_sheet

    def counted(route):
        calls.append(1)
        return real(route)

    monkeypatch.setattr(cues, "cue_sheet", counted)
    return calls


def _scene_route(G: nx.MultiDiGraph) -> Route:
    stops = [
        RouteStop("start", G.nodes[3]["y"], G.nodes[3]["x"], node=3),
        RouteStop("finish", G.nodes[6]["y"], G.nodes[6]["x"], node=6),
    ]
    return Route.from_nodes(G, [3, 4, 5, 6], stops=stops)


def test_cue_sheet_is_made_once_per_route_and_each_call_gets_a_copy(monkeypatch):
    calls = _counted_cue_sheets(monkeypatch)
    route = _scene_route(tracked_scene())
    first = route.cue_sheet()
    assert route.turns == 2  # Route.turns reads the same sheet
    first.loc[0, "street"] = "changed by the caller"
    second = route.cue_sheet()
    assert len(calls) == 1
    assert second.loc[0, "street"] == "Main Street (sidewalk)"


def test_cue_sheet_is_made_again_when_the_finish_or_the_graph_changes(monkeypatch):
    calls = _counted_cue_sheets(monkeypatch)
    G = tracked_scene()
    route = _scene_route(G)
    assert route.cue_sheet().iloc[-1]["instruction"] == "Arrive at finish"
    route.stops[-1].name = "the park"  # stops renamed after planning (plan_and_write's stop_names)
    assert route.cue_sheet().iloc[-1]["instruction"] == "Arrive at the park"
    assert len(calls) == 2
    G.edges[4, 5, 0]["name"] = "Broadway"  # an edge attribute changed in place
    assert route.cue_sheet().loc[1, "street"] == "Broadway"
    assert len(calls) == 3


def test_cue_sheet_of_an_untracked_graph_is_made_every_time(monkeypatch):
    calls = _counted_cue_sheets(monkeypatch)
    G = scene()  # plain dicts: an in-place change could not be seen cheaply
    route = _scene_route(G)
    route.cue_sheet()
    G.edges[4, 5, 0]["name"] = "Broadway"
    assert route.cue_sheet().loc[1, "street"] == "Broadway"
    assert len(calls) == 2
