"""Route -> files: GPX 1.1, GeoJSON, a CSV cue sheet, and a print-ready PNG (no tiles needed).

Every writer is atomic (:mod:`routemap._files`): a failure leaves no partial file behind.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import geopandas as gpd
import gpxpy.gpx
import numpy as np
import shapely
from shapely.geometry import Point

import routemap
from routemap import settings
from routemap._crs import utm_crs
from routemap._files import atomic_path, atomic_write, write_csv
from routemap.errors import RoutemapError
from routemap.render.layers import UNIT_M, check_unit, distance_text
from routemap.settings import UNIT_WORD

if TYPE_CHECKING:
    import networkx as nx
    from matplotlib.axes import Axes

    from routemap.route.model import Route

OSM_COPYRIGHT_URL = "https://www.openstreetmap.org/copyright"
ODBL_URL = "https://opendatacommons.org/licenses/odbl/1-0/"
#: The credit of a GPX or GeoJSON file by default: the street data (the route is all such a file holds).
ATTRIBUTION = f"Streets: {settings.ATTRIBUTION['osm']}."

#: The route's color in the PNG (the HTML map's first route color).
ROUTE_COLOR = "#1f4fbf"

#: Street line width in points per CSS pixel of the HTML style at zoom 15: a letter-size page shows a
#: 15-mile route at about zoom 13, where the HTML draws streets about a quarter as wide.
PNG_STREET_WIDTH_PT = 0.25

#: Street groups whose names are printed (smaller streets' names would be unreadable at page scale).
PNG_LABELLED_GROUPS = ("motorway", "primary", "secondary")

#: Distance between two printed names of one street (metres): about 2 inches on a letter page.
PNG_LABEL_SPACING_M = 1800.0

#: Street classes in the legend: (group, label).
PNG_LEGEND_STREETS = (("primary", "Main street"), ("minor", "Street"), ("path", "Path"))


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
    track.type = route.profile  # type: ignore[assignment]  # gpxpy leaves GPXTrack.type unannotated (= None)
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
        The ``.csv`` file to write (atomically). Street names that start like a spreadsheet formula
        (``=``, ``+``, ``-``, ``@``, tab, CR) get a leading ``'`` so that they stay text.
    """
    write_csv(route.cue_sheet(), path)


