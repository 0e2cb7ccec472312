"""Tiny hand-built street graphs (osmnx-compatible) for unit tests of the route search."""

from __future__ import annotations

import math

import networkx as nx
import osmnx as ox

#: Degrees per metre near the equator (latitude; longitude at latitude 0 is the same to 0.3%).
DEG_PER_M = 1 / 111_320.0


def add_street(G: nx.MultiDiGraph, u: int, v: int, length: float, highway: str = "residential") -> None:
    """Add a two-way street u - v of ``length`` metres."""
    for a, b in ((u, v), (v, u)):
        G.add_edge(
            a, b, key=0, length=float(length), highway=highway, oneway=False, name=f"{min(u, v)}-{max(u, v)}"
        )


def empty_graph() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph()
    G.graph["crs"] = "epsg:4326"
    return G


def grid(w: int, h: int, spacing: float = 100.0) -> nx.MultiDiGraph:
    """Return a w x h grid of two-way residential streets ``spacing`` metres apart; node id ``x * h + y``."""
    G = empty_graph()
    for x in range(w):
        for y in range(h):
            G.add_node(x * h + y, x=x * spacing * DEG_PER_M, y=y * spacing * DEG_PER_M)
    for x in range(w):
        for y in range(h):
            if x + 1 < w:
                add_street(G, x * h + y, (x + 1) * h + y, spacing)
            if y + 1 < h:
                add_street(G, x * h + y, x * h + y + 1, spacing)
    return G


def ring(n: int, length: float = 100.0, radius_m: float = 200.0) -> nx.MultiDiGraph:
    """Return a ring of ``n`` nodes (0..n-1 counter-clockwise), each street ``length`` metres."""
    import math

    G = empty_graph()
    for i in range(n):
        t = 2 * math.pi * i / n
        G.add_node(i, x=radius_m * math.cos(t) * DEG_PER_M, y=radius_m * math.sin(t) * DEG_PER_M)
    for i in range(n):
        add_street(G, i, (i + 1) % n, length)
    return G


#: Where hand-built street scenes sit (downtown LA), and metres per degree there.
SCENE_LON0, SCENE_LAT0 = -118.25, 34.05
SCENE_M_LAT = 1 / 111_320.0
SCENE_M_LON = 1 / (111_320.0 * math.cos(math.radians(SCENE_LAT0)))


def street_scene(
    points: dict[int, tuple[float, float]], ways: list[tuple[int, int, str, str | None]]
) -> nx.MultiDiGraph:
    """Return a two-way graph of ``ways`` (u, v, highway, name) between ``points`` given in metres."""
    G = nx.MultiDiGraph(crs="epsg:4326")
    for n, (dx, dy) in points.items():
        G.add_node(n, x=SCENE_LON0 + dx * SCENE_M_LON, y=SCENE_LAT0 + dy * SCENE_M_LAT)
    for u, v, hw, name in ways:
        for a, b in ((u, v), (v, u)):
            d = ox.distance.great_circle(G.nodes[a]["y"], G.nodes[a]["x"], G.nodes[b]["y"], G.nodes[b]["x"])
            attrs = {"highway": hw, "length": d, "osmid": None}
            if name:
                attrs["name"] = name
            G.add_edge(a, b, **attrs)
    return G


def random_used(cg, rng, share: float):
    """Return a random ``share`` of ``cg``'s streets (undirected edge ids) flagged as used by a route."""
    import numpy as np

    used = np.zeros(int(cg.eid.max()) + 1, bool)
    used[rng.choice(len(used), int(len(used) * share), replace=False)] = True
    return used
