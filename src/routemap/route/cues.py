"""Turn-by-turn cues for a route: street names a runner can read, turns that matter.

OpenStreetMap often maps sidewalks as separate, unnamed footways; a route that runs on them would read
"unnamed way" at every block. Here an unnamed footway, path or service way that runs alongside a named
street (within :data:`ALONGSIDE_M`, parallel) takes that street's name ("S Vermont Ave (sidewalk)"), and
short jogs (a crosswalk, a curb cut, shorter than :data:`MIN_STRETCH_M`) fold into the stretch around
them, so cues come where the runner changes street.
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely import LineString

from routemap._crs import utm_crs
from routemap.settings import UNIT_M

#: An unnamed way this close to a parallel named street takes its name.
ALONGSIDE_M = 30.0
#: Stretches shorter than this between two cues are folded into the stretch before them.
MIN_STRETCH_M = 40.0
#: Classes of way that are "the sidewalk of" a street they run beside.
SIDEWALK_CLASSES = {"footway", "path", "pedestrian", "steps", "cycleway", "corridor"}


_DIRECTION = re.compile(r"^(north|south|east|west|n|s|e|w)\.?\s+", re.IGNORECASE)


def street_key(name: str) -> str:
    """Return a street name folded for "same street?": case and a leading N/S/E/W dropped."""
    return _DIRECTION.sub("", name.strip()).lower()


def _turn(delta: float) -> str:
    a = abs(delta)
    side = "right" if delta > 0 else "left"
    if a < 20:
        return "straight"
    if a < 45:
        return f"slight {side}"
    if a < 135:
        return side
    if a < 165:
        return f"sharp {side}"
    return "u-turn"


def _bearing_xy(x0: float, y0: float, x1: float, y1: float) -> float:
    return math.degrees(math.atan2(x1 - x0, y1 - y0)) % 360.0


def _local_bearing(line: LineString, at_m: float, span_m: float = 20.0) -> float:
    a = line.interpolate(max(at_m - span_m / 2, 0.0))
    b = line.interpolate(min(at_m + span_m / 2, line.length))
    return _bearing_xy(a.x, a.y, b.x, b.y)


#: Per graph: (its tracked state, the named-street index); see :func:`_named_index`.
_NAMED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _named_index(G: Any) -> tuple[list[str], gpd.GeoSeries, shapely.STRtree] | None:
    """Return the graph's named streets (names, lines in the graph's UTM zone, an STRtree of them).

    Built once per graph and kept while the graph is unchanged (a graph routemap built and compiled
    says so cheaply, :func:`routemap.route.compile.tracked_state`); other graphs build it per call.
    """
    from routemap.route.compile import tracked_state

    state = tracked_state(G)
    hit = _NAMED.get(G) if state is not None else None
    if hit is not None and hit[0] == state:
        return hit[1]
    rows, lines = _named_edges(G)
    index = None
    if rows:
        series = gpd.GeoSeries(lines, crs="EPSG:4326")
        named = series.to_crs(utm_crs(series))
        index = (rows, named, shapely.STRtree(named.values))
    if state is not None:
        _NAMED[G] = (state, index)
    return index


def _named_edges(G: Any) -> tuple[list[str], np.ndarray]:
    """Return the name and line (EPSG:4326) of each named edge of ``G``, in the graph's edge order.

    An edge without ``geometry`` is the straight line between its nodes; those lines (half the edges
    of a city graph) are made in one shapely call, not one LineString at a time.
    """
    rows: list[str] = []
    geoms: list[Any] = []
    straight: list[tuple[int, Any, Any]] = []
    for u, v, data in _edges(G):
        name = data.get("name")
        if not name or (isinstance(name, float) and math.isnan(name)):
            continue
        if isinstance(name, list):
            name = name[0]
        geom = data.get("geometry")
        if geom is None:
            straight.append((len(geoms), u, v))
        rows.append(str(name))
        geoms.append(geom)
    lines = np.array([*geoms, None], dtype=object)[:-1]  # (the None keeps numpy from unpacking)
    if straight:
        nodes = G.nodes
        at = np.array([i for i, _, _ in straight], dtype=np.intp)
        xy = np.array(
            [(nodes[u]["x"], nodes[u]["y"], nodes[v]["x"], nodes[v]["y"]) for _, u, v in straight],
            dtype=float,
        )
        lines[at] = shapely.linestrings(xy.reshape(-1, 2, 2))
    return rows, lines


def _edges(G: Any) -> Iterator[tuple[Any, Any, dict]]:
    """Yield ``(u, v, data)`` of every edge in ``G.edges(data=True)``'s order.

    A MultiDiGraph's own adjacency dicts are read directly (read only): networkx's edge view wraps every
    edge in objects, a third of the walk over a city graph.
    """
    if not isinstance(G, nx.MultiDiGraph):
        yield from G.edges(data=True)
        return
    for u, nbrs in G._succ.items():
        for v, keyed in nbrs.items():
            for data in keyed.values():
                yield u, v, data


def _alongside_names(route: Any, edges: gpd.GeoDataFrame) -> list[str]:
    """Return, per route edge, the named street it runs alongside ('' when none or already named)."""
    unnamed = (edges["name"] == "") & edges["highway"].isin(SIDEWALK_CLASSES | {"service"})
    out = [""] * len(edges)
    if not unnamed.any():
        return out
    index = _named_index(route.graph)
    if index is None:
        return out
    rows, named, tree = index
    route_edges = edges.to_crs(named.crs)
    for i in np.nonzero(unnamed.to_numpy())[0]:
        line = route_edges.geometry.iloc[i]
        if line.length < 1.0:
            continue
        mid = line.interpolate(0.5, normalized=True)
        bearing = _local_bearing(line, line.length / 2, min(line.length, 20.0))
        best, best_d = "", ALONGSIDE_M
        for j in tree.query(mid, predicate="dwithin", distance=ALONGSIDE_M):
            other = named.iloc[j]
            at = other.project(mid)
            d = other.distance(mid)
            b2 = _local_bearing(other, at)
            if abs(math.cos(math.radians(b2 - bearing))) >= 0.85 and d < best_d:
                best, best_d = rows[j], d
        out[i] = best
    return out


def cue_sheet(route: Any) -> pd.DataFrame:
    """Return the cues of ``route``: ``distance_m, distance_mi, distance_km, turn, street, instruction``.

    See the module docstring for how sidewalks are named and jogs folded.
    """
    edges = route.to_gdf()
    beside = _alongside_names(route, edges)
    labels, keys = [], []
    for (name, hw), side in zip(edges[["name", "highway"]].itertuples(index=False), beside, strict=True):
        if name:
            labels.append(name)
            keys.append(street_key(name))
        elif side:
            kind = "sidewalk" if hw in SIDEWALK_CLASSES else "service road"
            labels.append(f"{side} ({kind})")
            keys.append(street_key(side))
        else:
            plain = {
                "footway": "footpath",
                "path": "path",
                "pedestrian": "pedestrian way",
                "steps": "steps",
                "service": "service road",
                "cycleway": "cycle path",
            }
            labels.append(plain.get(hw, "unnamed way"))
            keys.append(f"#{labels[-1]}")
    # stretches: runs of edges with the same street key
    starts = [0] + [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]]
    stretches = []
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(keys)
        stretches.append([s, e])
    # fold short stretches (jogs, crossings) into the stretch before them
    merged: list[list[int]] = []
    for s, e in stretches:
        length = float(edges["end_m"].iloc[e - 1] - edges["start_m"].iloc[s])
        if merged and length < MIN_STRETCH_M or merged and keys[s] == keys[merged[-1][0]]:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    whole = gpd.GeoSeries([route.geometry], crs="EPSG:4326")
    line = whole.to_crs(utm_crs(whole)).iloc[0]
    scale = line.length / route.length_m if route.length_m else 1.0
    cues = [_cue(0.0, "depart", labels[0], f"Start on {labels[0]}")]
    for (ps, pe), (s, _) in zip(merged[:-1], merged[1:], strict=True):
        del ps, pe
        at = float(edges["start_m"].iloc[s]) * scale
        delta = (
            _local_bearing(line, at + 12.0, 24.0) - _local_bearing(line, at - 12.0, 24.0) + 540.0
        ) % 360.0
        delta -= 180.0
        turn = _turn(delta)
        verb = {"straight": "Continue onto", "u-turn": "Make a U-turn onto"}.get(turn, f"Turn {turn} onto")
        street = labels[s]
        cues.append(_cue(float(edges["start_m"].iloc[s]), turn, street, f"{verb} {street}"))
    finish = route.stops[-1].name if route.stops else ""
    cues.append(_cue(route.length_m, "arrive", "", f"Arrive at {finish}" if finish else "Arrive"))
    return pd.DataFrame(cues)


def _cue(distance_m: float, turn: str, street: str, instruction: str) -> dict[str, Any]:
    return {
        "distance_m": round(distance_m, 1),
        "distance_mi": round(distance_m / UNIT_M["mi"], 3),
        "distance_km": round(distance_m / UNIT_M["km"], 3),
        "turn": turn,
        "street": street,
        "instruction": instruction,
    }
