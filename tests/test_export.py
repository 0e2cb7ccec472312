"""Tests of routemap.export: GPX 1.1 (schema, round trip), GeoJSON, CSV cue sheet, PNG; atomic writes."""

from __future__ import annotations

import io
import math

import geopandas as gpd
import gpxpy
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import test_render as _shared
from PIL import Image

from routemap.errors import DemographicsError
from routemap.export import write_cue_sheet, write_geojson, write_gpx, write_png
from routemap.route.model import Route, RouteStop

# Real routes on the shared LA data: the fixtures live with the render tests and are shared here.
INJECT = _shared.INJECT
la_graph = _shared.la_graph
la_neighborhoods = _shared.la_neighborhoods
long_route = _shared.long_route
short_route = _shared.short_route

METERS_PER_MILE = 1609.344


def evil_route(short_route, la_graph) -> Route:
    route, nodes = short_route
    return Route.from_nodes(
        la_graph,
        nodes,
        stops=[RouteStop(f"{s.name} {INJECT} & co", s.lat, s.lon, node=s.node) for s in route.stops],
        name=f"Run {INJECT}",
    )


def test_gpx_files_validate_against_the_schema(long_route, short_route, la_graph, gpx_schema, tmp_path):
    import xmlschema

    schema = xmlschema.XMLSchema(str(gpx_schema))
    write_gpx(long_route[0], tmp_path / "long.gpx")
    write_gpx(evil_route(short_route, la_graph), tmp_path / "evil.gpx", unit="km")
    schema.validate(str(tmp_path / "long.gpx"))
    schema.validate(str(tmp_path / "evil.gpx"))
    # The validator does reject a broken file (a latitude out of range).
    text = (tmp_path / "long.gpx").read_text(encoding="utf-8")
    broken = text.replace('<wpt lat="', '<wpt lat="1', 1)
    assert not schema.is_valid(broken)


def test_gpx_round_trips_through_gpxpy(long_route, la_graph, tmp_path):
    route, nodes = long_route
    path = tmp_path / "route.gpx"
    write_gpx(route, path)

    gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
    expected_m = nx.path_weight(la_graph, nodes, "length")  # independent of Route
    assert gpx.length_2d() == pytest.approx(expected_m, rel=0.005)
    assert len(gpx.tracks) == 1 and len(gpx.tracks[0].segments) == 1
    first, last = gpx.tracks[0].segments[0].points[0], gpx.tracks[0].segments[0].points[-1]
    for point, node in ((first, nodes[0]), (last, nodes[-1])):
        assert point.latitude == pytest.approx(la_graph.nodes[node]["y"], abs=1e-6)
        assert point.longitude == pytest.approx(la_graph.nodes[node]["x"], abs=1e-6)
    stops = [w for w in gpx.waypoints if w.type == "stop"]
    miles = [w for w in gpx.waypoints if w.type == "distance marker"]
    assert [w.name for w in stops] == [s.name for s in route.stops]
    assert [w.name for w in miles] == [f"Mile {i}" for i in range(1, int(expected_m / METERS_PER_MILE) + 1)]
    # Mile 1 lies about one mile from the start along the track.
    along = np.cumsum(
        [0]
        + [
            a.distance_2d(b)
            for a, b in zip(gpx.tracks[0].segments[0].points[:-1], gpx.tracks[0].segments[0].points[1:])
        ]
    )
    pts = gpx.tracks[0].segments[0].points
    i = int(np.searchsorted(along, METERS_PER_MILE))
    assert min(miles[0].distance_2d(p) for p in pts[max(i - 1, 0) : i + 1]) < 150
    assert gpx.name == route.name
    assert "OpenStreetMap" in (gpx.link_text or "") and gpx.copyright_author == "OpenStreetMap contributors"


def test_gpx_keeps_awkward_names_intact(short_route, la_graph, tmp_path):
    nodes = short_route[1]
    evil = evil_route(short_route, la_graph)
    path = tmp_path / "evil.gpx"
    write_gpx(evil, path, unit="km")
    gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
    assert gpx.name == f"Run {INJECT}"
    assert [w.name for w in gpx.waypoints if w.type == "stop"] == [s.name for s in evil.stops]
    n_km = int(nx.path_weight(la_graph, nodes, "length") / 1000)
    assert [w.name for w in gpx.waypoints if w.type == "distance marker"] == [
        f"Km {i}" for i in range(1, n_km + 1)
    ]


