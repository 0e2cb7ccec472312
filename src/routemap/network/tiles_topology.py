"""Street topology from vector-tile lines: pure computation on arrays, no files.

Input: the ``transportation`` and ``transportation_name`` lines of OpenMapTiles tiles, each clipped to its own
tile square, in GLOBAL tile-pixel coordinates (``x`` right, ``y`` down, ``extent`` pixels per tile edge, so a
vertex has the same integer coordinates in every tile that holds it). Output: nodes and OSM-style ways for
:func:`routemap.network.build.graph_from_ways`.

- Intersections come only from shared vertices: two lines meet where they have a vertex at the same global
  pixel, never where they merely cross (bridges and tunnels keep their own vertices).
- A street crossing a tile edge is cut there in both tiles. The two cut points lie on the edge but may differ
  by a pixel (each tile's copy was clipped at its buffer with rounding), so cut points on opposite sides of an
  edge with the same attributes, within :data:`JOIN_TOLERANCE_PX` along it, become one node.
- Segments present twice (a line running along a tile edge is in both tiles) are kept once.
- Names and subclasses come from ``transportation_name``, whose segments coincide with ``transportation``'s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import shapely

#: Cut points on the two sides of a tile edge closer than this along it (pixels) are the same street.
JOIN_TOLERANCE_PX = 2.0
#: Coordinates are keyed on a grid this many times finer than a pixel (cut points are fractional).
_KEY_SCALE = 256.0
#: Attributes that must match for two cut points on a tile edge to be joined.
JOIN_ATTRS = ("class", "ramp", "oneway", "brunnel", "service")

_ROAD_CLASSES = frozenset({"motorway", "trunk", "primary", "secondary", "tertiary"})
_SUBCLASSES = {
    "minor": ({"residential", "unclassified", "road", "living_street"}, "unclassified"),
    "track": ({"cycleway", "bridleway", "track"}, "track"),
    "path": ({"footway", "path", "steps", "cycleway", "bridleway", "pedestrian"}, "path"),
}
_SAME_CLASSES: dict[str | None, str] = {"service": "service", "pedestrian": "pedestrian", "busway": "busway"}


def highway_tag(cls: str | None, subclass: str | None = None, ramp: bool = False) -> str | None:
    """Return the OSM ``highway`` value of an OpenMapTiles ``class``/``subclass``/``ramp``, or None.

    None means "not a street": rail, ferry, construction, proposed, platforms, piers and the like.
    """
    if cls in _ROAD_CLASSES:
        return f"{cls}_link" if ramp else cls
    if cls in _SUBCLASSES:
        allowed, default = _SUBCLASSES[cls]
        return subclass if subclass in allowed else default
    return _SAME_CLASSES.get(cls)


def pixels_to_lonlat(x, y, zoom: int, extent: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (lon, lat) in degrees of global tile-pixel coordinates (Web Mercator, y down)."""
    size = float(extent) * 2**zoom
    lon = np.asarray(x, dtype=float) / size * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(math.pi * (1.0 - 2.0 * np.asarray(y, dtype=float) / size))))
    return lon, lat


def mercator_to_pixels(coords: np.ndarray, zoom: int, extent: int) -> np.ndarray:
    """Return global tile-pixel coordinates of EPSG:3857 coordinates (n x 2 array)."""
    half = 20037508.342789244
    res = 2 * half / (extent * 2**zoom)
    out = np.empty_like(coords, dtype=float)
    out[:, 0] = (coords[:, 0] + half) / res
    out[:, 1] = (half - coords[:, 1]) / res
    return out


