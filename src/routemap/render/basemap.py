"""Pure preparation of the offline street basemap: streets and labels around a route, vector tiles to embed.

Two sources, one look:

- **vector tiles** (the embedded LA corridor ``.mbtiles``, or a ``z/x/y`` folder): when the route's graph was
  built from them, the tiles around the route are embedded in the page as they are (only their
  ``transportation`` layer) and drawn by Leaflet.VectorGrid;
- **the route's own street graph** (PBF, Overpass, GraphML, online): its edges near the route, merged per
  street class, drawn as a few multi-polylines.

Street names come from the graph in both cases (the tile graph's names are the tiles'
``transportation_name`` layer joined onto the streets), placed every :data:`LABEL_SPACING_M` along each
named street and turned to follow it. No folium here: graphs and geometries in, plain data out.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from routemap._crs import utm_crs
from routemap.network.tiles_pbf import decompress, keep_layers

#: How far around the route the basemap reaches: a runner's sideways glance plus room to pan (metres).
BASEMAP_WITHIN_M = 1500.0


#: Street groups, drawn from the lightest to the boldest; each OSM ``highway`` value and each
#: OpenMapTiles ``transportation`` class maps to one. Widths are CSS pixels at zoom 15 (``width_z15``),
#: scaled by :data:`WIDTH_PER_ZOOM` per zoom level: main streets wider, footpaths thin and dashed.
class StreetStyle(TypedDict):
    """How one street group is drawn (HTML and PNG)."""

    color: str
    width_z15: float
    dash: str | None
    label_zoom: int
    fade: bool


STREET_GROUPS: dict[str, StreetStyle] = {
    "path": {"color": "#7a6a55", "width_z15": 1.0, "dash": "3 3", "label_zoom": 17, "fade": True},
    "service": {"color": "#b0b0b0", "width_z15": 1.2, "dash": None, "label_zoom": 17, "fade": True},
    "minor": {"color": "#9a9a9a", "width_z15": 1.8, "dash": None, "label_zoom": 16, "fade": True},
    "tertiary": {"color": "#858585", "width_z15": 3.0, "dash": None, "label_zoom": 15, "fade": False},
    "secondary": {"color": "#737373", "width_z15": 4.0, "dash": None, "label_zoom": 15, "fade": False},
    "primary": {"color": "#606060", "width_z15": 5.0, "dash": None, "label_zoom": 15, "fade": False},
    "motorway": {"color": "#4a4a4a", "width_z15": 5.5, "dash": None, "label_zoom": 15, "fade": False},
    "rail": {"color": "#555555", "width_z15": 1.2, "dash": "6 4", "label_zoom": 99, "fade": True},
}
"""Greys, darker and wider for bigger streets: they must read over the yellow-orange-red neighborhood
shading and over the OpenStreetMap tiles alike, and never compete with the route's saturated colors.
``fade``: drawn at :data:`FADE_OPACITY` ``[0]`` below :data:`FADE_BELOW_ZOOM` (the others at ``[1]``),
where the dense grid of streets would otherwise turn the overview grey and crowd the route."""

#: Zoom below which the streets are faded, and the opacities there (faded groups, the others).
FADE_BELOW_ZOOM = 14
FADE_OPACITY = (0.4, 0.7)

#: Line width grows by this factor per zoom level (1.4: about double every two levels, so streets stay
#: readable at zoom 13 and main streets fill their real width at 17).
WIDTH_PER_ZOOM = 1.4

_HIGHWAY_GROUP = {
    "motorway": "motorway",
    "motorway_link": "motorway",
    "trunk": "motorway",
    "trunk_link": "motorway",
    "primary": "primary",
    "primary_link": "primary",
    "secondary": "secondary",
    "secondary_link": "secondary",
    "tertiary": "tertiary",
    "tertiary_link": "tertiary",
    "residential": "minor",
    "unclassified": "minor",
    "living_street": "minor",
    "road": "minor",
    "minor": "minor",
    "busway": "minor",
    "service": "service",
    "track": "service",
    "raceway": "service",
    "pedestrian": "path",
    "footway": "path",
    "path": "path",
    "cycleway": "path",
    "steps": "path",
    "bridleway": "path",
    "corridor": "path",
    "rail": "rail",
    "transit": "rail",
}

#: Distance between two labels of the same street (metres): about 150 px at zoom 16, so a long street
#: is named on every screen without its name repeating like a pattern.
LABEL_SPACING_M = 600.0

#: Streets (merged pieces) shorter than this get no label: a 40 m stub cannot hold a name.
LABEL_MIN_LENGTH_M = 120.0

#: Half the stretch of street whose direction turns the label (metres).
LABEL_DIRECTION_M = 30.0

#: Layers of the OpenMapTiles schema the page draws, when a tile has them: water and parks under the
#: streets (the embedded corridor tiles carry streets only). Names come from the graph, so
#: ``transportation_name``, which doubles a tile's size, is left out.
TILE_LAYERS = ("water", "park", "transportation")

#: Zoom the embedded vector tiles are read at (the corridor's only zoom).
TILE_ZOOM = 14


def street_group(highway: object) -> str:
    """Return the display group of an OSM ``highway`` value (or list of values, the first known wins)."""
    values = highway if isinstance(highway, (list, tuple)) else [highway]
    for value in values:
        group = _HIGHWAY_GROUP.get(str(value))
        if group is not None:
            return group
    return "minor"


#: Routes are simplified to this many metres before the basemap's area is drawn around them.
AREA_SIMPLIFY_M = 10.0


def route_area(lines: Sequence[BaseGeometry], within_m: float = BASEMAP_WITHIN_M) -> gpd.GeoSeries:
    """Return the area the basemap covers: the routes buffered by ``within_m``, as a one-row EPSG:4326 series."""
    routes = gpd.GeoSeries(list(lines), crs=4326)
    utm = utm_crs(routes)
    # each route buffered on its own, then the areas joined: buffering the union of many overlapping
    # routes (a comparison map) took minutes; the routes' shape to within AREA_SIMPLIFY_M is plenty for an
    # area kilometres wide
    simple = shapely.simplify(routes.to_crs(utm).values, AREA_SIMPLIFY_M)
    area = shapely.union_all(shapely.buffer(simple, float(within_m), quad_segs=8))
    return gpd.GeoSeries([area], crs=utm).to_crs(4326)


def graph_streets(
    G: nx.MultiDiGraph, lines: Sequence[BaseGeometry], within_m: float = BASEMAP_WITHIN_M
) -> gpd.GeoDataFrame:
    """Return the graph's streets within ``within_m`` of the routes, one row per street piece.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        An osmnx-compatible graph (node ``x``/``y`` in degrees; edge ``highway``, optional ``name`` and
        ``geometry``).
    lines : sequence of LineString
        The routes, EPSG:4326.
    within_m : float
        Keep the edges that come this close to a route.

    Returns
    -------
    GeoDataFrame
        Columns ``name`` (str, "" when unnamed) and ``group`` (a key of :data:`STREET_GROUPS`), EPSG:4326;
        each street piece once (the two directions of a two-way street are one row); sorted.
    """
    area = route_area(lines, within_m).iloc[0]
    west, south, east, north = area.bounds
    nodes = np.array(list(G.nodes))
    if len(nodes) == 0:
        return gpd.GeoDataFrame({"name": [], "group": []}, geometry=[], crs=4326)
    xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)], dtype=float)
    inside = (xy[:, 0] >= west) & (xy[:, 0] <= east) & (xy[:, 1] >= south) & (xy[:, 1] <= north)
    index = {n: i for i, n in enumerate(nodes.tolist())}
    names: list[str] = []
    groups: list[str] = []
    geoms: list[BaseGeometry | None] = []
    straight: list[tuple[int, int, int]] = []
    # the graph's own adjacency dicts, read only: networkx's views wrap every node and edge in an object
    adjacency = G._succ if isinstance(G, nx.MultiDiGraph) else G.adj
    near = inside.tolist()  # Python bools: one lookup per edge below
    # Only the edges leaving a node in the box (a route's surroundings are a small part of a city graph).
    edges = (
        (u, v, data)
        for u in nodes[inside].tolist()
        for v, keyed in adjacency[u].items()
        for data in keyed.values()
    )
    for u, v, data in edges:
        iu, iv = index[u], index[v]
        if not near[iv]:
            continue
        geom = data.get("geometry")
        if geom is None:
            straight.append((len(geoms), iu, iv))  # built below, all at once
        name = data.get("name")
        if isinstance(name, (list, tuple)):
            name = name[0] if name else None
        names.append("" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name))
        groups.append(street_group(data.get("highway")))
        geoms.append(geom)
    if not geoms:
        return gpd.GeoDataFrame({"name": [], "group": []}, geometry=[], crs=4326)
    geoms_arr = np.array(geoms + [None], dtype=object)[:-1]  # (the None keeps numpy from unpacking)
    if straight:
        at, start, end = (np.array(c) for c in zip(*straight))
        pairs = np.stack([xy[start], xy[end]], axis=1)  # (n, 2 points, 2)
        geoms_arr[at] = shapely.linestrings(pairs)
    keep = shapely.intersects(geoms_arr, area)
    normal = shapely.normalize(geoms_arr[keep])
    frame = pd.DataFrame(
        {"name": np.array(names)[keep], "group": np.array(groups)[keep], "wkb": shapely.to_wkb(normal)}
    )
    frame = frame.drop_duplicates("wkb")
    out = gpd.GeoDataFrame(
        frame[["name", "group"]].reset_index(drop=True),
        geometry=normal[frame.index.to_numpy()],
        crs=4326,
    )
    return out.sort_values(["group", "name"], kind="stable").reset_index(drop=True)


def merged_streets(streets: gpd.GeoDataFrame, decimals: int = 5, simplify_m: float = 1.0) -> dict[str, list]:
    """Return each group's streets as lists of ``[lat, lon]`` lines, merged end to end and simplified.

    Parameters
    ----------
    streets : GeoDataFrame
        From :func:`graph_streets`.
    decimals : int
        Decimals kept (5 = about 1 m).
    simplify_m : float
        Simplification tolerance in metres.

    Returns
    -------
    dict
        Group -> list of lines (each a list of ``[lat, lon]``), for the groups present, in
        :data:`STREET_GROUPS` order.
    """
    if streets.empty:
        return {}
    utm = utm_crs(streets.geometry)
    projected = streets.to_crs(utm)
    out: dict[str, list] = {}
    for group in STREET_GROUPS:
        part = projected.geometry[projected["group"].to_numpy() == group]
        if part.empty:
            continue
        merged = shapely.line_merge(shapely.multilinestrings(part.to_numpy()))
        merged = gpd.GeoSeries([merged.simplify(simplify_m)], crs=utm).to_crs(4326).iloc[0]
        pieces = shapely.get_parts(merged)
        lines = []
        for piece in pieces:
            xy = np.round(shapely.get_coordinates(piece), decimals)
            if len(xy) >= 2:
                lines.append(xy[:, ::-1].tolist())
        out[group] = lines
    return out


def street_labels(
    streets: gpd.GeoDataFrame,
    spacing_m: float = LABEL_SPACING_M,
    min_length_m: float = LABEL_MIN_LENGTH_M,
) -> pd.DataFrame:
    """Return where to write street names: a point every ``spacing_m`` along each named street, with its angle.

    Parameters
    ----------
    streets : GeoDataFrame
        From :func:`graph_streets`.
    spacing_m : float
        Distance between two labels of one street; a street shorter than that gets one, in its middle.
    min_length_m : float
        Merged street pieces shorter than this are not labelled.

    Returns
    -------
    DataFrame
        Columns ``name``, ``group`` (the street's boldest group), ``lat``, ``lon`` (5 decimals) and
        ``angle`` (degrees clockwise on screen, between -90 and 90 so text is never upside down); sorted.
    """
    cols = ["name", "group", "lat", "lon", "angle"]
    named = streets[streets["name"] != ""]
    if named.empty:
        return pd.DataFrame(columns=cols)
    utm = utm_crs(named.geometry)
    projected = named.to_crs(utm)
    rows_name, rows_group, line = _merged_by_name(projected)
    length = shapely.length(line)
    count = np.where(length < min_length_m, 0, np.maximum(1, length // spacing_m)).astype(int)
    if count.sum() == 0:
        return pd.DataFrame(columns=cols)
    which = np.repeat(np.arange(len(line)), count)  # one entry per label
    nth = np.arange(len(which)) - np.repeat(np.cumsum(count) - count, count)
    at = (nth + 0.5) * (length[which] / count[which])
    on = line[which]
    points = shapely.line_interpolate_point(on, at)
    behind = shapely.line_interpolate_point(on, np.maximum(0.0, at - LABEL_DIRECTION_M))
    ahead = shapely.line_interpolate_point(on, np.minimum(length[which], at + LABEL_DIRECTION_M))
    rows_name = np.array(rows_name, dtype=object)[which].tolist()
    rows_group = np.array(rows_group, dtype=object)[which].tolist()
    # Angles on screen are angles in Web Mercator (conformal), the same at every zoom.
    merc = gpd.GeoSeries(np.concatenate([points, behind, ahead]), crs=utm).to_crs(3857)
    n = len(points)
    start, end = merc.iloc[n : 2 * n], merc.iloc[2 * n :]
    dx = end.x.to_numpy() - start.x.to_numpy()
    dy = end.y.to_numpy() - start.y.to_numpy()
    angle = -np.degrees(np.arctan2(dy, dx))  # screen y points down
    angle = np.where(angle > 90, angle - 180, np.where(angle <= -90, angle + 180, angle))
    lonlat = merc.iloc[:n].to_crs(4326)
    out = pd.DataFrame(
        {
            "name": rows_name,
            "group": rows_group,
            "lat": np.round(lonlat.y.to_numpy(), 5),
            "lon": np.round(lonlat.x.to_numpy(), 5),
            "angle": np.round(angle, 1),
        }
    )
    return out.sort_values(["name", "lat", "lon"], kind="stable").reset_index(drop=True)


def _merged_by_name(streets: gpd.GeoDataFrame) -> tuple[list[str], list[str], np.ndarray]:
    """Return each name's pieces merged end to end: ``(names, groups, lines)``, one entry per piece.

    Names in sorted order, each with its boldest group (the last of :data:`STREET_GROUPS` among its
    pieces); lines as ``shapely.line_merge`` makes them of the name's pieces in frame order. All names
    are merged in one shapely call (one call per name was most of the labels' time).
    """
    codes, names = pd.factorize(streets["name"], sort=True)
    groups = list(STREET_GROUPS)
    rank = pd.Series(streets["group"].map({g: i for i, g in enumerate(groups)}).to_numpy())
    boldest = np.array(groups, dtype=object)[rank.groupby(codes).max().to_numpy()]
    order = np.argsort(codes, kind="stable")  # each name's pieces together, in frame order
    merged = shapely.line_merge(
        shapely.multilinestrings(streets.geometry.to_numpy()[order], indices=codes[order])
    )
    line, which = shapely.get_parts(merged, return_index=True)
    return names.to_numpy()[which].tolist(), boldest[which].tolist(), line


def tile_source(G: nx.MultiDiGraph) -> Path | None:
    """Return the vector-tile file or folder the graph was built from, or None (not from tiles, or gone)."""
    src = G.graph.get("routemap_source") or {}
    if src.get("kind") not in ("mbtiles", "tiles") or not src.get("paths"):
        return None
    path = Path(src["paths"][0])
    return path if path.exists() else None


def _tile_polygons(xs: np.ndarray, ys: np.ndarray, zoom: int) -> np.ndarray:
    n = 2.0**zoom

    def lon(x):
        return x / n * 360.0 - 180.0

    def lat(y):
        return np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * y / n))))

    return shapely.box(lon(xs), lat(ys + 1), lon(xs + 1), lat(ys))


def route_tiles(
    source: str | Path, lines: Sequence[BaseGeometry], within_m: float = BASEMAP_WITHIN_M
) -> dict[str, bytes]:
    """Return the vector tiles around the routes, uncompressed and cut to :data:`TILE_LAYERS`.

    Parameters
    ----------
    source : str or Path
        An ``.mbtiles`` file, or a folder of ``{z}/{x}/{y}.pbf`` tiles (XYZ scheme, plain or gzip).
    lines : sequence of LineString
        The routes, EPSG:4326.
    within_m : float
        Embed every tile that comes this close to a route.

    Returns
    -------
    dict
        ``"z/x/y"`` (XYZ scheme, zoom :data:`TILE_ZOOM`) -> MVT bytes holding only :data:`TILE_LAYERS`,
        sorted by key; tiles with none of the layers are left out.
    """
    area = route_area(lines, within_m).iloc[0]
    west, south, east, north = area.bounds
    n = 2**TILE_ZOOM

    def col(lon: float) -> int:
        return min(n - 1, max(0, math.floor((lon + 180.0) / 360.0 * n)))

    def row(lat: float) -> int:
        return min(n - 1, max(0, math.floor((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)))

    cols = np.arange(col(west), col(east) + 1)
    rows = np.arange(row(north), row(south) + 1)
    xs, ys = (a.ravel() for a in np.meshgrid(cols, rows))
    near = shapely.intersects(_tile_polygons(xs, ys, TILE_ZOOM), area)
    wanted = set(zip(xs[near].tolist(), ys[near].tolist()))
    raw: dict[tuple[int, int], bytes] = {}
    source = Path(source)
    if source.is_dir():
        for x, y in wanted:
            file = source / str(TILE_ZOOM) / str(x) / f"{y}.pbf"
            if file.exists():
                raw[(x, y)] = file.read_bytes()
    else:
        con = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            for x, tms_row, blob in con.execute(
                "SELECT tile_column, tile_row, tile_data FROM tiles WHERE zoom_level = ?", (TILE_ZOOM,)
            ):
                key = (int(x), n - 1 - int(tms_row))  # TMS rows -> XYZ
                if key in wanted:
                    raw[key] = bytes(blob)
        finally:
            con.close()
    out = {}
    for (x, y), blob in sorted(raw.items()):
        tile = keep_layers(decompress(blob), TILE_LAYERS)
        if tile:
            out[f"{TILE_ZOOM}/{x}/{y}"] = tile
    return out