def test_geojson_holds_line_stops_and_markers(long_route, la_graph, tmp_path):
    route, nodes = long_route
    path = tmp_path / "route.geojson"
    write_geojson(route, path)
    gdf = gpd.read_file(path)  # GDAL's GeoJSON driver, independent of the writer
    assert gdf.crs.to_epsg() == 4326
    line = gdf[gdf["kind"] == "route"]
    assert len(line) == 1 and line.geom_type.iloc[0] == "LineString"
    expected_m = nx.path_weight(la_graph, nodes, "length")
    assert line["length_m"].iloc[0] == pytest.approx(expected_m, abs=0.1)
    # Geometric length in UTM agrees with the graph's great-circle edge lengths.
    assert line.to_crs(line.estimate_utm_crs()).length.iloc[0] == pytest.approx(expected_m, rel=0.005)
    stops = gdf[gdf["kind"] == "stop"]
    assert list(stops["name"]) == [s.name for s in route.stops]
    assert stops["position_m"].iloc[0] == 0
    assert stops["position_m"].iloc[-1] == pytest.approx(expected_m, abs=0.1)
    marks = gdf[gdf["kind"] == "mile_marker"].to_crs(line.estimate_utm_crs())
    n = int(expected_m / METERS_PER_MILE)
    assert list(marks["label"]) == [str(i) for i in range(1, n + 1)]
    line_utm = line.to_crs(marks.crs).geometry.iloc[0]
    # Each marker lies where shapely puts the point i miles along the line (scaled from the graph's
    # great-circle metres to the projected length; the route passes some places twice, so no project()).
    scale = line_utm.length / expected_m
    refs = [line_utm.interpolate(i * METERS_PER_MILE * scale) for i in range(1, n + 1)]
    gaps = [p.distance(q) for p, q in zip(marks.geometry, refs)]
    assert max(gaps) < 5.0


def test_cue_sheet_csv(long_route, tmp_path):
    route, _ = long_route
    path = tmp_path / "cues.csv"
    write_cue_sheet(route, path)
    table = pd.read_csv(path, keep_default_na=False)
    assert list(table.columns) == [
        "distance_m",
        "distance_mi",
        "distance_km",
        "turn",
        "street",
        "instruction",
    ]
    assert table["turn"].iloc[0] == "depart" and table["turn"].iloc[-1] == "arrive"
    assert table["distance_m"].is_monotonic_increasing
    assert table["distance_m"].iloc[-1] == pytest.approx(route.length_m, abs=0.1)
    assert np.allclose(table["distance_mi"], table["distance_m"] / METERS_PER_MILE, atol=1e-3)
    assert np.allclose(table["distance_km"], table["distance_m"] / 1000.0, atol=1e-3)


def test_png_is_written_and_not_blank(long_route, la_neighborhoods, tmp_path):
    route, _ = long_route
    path = tmp_path / "route.png"
    write_png(route, path, neighborhoods=la_neighborhoods, metric="sqmi", dpi=100)
    img = Image.open(io.BytesIO(path.read_bytes())).convert("RGB")
    assert img.size[0] >= 800 and img.size[1] >= 800
    colors = img.getcolors(maxcolors=1 << 24)
    assert len(colors) > 200
    px = np.asarray(img).reshape(-1, 3).astype(int)
    blue = np.abs(px - np.array([0x1F, 0x4F, 0xBF])).sum(axis=1) < 40
    # A 15-mile line 2.6 pt wide covers thousands of pixels at 100 dpi.
    assert blue.sum() > 2000


def test_png_draws_grey_streets_under_the_route(long_route, tmp_path):
    route, _ = long_route
    with_streets, without = tmp_path / "streets.png", tmp_path / "bare.png"
    write_png(route, with_streets, dpi=80)
    write_png(route, without, dpi=80, streets=False)
    a, b = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in (with_streets, without))
    assert a.shape == b.shape
    changed = np.abs(a - b).sum(axis=2) > 30
    # Over a white page the street base covers a good part of the frame...
    assert changed.mean() > 0.03, f"only {changed.mean():.1%} of the pixels changed"
    # ...and what it adds is grey (the street classes' colors), not the route's blue or a color cast.
    px = a[changed]
    spread = px.max(axis=1) - px.min(axis=1)
    assert (spread < 40).mean() > 0.8
    assert (px.mean(axis=1) < 235).mean() > 0.8  # darker than the white page


def test_png_without_backdrop_prints_dollar_names_as_text(short_route, la_graph, tmp_path):
    route, nodes = short_route
    # "$\\frac$" is invalid mathtext: matplotlib would raise if it parsed names as math.
    odd = Route.from_nodes(
        la_graph,
        nodes,
        stops=[RouteStop(f"{s.name} $\\frac$ {INJECT}", s.lat, s.lon, node=s.node) for s in route.stops],
        name="Cost $\\frac$ $5",
    )
    path = tmp_path / "plain.png"
    write_png(odd, path, streets=False, dpi=60)
    assert len(Image.open(path).convert("RGB").getcolors(maxcolors=1 << 24)) > 20


def test_failed_write_leaves_nothing(short_route, la_neighborhoods, tmp_path):
    route, _ = short_route
    path = tmp_path / "map.png"
    path.write_bytes(b"old")
    with pytest.raises(DemographicsError):
        write_png(route, path, neighborhoods=la_neighborhoods, metric="no_such_column")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]


def test_writers_replace_existing_files(short_route, tmp_path):
    route, _ = short_route
    for writer, name in ((write_gpx, "r.gpx"), (write_geojson, "r.geojson"), (write_cue_sheet, "r.csv")):
        path = tmp_path / name
        path.write_text("stale")
        writer(route, path)
        assert "stale" not in path.read_text()
        assert not math.isnan(path.stat().st_size)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "r.geojson", "r.gpx"]
