"""Stop resolution: what a user writes (coordinates, "Street & Street", a place, a neighborhood) -> nodes.

A stop resolves to candidate node indices of the compiled graph: one node for a point (the nearest node),
the nodes where two named streets meet for an intersection, and every node inside the polygon for an area
(a neighborhood); the planner picks among candidates.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyproj
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from routemap.errors import StopTooFarError, UnknownPlaceError, UnreachableStopError
from routemap.route.compile import CompiledGraph


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


# -- street names ----------------------------------------------------------------------------------
_DIRECTIONS = {
    "n": "north", "s": "south", "e": "east", "w": "west",
    "ne": "northeast", "nw": "northwest", "se": "southeast", "sw": "southwest",
}  # fmt: skip
_SUFFIXES = {
    "st": "street", "str": "street", "ave": "avenue", "av": "avenue", "blvd": "boulevard",
    "bl": "boulevard", "dr": "drive", "pl": "place", "rd": "road", "ln": "lane", "ct": "court",
    "pkwy": "parkway", "hwy": "highway", "sq": "square", "ter": "terrace", "cir": "circle",
    "fwy": "freeway", "expy": "expressway", "trl": "trail", "aly": "alley", "plz": "plaza",
    "wy": "way", "crt": "court", "hts": "heights",
}  # fmt: skip
_SUFFIX_WORDS = set(_SUFFIXES.values()) | {"way", "walk", "row", "mall", "path"}
_DIRECTION_WORDS = set(_DIRECTIONS.values())


def street_tokens(name: str) -> list[str]:
    """Return a street name's words, lower case, with abbreviations spelled out ("N Main St")."""
    words = re.sub(r"[^0-9a-z]+", " ", str(name).lower().replace("'", "")).split()
    out = []
    for i, w in enumerate(words):
        if w in _DIRECTIONS and (i == 0 or i == len(words) - 1):
            out.append(_DIRECTIONS[w])
        elif w == "st" and i < len(words) - 1:
            out.append("saint")  # "St Louis St"
        elif w == "mt":
            out.append("mount")
        else:
            out.append(_SUFFIXES.get(w, w))
    return out


def street_keys(name: str) -> list[str]:
    """Return a street name's match keys, strict to loose: full, without directions, core name."""
    words = street_tokens(name)
    if not words:
        return []
    no_dir = [
        w for i, w in enumerate(words) if not (w in _DIRECTION_WORDS and (i == 0 or i == len(words) - 1))
    ] or words  # noqa: E501
    core = no_dir[:-1] if len(no_dir) > 1 and no_dir[-1] in _SUFFIX_WORDS else no_dir
    return [" ".join(words), " ".join(no_dir), " ".join(core)]


@dataclass
class StreetIndex:
    """Street names of a compiled graph: match key -> node indices, and the names as written."""

    nodes: list[dict[str, set[int]]]
    names: dict[str, str]
    crossings: dict[str, set[str]]


def street_index(cg: CompiledGraph) -> StreetIndex:
    """Return (and cache) the street-name index of ``cg``: the ``name`` tags of its edges."""
    hit = cg.cache.get("_streets")
    if hit is not None:
        return hit
    G = cg.graph
    levels: list[dict[str, set[int]]] = [defaultdict(set) for _ in range(3)]
    names: dict[str, str] = {}
    node_names: dict[int, set[str]] = defaultdict(set)
    first = np.unique(cg.eid, return_index=True)[1]
    rows, cols = cg.row[first], cg.col[first]
    for i, j, k in zip(rows.tolist(), cols.tolist(), cg.key[first].tolist()):
        value = G.edges[int(cg.node_ids[i]), int(cg.node_ids[j]), k].get("name")
        if value is None or (isinstance(value, float) and value != value):
            continue
        for name in value if isinstance(value, list) else [value]:
            keys = street_keys(str(name))
            if not keys:
                continue
            names.setdefault(keys[0], str(name))
            node_names[i].add(keys[0])
            node_names[j].add(keys[0])
            for level, key in enumerate(keys):
                levels[level][key].update((i, j))
    crossings: dict[str, set[str]] = defaultdict(set)
    for here in node_names.values():
        for a in here:
            crossings[a].update(here - {a})
    index = StreetIndex([dict(level) for level in levels], names, dict(crossings))
    cg.cache["_streets"] = index
    return index


