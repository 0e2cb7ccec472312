"""Route -> files: GPX 1.1, GeoJSON, a CSV cue sheet, and a print-ready PNG (no tiles needed).

Every writer is atomic (:mod:`routemap._files`): a failure leaves no partial file behind.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import geopandas as gpd
import gpxpy.gpx
import shapely
from shapely.geometry import Point

import routemap
from routemap._files import atomic_path, atomic_write
from routemap.errors import RoutemapError
from routemap.render.layers import UNIT_M, check_unit, distance_text
from routemap.settings import UNIT_WORD

if TYPE_CHECKING:
    import networkx as nx
    from matplotlib.axes import Axes

    from routemap.route.model import Route

OSM_COPYRIGHT_URL = "https://www.openstreetmap.org/copyright"
ODBL_URL = "https://opendatacommons.org/licenses/odbl/1-0/"
ATTRIBUTION = (
    "Streets: (c) OpenStreetMap contributors, ODbL. Neighborhoods: Los Angeles Times, Mapping L.A. "
    "Demographics: U.S. Census Bureau."
)


# -- pure builders ------------------------------------------------------------------------------
def route_gpx(route: Route, unit: str = "mi", attribution: str = ATTRIBUTION) -> gpxpy.gpx.GPX:
    """Return the route as a GPX 1.1 document: one track, stops and distance markers as waypoints.

    Parameters
    ----------
    route : Route
        The route.
    unit : {"mi", "km"}
        Distance markers every mile ("Mile 1") or every kilometre ("Km 1").
    attribution : str
        The data credits in the description (only the sources the route's figures used).

    Returns
    -------
    gpxpy.gpx.GPX
        ``to_xml(version="1.1")`` gives the file text.
    """
    check_unit(unit)
    gpx = gpxpy.gpx.GPX()
    gpx.creator = f"routemap {routemap.__version__}"
    gpx.name = route.name
    gpx.description = (
        f"{route.length_mi:.2f} mi ({route.length_km:.2f} km) on OpenStreetMap streets. {attribution}"
    )
    gpx.link = OSM_COPYRIGHT_URL
    gpx.link_text = "Map data (c) OpenStreetMap contributors"
    gpx.copyright_author = "OpenStreetMap contributors"
    gpx.copyright_license = ODBL_URL

    track = gpxpy.gpx.GPXTrack(name=route.name)
    track.type = route.profile
    segment = gpxpy.gpx.GPXTrackSegment()
    segment.points = [
        gpxpy.gpx.GPXTrackPoint(latitude=round(lat, 7), longitude=round(lon, 7))
        for lon, lat in shapely.get_coordinates(route.geometry).tolist()
    ]
    track.segments.append(segment)
    gpx.tracks.append(track)

    for stop in route.stops:
        wpt = gpxpy.gpx.GPXWaypoint(latitude=round(stop.lat, 7), longitude=round(stop.lon, 7))
        wpt.name = stop.name
        wpt.type = "stop"
        wpt.description = (
            f"reached at {distance_text(stop.position_m, unit)}"
            if stop.position_m is not None
            else "not on the route"
        )
        gpx.waypoints.append(wpt)
    word = UNIT_WORD[unit]
    for _, row in route.mile_markers(unit).iterrows():
        wpt = gpxpy.gpx.GPXWaypoint(latitude=round(row.geometry.y, 7), longitude=round(row.geometry.x, 7))
        wpt.name = f"{word} {row['label']}"
        wpt.type = "distance marker"
        gpx.waypoints.append(wpt)
    return gpx


def route_features(route: Route, unit: str = "mi", attribution: str = ATTRIBUTION) -> gpd.GeoDataFrame:
    """Return the route line, its stops and distance markers as one GeoDataFrame (EPSG:4326).

    Column ``kind`` is ``route``, ``stop`` or ``mile_marker``; the route row carries the lengths,
    stop rows ``position_m``, marker rows ``distance_m`` and ``label``.
    """
    check_unit(unit)
    rows = [
        {
            "kind": "route",
            **{k: v for k, v in route.to_dict().items() if k != "stops"},
            "attribution": attribution,
        }
    ]
    geoms = [route.geometry]
    for stop in route.stops:
        rows.append(
            {
                "kind": "stop",
                "name": stop.name,
                "stop_kind": stop.kind,
                "position_m": None if stop.position_m is None else round(stop.position_m, 1),
            }
        )
        geoms.append(Point(stop.lon, stop.lat))
    for _, row in route.mile_markers(unit).iterrows():
        rows.append(
            {
                "kind": "mile_marker",
                "name": f"{UNIT_WORD[unit]} {row['label']}",
                "label": row["label"],
                "unit": unit,
                "distance_m": round(float(row["distance_m"]), 1),
            }
        )
        geoms.append(row.geometry)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


# -- writers --------------------------------------------------------------------------------------
def write_gpx(
    route: Route, path: str | os.PathLike, unit: str = "mi", attribution: str = ATTRIBUTION
) -> None:
    """Write the route as GPX 1.1 (track, stop and distance-marker waypoints, metadata).

    Parameters
    ----------
    route : Route
        The route.
    path : str or PathLike
        The ``.gpx`` file to write (atomically).
    unit : {"mi", "km"}
        Distance markers every mile or every kilometre.
    attribution : str
        The data credits written into the file.
    """
    text = route_gpx(route, unit, attribution).to_xml(version="1.1")
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_geojson(
    route: Route, path: str | os.PathLike, unit: str = "mi", attribution: str = ATTRIBUTION
) -> None:
    """Write a GeoJSON FeatureCollection: the route line, its stops and distance markers.

    Parameters
    ----------
    route : Route
        The route.
    path : str or PathLike
        The ``.geojson`` file to write (atomically).
    unit : {"mi", "km"}
        Distance markers every mile or every kilometre.
    attribution : str
        The data credits written into the route feature.
    """
    text = route_features(route, unit, attribution).to_json(drop_id=True, na="drop", to_wgs84=True)
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_cue_sheet(route: Route, path: str | os.PathLike) -> None:
    """Write the route's turn-by-turn cue sheet (``Route.cue_sheet()``) as CSV.

    Parameters
    ----------
    route : Route
        The route.
    path : str or PathLike
        The ``.csv`` file to write (atomically).
    """
    table = route.cue_sheet()
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        table.to_csv(fh, index=False)


def write_png(
    route: Route,
    path: str | os.PathLike,
    neighborhoods: gpd.GeoDataFrame | None = None,
    unit: str = "mi",
    metric: str | None = None,
    title: str | None = None,
    dpi: int = 200,
    streets: bool = True,
) -> None:
    """Write a print-ready PNG of the route over neighborhoods and streets (no base tiles needed).

    Parameters
    ----------
    route : Route
        The route.
    path : str or PathLike
        The ``.png`` file to write (atomically).
    neighborhoods : GeoDataFrame, optional
        Polygons with a ``name`` column drawn (and labelled) behind the route.
    unit : {"mi", "km"}
        Distance markers every mile or every kilometre.
    metric : str, optional
        A numeric column of ``neighborhoods`` to shade them by.
    title : str, optional
        Title above the map (default: the route name and length).
    dpi : int
        Resolution.
    streets : bool
        Draw the route graph's streets near the route as a light backdrop.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    check_unit(unit)
    if dpi <= 0:
        raise RoutemapError(f"dpi must be positive, not {dpi}")
    line = gpd.GeoSeries([route.geometry], crs=4326)
    utm = line.estimate_utm_crs()
    line_utm = line.to_crs(utm)
    minx, miny, maxx, maxy = line_utm.total_bounds
    pad = max(maxx - minx, maxy - miny) * 0.08 + 200.0

    fig = Figure(figsize=(8.5, 11) if (maxy - miny) > (maxx - minx) else (11, 8.5), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.03, 0.05, 0.94, 0.88))
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()

    if neighborhoods is not None:
        _draw_neighborhoods(ax, neighborhoods, utm, metric, route.geometry)
    if streets:
        _draw_streets(ax, route.graph, utm, (minx - pad, miny - pad, maxx + pad, maxy + pad))
    line_utm.plot(ax=ax, color="#1f4fbf", linewidth=2.6, zorder=5)

    markers = route.mile_markers(unit)
    if len(markers):
        pts = markers.to_crs(utm)
        ax.scatter(
            pts.geometry.x, pts.geometry.y, s=90, c="white", edgecolors="#1f4fbf", linewidths=1.5, zorder=6
        )
        for x, y, label in zip(pts.geometry.x, pts.geometry.y, pts["label"]):
            ax.annotate(label, (x, y), ha="center", va="center", fontsize=6, zorder=7, fontweight="bold")
    coords = gpd.GeoSeries(
        [Point(route.geometry.coords[0]), Point(route.geometry.coords[-1])], crs=4326
    ).to_crs(utm)
    for pt, label, color in zip(coords, ("Start", "Finish"), ("#138a36", "#b00020")):
        ax.scatter([pt.x], [pt.y], s=120, c=color, marker="s", zorder=8)
        ax.annotate(
            label,
            (pt.x, pt.y),
            xytext=(0, 9),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            fontweight="bold",
            color=color,
            zorder=9,
        )
    if route.stops:
        stops = gpd.GeoSeries([Point(s.lon, s.lat) for s in route.stops], crs=4326).to_crs(utm)
        ax.scatter(stops.x, stops.y, s=30, c="white", edgecolors="black", zorder=7.5)
        for pt, stop in zip(stops, route.stops):
            ax.annotate(
                stop.name,
                (pt.x, pt.y),
                xytext=(6, -10),
                textcoords="offset points",
                fontsize=7,
                zorder=9,
                parse_math=False,
            )

    length = f"{route.length_m / UNIT_M[unit]:.2f} {unit}"
    text = title if title is not None else f"{route.name} ({length})"
    fig.suptitle(text, fontsize=14, y=0.97, parse_math=False)
    fig.text(0.03, 0.02, ATTRIBUTION, fontsize=6, color="#444444")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, facecolor="white")


