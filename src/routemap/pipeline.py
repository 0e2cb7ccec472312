"""One route from stops to files: pick the network, plan, join the demographics, write the outputs.

The ``route`` and ``demo`` commands and every variant of a comparison go through these functions, so a
library user gets exactly what the CLI writes.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from routemap import __version__, data
from routemap._files import atomic_dir, atomic_write
from routemap.errors import OfflineError, RoutemapError
from routemap.settings import METERS_PER_MILE

log = logging.getLogger(__name__)

ATTRIBUTION = {
    "osm": "(c) OpenStreetMap contributors, ODbL 1.0",
    "tiles": "(c) OpenMapTiles (c) OpenStreetMap contributors",
    "neighborhoods": "Los Angeles Times, Mapping L.A. (v5, 2010)",
    "census": "U.S. Census Bureau, ACS 2013-2017 5-year; CDC/ATSDR SVI 2018",
}


def _stop_latlon(stop: Any) -> tuple[float, float] | None:
    """Return a coordinate stop's (lat, lon); None for names (they resolve on the network)."""
    from routemap.route.stops import parse_latlon

    if isinstance(stop, (tuple, list)) and len(stop) == 2:
        return float(stop[0]), float(stop[1])
    return parse_latlon(stop) if isinstance(stop, str) else None


def _graph_bbox(G: nx.MultiDiGraph) -> tuple[float, float, float, float]:
    xs = [d["x"] for _, d in G.nodes(data=True)]
    ys = [d["y"] for _, d in G.nodes(data=True)]
    return min(xs), min(ys), max(xs), max(ys)


def network_for_stops(
    stops: Sequence[Any],
    osm: str | Path | None = None,
    *,
    offline: bool = True,
    network_type: str = "run",
    margin_m: float = 2000.0,
) -> nx.MultiDiGraph:
    """Return the street network to plan ``stops`` on.

    With ``osm``, that file (any source :func:`routemap.load_network` reads). Without it, the embedded LA
    corridor when every coordinate stop lies in it; otherwise, online, the OSM streets around the stops
    (osmnx/Overpass, cached); offline, an :class:`~routemap.errors.OfflineError` naming the stop.
    """
    from routemap.network import load_network

    if osm is not None:
        return load_network(osm, network_type=network_type)
    G = load_network(data.embedded_corridor_tiles(), network_type=network_type)
    west, south, east, north = _graph_bbox(G)
    points = [p for p in map(_stop_latlon, stops) if p is not None]
    outside = [p for p in points if not (south <= p[0] <= north and west <= p[1] <= east)]
    if not outside:
        return G
    if offline:
        lat, lon = outside[0]
        raise OfflineError(
            f"stop {lat:.5f},{lon:.5f} lies outside the embedded LA corridor "
            f"(lon {west:.3f} to {east:.3f}, lat {south:.3f} to {north:.3f}); pass --osm FILE with an "
            "extract that covers it, or go online"
        )
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    dlat = margin_m / 111_320.0
    dlon = dlat / max(0.1, abs(math.cos(math.radians((min(lats) + max(lats)) / 2))))
    bbox = (min(lons) - dlon, min(lats) - dlat, max(lons) + dlon, max(lats) + dlat)
    log.info("downloading the OSM streets in %s", bbox)
    return load_network(None, bbox=bbox, network_type=network_type)


def data_sources(route: Any) -> list[dict[str, Any]]:
    """Return the data a route's figures come from: the street network and the demographic layers."""
    src = dict(route.graph.graph.get("routemap_source") or {})
    kind = src.get("kind", "unknown")
    network = {
        "role": "street network",
        "kind": kind,
        "paths": [str(p) for p in src.get("paths", [])] if src.get("paths") else None,
        "osm_timestamp": src.get("osm_timestamp"),
        "tiles_generated": src.get("generated"),
        "attribution": ATTRIBUTION["tiles"] if kind in ("tiles", "mbtiles") else ATTRIBUTION["osm"],
    }
    return [
        network,
        {
            "role": "neighborhoods",
            "path": str(data.embedded_neighborhoods()),
            "attribution": ATTRIBUTION["neighborhoods"],
        },
        {"role": "census tracts", "path": str(data.embedded_tracts()), "attribution": ATTRIBUTION["census"]},
    ]


