"""Tests of routemap.render: pure preparation, the folium map, offline HTML in headless Chromium."""

from __future__ import annotations

import html
import json
import math
import re

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from browser import distinct_colors, offline_page
from shapely.geometry import LineString, Polygon

from routemap import data, settings
from routemap.errors import DemographicsError, OfflineError, RoutemapError
from routemap.render import escape_html, external_assets, render_map, save_map
from routemap.render.layers import display_neighborhoods, line_latlons
from routemap.route.model import Route, RouteStop

METERS_PER_MILE = 1609.344
INJECT = "<img src=x onerror=alert(1)>`${alert(2)}`</script><script>alert(3)</script>\\"
WALK_FILES = (
    "overpass_walk_westlake_2022-12-19.json",
    "overpass_walk_westlake_downtown_2023-01-04.json",
    "overpass_walk_downtown_la_2023-01-04.json",
    "overpass_walk_south_park_2023-01-03.json",
)
# Koreatown's edge (Hoover St) through MacArthur Park, Chinatown, Little Tokyo, the Fashion District,
# Exposition Park and Pico-Union to the Metropolitan Detention Center (535 N Alameda St).
LONG_STOPS = (
    ("Hoover St & Wilshire Blvd", 34.0617, -118.2838),
    ("MacArthur Park", 34.0572, -118.2770),
    ("Chinatown", 34.0623, -118.2383),
    ("Little Tokyo", 34.0500, -118.2400),
    ("Pershing Square", 34.0484, -118.2513),
    ("Fashion District", 34.0380, -118.2510),
    ("Exposition Park", 34.0150, -118.2780),
    ("Pico-Union", 34.0450, -118.2800),
    ("Civic Center", 34.0550, -118.2450),
    ("Metropolitan Detention Center", 34.0553, -118.2368),
)


# -- real data: a graph from the shared Overpass files, routes as real shortest paths ---------------
@pytest.fixture(scope="session")
def la_graph() -> nx.MultiDiGraph:
    """Central LA walk network: the shared Overpass files through osmnx, else the embedded extract."""
    import osmnx as ox

    shared = settings.shared_la_dir() / "osm"
    if all((shared / f).exists() for f in WALK_FILES):
        responses = [json.loads((shared / f).read_text()) for f in WALK_FILES]
        G = ox.graph._create_graph(responses, bidirectional=True)
        G = ox.simplify_graph(G)
        return ox.truncate.largest_component(G, strongly=True)
    pbf = data.embedded_osm_pbf()
    if not pbf.exists():
        pytest.skip(f"needs the shared LA Overpass files in {shared} or the embedded {pbf}")
    from routemap import load_network

    # The same five Overpass files, merged into the embedded extract (fresh clones).
    return ox.truncate.largest_component(load_network(pbf, network_type="walk"), strongly=True)


def path_route(G: nx.MultiDiGraph, stops, name: str) -> tuple[Route, list[int]]:
    """Return the Route through ``stops`` ((name, lat, lon), ...) by shortest paths, and its nodes."""
    import osmnx as ox

    ids = [int(ox.nearest_nodes(G, lon, lat)) for _, lat, lon in stops]
    nodes: list[int] = []
    for a, b in zip(ids[:-1], ids[1:]):
        leg = nx.shortest_path(G, a, b, weight="length")
        nodes += leg if not nodes else leg[1:]
    resolved = [RouteStop(s[0], G.nodes[n]["y"], G.nodes[n]["x"], node=n) for s, n in zip(stops, ids)]
    return Route.from_nodes(G, nodes, stops=resolved, name=name), nodes


@pytest.fixture(scope="session")
def long_route(la_graph) -> tuple[Route, list[int]]:
    return path_route(la_graph, LONG_STOPS, "Run Against ICE (test route)")


@pytest.fixture(scope="session")
def short_route(la_graph) -> tuple[Route, list[int]]:
    stops = (("MacArthur Park", 34.0572, -118.2770), ("Metropolitan Detention Center", 34.0553, -118.2368))
    return path_route(la_graph, stops, "MacArthur Park to MDC")


