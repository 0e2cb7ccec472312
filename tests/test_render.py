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
    assert path.stat().st_size < 2.5e6  # issue 15's budget, with the offline street basemap
    # All of LA County's 272 neighborhoods, simplified, still fit.
    save_map(render_map(route, la_neighborhoods, "sqmi", offline=True, neighborhoods_within_m=None), path)
    assert path.stat().st_size < 2.5e6


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
    # Only the online base tiles tried the network (they show when there is one); nothing the map needs.
    assert log.blocked_hosts <= {"tile.openstreetmap.org"}
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
        page.locator(".leaflet-control-layers-overlays input").nth(2).uncheck()
        after = page.evaluate(
            """() => Array.from(document.querySelectorAll('path.leaflet-interactive'))
                 .map(p => p.getAttribute('stroke'))"""
        )
    assert log.errors == []
    assert boxes == 4 and "South (2)" in control and "Streets (offline)" in control
    assert rows == 3  # colors cycle, every route is still named
    route_strokes = {s for s in strokes if s and s != "#ffffff"}
    assert len(route_strokes) >= 2
    assert any("North" in t and "South" in t for t in legend)
    assert len(set(after)) < len(set(strokes))  # unticking a route hid its layer


# -- offline street basemap and summary panel (issue 15) -------------------------------------------
def _grid_graph() -> nx.MultiDiGraph:
    """A hand-built scene near LA: an east-west avenue (two ways), a diagonal street, a far-away lane."""
    G = nx.MultiDiGraph(crs="EPSG:4326")
    pts = {1: (-118.2800, 34.0500), 2: (-118.2650, 34.0500), 3: (-118.2700, 34.0450), 4: (-118.2600, 34.0550)}
    pts |= {5: (-118.1000, 34.2000), 6: (-118.0990, 34.2000)}
    for n, (x, y) in pts.items():
        G.add_node(n, x=x, y=y)
    G.add_edge(1, 2, highway="primary", name="Test Avenue", length=1382.0)
    G.add_edge(2, 1, highway="primary", name="Test Avenue", length=1382.0)
    G.add_edge(3, 4, highway=["residential", "service"], name="Diagonal Street", length=1430.0)
    G.add_edge(5, 6, highway="footway", length=92.0)
    return G


def test_graph_streets_keep_each_piece_near_the_route_once():
    from routemap.render.basemap import graph_streets

    G = _grid_graph()
    route = LineString([(-118.2790, 34.0505), (-118.2660, 34.0505)])
    streets = graph_streets(G, [route], within_m=1500)
    assert sorted(streets["name"]) == ["Diagonal Street", "Test Avenue"]  # both directions -> one row
    assert dict(zip(streets["name"], streets["group"])) == {
        "Test Avenue": "primary",
        "Diagonal Street": "minor",
    }
    # The far lane is ~20 km away (independent check with a projected distance).
    utm = gpd.GeoSeries([route], crs=4326).estimate_utm_crs()
    far = gpd.GeoSeries([LineString([(-118.1, 34.2), (-118.099, 34.2)]), route], crs=4326).to_crs(utm)
    assert far.iloc[0].distance(far.iloc[1]) > 1500
    assert len(graph_streets(G, [route], within_m=30000)) == 3