def _explode(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (xy, vertex_part, part_feature, part_start) of the LineString parts of ``geoms``."""
    parts, feature = shapely.get_parts(geoms, return_index=True)
    lines = (shapely.get_type_id(parts) == 1) & (shapely.get_num_coordinates(parts) >= 2)
    parts, feature = parts[lines], feature[lines]
    xy, part = shapely.get_coordinates(parts, return_index=True)
    counts = shapely.get_num_coordinates(parts)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return xy, part, feature, start


def _segment_keys(xy: np.ndarray, part: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Return undirected quantized keys of each part's segments, and each segment's first vertex index."""
    same = part[1:] == part[:-1]
    first = np.flatnonzero(same)
    q = np.round(xy * _KEY_SCALE).astype(np.int64)
    a, b = q[first], q[first + 1]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    lo = np.where(swap[:, None], b, a)
    hi = np.where(swap[:, None], a, b)
    keys = pd.DataFrame({"x0": lo[:, 0], "y0": lo[:, 1], "x1": hi[:, 0], "y1": hi[:, 1]})
    return keys, first


def join_names(
    lines: pd.DataFrame, names: pd.DataFrame | None, name_field: str = "name:latin"
) -> pd.DataFrame:
    """Return ``name``, ``subclass`` and ``ref`` for each row of ``lines`` from the name layer's segments.

    Each ``transportation`` feature takes the attributes of the ``transportation_name`` feature of the same
    class sharing most of its segments (same tile-pixel endpoints). Rows without a match get None.
    """
    out = pd.DataFrame(index=lines.index, data={"name": None, "subclass": None, "ref": None})
    if names is None or len(names) == 0 or len(lines) == 0:
        return out
    lxy, lpart, lfeat, _ = _explode(np.asarray(lines.geometry.values))
    nxy, npart, nfeat, _ = _explode(np.asarray(names.geometry.values))
    lkeys, lfirst = _segment_keys(lxy, lpart)
    nkeys, nfirst = _segment_keys(nxy, npart)
    lkeys["line"] = lfeat[lpart[lfirst]]
    nkeys["name_row"] = nfeat[npart[nfirst]]
    on = ["x0", "y0", "x1", "y1"]
    if "class" in lines.columns and "class" in names.columns:
        lkeys["class"] = lines["class"].to_numpy()[lkeys["line"].to_numpy()]
        nkeys["class"] = names["class"].to_numpy()[nkeys["name_row"].to_numpy()]
        on.append("class")
    nkeys = nkeys.drop_duplicates([*on, "name_row"])
    pairs = lkeys.merge(nkeys, on=on)
    if len(pairs) == 0:
        return out
    votes = pairs.groupby(["line", "name_row"]).size().reset_index(name="n")
    votes = votes.sort_values(["line", "n", "name_row"], ascending=[True, False, True])
    best = votes.drop_duplicates("line")
    rows = best["name_row"].to_numpy()
    where = lines.index[best["line"].to_numpy()]
    for column, field in (("name", name_field), ("subclass", "subclass"), ("ref", "ref")):
        if field in names.columns:
            values = names[field].to_numpy(dtype=object)[rows]
            out.loc[where, column] = [v if isinstance(v, str) and v else None for v in values]
    return out


def _attr_codes(lines: pd.DataFrame) -> np.ndarray:
    """Return one integer per row of ``lines`` that is equal exactly when :data:`JOIN_ATTRS` are."""
    cols = [c for c in JOIN_ATTRS if c in lines.columns]
    if not cols:
        return np.zeros(len(lines), dtype=np.int64)
    frame = lines[cols].astype(object).where(lines[cols].notna(), "").astype(str)
    return frame.groupby(cols, sort=True).ngroup().to_numpy(dtype=np.int64)


def join_cut_points(xy: np.ndarray, start: np.ndarray, part_attr: np.ndarray, extent: int) -> np.ndarray:
    """Return ``xy`` with the cut points of parts on the two sides of each tile edge made equal.

    A part's end lying on a tile edge (a multiple of ``extent``) is matched with the end of a part on the
    other side of that edge having the same attribute code, nearest along the edge and within
    :data:`JOIN_TOLERANCE_PX`; the right/lower one is moved onto the left/upper one.
    """
    xy = xy.copy()
    stop = np.concatenate([start[1:], [len(xy)]]) - 1
    ends = np.concatenate([start, stop])
    nbrs = np.concatenate([start + 1, stop - 1])
    attrs = np.concatenate([part_attr, part_attr])
    for axis in (0, 1):  # 0: vertical edges (x = k * extent), 1: horizontal edges
        coord = xy[ends, axis]
        edge = np.round(coord / extent)
        on_edge = np.abs(coord - edge * extent) < 1e-4
        side = np.sign(xy[nbrs, axis] - edge * extent)
        pick = on_edge & (side != 0)
        if not pick.any():
            continue
        frame = pd.DataFrame(
            {
                "vertex": ends[pick],
                "group": edge[pick].astype(np.int64) * (attrs.max() + 1) + attrs[pick],
                "pos": xy[ends[pick], 1 - axis],
                "side": side[pick],
            }
        )
        left = frame[frame.side < 0].sort_values("pos")
        right = frame[frame.side > 0].sort_values("pos")
        if left.empty or right.empty:
            continue
        match = pd.merge_asof(
            right,
            left[["group", "pos", "vertex"]].assign(left_pos=left["pos"]),
            on="pos",
            by="group",
            direction="nearest",
            tolerance=JOIN_TOLERANCE_PX,  # type: ignore[arg-type]  # pandas-stubs omit float tolerance (float keys)
            suffixes=("", "_left"),
        ).dropna(subset=["vertex_left"])
        # one-to-one: a left cut point joins only its nearest right one
        match["dist"] = (match["pos"] - match["left_pos"]).abs()
        match = match.sort_values(["dist", "vertex"]).drop_duplicates("vertex_left")
        target = match["vertex_left"].to_numpy(dtype=np.int64)
        xy[match["vertex"].to_numpy(dtype=np.int64)] = xy[target]
    return xy


def street_ways(
    lines: pd.DataFrame,
    names: pd.DataFrame | None,
    *,
    zoom: int,
    extent: int,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], list[tuple[None, list[int], dict]]]:
    """Return ``((ids, lons, lats), ways)`` of the streets in tile lines, ready for ``graph_from_ways``.

    Parameters
    ----------
    lines
        ``transportation`` features: a ``geometry`` column of (Multi)LineStrings in global tile-pixel
        coordinates, clipped to their own tile, and the OpenMapTiles columns ``class``, ``ramp``,
        ``oneway``, ``brunnel``, ``service`` (missing ones count as absent).
    names
        ``transportation_name`` features in the same coordinates (``name:latin``, ``subclass``, ``ref``,
        ``class``), or None.
    zoom, extent
        Zoom level of the tiles and pixels per tile edge, to turn pixels into degrees.

    Returns
    -------
    tuple
        ``(ids, lons, lats)`` node arrays (sequential ids from 1, ordered by position) and a list of
        ``(None, node_ids, tags)`` ways with OSM-style tags (``highway``, ``name``, ``ref``, ``oneway``,
        ``bridge``, ``tunnel``, ``ford``, ``service``).
    """
    lines = lines.reset_index(drop=True)
    extra = join_names(lines, names)
    col = {c: lines[c].to_numpy(dtype=object) if c in lines else [None] * len(lines) for c in JOIN_ATTRS}
    col.update({c: extra[c].to_numpy(dtype=object) for c in ("name", "subclass", "ref")})
    tags_of: list[dict[str, str] | None] = []
    for i in range(len(lines)):
        highway = highway_tag(col["class"][i], col["subclass"][i], _truthy(col["ramp"][i]))
        tags_of.append(None if highway is None else _tags(highway, col, i))
    keep = np.array([t is not None for t in tags_of], dtype=bool)
    kept = np.flatnonzero(keep)
    empty = (np.empty(0, np.int64), np.empty(0), np.empty(0))
    if len(kept) == 0:
        return empty, []
    xy, part, feature, start = _explode(np.asarray(lines.geometry.values)[kept])
    if len(xy) == 0:
        return empty, []
    feature = kept[feature]
    xy = join_cut_points(xy, start, _attr_codes(lines)[feature], extent)

    uniq, node = _unique_points(np.round(xy * _KEY_SCALE).astype(np.int64))
    node = node + 1
    lons, lats = pixels_to_lonlat(uniq[:, 0] / _KEY_SCALE, uniq[:, 1] / _KEY_SCALE, zoom, extent)
    ids = np.arange(1, len(uniq) + 1, dtype=np.int64)

    # segments, without zero-length ones and without repeats (kept where first seen)
    seg = np.flatnonzero((part[1:] == part[:-1]) & (node[1:] != node[:-1]))
    a, b = node[seg], node[seg + 1]
    pair = np.minimum(a, b) * (len(ids) + 1) + np.maximum(a, b)
    _, first = np.unique(pair, return_index=True)
    seg = seg[np.sort(first)]
    # a way is a run of consecutive kept segments of one part
    new_run = np.ones(len(seg), dtype=bool)
    new_run[1:] = (seg[1:] != seg[:-1] + 1) | (part[seg[1:]] != part[seg[:-1]])
    run_starts = np.flatnonzero(new_run)
    run_stops = np.concatenate([run_starts[1:], [len(seg)]])
    seg_u, seg_v = node[seg].tolist(), node[seg + 1].tolist()
    seg_feature = feature[part[seg]].tolist()
    ways = [
        (None, [seg_u[s], *seg_v[s:e]], tags_of[seg_feature[s]])
        for s, e in zip(run_starts.tolist(), run_stops.tolist())
    ]
    return (ids, lons, lats), ways


