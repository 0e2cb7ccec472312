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
    """No invented ids: osmid None marks it unknown, and osmnx's osmid-comparing functions still work."""
    ways = [(None, [1, 2, 3], {"highway": "residential"})]
    G = graph_from_ways(COORDS, ways)
    assert all(d["osmid"] is None for *_, d in G.edges(data=True))
    undirected = ox.convert.to_undirected(G)
    assert undirected.number_of_edges() == G.number_of_edges() // 2


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


# --- the vectorized simplification against osmnx.simplify_graph on random street patterns -------------
from collections import Counter  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

GRID = 5  # nodes on a 5 x 5 grid, ids 1..25, about 100 m apart


def _grid_coords():
    return {
        1 + i * GRID + j: (-118.25 + j * 0.001, 34.05 + i * 0.0009) for i in range(GRID) for j in range(GRID)
    }


@st.composite
def _random_ways(draw):
    ways = []
    for way_id in range(1, draw(st.integers(1, 12)) + 1):
        node = draw(st.integers(1, GRID * GRID))
        nodes = [node]
        for _ in range(draw(st.integers(1, 6))):
            i, j = divmod(node - 1, GRID)
            steps = [(i + di, j + dj) for di, dj in ((0, 1), (1, 0), (0, -1), (-1, 0))]
            steps = [(a, b) for a, b in steps if 0 <= a < GRID and 0 <= b < GRID]
            a, b = draw(st.sampled_from(steps))
            node = 1 + a * GRID + b
            nodes.append(node)
        tags = {
            "highway": draw(st.sampled_from(["residential", "footway", "primary"])),
            "name": draw(st.sampled_from(["A St", "B St", "C Ave"])),
        }
        if draw(st.booleans()):
            tags["oneway"] = draw(st.sampled_from(["yes", "-1"]))
        ways.append((way_id, nodes, tags))
    return ways


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ways=_random_ways(), network_type=st.sampled_from(["run", "drive"]))
def test_simplification_equals_osmnx(ways, network_type):
    coords = _grid_coords()
    try:
        raw = graph_from_ways(coords, ways, network_type=network_type, simplify=False)
    except NetworkError:
        return  # nothing of this network type
    expected = ox.simplify_graph(raw)
    ours = graph_from_ways(coords, ways, network_type=network_type, simplify=True)
    assert set(ours) == set(expected)

    def edges(G):
        return Counter((u, v, round(d["length"], 6)) for u, v, d in G.edges(data=True))

    assert edges(ours) == edges(expected)
    counts = ox.stats.count_streets_per_node(expected)
    assert {n: d["street_count"] for n, d in ours.nodes(data=True)} == counts


# --- the vectorized path walk and attribute merge against the per-node code they replace --------------
import numpy as np  # noqa: E402
from hypothesis import example  # noqa: E402
from osmnx import simplification as ox_simplification  # noqa: E402

from routemap._arrays import unique_index  # noqa: E402
from routemap.network.simplify import _aggregate, _chain_paths, endpoints_mask  # noqa: E402


@st.composite
def _random_segments(draw):
    """Directed segments of random ways on a few nodes: one-way and two-way chains, loops back to a
    way's start, repeated nodes and repeated ways (parallel edges), in the builder's order."""
    n_nodes = draw(st.integers(2, 9))
    u, v = [], []
    for _ in range(draw(st.integers(1, 8))):
        nodes = draw(st.lists(st.integers(0, n_nodes - 1), min_size=2, max_size=8))
        if draw(st.booleans()):
            nodes.append(nodes[0])  # a ring
        forward = [(a, b) for a, b in zip(nodes[:-1], nodes[1:]) if a != b]
        back = [(b, a) for a, b in forward] if draw(st.booleans()) else []
        for a, b in forward + back:
            u.append(a)
            v.append(b)
    return n_nodes, np.array(u, dtype=np.int64), np.array(v, dtype=np.int64)


def _osmnx_paths(n_nodes, u, v):
    """The paths osmnx's ``_build_path`` walks on the same graph, in routemap's order (by endpoint)."""
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(n_nodes))
    G.add_edges_from(zip(u.tolist(), v.tolist()))
    ends = {n for n in G if ox_simplification._is_endpoint(G, n, None, None)}
    return ends, [
        ox_simplification._build_path(G, e, s, ends)
        for e in sorted(ends)
        for s in G.successors(e)
        if s not in ends
    ]


@settings(max_examples=300, deadline=None)
@given(_random_segments())
@example((4, np.array([0, 1, 2, 3, 0, 2, 1, 3]), np.array([1, 2, 0, 0, 2, 1, 0, 3])))  # two-way ring at 0
@example((4, np.array([0, 1, 1, 2, 3]), np.array([1, 0, 2, 3, 1])))  # one-way loop back to node 1
@example((3, np.array([0, 0, 2, 1]), np.array([1, 1, 1, 0])))  # parallel edges: interior node 1
def test_chain_walk_equals_osmnx_build_path(segments):
    n_nodes, u, v = segments
    if not len(u):
        return
    is_end = endpoints_mask(u, v, n_nodes)
    pair_codes, pair_first = unique_index(u * np.int64(n_nodes) + v)
    flat, sizes = _chain_paths(pair_codes, pair_first, is_end, n_nodes)
    ends, expected = _osmnx_paths(n_nodes, u, v)
    assert set(np.flatnonzero(is_end).tolist()) == ends
    paths = np.split(flat, np.cumsum(sizes)[:-1]) if len(sizes) else []
    assert [p.tolist() for p in paths] == expected


def _aggregate_reference(dicts):
    """The merge as routemap did it before (osmnx's: one value if all agree, else the sorted set)."""
    out = {}
    for k in dict.fromkeys(k for d in dicts for k in d):
        vals = [d[k] for d in dicts if k in d]
        first = vals[0]
        if len(vals) == 1 or all(v == first for v in vals[1:]):
            out[k] = first
            continue
        uniq = set(vals)
        if len(uniq) == 1:
            out[k] = first
        elif all(type(x) is type(first) for x in uniq):
            out[k] = sorted(uniq)
        else:
            out[k] = sorted(uniq, key=lambda x: (str(type(x)), x))
    return out


_NAN = float("nan")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["osmid", "highway", "name", "oneway", "lanes", "bridge"]),
            st.sampled_from([1, 2, True, False, 0, "a", "b", None, 1.5, _NAN]),
        ),
        min_size=2,
        max_size=5,
    )
)
def test_aggregate_equals_reference(dicts):
    try:
        expected = _aggregate_reference(dicts)
    except TypeError:  # values of one key that do not sort (None with None-less types...): both fail
        with pytest.raises(TypeError):
            _aggregate(dicts)
        return
    got = _aggregate(dicts)
    assert list(got) == list(expected)
    for k in got:
        assert repr(got[k]) == repr(expected[k]) and type(got[k]) is type(expected[k])
