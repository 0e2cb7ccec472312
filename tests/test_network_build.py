"""The common builder ``graph_from_ways``: filters, directions, cut ways, lengths, simplification."""

from __future__ import annotations

import networkx as nx
import osmnx as ox
import pytest

from routemap.errors import NetworkError
from routemap.network import graph_from_ways

# A hand-checked street corner in downtown LA (coordinates in lon, lat).
COORDS = {
    1: (-118.2500, 34.0500),
    2: (-118.2490, 34.0500),
    3: (-118.2480, 34.0500),
    4: (-118.2480, 34.0510),
    5: (-118.2470, 34.0500),
}


def test_oneway_is_one_edge_for_drive_and_two_for_run():
    ways = [(10, [1, 2, 3], {"highway": "residential", "oneway": "yes", "name": "A St"})]
    drive = graph_from_ways(COORDS, ways, network_type="drive", simplify=False)
    run = graph_from_ways(COORDS, ways, network_type="run", simplify=False)
    assert sorted(drive.edges()) == [(1, 2), (2, 3)]
    assert sorted(run.edges()) == [(1, 2), (2, 1), (2, 3), (3, 2)]
    assert all(d["oneway"] for *_, d in drive.edges(data=True))
    assert not any(d["oneway"] for *_, d in run.edges(data=True))


def test_oneway_reverse_runs_against_node_order():
    ways = [(10, [1, 2, 3], {"highway": "residential", "oneway": "-1"})]
    G = graph_from_ways(COORDS, ways, network_type="drive", simplify=False)
    assert sorted(G.edges()) == [(2, 1), (3, 2)]


def test_lengths_are_great_circle_like_osmnx():
    ways = [(10, [1, 2, 3, 4], {"highway": "residential"})]
    G = graph_from_ways(COORDS, ways, simplify=False)
    for u, v, d in G.edges(data=True):
        (x1, y1), (x2, y2) = COORDS[u], COORDS[v]
        assert d["length"] == pytest.approx(ox.distance.great_circle(y1, x1, y2, x2), rel=1e-12)


def test_tiles_ways_carry_no_osmid():
    ways = [(None, [1, 2, 3], {"highway": "residential"})]
    G = graph_from_ways(COORDS, ways)
    assert all("osmid" not in d for *_, d in G.edges(data=True))


def test_missing_node_cuts_way_into_runs():
    ways = [(10, [1, 2, 99, 3, 4], {"highway": "residential"})]
    G = graph_from_ways(COORDS, ways, simplify=False)
    assert nx.number_weakly_connected_components(G) == 2
    assert sorted(G.to_undirected().edges()) == [(1, 2), (3, 4)]


def test_simplified_edge_geometry_and_length_sum():
    ways = [(10, [1, 2, 3, 5], {"highway": "residential"}), (11, [3, 4], {"highway": "footway"})]
    G = graph_from_ways(COORDS, ways)
    assert 2 not in G
    d = G.get_edge_data(1, 3)[0]
    assert list(d["geometry"].coords) == [COORDS[1], COORDS[2], COORDS[3]]
    expected = sum(
        ox.distance.great_circle(COORDS[a][1], COORDS[a][0], COORDS[b][1], COORDS[b][0])
        for a, b in [(1, 2), (2, 3)]
    )
    assert d["length"] == pytest.approx(expected)
    assert G.nodes[3]["street_count"] == 3
    assert G.graph["crs"] == "epsg:4326"
    assert G.graph["routemap_source"]["network_type"] == "run"


def test_no_streets_is_a_network_error():
    with pytest.raises(NetworkError, match="no streets"):
        graph_from_ways(COORDS, [(10, [1, 2], {"highway": "footway"})], network_type="drive")
