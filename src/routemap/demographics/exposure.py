"""Who a route passes: the neighborhoods it crosses, in order, and the people living within a buffer."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString

from routemap import settings
from routemap._crs import utm_crs
from routemap.demographics.interpolate import FIGURE_FIELDS, interpolate_figures
from routemap.demographics.layers import load_neighborhoods, load_tracts
from routemap.errors import DemographicsError

#: The name of the route's stretches that lie in no neighborhood polygon.
OUTSIDE = "(outside mapped neighborhoods)"


@dataclass
class RouteDemographics:
    """The neighborhoods a route passes and the people living near it.

    Attributes
    ----------
    neighborhoods
        One row per neighborhood, in the order the route first enters it: ``name``, ``entered_at_m``
        (distance along the route of the first entry), ``length_m`` and ``miles`` (all its visits
        together), ``share`` of the route (0-1), ``visits``. Rows sum to the route length; stretches
        in no polygon form the row :data:`OUTSIDE`.
    visits
        One row per visit, in route order: ``name``, ``start_m``, ``end_m``, ``length_m``, ``miles``.
        A neighborhood entered twice has two rows here. Visits shorter than ``min_visit_m`` (grazing
        the far side of a border street) are folded into the neighbouring visit.
    near_route
        The people living within ``buffer_m`` of the route (tract figures interpolated by area onto
        the buffer polygon): the :data:`FIGURE_FIELDS` and ``area_km2``; also readable as attributes
        (``rd.population``, ``rd.pct_foreign_born``). NaN (unknown, not zero) when no tract reaches the
        buffer.
    route_length_m, buffer_m
        The route's length (metres) and the buffer's half-width.
    buffer
        The buffer polygon (EPSG:4326).
    notes
        What the figures lack: :data:`routemap.settings.NO_CENSUS_NOTE` when no tract reaches the
        buffer, :data:`routemap.settings.NO_NEIGHBORHOODS_NOTE` when no neighborhood reaches the route.
    """

    neighborhoods: pd.DataFrame
    visits: pd.DataFrame
    near_route: dict[str, float]
    route_length_m: float
    buffer_m: float
    buffer: Any = field(repr=False, default=None)
    notes: list[str] = field(default_factory=list)

    @property
    def census_covered(self) -> bool:
        """Return True when a census tract reaches the buffer (else every people figure is unknown, NaN)."""
        return settings.NO_CENSUS_NOTE not in self.notes

    @property
    def neighborhoods_covered(self) -> bool:
        """Return True when a neighborhood polygon reaches the route (else its only row is :data:`OUTSIDE`)."""
        return settings.NO_NEIGHBORHOODS_NOTE not in self.notes

    def __getattr__(self, name: str) -> float:
        # rd.population, rd.pct_foreign_born...: the people figures read as attributes
        near = self.__dict__.get("near_route", {})
        if name in near:
            return near[name]
        raise AttributeError(name)

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data (numbers, strings, lists; NaN as None)."""

        def clean(value: Any) -> Any:
            if isinstance(value, (np.integer, int)):
                return int(value)
            if isinstance(value, (np.floating, float)):
                return None if math.isnan(value) else float(value)
            return value

        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [{str(k): clean(v) for k, v in row.items()} for row in df.to_dict("records")]

        return {
            "route_length_m": clean(self.route_length_m),
            "route_miles": clean(self.route_length_m / settings.METERS_PER_MILE),
            "buffer_m": clean(self.buffer_m),
            "neighborhoods": records(self.neighborhoods),
            "visits": records(self.visits),
            "near_route": {k: clean(v) for k, v in self.near_route.items()},
            "notes": list(self.notes),
        }


def _route_line(route: Any) -> tuple[LineString, float | None]:
    """Return the route's LineString (EPSG:4326) and its stated length (None for a bare line)."""
    geom = getattr(route, "geometry", route)
    if isinstance(geom, MultiLineString):
        geom = shapely.line_merge(geom)
    if not isinstance(geom, LineString) or geom.is_empty or len(geom.coords) < 2:
        raise DemographicsError(
            f"Expected a Route or a LineString in EPSG:4326, got {type(route).__name__}; pass route.geometry."
        )
    length = getattr(route, "length_m", None)
    return geom, (float(length) if length is not None else None)


