"""Stop resolution: what a user writes (coordinates, "Street & Street", a place, a neighborhood) -> nodes.

A stop resolves to candidate node indices of the compiled graph: one node for a point (the nearest node),
the nodes where two named streets meet for an intersection, and every node inside the polygon for an area
(a neighborhood); the planner picks among candidates.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyproj
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from routemap.errors import OfflineError, StopTooFarError, UnknownPlaceError, UnreachableStopError
from routemap.route.compile import CompiledGraph
from routemap.route.streets import (
    close_names,
    resolve_intersection,
    street_crossings,
    street_index,
    street_nodes,
)


@dataclass
class Stop:
    """A stop as a user gives it: a named point (``lat``/``lon``) or a named area (``area`` polygon).

    Parameters
    ----------
    name : str
        What maps and cue sheets call it.
    lat, lon : float, optional
        A point in EPSG:4326.
    area : shapely Polygon or MultiPolygon, optional
        An area in EPSG:4326 the route must enter (start or end inside it when first or last).
    """

    name: str
    lat: float | None = None
    lon: float | None = None
    area: BaseGeometry | None = None
    kind: str | None = None


@dataclass
class ResolvedStop:
    """A stop tied to the compiled graph: candidate node indices (one for points, many for areas)."""

    name: str
    kind: str
    lat: float
    lon: float
    candidates: np.ndarray
    snap_distance_m: float = 0.0
    area: BaseGeometry | None = None
    distances_m: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def is_area(self) -> bool:
        """Return True for an area stop (any node inside the polygon will do)."""
        return self.area is not None


# -- snapping ----------------------------------------------------------------------------------------
def _to_utm(cg: CompiledGraph) -> pyproj.Transformer:
    tr = cg.cache.get("_to_utm")
    if tr is None:
        tr = cg.cache["_to_utm"] = pyproj.Transformer.from_crs("EPSG:4326", cg.utm_crs, always_xy=True)
    return tr


#: A dead end nearest a stop is passed over for a through node at most this much farther (metres): about
#: half a block, so the stop moves to the street it is on, not to the next street over.
DEAD_END_SKIP_M = 75.0
#: ... or at most this many times as far, for a stop that lies well away from any street.
DEAD_END_SKIP_FACTOR = 1.5
#: Nearest nodes looked at when passing over dead ends.
SNAP_CANDIDATES = 12


def nearest_node(cg: CompiledGraph, lat: float, lon: float) -> tuple[int, float]:
    """Return (node index, distance in metres) of the routable node nearest to a point.

    A dead end (a node with one neighbour) is passed over for a through node at most
    :data:`DEAD_END_SKIP_M` (or :data:`DEAD_END_SKIP_FACTOR` times) farther: a route to a dead end must come
    back the same way.
    """
    tree = cg.cache.get("_kdtree")
    if tree is None:
        tree = cg.cache["_kdtree"] = cKDTree(np.column_stack([cg.ux, cg.uy]))
    x, y = _to_utm(cg).transform(lon, lat)
    dists, idxs = tree.query([x, y], k=min(SNAP_CANDIDATES, cg.n))
    dists, idxs = np.atleast_1d(dists), np.atleast_1d(idxs)
    reach = max(dists[0] + DEAD_END_SKIP_M, DEAD_END_SKIP_FACTOR * dists[0])
    for d, i in zip(dists.tolist(), idxs.tolist()):
        if d > reach:
            break
        if cg.through[i]:
            return int(i), float(d)
    return int(idxs[0]), float(dists[0])


def street_distance(cg: CompiledGraph, lat: float, lon: float) -> float:
    """Return the distance in metres from a point to the nearest street of the whole graph ``cg.graph``.

    Every edge counts here, also those outside the routable (strongly connected) part.
    """
    tree = cg.cache.get("_strtree")
    if tree is None:
        G = cg.graph
        lines = []
        for u, v, d in G.edges(data=True):
            geom = d.get("geometry")
            if geom is None:
                pu, pv = G.nodes[u], G.nodes[v]
                geom = shapely.LineString([(pu["x"], pu["y"]), (pv["x"], pv["y"])])
            lines.append(geom)
        utm = shapely.transform(
            np.array(lines, dtype=object), lambda xy: np.column_stack(_to_utm(cg).transform(*xy.T))
        )
        tree = cg.cache["_strtree"] = shapely.STRtree(utm)
    point = shapely.Point(*_to_utm(cg).transform(lon, lat))
    idx = tree.query_nearest(point, all_matches=False)
    return float(shapely.distance(point, tree.geometries[int(idx[0])]))


def snap_point(cg: CompiledGraph, name: str, lat: float, lon: float, max_snap_m: float) -> tuple[int, float]:
    """Return (node index, snap distance in metres) of a point stop: the nearest routable node.

    Raises
    ------
    StopTooFarError
        When the nearest street is farther than ``max_snap_m``.
    UnreachableStopError
        When a street lies within ``max_snap_m`` but the routable part of the network does not.
    """
    idx, dist = nearest_node(cg, lat, lon)
    if dist > max_snap_m:
        street_m = street_distance(cg, lat, lon)
        if street_m > max_snap_m:
            if swapped_on_network(cg, lat, lon, max_snap_m):
                raise StopTooFarError(
                    f"stop {name!r} ({lat:.5f}, {lon:.5f}) is {street_m:,.0f} m from the nearest street, "
                    f"but {lon:.5f},{lat:.5f} lies on the network: give latitude first, "
                    f"i.e. '{lon},{lat}'",
                    street_m,
                )
            raise StopTooFarError(
                f"stop {name!r} ({lat:.5f}, {lon:.5f}) is {street_m:,.0f} m from the nearest street of "
                f"the network (limit {max_snap_m:,.0f} m); move it or load a network that covers it",
                street_m,
            )
        raise UnreachableStopError(
            f"stop {name!r} lies on streets cut off from the connected network (the nearest "
            f"connected street node is {dist:,.0f} m away, limit {max_snap_m:,.0f} m); move the stop"
        )
    return idx, dist


def swapped_on_network(cg: CompiledGraph, lat: float, lon: float, max_snap_m: float) -> bool:
    """Return True when ``(lon, lat)`` read the other way round lies within ``max_snap_m`` of a street.

    Catches a "lon,lat" pair typed in the wrong order anywhere in the world, not only near one city.
    """
    if not (-90 <= lon <= 90) or (lat, lon) == (lon, lat):
        return False
    return street_distance(cg, lon, lat) <= max_snap_m


def area_nodes(cg: CompiledGraph, name: str, area: BaseGeometry) -> np.ndarray:
    """Return the node indices inside ``area`` (EPSG:4326).

    Raises
    ------
    StopTooFarError
        When no node of the network lies inside the area (the message gives the nearest node's distance).
    """
    inside = np.nonzero(shapely.contains_xy(area, cg.lon, cg.lat))[0]
    if len(inside):
        through = inside[cg.through[inside]]
        return (through if len(through) else inside).astype(np.int64)
    area_utm = shapely.transform(area, lambda xy: np.column_stack(_to_utm(cg).transform(*xy.T)))
    dist = float(shapely.distance(area_utm, shapely.points(cg.ux, cg.uy)).min())
    raise StopTooFarError(
        f"no street of the network lies inside {name!r} (nearest is {dist:,.0f} m outside it); "
        "load a network that covers it",
        dist,
    )


# -- parsing what users write --------------------------------------------------------------------------
_LATLON = re.compile(r"^\s*\(?\s*(-?\d+(?:\.\d+)?)\s*[,;\s]\s*(-?\d+(?:\.\d+)?)\s*\)?\s*$")
_AND = re.compile(r"\s*(?:&|\band\b|/|@|\bat\b)\s*", re.IGNORECASE)


def parse_latlon(text: str) -> tuple[float, float] | None:
    """Return (lat, lon) for text such as ``"34.0537, -118.2385"``; None when it is not coordinates."""
    m = _LATLON.match(str(text))
    if not m:
        return None
    return _check_latlon(float(m.group(1)), float(m.group(2)), text)


def _check_latlon(lat: float, lon: float, what: Any) -> tuple[float, float]:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not np.isfinite([lat, lon]).all():
        raise UnknownPlaceError(
            f"stop {what!r} is not a valid (lat, lon) pair; give latitude first, in degrees"
        )
    return lat, lon


def split_intersection(text: str) -> tuple[str, str] | None:
    """Return the two street names of ``"A & B"`` (also "A and B", "A / B", "A @ B"); None otherwise."""
    parts = [p.strip() for p in _AND.split(str(text), maxsplit=1)]
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    return None


# -- resolution --------------------------------------------------------------------------------------
#: A stop-name resolver: ``resolver(name, bbox)`` returns the :class:`Stop` (a point or an area) that
#: ``name`` means on a network covering ``bbox`` (west, south, east, north in degrees), or raises
#: :class:`~routemap.errors.UnknownPlaceError` with its closest names as ``suggestions``. The engine calls
#: it only for names the network itself does not hold; :func:`routemap.resolve.default_resolver` is the
#: default (the embedded gazetteer and neighborhoods where they cover the network, then online geocoding).
Resolver = Callable[[str, tuple[float, float, float, float]], Stop]

#: A named way no longer than this across is a place to meet (a square, a passage), not a street to
#: locate along: its name alone resolves to its middle node.
PLACE_WAY_MAX_M = 300.0
#: How many names of the network a typo's message suggests.
NETWORK_SUGGESTIONS = 3
#: How many suggestions a message lists at most.
MAX_SUGGESTIONS = 8


def normalize_name(name: str) -> str:
    """Return a name folded for matching: lower case, punctuation and a leading "the" removed."""
    text = re.sub(r"[^0-9a-z]+", " ", str(name).lower()).strip()
    return re.sub(r"^the ", "", text)


def network_bbox(cg: CompiledGraph) -> tuple[float, float, float, float]:
    """Return the (west, south, east, north) of the routable network, in degrees."""
    return float(cg.lon.min()), float(cg.lat.min()), float(cg.lon.max()), float(cg.lat.max())


def _named_nodes(cg: CompiledGraph) -> dict[str, list[int]]:
    hit = cg.cache.get("_named_nodes")
    if hit is None:
        hit = defaultdict(list)
        for i, node in enumerate(cg.node_ids.tolist()):
            name = cg.graph.nodes[node].get("name")
            if isinstance(name, str) and name:
                hit[normalize_name(name)].append(i)
        hit = cg.cache["_named_nodes"] = dict(hit)
    return hit


def _point_stop(
    cg: CompiledGraph, name: str, kind: str, lat: float, lon: float, max_snap_m: float
) -> ResolvedStop:
    idx, dist = snap_point(cg, name, lat, lon, max_snap_m)
    return ResolvedStop(name, kind, float(lat), float(lon), np.array([idx]), dist)


def _area_stop(cg: CompiledGraph, name: str, area: BaseGeometry) -> ResolvedStop:
    nodes = area_nodes(cg, name, area)
    c = area.representative_point()
    return ResolvedStop(name, "area", float(c.y), float(c.x), nodes, 0.0, area)


def resolve_stop(
    cg: CompiledGraph,
    value: Any,
    *,
    max_snap_m: float = 500.0,
    neighborhoods: Any = None,
    online: bool = False,
    resolver: Resolver | None = None,
) -> ResolvedStop:
    """Return one stop resolved on ``cg`` (see :func:`routemap.route.plan_route` for what is accepted).

    Coordinates, ``"A & B"`` intersections and the network's own named nodes resolve here; any other
    name goes to ``resolver`` (default :func:`routemap.resolve.default_resolver` with ``neighborhoods``
    and ``online``, imported only when a name needs it).

    Raises
    ------
    UnknownPlaceError, StopTooFarError
    """
    if isinstance(value, Stop):
        return _stop_object(cg, value, max_snap_m)
    if isinstance(value, BaseGeometry):
        return _area_stop(cg, "area", value)
    if isinstance(value, (tuple, list, np.ndarray)) and len(value) == 2:
        lat, lon = _check_latlon(float(value[0]), float(value[1]), value)
        return _point_stop(cg, f"{lat:.5f}, {lon:.5f}", "point", lat, lon, max_snap_m)
    if not isinstance(value, str) or not value.strip():
        raise UnknownPlaceError(
            f"stop {value!r} is not understood; give (lat, lon), 'lat,lon', 'Street & Street', "
            "a place or neighborhood name, or a Stop"
        )
    if resolver is None:
        resolver = _lazy_default_resolver(neighborhoods=neighborhoods, online=online)
    text = value.strip()
    latlon = parse_latlon(text)
    if latlon is not None:
        return _point_stop(cg, text, "point", *latlon, max_snap_m)
    pair = split_intersection(text)
    if pair is not None:
        try:
            nodes = resolve_intersection(cg, text, *pair)
        except UnknownPlaceError as street_error:
            try:
                return _named_stop(cg, text, max_snap_m, resolver)
            except UnknownPlaceError:
                raise street_error from None
        lat = float(cg.lat[nodes].mean())
        lon = float(cg.lon[nodes].mean())
        return ResolvedStop(text, "intersection", lat, lon, nodes, 0.0)
    return _named_stop(cg, text, max_snap_m, resolver)


def _stop_object(cg: CompiledGraph, value: Stop, max_snap_m: float) -> ResolvedStop:
    if value.area is not None:
        return _area_stop(cg, value.name, value.area)
    if value.lat is None or value.lon is None:
        raise UnknownPlaceError(f"stop {value.name!r} has neither lat/lon nor an area; give one")
    lat, lon = _check_latlon(float(value.lat), float(value.lon), value.name)
    return _point_stop(cg, value.name, value.kind or "point", lat, lon, max_snap_m)


def _lazy_default_resolver(*, neighborhoods: Any, online: bool) -> Resolver:
    """Return a resolver that builds the default one on its first call (most stops never need it).

    With the embedded layers (``neighborhoods`` None) the built resolver is shared between calls, so
    the layers are read and indexed once per process, not once per route.
    """
    built: list[Resolver] = []

    def resolver(name: str, bbox: tuple[float, float, float, float]) -> Stop:
        if not built:
            from routemap.resolve import default_resolver  # above route/: imported only when used

            if neighborhoods is None:
                shared = _SHARED_RESOLVERS.get(online)
                if shared is None:
                    shared = _SHARED_RESOLVERS[online] = default_resolver(online=online)
                built.append(shared)
            else:
                built.append(default_resolver(neighborhoods=neighborhoods, online=online))
        return built[0](name, bbox)

    return resolver


#: The default resolver on the embedded layers, per ``online`` (see :func:`_lazy_default_resolver`).
_SHARED_RESOLVERS: dict[bool, Resolver] = {}


def _named_stop(cg: CompiledGraph, text: str, max_snap_m: float, resolver: Resolver) -> ResolvedStop:
    named = _named_nodes(cg).get(normalize_name(text))
    if named:
        i = min(named)
        return ResolvedStop(text, "place", float(cg.lat[i]), float(cg.lon[i]), np.array([i]), 0.0)
    try:
        found = resolver(text, network_bbox(cg))
    except OfflineError as exc:  # the geocoder is out of reach: still say what the network holds
        close = close_names(text, network_names(cg), n=NETWORK_SUGGESTIONS)
        hint = f"; closest names in the network: {', '.join(close)}" if close else ""
        raise OfflineError(f"{exc}{hint}") from None
    except UnknownPlaceError as exc:
        way = _short_way_node(cg, text)
        if way is not None:  # a square or passage of the network's own: a place to meet
            return ResolvedStop(text, "place", float(cg.lat[way]), float(cg.lon[way]), np.array([way]), 0.0)
        raise _unknown_name(cg, text, exc) from None
    if found.area is not None:
        return _area_stop(cg, found.name, found.area)
    return _stop_object(cg, Stop(found.name, found.lat, found.lon, kind=found.kind or "place"), max_snap_m)


def _short_way_node(cg: CompiledGraph, text: str) -> int | None:
    """Return the middle node of the way named exactly ``text`` when it spans at most
    :data:`PLACE_WAY_MAX_M` (a square, a passage); None for a long street or no such way."""
    nodes = street_nodes(street_index(cg), text)
    found = np.array(sorted(nodes[0]), dtype=np.int64) if nodes else np.zeros(0, np.int64)
    if not len(found) or not cg.through[found].any():
        return None
    x, y = cg.ux[found], cg.uy[found]
    if max(np.ptp(x), np.ptp(y)) > PLACE_WAY_MAX_M:
        return None
    found = found[cg.through[found]]
    d = np.hypot(cg.ux[found] - x.mean(), cg.uy[found] - y.mean())
    return int(found[np.lexsort((found, np.round(d, 3)))[0]])


def network_names(cg: CompiledGraph) -> list[str]:
    """Return the names the network itself holds: its named nodes and its streets' names."""
    names = {str(cg.graph.nodes[cg.node_ids[ix[0]]].get("name")) for ix in _named_nodes(cg).values()}
    return sorted(names | set(street_index(cg).names.values()))


def _unknown_name(cg: CompiledGraph, text: str, exc: UnknownPlaceError) -> UnknownPlaceError:
    """Return the error for a name nobody knows: a street named alone, or suggestions from the data."""
    index = street_index(cg)
    if any(street_nodes(index, text)):
        examples = [f"{text} & {c}" for c in street_crossings(index, text)[:5]]
        hint = f", e.g. {', '.join(repr(e) for e in examples[:3])}" if examples else ""
        return UnknownPlaceError(f"{text!r} is a street, not a place; name an intersection{hint}", examples)
    suggestions = list(exc.suggestions)
    suggestions.extend(close_names(text, network_names(cg), n=NETWORK_SUGGESTIONS))
    close = list(dict.fromkeys(suggestions))[:MAX_SUGGESTIONS]
    hint = f"; closest known names: {', '.join(close)}" if close else ""
    return UnknownPlaceError(f"{exc}{hint}", close)


def pick_candidates(cg: CompiledGraph, stops: list[ResolvedStop]) -> None:
    """Narrow point-like stops with several candidate nodes (an intersection of divided roads, or two
    streets meeting twice) to the one nearest the neighbouring stop; areas keep all their nodes."""
    for i, stop in enumerate(stops):
        if stop.is_area or len(stop.candidates) == 1:
            continue
        ref = None
        for j in [*range(i - 1, -1, -1), *range(i + 1, len(stops))]:
            other = stops[j]
            if not other.is_area and len(other.candidates) == 1:
                ref = int(other.candidates[0])
                break
        c = stop.candidates
        if ref is None:
            rx, ry = cg.ux[c].mean(), cg.uy[c].mean()
        else:
            rx, ry = cg.ux[ref], cg.uy[ref]
        d = np.hypot(cg.ux[c] - rx, cg.uy[c] - ry)
        best = int(c[np.lexsort((c, np.round(d, 3)))[0]])
        stop.candidates = np.array([best])
        stop.lat, stop.lon = float(cg.lat[best]), float(cg.lon[best])