def _street_nodes(index: StreetIndex, text: str) -> list[set[int]]:
    keys = street_keys(text)
    return [index.nodes[level].get(key, set()) for level, key in enumerate(keys)]


def _close_names(text: str, names: Sequence[str], n: int = 5) -> list[str]:
    by_lower = {}
    for name in sorted(names):
        by_lower.setdefault(name.lower(), name)
    close = difflib.get_close_matches(str(text).lower(), list(by_lower), n=n, cutoff=0.5)
    return [by_lower[c] for c in close]


def resolve_intersection(cg: CompiledGraph, text: str, a: str, b: str) -> np.ndarray:
    """Return the node indices where streets ``a`` and ``b`` meet.

    Raises
    ------
    UnknownPlaceError
        A street name matches nothing, or the two streets do not meet; lists the closest names.
    """
    index = street_index(cg)
    found_a, found_b = _street_nodes(index, a), _street_nodes(index, b)
    for street, found in ((a, found_a), (b, found_b)):
        if not any(found):
            close = _close_names(street, list(index.names.values()))
            hint = f"; closest street names: {', '.join(close)}" if close else ""
            raise UnknownPlaceError(f"no street named {street!r} in this network{hint}", close)
    for level in range(3):
        for la in range(level + 1):
            both = found_a[la] & found_b[level] | found_a[level] & found_b[la]
            if both:
                return np.array(sorted(both), dtype=np.int64)
    key_a = street_keys(a)[0]
    known_a = next((k for k in index.nodes[0] if k == key_a), None)
    crossing = sorted(index.names[c] for c in index.crossings.get(known_a or "", set()))
    close = _close_names(b, crossing) or crossing[:5]
    hint = f"; streets crossing {a} include: {', '.join(close)}" if close else ""
    suggestions = [f"{a} & {c}" for c in close]
    raise UnknownPlaceError(f"{a!r} and {b!r} do not meet in this network{hint}", suggestions)


# -- snapping ----------------------------------------------------------------------------------------
def _to_utm(cg: CompiledGraph) -> pyproj.Transformer:
    tr = cg.cache.get("_to_utm")
    if tr is None:
        tr = cg.cache["_to_utm"] = pyproj.Transformer.from_crs("EPSG:4326", cg.utm_crs, always_xy=True)
    return tr


def nearest_node(cg: CompiledGraph, lat: float, lon: float) -> tuple[int, float]:
    """Return (node index, distance in metres) of the routable node nearest to a point.

    A dead end (a node with one neighbour) is passed over for a through node at most 75 m (or half as
    much again) farther: a route to a dead end must come back the same way.
    """
    tree = cg.cache.get("_kdtree")
    if tree is None:
        tree = cg.cache["_kdtree"] = cKDTree(np.column_stack([cg.ux, cg.uy]))
    x, y = _to_utm(cg).transform(lon, lat)
    dists, idxs = tree.query([x, y], k=min(12, cg.n))
    dists, idxs = np.atleast_1d(dists), np.atleast_1d(idxs)
    reach = max(dists[0] + 75.0, 1.5 * dists[0])
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
def _named_nodes(cg: CompiledGraph) -> dict[str, list[int]]:
    from routemap.places import normalize_name

    hit = cg.cache.get("_named_nodes")
    if hit is None:
        hit = defaultdict(list)
        for i, node in enumerate(cg.node_ids.tolist()):
            name = cg.graph.nodes[node].get("name")
            if isinstance(name, str) and name:
                hit[normalize_name(name)].append(i)
        hit = cg.cache["_named_nodes"] = dict(hit)
    return hit