@pytest.fixture(scope="session")
def la_neighborhoods() -> gpd.GeoDataFrame:
    """LA Times Mapping L.A. neighborhoods (shared original, else the embedded copy) with ``sqmi``."""
    path = settings.shared_la_dir() / "neighborhoods" / "la_times_mapping_la_v5_county_272.geojson"
    if not path.exists():
        path = data.embedded_neighborhoods()
    if not path.exists():
        pytest.skip("needs the LA Times neighborhoods (shared original or embedded copy)")
    layer = gpd.read_file(path)
    if "sqmi" not in layer:
        layer["sqmi"] = layer.to_crs(layer.estimate_utm_crs()).area / METERS_PER_MILE**2
    return layer


# -- pure parts --------------------------------------------------------------------------------
def test_escape_html_is_inert_and_reversible():
    out = escape_html(INJECT)
    for bad in ("<", ">", "`", "$", "\\", '"'):
        assert bad not in out
    assert html.unescape(out) == INJECT


def test_line_latlons_swaps_rounds_and_drops_repeats():
    line = LineString([(-118.2370001, 34.0553004), (-118.2370002, 34.0553001), (-118.24, 34.06)])
    assert line_latlons(line) == [[34.0553, -118.237], [34.06, -118.24]]


def test_display_neighborhoods_flags_those_the_route_crosses(long_route, la_neighborhoods):
    route, _ = long_route
    shown = display_neighborhoods(la_neighborhoods, [route.geometry], "sqmi", within_m=3000)
    # Independent: plain shapely predicates in degrees on the original polygons.
    crossed = set(la_neighborhoods.loc[la_neighborhoods.intersects(route.geometry), "name"])
    assert {"Westlake", "Chinatown", "Downtown"} <= crossed
    assert set(shown.loc[shown["on_route"], "name"]) == crossed
    utm = la_neighborhoods.estimate_utm_crs()
    line_utm = gpd.GeoSeries([route.geometry], crs=4326).to_crs(utm).iloc[0]
    far = la_neighborhoods[la_neighborhoods.to_crs(utm).distance(line_utm) > 3500]
    assert not set(far["name"]) & set(shown["name"])
    values = dict(zip(la_neighborhoods["name"], la_neighborhoods["sqmi"]))
    assert all(math.isclose(v, values[n]) for n, v in zip(shown["name"], shown["value"]))
    # Display geometry: about 1 m precision, still close to the original outline.
    coords = shapely.get_coordinates(shown.geometry.to_numpy())
    assert np.allclose(coords, np.round(coords, 5), atol=1e-9)
    orig = la_neighborhoods.set_index("name").loc[shown["name"]].geometry.to_crs(32611)
    moved = orig.reset_index(drop=True).hausdorff_distance(shown.geometry.to_crs(32611))
    assert moved.max() < 5.0


def test_display_neighborhoods_rejects_unusable_layers():
    sq = Polygon([(-118.25, 34.05), (-118.24, 34.05), (-118.24, 34.06)])
    line = LineString([(-118.26, 34.055), (-118.23, 34.055)])
    layer = gpd.GeoDataFrame({"name": ["A"], "pop": [1.0], "txt": ["x"]}, geometry=[sq], crs=4326)
    with pytest.raises(DemographicsError, match="no 'pct_foreign_born' column.*pop"):
        display_neighborhoods(layer, [line], "pct_foreign_born")
    with pytest.raises(DemographicsError, match="not numeric"):
        display_neighborhoods(layer, [line], "txt")
    with pytest.raises(DemographicsError, match="no 'name' column"):
        display_neighborhoods(layer.rename(columns={"name": "n"}), [line], "pop")
    with pytest.raises(DemographicsError, match="no CRS"):
        display_neighborhoods(layer.set_crs(None, allow_override=True), [line], "pop")


def test_choropleth_shades_low_to_high_with_colorbrewer_ends():
    from routemap.render.layers import choropleth_legend_html, fill_colors, value_colormap

    values = np.array([12.5, np.nan, 61.0, 30.0])
    cmap = value_colormap(values)
    fills = fill_colors(values, cmap)
    # ColorBrewer YlOrRd, 9 classes: lightest #ffffcc, darkest #800026.
    assert fills[0] == "#ffffcc" and fills[2] == "#800026" and fills[1] == "#bdbdbd"
    brightness = [sum(int(f[i : i + 2], 16) for i in (1, 3, 5)) for f in (fills[0], fills[3], fills[2])]
    assert brightness == sorted(brightness, reverse=True)  # darker as the value grows
    legend = choropleth_legend_html(cmap, "pct_foreign_born", "Foreign-born residents", "% of residents")
    assert "12.5%" in legend and "61.0%" in legend and "% of residents" in legend


