"""The :class:`Route`: a node path on a street network, with its stops, and what it measures.

A Route is plain data built from a graph and a node sequence (:meth:`Route.from_nodes`); every figure it
reports (length, repeated length, mile markers, cue sheet) is derived from the graph's edge lengths and
geometries. Lengths are metres; ``length_mi``/``length_km`` report them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any, cast

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely import LineString, Point

from routemap._crs import utm_crs
from routemap.errors import RoutemapError
from routemap.settings import METERS_PER_MILE

UNIT_M = {"mi": METERS_PER_MILE, "km": 1000.0}


@dataclass
class RouteStop:
    """A resolved stop on a route: where it is, which node it snapped to, and where along the route."""

    name: str
    lat: float
    lon: float
    node: int | None = None
    position_m: float | None = None
    kind: str = "point"  # point, intersection, place, area
    snap_distance_m: float = 0.0

    @property
    def position_mi(self) -> float | None:
        """Return the stop's position along the route in miles (None when not placed)."""
        return None if self.position_m is None else self.position_m / METERS_PER_MILE

    def to_dict(self) -> dict[str, Any]:
        """Return the stop as a JSON-ready dict (with ``mile``)."""
        d = asdict(self)
        d["mile"] = None if self.position_mi is None else round(self.position_mi, 3)
        return d


def _edge_name(data: dict) -> str:
    name = data.get("name")
    if isinstance(name, list):
        name = " / ".join(dict.fromkeys(str(n) for n in name))
    return str(name) if name not in (None, "") and not _isnan(name) else ""


def _edge_highway(data: dict) -> str:
    hw = data.get("highway", "")
    if isinstance(hw, list):
        hw = hw[0] if hw else ""
    return str(hw)


def _isnan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