def _draw_neighborhoods(ax: Axes, neighborhoods: gpd.GeoDataFrame, utm, metric: str | None, line) -> None:
    from routemap.render.layers import display_neighborhoods, metric_label

    if metric is not None:
        shown = display_neighborhoods(neighborhoods, [line], metric, within_m=None)
    else:
        if "name" not in neighborhoods.columns:
            raise RoutemapError("the neighborhood layer has no 'name' column; rename its name field")
        shown = neighborhoods[["name", "geometry"]].to_crs(4326)
    shown = shown.to_crs(utm)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    shown = shown.cx[x0:x1, y0:y1]
    if metric is not None and len(shown):
        label, unit_text = metric_label(metric)
        shown.plot(
            ax=ax,
            column="value",
            cmap="YlOrRd",
            alpha=0.6,
            edgecolor="#777777",
            linewidth=0.5,
            zorder=1,
            legend=True,
            legend_kwds={"label": f"{label} ({unit_text})" if unit_text else label, "shrink": 0.5},
            missing_kwds={"color": "#dddddd"},
        )
    else:
        shown.plot(ax=ax, facecolor="#f4f1ea", edgecolor="#999999", linewidth=0.6, zorder=1)
    # Label each neighborhood inside its visible part.
    visible = shapely.intersection(shown.geometry.to_numpy(), shapely.box(x0, y0, x1, y1))
    for geom, name in zip(visible, shown["name"]):
        if geom.is_empty:
            continue
        p = geom.representative_point()
        ax.annotate(
            str(name),
            (p.x, p.y),
            ha="center",
            fontsize=6,
            color="#555555",
            style="italic",
            zorder=2,
            parse_math=False,
        )


def _draw_streets(ax: Axes, G: nx.MultiDiGraph, utm, bounds) -> None:
    import osmnx as ox

    box = gpd.GeoSeries([shapely.box(*bounds)], crs=utm).to_crs(4326).iloc[0]
    minx, miny, maxx, maxy = box.bounds
    keep = [n for n, d in G.nodes(data=True) if minx <= d["x"] <= maxx and miny <= d["y"] <= maxy]
    sub = G.subgraph(keep)
    if sub.number_of_edges() == 0:
        return
    edges = ox.graph_to_gdfs(sub, nodes=False, fill_edge_geometry=True)
    edges.geometry.to_crs(utm).plot(ax=ax, color="#c8c8c8", linewidth=0.4, zorder=3)