def write_png(
    route: Route,
    path: str | os.PathLike,
    neighborhoods: gpd.GeoDataFrame | None = None,
    unit: str = "mi",
    metric: str | None = None,
    title: str | None = None,
    dpi: int = 200,
    streets: bool = True,
    attribution: str | None = None,
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
        Draw the street base under the route: the route graph's streets near it, styled by class like
        the HTML map's "Streets (offline)" layer (main streets wider and darker), with the names of the
        main streets; a legend names the route, the markers and the street classes.
    attribution : str, optional
        The credit line at the foot of the page (default: OpenStreetMap, plus the LA Times and census
        credits when ``neighborhoods`` is drawn).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    check_unit(unit)
    if dpi <= 0:
        raise RoutemapError(f"dpi must be positive, not {dpi}")
    line = gpd.GeoSeries([route.geometry], crs=4326)
    utm = utm_crs(line)
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
        _draw_streets(ax, route.graph, route.geometry, utm, fig.dpi)
    line_utm.plot(ax=ax, color=ROUTE_COLOR, linewidth=2.6, zorder=5)

    markers = route.mile_markers(unit)
    if len(markers):
        pts = markers.to_crs(utm)
        ax.scatter(
            pts.geometry.x, pts.geometry.y, s=90, c="white", edgecolors=ROUTE_COLOR, linewidths=1.5, zorder=6
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

    _draw_legend(ax, unit, streets)
    length = f"{route.length_m / UNIT_M[unit]:.2f} {unit}"
    text = title if title is not None else f"{route.name} ({length})"
    fig.suptitle(text, fontsize=14, y=0.97, parse_math=False)
    if attribution is None:
        attribution = ATTRIBUTION
        if neighborhoods is not None:
            attribution += f" Neighborhoods: {settings.ATTRIBUTION['neighborhoods']}. Demographics: {settings.ATTRIBUTION['census']}."
    fig.text(0.03, 0.02, attribution, fontsize=6, color="#444444")
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


def _draw_streets(ax: Axes, G: nx.MultiDiGraph, line, utm, dpi: float) -> None:
    """Draw the graph's streets around ``line`` by class, and the main streets' names, inside the axes."""
    from routemap.render.basemap import STREET_GROUPS, graph_streets, street_labels

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    view = gpd.GeoSeries([shapely.box(x0, y0, x1, y1)], crs=utm).to_crs(4326).iloc[0]
    reach = max(x1 - x0, y1 - y0)  # everything in the frame: the corners are this close to the route
    streets = graph_streets(G, [line], within_m=reach)
    streets = streets[shapely.intersects(streets.geometry.to_numpy(), view)]
    if streets.empty:
        return
    from matplotlib.collections import LineCollection

    projected = streets.to_crs(utm)
    for z, (group, style) in enumerate(STREET_GROUPS.items()):
        part = projected.geometry[projected["group"].to_numpy() == group].to_numpy()
        if len(part) == 0:
            continue
        # One LineCollection per class: geopandas' plot redraws the whole figure on every call.
        xy = shapely.get_coordinates(part)
        segments = np.split(xy, np.cumsum(shapely.get_num_coordinates(part))[:-1])
        ax.add_collection(
            LineCollection(
                segments,
                colors=style["color"],
                linewidths=float(style["width_z15"]) * PNG_STREET_WIDTH_PT,
                linestyles=(0, (3, 2)) if style["dash"] else "solid",
                alpha=0.85,
                zorder=3 + z / 100,
            ),
            autolim=False,
        )
    main = streets[streets["group"].isin(PNG_LABELLED_GROUPS)]
    labels = street_labels(main, spacing_m=PNG_LABEL_SPACING_M, min_length_m=PNG_LABEL_SPACING_M / 3)
    if labels.empty:
        return
    pts = gpd.GeoSeries(gpd.points_from_xy(labels["lon"], labels["lat"]), crs=4326).to_crs(utm)
    for pt, name, angle in zip(pts, labels["name"], labels["angle"]):
        if x0 < pt.x < x1 and y0 < pt.y < y1:
            ax.text(
                pt.x,
                pt.y,
                name,
                rotation=-float(angle),  # clockwise on screen -> matplotlib's counter-clockwise
                rotation_mode="anchor",
                ha="center",
                va="center",
                fontsize=4.5,
                color="#333333",
                zorder=4,
                parse_math=False,
                path_effects=[_halo()],
            )


def _halo():
    from matplotlib import patheffects

    return patheffects.withStroke(linewidth=1.6, foreground="white", alpha=0.85)


def _draw_legend(ax: Axes, unit: str, streets: bool) -> None:
    from matplotlib.lines import Line2D

    from routemap.render.basemap import STREET_GROUPS

    handles = [
        Line2D([], [], color=ROUTE_COLOR, linewidth=2.6, label="Route"),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=8,
            markerfacecolor="white",
            markeredgecolor=ROUTE_COLOR,
            label="Every mile" if unit == "mi" else "Every km",
        ),
        Line2D([], [], marker="s", linestyle="", markersize=7, color="#138a36", label="Start"),
        Line2D([], [], marker="s", linestyle="", markersize=7, color="#b00020", label="Finish"),
    ]
    if streets:
        for group, label in PNG_LEGEND_STREETS:
            style = STREET_GROUPS[group]
            handles.append(
                Line2D(
                    [],
                    [],
                    color=style["color"],
                    label=label,
                    linewidth=float(style["width_z15"]) * PNG_STREET_WIDTH_PT * 1.5,
                    linestyle=(0, (3, 2)) if style["dash"] else "-",
                )
            )
    ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9).set_zorder(10)
