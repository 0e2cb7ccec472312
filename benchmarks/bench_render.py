"""Render and export timings and sizes for a ~15-mile LA route, against geopandas' ``explore()``.

    python benchmarks/bench_render.py [--repeat 5]

Each map is timed with and without the offline street basemap (``basemap=False``): on the Overpass
route the basemap is the route graph's streets (the graph fallback); the demo route, planned on the
embedded corridor tiles, embeds the vector tiles around it (Leaflet.VectorGrid).

Needs the shared LA originals (../shared/data/la). The route is a real shortest path through ten
stops on the merged Overpass walk files (the same as tests/test_render.py). Baseline: geopandas
``GeoDataFrame.explore()`` of the route and the same neighborhoods (plain folium, CDN assets).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_render import LONG_STOPS, WALK_FILES, path_route  # noqa: E402

from routemap import settings  # noqa: E402
from routemap.demo import run_demo  # noqa: E402
from routemap.demographics import neighborhood_demographics  # noqa: E402
from routemap.export import write_geojson, write_gpx, write_png  # noqa: E402
from routemap.render import render_map, save_map  # noqa: E402


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import json

    import osmnx as ox

    la = settings.shared_la_dir()
    G = ox.graph._create_graph(
        [json.loads((la / "osm" / f).read_text()) for f in WALK_FILES], bidirectional=True
    )
    G = ox.truncate.largest_component(ox.simplify_graph(G), strongly=True)
    route, _ = path_route(G, LONG_STOPS, "bench")
    nb = gpd.read_file(la / "neighborhoods" / "la_times_mapping_la_v5_county_272.geojson")
    print(f"route: {route.length_mi:.2f} mi, {len(route.geometry.coords)} vertices")
    out = Path(tempfile.mkdtemp())
    demo_route, demo_demo, _ = run_demo(out / "demo")
    demo_nb = neighborhood_demographics()
    print(f"demo route: {demo_route.length_mi:.2f} mi on {demo_route.graph.graph['routemap_source']['kind']}")

    def baseline() -> None:
        both = pd.concat([nb[["name", "sqmi", "geometry"]], route.to_gdf()[["name", "geometry"]]])
        both.explore(column="sqmi").save(out / "baseline.html")

    cases = {
        "geopandas explore (baseline)": (baseline, out / "baseline.html"),
        "render_map online, near route": (
            lambda: save_map(render_map(route, nb, "sqmi"), out / "a.html"),
            out / "a.html",
        ),
        "render_map offline, near route": (
            lambda: save_map(render_map(route, nb, "sqmi", offline=True), out / "b.html"),
            out / "b.html",
        ),
        "  same, no basemap": (
            lambda: save_map(render_map(route, nb, "sqmi", offline=True, basemap=False), out / "b0.html"),
            out / "b0.html",
        ),
        "demo (tiles) offline + panel": (
            lambda: save_map(
                render_map(demo_route, demo_nb, offline=True, demographics=demo_demo), out / "d.html"
            ),
            out / "d.html",
        ),
        "  same, no basemap ": (
            lambda: save_map(
                render_map(demo_route, demo_nb, offline=True, demographics=demo_demo, basemap=False),
                out / "d0.html",
            ),
            out / "d0.html",
        ),
        "render_map offline, all 272": (
            lambda: save_map(
                render_map(route, nb, "sqmi", offline=True, neighborhoods_within_m=None), out / "c.html"
            ),
            out / "c.html",
        ),
        "write_gpx": (lambda: write_gpx(route, out / "r.gpx"), out / "r.gpx"),
        "write_geojson": (lambda: write_geojson(route, out / "r.geojson"), out / "r.geojson"),
        "write_png (200 dpi)": (lambda: write_png(route, out / "r.png", nb), out / "r.png"),
        "  same, no streets": (lambda: write_png(route, out / "r0.png", nb, streets=False), out / "r0.png"),
    }
    base_t = base_size = None
    print(f"{'case':34s} {'median s':>9s} {'x base':>7s} {'size KB':>9s} {'x base':>7s}")
    for name, (fn, path) in cases.items():
        t = median_s(fn, args.repeat)
        size = path.stat().st_size / 1000
        if base_t is None:
            base_t, base_size = t, size
        print(f"{name:34s} {t:9.3f} {t / base_t:7.2f} {size:9.1f} {size / base_size:7.2f}")


if __name__ == "__main__":
    main()