def _point_stop(cg, name, kind, lat, lon, max_snap_m) -> ResolvedStop:
    idx, dist = snap_point(cg, name, lat, lon, max_snap_m)
    return ResolvedStop(name, kind, float(lat), float(lon), np.array([idx]), dist)


def _area_stop(cg, name, area) -> ResolvedStop:
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
) -> ResolvedStop:
    """Return one stop resolved on ``cg`` (see :func:`routemap.route.plan_route` for what is accepted).

    Raises
    ------
    UnknownPlaceError, StopTooFarError
    """
    if isinstance(value, Stop):
        if value.area is not None:
            return _area_stop(cg, value.name, value.area)
        if value.lat is None or value.lon is None:
            raise UnknownPlaceError(f"stop {value.name!r} has neither lat/lon nor an area; give one")
        lat, lon = _check_latlon(float(value.lat), float(value.lon), value.name)
        return _point_stop(cg, value.name, value.kind or "point", lat, lon, max_snap_m)
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
                return _named_stop(cg, text, max_snap_m, neighborhoods, online)
            except UnknownPlaceError:
                raise street_error from None
        lat = float(cg.lat[nodes].mean())
        lon = float(cg.lon[nodes].mean())
        return ResolvedStop(text, "intersection", lat, lon, nodes, 0.0)
    return _named_stop(cg, text, max_snap_m, neighborhoods, online)


def _named_stop(cg, text, max_snap_m, neighborhoods, online) -> ResolvedStop:
    from routemap.places import find_place, normalize_name

    named = _named_nodes(cg).get(normalize_name(text))
    if named:
        i = min(named)
        return ResolvedStop(text, "place", float(cg.lat[i]), float(cg.lon[i]), np.array([i]), 0.0)
    suggestions: list[str] = []
    area = _find_neighborhood(text, neighborhoods, suggestions)
    if area is not None and normalize_name(area[0]) == normalize_name(text):
        return _area_stop(cg, area[0], area[1])
    # a place inside a neighborhood ("MacArthur Park" is in Westlake) is the place, not the area
    try:
        place = find_place(text)
    except UnknownPlaceError as exc:
        suggestions.extend(exc.suggestions)
    else:
        return _point_stop(cg, place.name, "place", place.lat, place.lon, max_snap_m)
    if area is not None:
        return _area_stop(cg, area[0], area[1])
    if online:
        import osmnx as ox

        try:
            lat, lon = ox.geocode(text)
        except Exception as exc:  # osmnx raises several types for "nothing found"
            raise UnknownPlaceError(f"geocoding found no place named {text!r}: {exc}") from exc
        return _point_stop(cg, text, "place", lat, lon, max_snap_m)
    index = street_index(cg)
    if any(_street_nodes(index, text)):
        key = street_keys(text)[0]
        crossing = sorted(index.names[c] for c in index.crossings.get(key, set()))[:5]
        examples = [f"{text} & {c}" for c in crossing]
        hint = f", e.g. {', '.join(repr(e) for e in examples[:3])}" if examples else ""
        raise UnknownPlaceError(f"{text!r} is a street, not a place; name an intersection{hint}", examples)
    suggestions.extend(_close_names(text, list(index.names.values()), n=3))
    close = list(dict.fromkeys(suggestions))[:8]
    hint = f"; closest known names: {', '.join(close)}" if close else ""
    how = "" if online else " (online=True would geocode it)"
    raise UnknownPlaceError(f"no street, place or neighborhood named {text!r}{how}{hint}", close)


def _find_neighborhood(text: str, layer: Any, suggestions: list[str]):
    try:
        from routemap.demographics import find_neighborhood
    except ImportError:
        return None
    try:
        return find_neighborhood(text, layer=layer)
    except UnknownPlaceError as exc:
        suggestions.extend(exc.suggestions)
        return None


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