def test_street_labels_are_spaced_along_the_street_and_turned_with_it():
    from routemap.render.basemap import graph_streets, street_labels

    G = _grid_graph()
    streets = graph_streets(G, [LineString([(-118.279, 34.0505), (-118.266, 34.0505)])], within_m=1500)
    labels = street_labels(streets, spacing_m=600)
    avenue = labels[labels["name"] == "Test Avenue"]
    # 0.015 degrees of longitude at 34.05 N, measured independently with pyproj's geodesic.
    from pyproj import Geod

    length = Geod(ellps="WGS84").inv(-118.28, 34.05, -118.265, 34.05)[2]
    assert len(avenue) == int(length // 600) == 2
    assert np.allclose(avenue["angle"], 0, atol=0.5)  # east-west: horizontal text
    diagonal = labels[labels["name"] == "Diagonal Street"]
    # Web Mercator is conformal: the screen angle is atan of the projected rise over run, counter-clockwise.
    from pyproj import Transformer

    t = Transformer.from_crs(4326, 3857, always_xy=True)
    (x0, x1), (y0, y1) = t.transform([-118.27, -118.26], [34.045, 34.055])
    expected = -math.degrees(math.atan2(y1 - y0, x1 - x0))
    assert len(diagonal) >= 1 and np.allclose(diagonal["angle"], expected, atol=1.0)
    assert labels["angle"].between(-90, 90).all()


def test_route_tiles_cover_the_route_with_street_layer_only():
    from routemap.network.tiles_pbf import layer_names
    from routemap.render.basemap import route_tiles

    mbtiles = data.embedded_corridor_tiles()
    if not mbtiles.exists():
        pytest.skip(f"needs the embedded corridor tiles {mbtiles}")
    line = LineString([(-118.2770, 34.0572), (-118.2383, 34.0623)])  # MacArthur Park -> Chinatown
    tiles = route_tiles(mbtiles, [line], within_m=500)
    n = 2**14
    for lon, lat in line.coords:  # slippy-map tile of each end, from the OSM wiki formula
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        assert f"14/{x}/{y}" in tiles
    import sqlite3

    with sqlite3.connect(mbtiles) as con:
        total = con.execute("SELECT count(*) FROM tiles").fetchone()[0]
    assert 2 <= len(tiles) < total  # only the tiles around the route
    assert all(layer_names(t) == ["transportation"] for t in tiles.values())


class _Demographics:
    """Just what the panel reads of a RouteDemographics."""

    def __init__(self, names, miles):
        self.neighborhoods = gpd.pd.DataFrame(
            {"name": names, "miles": miles, "length_m": np.array(miles) * 1609.344}
        )
        self.near_route = {"population": 12345.4, "pct_foreign_born": 41.26}
        self.buffer_m = 400.0


def test_route_panel_lists_stops_neighborhoods_with_bars_and_people(short_route):
    from routemap.render.panel import BAR_MAX_PX, route_panel_html

    route, _ = short_route
    panel = route_panel_html(route, _Demographics([f"West {INJECT}", "Downtown"], [0.5, 2.0]))
    assert INJECT not in panel and escape_html(f"West {INJECT}") in panel
    assert panel.index("West") < panel.index("Downtown")  # in the order the route passes them
    widths = [int(w) for w in re.findall(r"width:(\d+)px", panel)]
    assert widths == [BAR_MAX_PX // 4 + (1 if BAR_MAX_PX % 4 >= 2 else 0), BAR_MAX_PX]
    assert "12,345" in panel and "41.3%" in panel and "within 400 m" in panel
    for stop in route.stops:
        assert f"mile {stop.position_m / METERS_PER_MILE:.2f}" in panel
    assert "No census figures" in route_panel_html(route, None)


def test_comparison_panel_shows_each_variant_and_escapes():
    from routemap.render.panel import comparison_panel_html

    table = gpd.pd.DataFrame(
        {
            "name": ["a", f"b {INJECT}", "c"],
            "length_mi": [6.0, 5.98, None],
            "turns": [26, 11, 0],
            "neighborhoods": ["Koreatown > Westlake", "Westlake", ""],
            "error": ["", "", "no path between stops"],
        }
    )
    panel = comparison_panel_html(table)
    assert INJECT not in panel and escape_html(f"b {INJECT}") in panel
    assert "6.00" in panel and "5.98" in panel and ">26<" in panel
    assert "Koreatown &gt; Westlake" in panel
    assert "failed: no path between stops" in panel


def _map_of(page):
    return "Object.values(window).find(v => v instanceof L.Map)"


def _pixels_changed(a: bytes, b: bytes) -> float:
    """Return the share of pixels that differ between two same-size PNG screenshots."""
    import io

    from PIL import Image, ImageChops

    ia, ib = (Image.open(io.BytesIO(x)).convert("RGB") for x in (a, b))
    diff = np.asarray(ImageChops.difference(ia, ib)).sum(axis=2)
    return float((diff > 30).mean())


def _check_offline_streets(path, street: str, at: tuple[float, float]) -> dict:
    """Open ``path`` with the network cut; return what the streets overlay and the panel show."""
    out: dict = {}
    with offline_page(path, settle_ms=1500) as (page, log):
        overlays = page.locator(".leaflet-control-layers-overlays label")
        names = overlays.all_inner_texts()
        out["overlays"] = [n.strip() for n in names]
        out["panel"] = page.locator(".routemap-panel").inner_text()
        before = page.screenshot()
        box = overlays.filter(has_text="Streets (offline)").locator("input")
        box.uncheck()
        page.wait_for_timeout(300)
        out["changed"] = _pixels_changed(before, page.screenshot())
        box.check()
        visible_labels = """(word) => Array.from(document.querySelectorAll('.routemap-street-label'))
            .filter(e => e.textContent.includes(word) && getComputedStyle(e).display !== 'none')
            .map(e => e.getBoundingClientRect())
            .filter(r => r.width > 20 && r.right > 0 && r.bottom > 0
                         && r.left < window.innerWidth && r.top < window.innerHeight).length"""
        for zoom in (13, 16):
            page.evaluate(f"() => {_map_of(page)}.setView([{at[0]}, {at[1]}], {zoom}, {{animate: false}})")
            page.wait_for_timeout(800)
            out[f"labels_z{zoom}"] = page.evaluate(visible_labels, street)
        out["errors"] = log.errors
        out["blocked_hosts"] = log.blocked_hosts
    return out


def _assert_offline_streets(seen: dict, hoods: list[str]) -> None:
    assert seen["errors"] == []
    assert seen["blocked_hosts"] <= {"tile.openstreetmap.org"}  # only the online base tiles
    assert "Streets (offline)" in seen["overlays"]
    assert seen["changed"] >= 0.03, f"switching the streets off changed {seen['changed']:.1%} of the pixels"
    for hood in hoods:
        assert hood in seen["panel"]
    # The name is drawn (an element with the text, displayed, inside the window) at zoom 16, not at 13.
    assert seen["labels_z16"] >= 1
    assert seen["labels_z13"] == 0


@pytest.fixture(scope="session")
def demo_outputs(tmp_path_factory):
    """The demo's files, planned offline on the embedded LA corridor tiles (as ``routemap demo``)."""
    from routemap.demo import run_demo

    if not data.embedded_corridor_tiles().exists():
        pytest.skip("needs the embedded corridor tiles")
    out = tmp_path_factory.mktemp("demo") / "out"
    route, demo, paths = run_demo(out)
    return route, demo, paths


@pytest.mark.browser
def test_demo_map_has_offline_vector_streets_names_and_panel(demo_outputs):
    route, demo, paths = demo_outputs
    html_path = paths["route.html"]
    assert route.graph.graph["routemap_source"]["kind"] == "mbtiles"
    page = html_path.read_text()
    assert "L.VectorGrid" in page and html_path.stat().st_size <= 2.5e6  # the size budget
    # A point on Wilshire Boulevard near the route, from the graph (not from the page).
    lon, lat = next(
        (
            d["geometry"].coords[0]
            if "geometry" in d
            else (route.graph.nodes[u]["x"], route.graph.nodes[u]["y"])
        )
        for u, _, d in route.graph.edges(data=True)
        if d.get("name") == "Wilshire Boulevard" and abs(route.graph.nodes[u]["x"] + 118.275) < 0.003
    )
    summary = json.loads(paths["summary.json"].read_text())
    seen = _check_offline_streets(html_path, "Wilshire", (lat, lon))
    _assert_offline_streets(seen, [h["name"] for h in summary["neighborhoods"]])
    assert "target 15.00 mi" in seen["panel"]


@pytest.mark.browser
def test_pbf_route_map_draws_the_graph_streets_with_names(tmp_path):
    from routemap.pipeline import plan_and_write

    pbf = data.embedded_osm_pbf()
    if not pbf.exists():
        pytest.skip(f"needs the embedded {pbf}")
    stops = ["34.0572,-118.2770", "34.0623,-118.2383", "34.0553,-118.2368"]
    route, demo, paths = plan_and_write(stops, tmp_path / "out", osm=pbf, html_offline=True, name="pbf")
    assert route.graph.graph["routemap_source"]["kind"] == "pbf"
    page = paths["route.html"].read_text()
    assert "L.VectorGrid" not in page  # the graph fallback: no tiles
    hoods = list(demo.neighborhoods["name"])
    assert hoods
    seen = _check_offline_streets(paths["route.html"], "Wilshire", (34.0565, -118.2745))
    _assert_offline_streets(seen, hoods)


@pytest.mark.browser
def test_comparison_map_has_streets_and_the_table(long_route, la_graph, tmp_path):
    a, _ = path_route(la_graph, LONG_STOPS[:3], "North")
    b, _ = path_route(la_graph, LONG_STOPS[1:4], "Middle")
    table = gpd.pd.DataFrame({"name": ["North", "Middle"], "length_mi": [a.length_mi, b.length_mi]})
    path = tmp_path / "comparison.html"
    save_map(render_map([a, b], title="Route comparison", offline=True, comparison=table), path)
    seen = _check_offline_streets(path, "Wilshire", (34.0565, -118.2745))
    _assert_offline_streets(seen, [])
    assert "North" in seen["panel"] and f"{b.length_mi:.2f}" in seen["panel"]


def test_map_without_basemap_or_panel_leaves_them_out(short_route, tmp_path):
    route, _ = short_route
    path = tmp_path / "plain.html"
    save_map(render_map(route, offline=True, basemap=False, panel=False), path)
    page = path.read_text()
    assert "Streets (offline)" not in page and "routemap-panel-body" not in page


def test_vendored_javascript_matches_its_manifest():
    import hashlib
    from importlib import resources

    static = resources.files("routemap.render").joinpath("static")
    manifest = json.loads(static.joinpath("MANIFEST.json").read_text("utf-8"))
    assert any(k.endswith("Leaflet.VectorGrid.bundled.min.js") for k in manifest["files"])
    for rel, entry in manifest["files"].items():
        blob = static.joinpath(rel).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == entry["sha256"], rel
        assert entry["integrity"].startswith("sha512-") and entry["version"]
    assert any(k.endswith("LICENSE") for k in manifest["files"])


@pytest.mark.browser
def test_panel_opens_on_desktop_collapses_on_phone_and_prints_open(short_route, tmp_path):
    route, _ = short_route
    path = tmp_path / "panel.html"
    save_map(render_map(route, offline=True, basemap=False), path)
    body = ".routemap-panel-body"
    with offline_page(path, width=1200, height=800) as (page, log):
        desktop = page.locator(body).is_visible()
    with offline_page(path, width=400, height=700) as (page, log):
        phone = page.locator(body).is_visible()
        page.emulate_media(media="print")
        printed = page.locator(body).is_visible()
        page.emulate_media(media="screen")
        page.locator(".routemap-panel-toggle").click()
        opened = page.locator(body).is_visible()
        text = page.locator(body).inner_text()
    assert (desktop, phone, printed, opened) == (True, False, True, True)
    assert "No census figures" in text and route.name in text
    assert log.errors == []


def _mvt(*layer_names: str) -> bytes:
    """Return a minimal vector tile: one empty layer per name (protobuf fields written by hand)."""

    def field(number: int, payload: bytes) -> bytes:
        assert len(payload) < 128  # one-byte length varint
        return bytes([number << 3 | 2, len(payload)]) + payload

    return b"".join(field(3, field(1, name.encode())) for name in layer_names)


def test_route_tiles_from_a_folder_keep_water_parks_and_streets(tmp_path):
    import gzip

    from routemap.network.tiles_pbf import layer_names
    from routemap.render.basemap import route_tiles

    line = LineString([(-118.2770, 34.0572), (-118.2760, 34.0575)])
    n = 2**14
    x = int((-118.2770 + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(34.0572))) / math.pi) / 2 * n)
    (tmp_path / "14" / str(x)).mkdir(parents=True)
    (tmp_path / "14" / str(x) / f"{y}.pbf").write_bytes(
        gzip.compress(_mvt("water", "poi", "park", "transportation", "transportation_name"))
    )
    (tmp_path / "14" / str(x) / f"{y + 40}.pbf").write_bytes(_mvt("water"))  # 40 tiles (~80 km) away
    tiles = route_tiles(tmp_path, [line], within_m=200)
    assert list(tiles) == [f"14/{x}/{y}"]
    assert layer_names(tiles[f"14/{x}/{y}"]) == ["water", "park", "transportation"]  # in the tile's order


