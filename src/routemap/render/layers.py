"""Pure preparation of what a map shows: display geometry, metric labels, colors, legend HTML.

No folium here: GeoDataFrames and strings in, GeoDataFrames and strings out, so tests need no browser.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import branca.colormap as cm
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from routemap._crs import utm_crs
from routemap.errors import DemographicsError, RoutemapError
from routemap.render.elements import escape_html
from routemap.settings import UNIT_M

#: Route colors: dark, saturated and away from the yellow-orange-red of the choropleth.
ROUTE_COLORS = (
    "#1f4fbf",
    "#7a2bb5",
    "#0f8a5f",
    "#d6287e",
    "#111111",
    "#0f8fa8",
    "#7a4a1f",
    "#5a6b00",
)

#: Known metrics: column -> (label, unit kind). Unit kinds: "pct" (0-100), "usd", "count", "sqmi",
#: "density" (people per sq mi), "" (plain number).
METRICS: dict[str, tuple[str, str]] = {
    "pct_foreign_born": ("Foreign-born residents", "pct"),
    "pct_hispanic": ("Hispanic or Latino residents", "pct"),
    "pct_white": ("Non-Hispanic white residents", "pct"),
    "pct_black": ("Black residents", "pct"),
    "pct_asian": ("Asian residents", "pct"),
    "pct_english_only": ("Speak only English at home", "pct"),
    "pct_limited_english": ("Speak English less than well", "pct"),
    "pct_below_poverty": ("Below the poverty line", "pct"),
    "pct_renting": ("Households renting", "pct"),
    "med_household_income": ("Median household income", "usd"),
    "median_household_income": ("Median household income", "usd"),
    "total_pop": ("Population", "count"),
    "foreign_born": ("Foreign-born residents", "count"),
    "hispanic": ("Hispanic or Latino residents", "count"),
    "asian": ("Asian residents", "count"),
    "limited_english": ("People who speak English less than well", "count"),
    "area_km2": ("Area", "km2"),
    "population": ("Population", "count"),
    "pop_density": ("Population density", "density"),
    "density": ("Population density", "density"),
    "sqmi": ("Area", "sqmi"),
}

_UNIT_TEXT = {
    "pct": "% of residents",
    "usd": "US dollars",
    "count": "people",
    "sqmi": "square miles",
    "density": "people per sq mi",
    "km2": "square kilometres",
    "": "",
}

#: Figures shown in a neighborhood's tooltip when the layer has them.
KEY_FIGURES = (
    "population",
    "total_pop",
    "pct_foreign_born",
    "pct_hispanic",
    "median_household_income",
    "med_household_income",
)


def metric_label(metric: str, label: str | None = None) -> tuple[str, str]:
    """Return (label, unit text) of a metric column, e.g. ("Foreign-born residents", "% of residents")."""
    known_label, kind = METRICS.get(metric, (metric.replace("_", " "), ""))
    return (label or known_label, _UNIT_TEXT[kind])


def format_value(value: Any, metric: str) -> str:
    """Return a metric value as display text ("61.2%", "$45,300", "12,345", "n/a" when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "n/a"
    kind = METRICS.get(metric, ("", ""))[1]
    v = float(value)
    if kind == "pct":
        return f"{v:.1f}%"
    if kind == "usd":
        return f"${v:,.0f}"
    if kind in ("count", "density"):
        return f"{v:,.0f}"
    if kind == "sqmi":
        return f"{v:,.2f} sq mi"
    if kind == "km2":
        return f"{v:,.2f} km\u00b2"
    return f"{v:,.4g}"


def distance_text(distance_m: float, unit: str) -> str:
    """Return "mile 3.21" or "km 5.17" for a distance along a route."""
    return f"{'mile' if unit == 'mi' else 'km'} {distance_m / UNIT_M[unit]:.2f}"


def check_unit(unit: str) -> str:
    """Return ``unit`` when it is "mi" or "km"; raise RoutemapError otherwise."""
    if unit not in UNIT_M:
        raise RoutemapError(f"unit {unit!r} is not known; use 'mi' or 'km'")
    return unit


def line_latlons(line: BaseGeometry, decimals: int = 5) -> list[list[float]]:
    """Return a line's vertices as [lat, lon] pairs rounded to ``decimals`` (5 = about 1 m).

    Consecutive vertices that round to the same point are dropped.
    """
    xy = np.round(shapely.get_coordinates(line), decimals)
    if len(xy) > 1:
        keep = np.ones(len(xy), dtype=bool)
        keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
        xy = xy[keep]
    return xy[:, ::-1].tolist()


def display_neighborhoods(
    neighborhoods: gpd.GeoDataFrame,
    route_lines: Sequence[BaseGeometry],
    metric: str,
    within_m: float | None = 3000.0,
    simplify_m: float = 2.0,
    decimals: int = 5,
) -> gpd.GeoDataFrame:
    """Return the neighborhoods to draw: near the routes, simplified, rounded, flagged when crossed.

    Parameters
    ----------
    neighborhoods : GeoDataFrame
        Polygons with a ``name`` column and the ``metric`` column (numeric), any CRS.
    route_lines : sequence of LineString
        The routes, EPSG:4326.
    metric : str
        The column to shade by.
    within_m : float or None
        Keep the neighborhoods within this distance of a route (None: keep all).
    simplify_m : float
        Simplification tolerance in metres (in the local UTM zone).
    decimals : int
        Decimals kept in the output degrees (5 = about 1 m).

    Returns
    -------
    GeoDataFrame
        Columns ``name``, ``value`` (float, NaN when missing), ``on_route`` (bool), the key-figure
        columns present, geometry in EPSG:4326; sorted by name.

    Raises
    ------
    DemographicsError
        When the layer lacks ``name`` or the metric, the metric is not numeric, or there is no CRS.
    """
    if "name" not in neighborhoods.columns:
        raise DemographicsError("the neighborhood layer has no 'name' column; rename its name field")
    if metric not in neighborhoods.columns:
        numeric = [
            c
            for c in neighborhoods.columns
            if c != "geometry" and pd.api.types.is_numeric_dtype(neighborhoods[c])
        ]
        raise DemographicsError(
            f"the neighborhood layer has no {metric!r} column; choose one of {', '.join(numeric)}"
        )
    if not pd.api.types.is_numeric_dtype(neighborhoods[metric]):
        raise DemographicsError(f"column {metric!r} is not numeric; choose a numeric metric")
    if neighborhoods.crs is None:
        raise DemographicsError("the neighborhood layer has no CRS; set one (e.g. EPSG:4326)")
    keep_cols = ["name", metric] + [c for c in KEY_FIGURES if c in neighborhoods and c != metric]
    gdf = neighborhoods[keep_cols + ["geometry"]].to_crs(4326)
    gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()]
    routes = gpd.GeoSeries(list(route_lines), crs=4326)
    utm = utm_crs(routes)
    routes_utm = routes.to_crs(utm)
    shapes = gdf.geometry.to_crs(utm)
    if within_m is not None:
        near = shapes.dwithin(routes_utm.union_all(), float(within_m))
        gdf, shapes = gdf[near.to_numpy()], shapes[near.to_numpy()]
    on_route = shapes.intersects(routes_utm.union_all()).to_numpy()
    simple = shapes.simplify(simplify_m, preserve_topology=True).to_crs(4326)
    rounded = shapely.set_precision(simple.to_numpy(), 10.0**-decimals)
    out = gpd.GeoDataFrame(
        {
            "name": gdf["name"].astype(str).to_numpy(),
            "value": pd.to_numeric(gdf[metric], errors="coerce").astype(float).to_numpy(),
            "on_route": on_route,
            **{c: gdf[c].to_numpy() for c in keep_cols[2:]},
        },
        geometry=rounded,
        crs=4326,
    )
    out = out[~out.geometry.is_empty]
    return out.sort_values("name", kind="stable").reset_index(drop=True)