def _unique_points(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the unique rows of an (n, 2) integer array (sorted by y, then x) and each row's index."""
    lo = q.min(axis=0)
    span = q.max(axis=0) - lo + 1
    if float(span[0]) * float(span[1]) < 2**62:  # one int64 key per point: much faster than axis=0
        key = (q[:, 1] - lo[1]) * span[0] + (q[:, 0] - lo[0])
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return q[first], inverse.reshape(-1)
    uniq, inverse = np.unique(q[:, ::-1], axis=0, return_inverse=True)
    return uniq[:, ::-1], inverse.reshape(-1)


def _truthy(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return str(value) not in ("0", "0.0", "", "false", "no")


def _tags(highway: str, col: Mapping[str, Any], i: int) -> dict[str, str]:
    tags = {"highway": highway}
    for key in ("name", "ref"):
        value = col[key][i]
        if value:
            tags[key] = value
    oneway = col["oneway"][i]
    if _truthy(oneway):
        tags["oneway"] = "-1" if float(oneway) < 0 else "yes"
    brunnel = col["brunnel"][i]
    if isinstance(brunnel, str) and brunnel in ("bridge", "tunnel", "ford"):
        tags[brunnel] = "yes"
    service = col["service"][i]
    if isinstance(service, str) and service:
        tags["service"] = service
    return tags