def test_map_of_real_demographics_has_tooltips_with_key_figures(short_route, data_dir, tmp_path):
    from routemap.demographics import neighborhood_demographics

    try:
        layer = neighborhood_demographics()
    except Exception as exc:  # the embedded layer is another module's data
        pytest.skip(f"embedded demographics unavailable: {exc}")
    route, _ = short_route
    path = tmp_path / "demo.html"
    save_map(render_map(route, neighborhoods=layer, metric="pct_foreign_born"), path)
    page = path.read_text()
    westlake = layer.set_index("name").loc["Westlake"]
    # The tooltip text sits in the embedded GeoJSON (JSON-escaped HTML).
    tip = f"Foreign-born residents: {westlake['pct_foreign_born']:.1f}%"
    assert tip in page
    assert f"Population: {westlake['population']:,.0f}" in page
    assert "Foreign-born residents (% of residents)" in page


def test_render_map_rejects_bad_input(short_route):
    route, _ = short_route
    with pytest.raises(RoutemapError, match="no route"):
        render_map([])
    with pytest.raises(RoutemapError, match="unit 'yd'"):
        render_map(route, unit="yd")
    with pytest.raises(RoutemapError, match="color"):
        render_map(route, colors=['red" onmouseover="alert(1)'])
    assert render_map(r for r in [route]) is not None  # any iterable of routes


# -- the map -------------------------------------------------------------------------------------
def test_online_map_links_cdn_and_marks_every_km(short_route, la_graph, tmp_path):
    route, nodes = short_route
    path = tmp_path / "map.html"
    save_map(render_map(route, unit="km"), path)
    page = path.read_text()
    assert any("leaflet" in url for url in external_assets(page))
    length_km = nx.path_weight(la_graph, nodes, "length") / 1000  # independent of Route
    # DivIcon HTML reaches the page as a JSON string, "<" written as \u003c.
    found = re.findall(r"\\u003cspan\\u003e(\d+)\\u003c/span\\u003e", page)
    assert found == [str(i) for i in range(1, int(length_km) + 1)]


def test_offline_map_has_no_external_assets_and_stays_small(long_route, la_neighborhoods, tmp_path):
    import folium
    from folium.plugins import PolyLineTextPath

    route, _ = long_route
    assert route.length_mi > 14
    m = render_map(route, neighborhoods=la_neighborhoods, metric="sqmi", offline=True)
    path = tmp_path / "offline.html"
    save_map(m, path)
    page = path.read_text()
    assert external_assets(page) == []
    from offlinefolium.elements import _res as shipped  # the registry package's asset texts

    for name, url in folium.Map.default_js + PolyLineTextPath.default_js:
        if name == "leaflet" or "textpath" in url:
            assert shipped[url] in page, f"{name} is not inlined"
    assert path.stat().st_size < 1.5e6
    # All of LA County's 272 neighborhoods, simplified, still fit.
    save_map(render_map(route, la_neighborhoods, "sqmi", offline=True, neighborhoods_within_m=None), path)
    assert path.stat().st_size < 1.5e6


def test_save_map_refuses_offline_map_that_loads_from_network(short_route, tmp_path):
    import folium

    m = render_map(short_route[0], offline=True)
    folium.TileLayer("OpenStreetMap").add_to(m)  # tiles are not assets: still fine
    m.get_root().header.add_child(folium.JavascriptLink("https://example.org/x.js"))
    with pytest.raises(OfflineError, match="example.org"):
        save_map(m, tmp_path / "x.html")
    assert list(tmp_path.iterdir()) == []