def value_colormap(values: np.ndarray) -> cm.LinearColormap:
    """Return a yellow-orange-red colormap spanning the finite ``values`` (0-1 when none)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if vmax <= vmin:
        vmax = vmin + 1.0
    return cm.linear.YlOrRd_09.scale(vmin, vmax)  # type: ignore[attr-defined]  # branca sets the names with setattr


def fill_colors(values: np.ndarray, colormap: cm.LinearColormap, missing: str = "#bdbdbd") -> list[str]:
    """Return a ``#rrggbb`` fill per value (``missing`` for NaN)."""
    return [colormap(v)[:7] if np.isfinite(v) else missing for v in np.asarray(values, dtype=float)]


def neighborhood_tooltip(row: pd.Series, metric: str, label: str) -> str:
    """Return the escaped tooltip HTML of one neighborhood: its name and key figures."""
    parts = [f"<b>{escape_html(row['name'])}</b>"]
    parts.append(f"{escape_html(label)}: {escape_html(format_value(row['value'], metric))}")
    for col in KEY_FIGURES:
        if col in row.index and col != metric:
            name = metric_label(col)[0]
            parts.append(f"{escape_html(name)}: {escape_html(format_value(row[col], col))}")
    if row["on_route"]:
        parts.append("<i>on the route</i>")
    return "<br>".join(parts)


def choropleth_legend_html(colormap: cm.LinearColormap, metric: str, label: str, unit: str) -> str:
    """Return the legend HTML of a choropleth: label with units, a color ramp, min and max."""
    stops = np.linspace(colormap.vmin, colormap.vmax, 9)
    ramp = ", ".join(colormap(v) for v in stops)
    title = escape_html(label) + (f" ({escape_html(unit)})" if unit else "")
    return (
        f"<b>{title}</b>"
        f'<div class="routemap-ramp" style="background: linear-gradient(to right, {ramp});"></div>'
        f'<div class="routemap-ramp-labels"><span>{escape_html(format_value(colormap.vmin, metric))}'
        f"</span><span>{escape_html(format_value(colormap.vmax, metric))}</span></div>"
        '<div class="routemap-legend-row"><span class="routemap-swatch" '
        'style="height:10px;background:#bdbdbd"></span>no data</div>'
        '<div class="routemap-legend-row"><span class="routemap-swatch" '
        'style="height:10px;border:2px solid #111;background:none"></span>on the route</div>'
    )


def routes_legend_html(names: Sequence[str], colors: Sequence[str], lengths: Sequence[str]) -> str:
    """Return the legend HTML naming each route with its color and length."""
    rows = [
        f'<div class="routemap-legend-row"><span class="routemap-swatch" style="background:{c}">'
        f"</span>{escape_html(n)} ({escape_html(length)})</div>"
        for n, c, length in zip(names, colors, lengths)
    ]
    return "<b>Routes</b>" + "".join(rows)