def test_street_pieces_merge_by_name_as_one_name_at_a_time():
    from routemap.render.basemap import STREET_GROUPS, _merged_by_name

    pieces = [  # two touching pieces of one street (merged), one apart, names out of order, groups mixed
        ("B Street", "minor", LineString([(0, 0), (100, 0)])),
        ("A Avenue", "primary", LineString([(0, 50), (0, 150)])),
        ("B Street", "secondary", LineString([(100, 0), (200, 0)])),
        ("A Avenue", "minor", LineString([(500, 50), (600, 50)])),
        ("B Street", "minor", LineString([(900, 0), (950, 0)])),
    ]
    frame = gpd.GeoDataFrame(
        {"name": [p[0] for p in pieces], "group": [p[1] for p in pieces]},
        geometry=[p[2] for p in pieces],
        crs=32611,
    )
    names, groups, lines = _merged_by_name(frame)
    rank = {g: i for i, g in enumerate(STREET_GROUPS)}
    expected = []
    for name, part in frame.groupby("name", sort=True):
        group = max(part["group"], key=rank.__getitem__)
        merged = shapely.line_merge(shapely.multilinestrings(part.geometry.to_numpy()))
        expected += [(name, group, piece.wkt) for piece in shapely.get_parts(merged)]
    assert list(zip(names, groups, [line.wkt for line in lines], strict=True)) == expected
    assert names == ["A Avenue", "A Avenue", "B Street", "B Street"]
    assert groups == ["primary", "primary", "secondary", "secondary"]