def route_neighborhood_visits(line_utm: LineString, hoods_utm: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the route's visits to each polygon in order: ``name``, ``start_m``, ``end_m`` (projected metres).

    Pure geometry: the line is cut into its straight segments, each segment is intersected with the
    polygons it touches, and each piece is placed along the route by its position within its own
    segment (so a route that doubles back is placed right). Where polygons overlap, the first in the
    layer wins; stretches in no polygon are named :data:`OUTSIDE`. Consecutive stretches in the same
    polygon merge into one visit.
    """
    coords = shapely.get_coordinates(line_utm)
    seg_len = np.hypot(*np.diff(coords, axis=0).T)
    keep = seg_len > 0
    starts, ends, seg_len = coords[:-1][keep], coords[1:][keep], seg_len[keep]
    seg_start = np.concatenate([[0.0], np.cumsum(seg_len)[:-1]])
    total = float(seg_len.sum())
    segments = shapely.linestrings(np.stack([starts, ends], axis=1))

    seg_idx, poly_idx = hoods_utm.sindex.query(segments, predicate="intersects")
    pieces = shapely.intersection(segments[seg_idx], hoods_utm.geometry.values[poly_idx])
    parts, part_of = shapely.get_parts(pieces, return_index=True)
    lines = shapely.get_type_id(parts) == 1  # LineStrings; points where a segment only touches a polygon
    parts, part_of = parts[lines], part_of[lines]
    seg_of, poly_of = seg_idx[part_of], poly_idx[part_of]
    a = shapely.line_locate_point(segments[seg_of], shapely.get_point(parts, 0))
    b = shapely.line_locate_point(segments[seg_of], shapely.get_point(parts, -1))
    p_start = seg_start[seg_of] + np.minimum(a, b)
    p_end = seg_start[seg_of] + np.maximum(a, b)

    # Elementary intervals between every piece end; each takes the first polygon (layer order) covering it.
    breaks = np.unique(np.concatenate([[0.0, total], p_start, p_end]))
    mids = (breaks[:-1] + breaks[1:]) / 2
    owner = np.full(len(mids), -1)
    for k in np.argsort(poly_of, kind="stable")[::-1]:  # the last written wins: lowest index last
        lo, hi = np.searchsorted(mids, [p_start[k], p_end[k]])
        owner[lo:hi] = poly_of[k]
    names = np.where(owner >= 0, hoods_utm["name"].to_numpy()[np.maximum(owner, 0)], OUTSIDE)
    iv = pd.DataFrame({"name": names, "start_m": breaks[:-1], "end_m": breaks[1:]})
    iv = iv[iv["end_m"] - iv["start_m"] > 1e-6]
    visit_id = (iv["name"] != iv["name"].shift()).cumsum()
    visits = iv.groupby(visit_id, sort=True).agg(
        name=("name", "first"), start_m=("start_m", "min"), end_m=("end_m", "max")
    )
    return visits.reset_index(drop=True)


def merge_short_visits(visits: pd.DataFrame, min_visit_m: float) -> pd.DataFrame:
    """Return ``visits`` with every visit shorter than ``min_visit_m`` folded into a neighbouring visit.

    Neighborhood borders often run down the middle of a street, so a route along that street grazes
    the other side for a few metres. The shortest visit goes first: it joins the visit before it (the
    one after, for the first), and neighbours that then share a name join up. Lengths are kept: the
    visits still cover the route from end to end.
    """
    rows = visits[["name", "start_m", "end_m"]].values.tolist()
    while len(rows) > 1:
        lengths = [end - start for _, start, end in rows]
        i = int(np.argmin(lengths))
        if lengths[i] >= min_visit_m:
            break
        j = i - 1 if i > 0 else 1
        rows[j][1], rows[j][2] = min(rows[j][1], rows[i][1]), max(rows[j][2], rows[i][2])
        del rows[i]
        merged = [rows[0]]
        for row in rows[1:]:
            if row[0] == merged[-1][0]:
                merged[-1][2] = row[2]
            else:
                merged.append(row)
        rows = merged
    return pd.DataFrame(rows, columns=["name", "start_m", "end_m"])


def route_demographics(
    route: Any,
    layer: str | os.PathLike | gpd.GeoDataFrame | None = None,
    buffer_m: float = settings.ROUTE_BUFFER_M,
    tracts: str | os.PathLike | gpd.GeoDataFrame | None = None,
    min_visit_m: float = 25.0,
) -> RouteDemographics:
    """Return the neighborhoods ``route`` passes, in order, and the people living within ``buffer_m`` of it.

    Parameters
    ----------
    route
        A :class:`routemap.route.Route` (its ``geometry`` and ``length_m`` are used) or a LineString in
        EPSG:4326.
    layer
        Neighborhood polygons (path or GeoDataFrame); default the embedded LA Times neighborhoods.
    buffer_m
        Half-width in metres of the band around the route whose residents are counted.
    tracts
        Tract figures (path or GeoDataFrame); default the embedded LA County ACS 2013-17 tracts.
    min_visit_m
        Visits shorter than this (a route along a border street grazing the other side, slivers
        between polygons) are folded into the neighbouring visit (:func:`merge_short_visits`);
        0 keeps every piece exactly as the polygons cut the route.

    Returns
    -------
    RouteDemographics
        Lengths are measured in the route's UTM zone and scaled so that they sum exactly to
        ``route.length_m`` (the network's great-circle length) when the route states one.

    Raises
    ------
    DemographicsError
        ``route`` is not a line, or ``buffer_m`` is not positive.
    """
    if not buffer_m > 0:
        raise DemographicsError(f"buffer_m must be a positive number of metres, got {buffer_m!r}.")
    line, stated = _route_line(route)
    hoods = load_neighborhoods(layer)
    line_gs = gpd.GeoSeries([line], crs=4326)
    crs = utm_crs(line_gs)
    line_utm = line_gs.to_crs(crs).iloc[0]
    visits = route_neighborhood_visits(line_utm, hoods.to_crs(crs))

    length_m = stated if stated is not None else line_utm.length
    scale = length_m / line_utm.length if line_utm.length > 0 else 1.0
    visits[["start_m", "end_m"]] *= scale
    if min_visit_m > 0:
        visits = merge_short_visits(visits, min_visit_m)
    visits["length_m"] = visits["end_m"] - visits["start_m"]
    visits["miles"] = visits["length_m"] / settings.METERS_PER_MILE

    per_hood = visits.groupby("name", sort=False).agg(
        entered_at_m=("start_m", "min"), length_m=("length_m", "sum"), visits=("name", "size")
    )
    per_hood = per_hood.sort_values("entered_at_m", kind="stable").reset_index()
    per_hood["miles"] = per_hood["length_m"] / settings.METERS_PER_MILE
    per_hood["share"] = per_hood["length_m"] / length_m if length_m > 0 else np.nan
    per_hood = per_hood[["name", "entered_at_m", "length_m", "miles", "share", "visits"]]

    buffer_utm = line_utm.buffer(buffer_m)
    buffer = gpd.GeoSeries([buffer_utm], crs=crs)
    tract_layer = (
        tracts if isinstance(tracts, gpd.GeoDataFrame) and "population" in tracts else load_tracts(tracts)
    )
    notes = []
    if not (visits["name"] != OUTSIDE).any():
        notes.append(settings.NO_NEIGHBORHOODS_NOTE)
    if _reaches(tract_layer, buffer):
        figures = interpolate_figures(tract_layer, buffer, crs=crs).iloc[0]
        near_route = {k: float(figures[k]) for k in FIGURE_FIELDS}
    else:  # no tract there: the people are unknown, not zero
        near_route = {k: math.nan for k in FIGURE_FIELDS}
        notes.append(settings.NO_CENSUS_NOTE)
    near_route["area_km2"] = buffer_utm.area / 1e6
    return RouteDemographics(
        neighborhoods=per_hood,
        visits=visits[["name", "start_m", "end_m", "length_m", "miles"]],
        near_route=near_route,
        route_length_m=float(length_m),
        buffer_m=float(buffer_m),
        buffer=buffer.to_crs(4326).iloc[0],
        notes=notes,
    )


def _reaches(layer: gpd.GeoDataFrame, shapes: gpd.GeoSeries) -> bool:
    """Return True when any polygon of ``layer`` intersects any of ``shapes``."""
    if not len(layer):
        return False
    hits = layer.sindex.query(shapes.to_crs(layer.crs).values, predicate="intersects")
    return bool(hits.size)