# -- in a real browser ---------------------------------------------------------------------------
@pytest.mark.browser
def test_offline_map_draws_in_chromium_without_network(long_route, la_graph, la_neighborhoods, tmp_path):
    route, nodes = long_route
    path = tmp_path / "offline.html"
    save_map(render_map(route, neighborhoods=la_neighborhoods, metric="sqmi", offline=True), path)
    with offline_page(path) as (page, log):
        png = page.screenshot(path=str(tmp_path / "offline.png"))
        n_paths = page.locator("path.leaflet-interactive").count()
        miles = page.locator(".routemap-mile").all_inner_texts()
        note = page.locator(".routemap-note").inner_text()
        route_d = page.evaluate(
            """() => Array.from(document.querySelectorAll('path.leaflet-interactive'))
                 .map(p => p.getAttribute('d').split(/[ML]/).length).sort((a, b) => b - a)[0]"""
        )
    assert log.errors == []
    assert log.blocked == []  # nothing even tried to reach the network
    n_miles = int(nx.path_weight(la_graph, nodes, "length") / METERS_PER_MILE)
    assert miles == [str(i) for i in range(1, n_miles + 1)]
    assert n_paths > 10  # the route line and the neighborhood polygons
    assert route_d > 100  # the longest drawn path is the route, with its many vertices
    assert "Offline" in note
    assert distinct_colors(png) > 500


@pytest.mark.browser
def test_injected_names_show_as_text_and_run_nothing(short_route, la_graph, la_neighborhoods, tmp_path):
    route, nodes = short_route
    evil = Route.from_nodes(
        la_graph,
        nodes,
        stops=[RouteStop(f"stop {INJECT}", s.lat, s.lon, node=s.node) for s in route.stops],
        name=f"route {INJECT}",
    )
    layer = la_neighborhoods.copy()
    layer["name"] = layer["name"] + " " + INJECT
    path = tmp_path / "evil.html"
    save_map(render_map(evil, layer, "sqmi", title=f"title {INJECT}", offline=True), path)
    with offline_page(path) as (page, log):
        texts = page.evaluate(
            """() => {
                const map = Object.values(window).find(v => v instanceof L.Map);
                const out = [];
                map.eachLayer(l => {
                    if (l.getPopup && l.getPopup()) {
                        l.openPopup(); out.push(document.querySelector('.leaflet-popup-content').innerText);
                    }
                    if (l.getTooltip && l.getTooltip()) {
                        l.openTooltip(); out.push(l.getTooltip().getElement().innerText);
                    }
                });
                return out;
            }"""
        )
        title = page.locator(".routemap-title").inner_text()
        control = page.locator(".leaflet-control-layers").inner_text()
        page_title = page.title()
        imgs = page.locator('img[src="x"]').count()
    assert log.dialogs == []
    assert log.errors == []
    assert imgs == 0
    assert f"title {INJECT}" in title and f"title {INJECT}" == page_title
    assert f"route {INJECT}" in control
    assert sum(f"stop {INJECT}" in t for t in texts) >= 2  # both stops' popups
    assert any(f"route {INJECT}" in t for t in texts)  # the line's tooltip
    assert any(f"Westlake {INJECT}" in t for t in texts)  # a neighborhood's tooltip


@pytest.mark.browser
def test_several_routes_get_layers_colors_and_a_legend(la_graph, tmp_path):
    a, _ = path_route(la_graph, LONG_STOPS[:3], "North")
    b, _ = path_route(la_graph, LONG_STOPS[4:7], "South")
    c, _ = path_route(la_graph, LONG_STOPS[7:], "South")  # same name, still its own layer
    path = tmp_path / "three.html"
    save_map(render_map([a, b, c], offline=True, colors=["#1f4fbf", "#0f8a5f"]), path)
    with offline_page(path) as (page, log):
        strokes = page.evaluate(
            """() => Array.from(document.querySelectorAll('path.leaflet-interactive'))
                 .map(p => p.getAttribute('stroke'))"""
        )
        legend = page.locator(".routemap-control").all_inner_texts()
        rows = page.locator(".routemap-legend-row").count()
        boxes = page.locator(".leaflet-control-layers-overlays input").count()
        control = page.locator(".leaflet-control-layers-overlays").inner_text()
        page.locator(".leaflet-control-layers-overlays input").nth(1).uncheck()
        after = page.evaluate(
            """() => Array.from(document.querySelectorAll('path.leaflet-interactive'))
                 .map(p => p.getAttribute('stroke'))"""
        )
    assert log.errors == []
    assert boxes == 3 and "South (2)" in control
    assert rows == 3  # colors cycle, every route is still named
    route_strokes = {s for s in strokes if s and s != "#ffffff"}
    assert len(route_strokes) >= 2
    assert any("North" in t and "South" in t for t in legend)
    assert len(set(after)) < len(set(strokes))  # unticking a route hid its layer
