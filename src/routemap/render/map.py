"""Route(s) and a neighborhood layer -> a folium map; saving it atomically."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Element, Figure
from folium.plugins import PolyLineTextPath
from folium.utilities import JsCode

from routemap import settings
from routemap._files import atomic_write
from routemap.errors import OfflineError, RoutemapError
from routemap.render import layers
from routemap.render.basemap import BASEMAP_WITHIN_M
from routemap.render.elements import CSS, Attribution, BindContent, HtmlControl, ZoomFillOpacity, escape_html
from routemap.render.offline import external_assets, inline_assets
from routemap.render.panel import PanelControl, comparison_panel_html, route_panel_html
from routemap.render.streets import AREAS_PANE, PANE_Z, streets_layer

if TYPE_CHECKING:
    from routemap.route.model import Route

#: Credits shown on a map with the embedded LA layers (OSM, the LA Times neighborhoods, the census); a map
#: without neighborhoods credits OpenStreetMap only (see :func:`default_attribution`).
DEFAULT_ATTRIBUTION = tuple(settings.MAP_ATTRIBUTION[k] for k in ("osm", "neighborhoods", "census"))


def default_attribution(neighborhoods: Any | None) -> list[str]:
    """Return the credits for a map that draws ``neighborhoods`` (or none): only the data it shows."""
    if neighborhoods is None:
        return [settings.MAP_ATTRIBUTION["osm"]]
    return list(DEFAULT_ATTRIBUTION)


OFFLINE_NOTE = (
    "<b>Offline copy.</b> Streets and street names are drawn from data inside this file; the "
    "OpenStreetMap background tiles appear only with internet."
)

OFFLINE_NOTE_NO_STREETS = (
    "<b>Offline copy.</b> The base map (streets and labels under the route) needs internet and is "
    "not included; the route, markers and neighborhoods are all here."
)

#: Neighborhood fill opacity from each zoom on: strong on the overview, faint close up where the
#: streets and their names matter more than the shading.
NEIGHBORHOOD_FILL = ((0, 0.55), (14, 0.4), (15, 0.25))

_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}")

_ON_EACH_NEIGHBORHOOD = JsCode(
    "function (feature, layer) { layer.bindTooltip(feature.properties.tip, {sticky: true}); }"
)


def _as_list(routes: Route | Sequence[Route]) -> list[Route]:
    out = [cast("Route", routes)] if hasattr(routes, "geometry") else list(routes)
    if not out:
        raise RoutemapError("there is no route to draw; pass a Route or a list of Routes")
    return out


def _check_colors(colors: Sequence[str]) -> list[str]:
    out = list(colors)
    bad = [c for c in out if not isinstance(c, str) or not _COLOR.fullmatch(c)]
    if bad or not out:
        raise RoutemapError(
            f"route color {bad[0] if bad else None!r} is not usable; give CSS colors like '#1f4fbf' or 'navy'"
        )
    return out


def render_map(
    routes: Route | Sequence[Route],
    neighborhoods: gpd.GeoDataFrame | None = None,
    metric: str = "pct_foreign_born",
    title: str | None = None,
    offline: bool = False,
    unit: str = "mi",
    *,
    metric_label: str | None = None,
    neighborhoods_within_m: float | None = 3000.0,
    simplify_m: float = 2.0,
    tiles: str | None = "OpenStreetMap",
    colors: Sequence[str] | None = None,
    attribution: Sequence[str] | None = None,
    arrows: bool = True,
    height: str = "100%",
    basemap: bool = True,
    basemap_within_m: float = BASEMAP_WITHIN_M,
    demographics: Any | None = None,
    panel: bool = True,
    comparison: pd.DataFrame | None = None,
) -> folium.Map:
    """Return a folium map of one or several routes over neighborhoods shaded by a metric.

    Each route is a toggleable layer: the line with direction arrows, markers at every mile (or km),
    start and finish markers, and each stop with a popup naming the mile it is reached. Neighborhoods
    near the routes are shaded by ``metric`` with a legend, tooltips give their key figures, and those
    a route passes through are outlined. Every user-supplied text is HTML-escaped.

    The offline street basemap ("Streets (offline)", a checkbox overlay above the OpenStreetMap tiles)
    is drawn from data inside the page: the vector tiles the route's graph was built from, else the
    graph's own streets near the route; street names show from zoom 15. A summary panel gives the
    length and target, the stops with their mile, the neighborhoods in order with their miles and the
    people near the route (or, with ``comparison``, the comparison table).

    Parameters
    ----------
    routes : Route or sequence of Route
        What to draw; several routes get distinct colors and a legend naming them.
    neighborhoods : GeoDataFrame, optional
        Polygons with a ``name`` column and the ``metric`` column, e.g. from
        :func:`routemap.neighborhood_demographics`; none when omitted.
    metric : str
        The numeric column that shades the neighborhoods.
    title : str, optional
        Shown at the top of the map and as the page title; the route name(s) by default.
    offline : bool
        Inline Leaflet and every asset so that the saved HTML draws with no internet (the online base
        tiles stay underneath, for when there is internet); a note on the map says so.
    unit : {"mi", "km"}
        Distance markers every mile or every kilometre.
    metric_label : str, optional
        Legend label of the metric (a known label for routemap's columns, else the column name).
    neighborhoods_within_m : float or None
        Draw only the neighborhoods within this distance of a route (None: all of them).
    simplify_m : float
        Tolerance, in metres, for simplifying the neighborhood outlines on display.
    tiles : str or None
        folium tile set when online; None for no base map.
    colors : sequence of str, optional
        One CSS color per route (default: :data:`routemap.render.layers.ROUTE_COLORS`).
    attribution : sequence of str, optional
        Credits (trusted HTML) added to the map's attribution (default: OpenStreetMap, and the LA Times
        and census credits when ``neighborhoods`` is drawn).
    arrows : bool
        Draw direction arrows along the routes.
    height : str
        CSS height of the map.
    basemap : bool
        Add the "Streets (offline)" overlay.
    basemap_within_m : float
        How far around the routes the offline streets reach (metres).
    demographics : RouteDemographics, optional
        The first route's figures (from :func:`routemap.route_demographics`) for the summary panel; the
        panel says no census figures are available without them.
    panel : bool
        Add the summary panel.
    comparison : pandas.DataFrame, optional
        A comparison table (one row per route) shown in the panel instead of one route's figures.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map` (atomic) or ``.save(path)``.

    Raises
    ------
    RoutemapError
        When there is no route or the unit is unknown.
    DemographicsError
        When the neighborhood layer lacks ``name`` or the metric.
    OfflineError
        When ``offline=True`` and an asset is not available offline.
    """
    route_list = _as_list(routes)
    layers.check_unit(unit)
    palette = _check_colors(colors if colors is not None else layers.ROUTE_COLORS)
    title = title if title is not None else " / ".join(r.name for r in route_list)

    m = folium.Map(tiles=tiles, height=height, control_scale=True, max_zoom=19)
    root = cast(Figure, m.get_root())  # a Map always sits in a Figure
    root.title = escape_html(title)
    root.header.add_child(Element(CSS), name="routemap_css")

    lines = [r.geometry for r in route_list]
    if neighborhoods is not None:
        _add_neighborhoods(m, neighborhoods, lines, metric, metric_label, neighborhoods_within_m, simplify_m)
    if basemap and getattr(route_list[0], "graph", None) is not None:
        streets_layer(route_list[0].graph, lines, basemap_within_m).add_to(m)

    names: list[str] = []
    lengths: list[str] = []
    used: list[str] = []
    for i, route in enumerate(route_list):
        color = palette[i % len(palette)]
        # The layer control keys layers by label: number repeated names so each stays toggleable.
        same = sum(n == route.name for n in names)
        _add_route(m, route, color, unit, arrows, f" ({same + 1})" if same else "")
        names.append(route.name)
        used.append(color)
        lengths.append(f"{route.length_m / layers.UNIT_M[unit]:.2f} {unit}")

    subtitle = ", ".join(lengths) if len(route_list) == 1 else f"{len(route_list)} routes"
    m.add_child(
        HtmlControl(
            f"{escape_html(title)}<small>{escape_html(subtitle)}</small>",
            position="topright",
            css_class="routemap-title",
        )
    )
    if len(route_list) > 1:
        m.add_child(HtmlControl(layers.routes_legend_html(names, used, lengths), position="bottomright"))
    if panel:
        content = (
            comparison_panel_html(comparison)
            if comparison is not None
            else route_panel_html(route_list[0], demographics, metric, unit)
        )
        minx, miny, maxx, maxy = gpd.GeoSeries(lines).total_bounds
        bounds = [[float(miny), float(minx)], [float(maxy), float(maxx)]]
        m.add_child(PanelControl(content, wide=comparison is not None, bounds=bounds))
    if offline:
        note = OFFLINE_NOTE if basemap else OFFLINE_NOTE_NO_STREETS
        m.add_child(HtmlControl(note, position="bottomleft", css_class="routemap-note"))
    credits = default_attribution(neighborhoods) if attribution is None else list(attribution)
    m.add_child(Attribution(credits))
    folium.LayerControl(collapsed=False, position="topright").add_to(m)

    minx, miny, maxx, maxy = gpd.GeoSeries(lines).total_bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(20, 20))
    if offline:
        inline_assets(m)
        m._routemap_offline = True  # type: ignore[attr-defined]  # own flag: save_map checks nothing loads from the network
    return m


def _add_route(m: folium.Map, route: Route, color: str, unit: str, arrows: bool, suffix: str = "") -> None:
    name = escape_html(route.name)
    length = f"{route.length_m / layers.UNIT_M[unit]:.2f} {unit}"
    group = folium.FeatureGroup(name=f'<span style="color:{color}">&#9632;</span> {name}{suffix}')
    group.add_to(m)

    line = folium.PolyLine(layers.line_latlons(route.geometry), color=color, weight=5, opacity=0.9)
    line.add_child(BindContent(f"<b>{name}</b><br>{length}", kind="tooltip", sticky=True))
    line.add_to(group)
    if arrows:
        PolyLineTextPath(
            line,
            "      \u25ba      ",
            repeat=True,
            offset=5,
            attributes={"fill": color, "font-size": "15", "font-weight": "bold"},
        ).add_to(group)

    for _, marker in route.mile_markers(unit).iterrows():
        label = escape_html(marker["label"])
        folium.Marker(
            [round(marker.geometry.y, 5), round(marker.geometry.x, 5)],
            icon=folium.DivIcon(
                html=f'<div class="routemap-mile" style="color:{color}"><span>{label}</span></div>',
                icon_size=(20, 20),
                icon_anchor=(10, 10),
                class_name="routemap-mile-icon",
            ),
        ).add_child(
            BindContent(f"{name}: {'mile' if unit == 'mi' else 'km'} {label}", kind="tooltip")
        ).add_to(group)

    stops = list(route.stops)
    coords = list(route.geometry.coords)
    ends = (
        ("Start", coords[0], stops[0].name if stops else None, 0.0, "#138a36"),
        ("Finish", coords[-1], stops[-1].name if stops else None, route.length_m, "#b00020"),
    )
    for label, (x, y), stop_name, dist, bg in ends:
        text = f"<b>{label}</b>" + (f": {escape_html(stop_name)}" if stop_name else "")
        folium.Marker(
            [round(y, 5), round(x, 5)],
            icon=folium.DivIcon(
                html=f'<div class="routemap-end" style="background:{bg}">{label}</div>',
                icon_size=(48, 20),
                icon_anchor=(24, 26),
                class_name="routemap-end-icon",
            ),
        ).add_child(BindContent(f"{text}<br>{name}, {layers.distance_text(dist, unit)}")).add_to(group)

    for stop in stops:
        where = (
            "reached at " + layers.distance_text(stop.position_m, unit)
            if stop.position_m is not None
            else "not on the route"
        )
        folium.CircleMarker(
            [round(stop.lat, 5), round(stop.lon, 5)],
            radius=7,
            color=color,
            weight=3,
            fill=True,
            fill_color="#ffffff",
            fill_opacity=1.0,
        ).add_child(BindContent(f"<b>{escape_html(stop.name)}</b><br>{name}: {where}")).add_to(group)


def _add_neighborhoods(
    m: folium.Map,
    neighborhoods: gpd.GeoDataFrame,
    lines: list,
    metric: str,
    metric_label: str | None,
    within_m: float | None,
    simplify_m: float,
) -> None:
    shown = layers.display_neighborhoods(neighborhoods, lines, metric, within_m, simplify_m)
    label, unit_text = layers.metric_label(metric, metric_label)
    colormap = layers.value_colormap(shown["value"].to_numpy())
    tips = [layers.neighborhood_tooltip(row, metric, label) for _, row in shown.iterrows()]
    fills = layers.fill_colors(shown["value"].to_numpy(), colormap)
    data = gpd.GeoDataFrame(
        {"tip": tips, "fill": fills, "on_route": shown["on_route"].to_numpy()},
        geometry=shown.geometry.to_numpy(),
        crs=4326,
    )

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        p = feature["properties"]
        on = p["on_route"]
        return {
            "fillColor": p["fill"],
            "fillOpacity": 0.55,
            "color": "#111111" if on else "#777777",
            "weight": 2.5 if on else 0.6,
        }

    layer = folium.GeoJson(
        data.__geo_interface__,
        name=escape_html(f"Neighborhoods: {label}"),
        style_function=style,
        on_each_feature=_ON_EACH_NEIGHBORHOOD,
        smooth_factor=0.5,
        pane=_areas_pane(m),
    )
    layer.add_child(ZoomFillOpacity(list(NEIGHBORHOOD_FILL)))
    layer.add_to(m)
    m.add_child(
        HtmlControl(layers.choropleth_legend_html(colormap, metric, label, unit_text), position="bottomright")
    )


def _areas_pane(m: folium.Map) -> str:
    """Return the pane neighborhoods go in (below the offline streets), creating it once."""
    folium.map.CustomPane(AREAS_PANE, z_index=PANE_Z[AREAS_PANE], pointer_events=True).add_to(m)
    return AREAS_PANE


def save_map(m: folium.Map, path: str | os.PathLike) -> None:
    """Write the map's HTML to ``path`` atomically (a failure leaves no partial file).

    Parameters
    ----------
    m : folium.Map
        A map from :func:`render_map`.
    path : str or PathLike
        The HTML file to write.

    Raises
    ------
    OfflineError
        When the map was made offline but its page still loads something from the network (a layer
        added afterwards, say).
    """
    if getattr(m, "_routemap_offline", False):
        inline_assets(m)
    page = m.get_root().render()
    if getattr(m, "_routemap_offline", False):
        remote = external_assets(page)
        if remote:
            raise OfflineError(
                f"the offline map still loads {remote[0]} from the network; "
                "remove the layer that needs it or save with offline=False"
            )
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(page)