class Route:
    """A route on a street network through ordered stops.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The osmnx-compatible graph the route runs on (EPSG:4326 node coordinates, edge ``length`` in metres).
    nodes : sequence of int
        The node sequence, start to finish.
    edges : sequence of (u, v, key), optional
        The edge used between consecutive nodes; by default the shortest parallel edge.
    stops : sequence of RouteStop, optional
        The stops in order; their ``position_m`` is filled in along the route when missing.
    target_m : float, optional
        The length asked for, in metres.
    profile : str
        The routing profile the route was planned with.
    name : str, optional
        A name for maps, tables and files.
    metadata : dict, optional
        Anything else worth carrying (data sources, planner figures).
    """

    def __init__(
        self,
        graph: nx.MultiDiGraph,
        nodes: Sequence[int],
        edges: Sequence[tuple[int, int, int]] | None = None,
        stops: Sequence[RouteStop] | None = None,
        target_m: float | None = None,
        profile: str = "run",
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        if len(nodes) < 2:
            raise RoutemapError("a route needs at least two nodes; give stops that are apart")
        self.graph = graph
        self.nodes: list[int] = list(nodes)
        self.edges: list[tuple[int, int, int]] = (
            cast("list[tuple[int, int, int]]", [tuple(e) for e in edges])
            if edges is not None
            else self._pick_edges()
        )
        if len(self.edges) != len(self.nodes) - 1:
            raise RoutemapError("a route's edges must join its consecutive nodes")
        self.target_m = None if target_m is None else float(target_m)
        self.profile = profile
        self.name = name or "route"
        self.metadata: dict[str, Any] = dict(metadata or {})
        lengths = np.array([float(graph.edges[e].get("length", 0.0)) for e in self.edges])
        self._edge_lengths = lengths
        self._cum = np.concatenate([[0.0], np.cumsum(lengths)])
        self.stops: list[RouteStop] = list(stops or [])
        self._place_stops()
        self._geometry: LineString | None = None
        self._cues: tuple[tuple[Any, ...], pd.DataFrame] | None = None

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_nodes(
        cls,
        G: nx.MultiDiGraph,
        nodes: Sequence[int],
        stops: Sequence[RouteStop] | None = None,
        **kwargs: Any,
    ) -> Route:
        """Return the Route along ``nodes`` on ``G`` (shortest parallel edge between each pair)."""
        return cls(G, nodes, stops=stops, **kwargs)

    def _pick_edges(self) -> list[tuple[int, int, int]]:
        out = []
        for u, v in zip(self.nodes[:-1], self.nodes[1:]):
            data = self.graph.get_edge_data(u, v)
            if not data:
                raise RoutemapError(f"nodes {u} and {v} are not joined by an edge of the graph")
            key = min(data, key=lambda k: (data[k].get("length", math.inf), k))
            out.append((u, v, key))
        return out

    def _place_stops(self) -> None:
        start = 0
        index: dict[int, list[int]] = {n: [] for n in self.nodes}
        for i, n in enumerate(self.nodes):
            index[n].append(i)
        for stop in self.stops:
            if stop.position_m is not None or stop.node is None:
                continue
            hits = [i for i in index.get(stop.node, []) if i >= start]
            if hits:
                start = hits[0]
                stop.position_m = float(self._cum[start])

    # -- measures ----------------------------------------------------------------------------------
    @property
    def length_m(self) -> float:
        """Return the route's length in metres (sum of its edges' ``length``)."""
        return float(self._cum[-1])

    @property
    def length_mi(self) -> float:
        """Return the route's length in miles."""
        return self.length_m / METERS_PER_MILE

    @property
    def length_km(self) -> float:
        """Return the route's length in kilometres."""
        return self.length_m / 1000.0

    @property
    def cumulative_m(self) -> np.ndarray:
        """Return the distance in metres at each node of the route (``len(nodes)`` values)."""
        return self._cum.copy()

    @property
    def stop_positions_m(self) -> list[float | None]:
        """Return each stop's position along the route, in metres."""
        return [s.position_m for s in self.stops]

    @property
    def repeated_length_m(self) -> float:
        """Return the length of street used more than once (either direction), counted per extra use.

        A street is an undirected node pair; see :func:`routemap.route.objective.repeated_m`.
        """
        from routemap.route.objective import repeated_m, street_ids

        u = np.array([e[0] for e in self.edges], np.int64)
        v = np.array([e[1] for e in self.edges], np.int64)
        return repeated_m(street_ids(u, v), self._edge_lengths)

    @property
    def network_kept_share(self) -> float | None:
        """Return the share of the graph's street length in the part the route was planned on (0-1).

        Routing uses the largest strongly connected part of the graph; this says how much it kept.
        """
        value = self.metadata.get("network_kept_share")
        return None if value is None else float(value)

    @cached_property
    def doubled_back_m(self) -> float:
        """Return the metres run again alongside an earlier part of the route (within 35 m, same line).

        Unlike :attr:`repeated_length_m` this sees a return along a separately mapped sidewalk or a
        parallel way; see :mod:`routemap.route.overlap`. Measured on the geometry in the local UTM zone.
        """
        from routemap.route.overlap import doubled_back_m

        s = gpd.GeoSeries([self.geometry], crs="EPSG:4326")
        line = s.to_crs(utm_crs(s)).iloc[0]
        x, y = np.asarray(line.coords).T
        return doubled_back_m(x, y)

    @cached_property
    def turns(self) -> int:
        """Return the turns a runner makes: cues where the route changes street and heading (>= 20 degrees).

        Street names are read as the cue sheet reads them (unnamed sidewalks take their street's name,
        jogs shorter than 40 m such as a crosswalk fold into the stretch around them); a change of
        street straight on, the start and the finish are no turns. See :mod:`routemap.route.metrics`.
        """
        from routemap.route.metrics import route_turns

        return route_turns(self)

    @property
    def turns_per_mile(self) -> float:
        """Return :attr:`turns` per mile of route."""
        return self.turns / self.length_mi if self.length_m else 0.0

    @property
    def repeated_share(self) -> float:
        """Return the repeated length as a share of the route length (0-1)."""
        return self.repeated_length_m / self.length_m if self.length_m else 0.0

    # -- geometry --------------------------------------------------------------------------------
    def _edge_coords(self, i: int) -> list[tuple[float, float]]:
        u, v, k = self.edges[i]
        data = self.graph.edges[u, v, k]
        pu = (self.graph.nodes[u]["x"], self.graph.nodes[u]["y"])
        pv = (self.graph.nodes[v]["x"], self.graph.nodes[v]["y"])
        geom = data.get("geometry")
        if geom is None:
            return [pu, pv]
        coords = list(geom.coords)
        # osmnx stores each edge's geometry from u to v, but be safe with reversed copies.
        if _d2(coords[0], pu) > _d2(coords[-1], pu):
            coords.reverse()
        return coords

    @property
    def geometry(self) -> LineString:
        """Return the route as one LineString in EPSG:4326 (lon, lat), start to finish."""
        if self._geometry is None:
            coords: list[tuple[float, float]] = []
            for i in range(len(self.edges)):
                ec = self._edge_coords(i)
                coords.extend(ec if not coords else ec[1:])
            self._geometry = LineString(coords)
        return self._geometry

    def to_gdf(self) -> gpd.GeoDataFrame:
        """Return one row per edge: ``u, v, key, name, highway, length_m, start_m, end_m``, geometry."""
        rows = []
        geoms = []
        for i, (u, v, k) in enumerate(self.edges):
            data = self.graph.edges[u, v, k]
            rows.append(
                {
                    "seq": i,
                    "u": u,
                    "v": v,
                    "key": k,
                    "name": _edge_name(data),
                    "highway": _edge_highway(data),
                    "length_m": float(self._edge_lengths[i]),
                    "start_m": float(self._cum[i]),
                    "end_m": float(self._cum[i + 1]),
                }
            )
            geoms.append(LineString(self._edge_coords(i)))
        return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")

    def point_at(self, distance_m: float) -> Point:
        """Return the point (EPSG:4326) at ``distance_m`` along the route."""
        d = min(max(float(distance_m), 0.0), self.length_m)
        i = int(np.searchsorted(self._cum, d, side="right") - 1)
        i = min(max(i, 0), len(self.edges) - 1)
        length = self._edge_lengths[i]
        frac = 0.0 if length <= 0 else (d - self._cum[i]) / length
        line = LineString(self._edge_coords(i))
        return line.interpolate(min(max(frac, 0.0), 1.0), normalized=True)

    def mile_markers(self, unit: str = "mi") -> gpd.GeoDataFrame:
        """Return markers at every whole mile (``unit="mi"``) or kilometre (``"km"``) along the route.

        Columns: ``label`` ("1", "2", ...), ``distance_m``, ``unit``; geometry Points in EPSG:4326.
        """
        if unit not in UNIT_M:
            raise RoutemapError(f"unit {unit!r} is not known; use 'mi' or 'km'")
        step = UNIT_M[unit]
        n = int(math.floor(self.length_m / step + 1e-9))
        dists = [step * i for i in range(1, n + 1)]
        return gpd.GeoDataFrame(
            {
                "label": [str(i) for i in range(1, n + 1)],
                "distance_m": dists,
                "unit": unit,
            },
            geometry=[self.point_at(d) for d in dists],
            crs="EPSG:4326",
        )

    def cue_sheet(self) -> pd.DataFrame:
        """Return the turn-by-turn cues: ``distance_m, distance_mi, distance_km, turn, street, instruction``.

        A cue comes where the runner changes street; unnamed sidewalks take the name of the street they
        run beside, and short jogs fold into the stretch around them (see :mod:`routemap.route.cues`).
        Computed once (:attr:`turns` and ``cues.csv`` both read it) while the graph's edges and the
        finish's name are as they were; each call returns its own copy.
        """
        from routemap.route.cues import cue_sheet

        key = self._cue_key()
        if key is None:
            return cue_sheet(self)  # a graph whose changes cannot be seen cheaply: computed every time
        if self._cues is None or self._cues[0] != key:
            self._cues = (key, cue_sheet(self))
        return self._cues[1].copy()

    def _cue_key(self) -> tuple[Any, ...] | None:
        """Return what the cue sheet depends on beyond the route's edges, or None when not known cheaply.

        The graph's edge attributes (names, geometries: :func:`routemap.route.compile.tracked_state`,
        None for a graph routemap did not build and compile) and the finish's name (the last cue).
        """
        from routemap.route.compile import tracked_state

        state = tracked_state(self.graph)
        if state is None:
            return None
        return (state, self.stops[-1].name if self.stops else None)

    # -- output ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Return the route's key figures as a JSON-ready dict."""
        return {
            "name": self.name,
            "profile": self.profile,
            "length_m": round(self.length_m, 1),
            "length_mi": round(self.length_mi, 3),
            "length_km": round(self.length_km, 3),
            "target_m": None if self.target_m is None else round(self.target_m, 1),
            "repeated_m": round(self.repeated_length_m, 1),
            "stops": [s.to_dict() for s in self.stops],
        }

    def explore(self, **kwargs: Any):
        """Return a folium map of the route (see :func:`routemap.render.render_map`)."""
        from routemap.render import render_map

        return render_map(self, **kwargs)

    def _repr_html_(self) -> str:
        return self.explore()._repr_html_()

    def __repr__(self) -> str:
        target = "" if self.target_m is None else f", target {self.target_m / METERS_PER_MILE:.2f} mi"
        return (
            f"<Route {self.name!r}: {self.length_mi:.2f} mi ({self.length_km:.2f} km){target}, "
            f"{len(self.stops)} stops, repeated {self.repeated_length_m:.0f} m>"
        )


def _d2(a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


__all__ = ["Route", "RouteStop"]