def route_summary(route: Any, demographics: Any | None = None) -> dict[str, Any]:
    """Return the JSON-ready summary of a route (the ``summary.json`` the CLI writes).

    Fields: ``name``, ``profile``, ``length_m``, ``length_mi``, ``length_km``, ``target_m``, ``target_mi``,
    ``repeated_m``, ``repeated_pct``, ``doubled_back_m`` (run again alongside, e.g. back on the sidewalk),
    ``stops`` (name, lat, lon, mile), ``neighborhoods`` (name, miles), ``near_route`` (people within the
    buffer), ``sources``, ``generator``.
    """
    summary: dict[str, Any] = route.to_dict()  # name, profile, lengths, target_m, repeated_m
    target = route.target_m
    summary |= {
        "target_mi": None if target is None else round(target / METERS_PER_MILE, 3),
        "repeated_pct": round(100 * route.repeated_length_m / route.length_m, 2),
        "doubled_back_m": round(route.doubled_back_m, 1),
        "stops": [
            {
                "name": s.name,
                "lat": round(float(s.lat), 6),
                "lon": round(float(s.lon), 6),
                "mile": None if s.position_m is None else round(s.position_m / METERS_PER_MILE, 2),
            }
            for s in route.stops
        ],
        "neighborhoods": [],
        "near_route": None,
        "sources": data_sources(route),
        "generator": f"routemap {__version__}",
    }
    if demographics is not None:
        table = demographics.neighborhoods
        summary["neighborhoods"] = [
            {"name": str(r["name"]), "miles": round(float(r["miles"]), 3)} for _, r in table.iterrows()
        ]
        summary["near_route"] = people_figures(demographics.to_dict()["near_route"])
    return summary


def people_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """Return figures for people: counts as whole people and dollars, shares and areas to 2 decimals."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if value is None or isinstance(value, (str, bool)):
            out[key] = value
        elif key.startswith("pct_") or key.endswith(("_km2", "_m")):
            out[key] = round(float(value), 2)
        else:
            out[key] = int(round(float(value)))
    return out


def write_route_outputs(
    route: Any,
    out_dir: str | Path,
    *,
    demographics: Any | None = None,
    neighborhoods: Any | None = None,
    offline: bool = False,
    title: str | None = None,
    readme: str | None = None,
) -> dict[str, Path]:
    """Write ``route.html``, ``route.gpx``, ``route.geojson``, ``cues.csv`` and ``summary.json`` to ``out_dir``.

    Everything is built in a temporary folder beside ``out_dir`` and moved in at the end: a failure
    leaves ``out_dir`` as it was. Returns the written paths by file name.
    """
    from routemap.export import write_cue_sheet, write_geojson, write_gpx
    from routemap.render import render_map, save_map

    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        m = render_map(
            route,
            neighborhoods=neighborhoods,
            title=title or route.name,
            offline=offline,
            demographics=demographics,  # the summary panel's figures
        )
        save_map(m, tmp / "route.html")
        write_gpx(route, tmp / "route.gpx")
        write_geojson(route, tmp / "route.geojson")
        write_cue_sheet(route, tmp / "cues.csv")
        with atomic_write(tmp / "summary.json") as fh:
            json.dump(route_summary(route, demographics), fh, indent=2)
            fh.write("\n")
        if readme is not None:
            with atomic_write(tmp / "README.md") as fh:
                fh.write(readme)
        names = sorted(p.name for p in tmp.iterdir())
    return {name: out_dir / name for name in names}


def analyse_and_write(
    route: Any,
    out_dir: str | Path,
    *,
    html_offline: bool = False,
    title: str | None = None,
    readme: Callable[[Any, Any], str] | None = None,
) -> tuple[Any, dict[str, Path]]:
    """Join the demographics to a planned route and write its files; return ``(demographics, paths)``.

    ``readme(route, demographics)``, when given, makes the text of a ``README.md`` for the folder.
    """
    from routemap.demographics import neighborhood_demographics, route_demographics

    layer = neighborhood_demographics()
    demo = route_demographics(route, layer=layer)
    paths = write_route_outputs(
        route,
        out_dir,
        demographics=demo,
        neighborhoods=layer,
        offline=html_offline,
        title=title,
        readme=None if readme is None else readme(route, demo),
    )
    return demo, paths


def plan_and_write(
    stops: Sequence[Any],
    out_dir: str | Path,
    *,
    target: str | float | None = None,
    profile: str = "run",
    tolerance: float = 0.01,
    osm: str | Path | None = None,
    offline: bool = True,
    name: str | None = None,
    title: str | None = None,
    html_offline: bool = False,
) -> tuple[Any, Any, dict[str, Path]]:
    """Plan a route through ``stops`` and write its files; return ``(route, demographics, paths)``.

    The network comes from :func:`network_for_stops` (``osm``, else the embedded corridor, else online
    unless ``offline``); ``html_offline`` makes the map self-contained.
    """
    from routemap.route import plan_route

    if len(stops) < 2:
        raise RoutemapError("a route needs at least two stops (start and finish)")
    G = network_for_stops(stops, osm, offline=offline)
    route = plan_route(
        G,
        list(stops),
        target_length=target,
        profile=profile,
        tolerance=tolerance,
        name=name,
        online=not offline,  # a name unknown to the offline data may still be geocoded
    )
    demo, paths = analyse_and_write(route, out_dir, html_offline=html_offline, title=title)
    return route, demo, paths
