"""One road from stops to files: pick the network, plan, join the demographics, write the outputs.

The ``route``, ``demo`` and ``compare`` commands all go through these functions, so a library user gets
exactly what the CLI writes:

- :func:`network_for_stops`: the one network choice (``osm``, else the embedded corridor, else online);
- :func:`plan_on_network`: the planner's options in one place (loops, out-and-back, objective,
  alternatives) and the stop-name resolver;
- :func:`analyse_route`: the demographics, or "unknown" with a note when no layer covers the route;
- :func:`write_route_outputs`: map, GPX, GeoJSON, cue sheet and ``summary.json``
  (:mod:`routemap.summary`), crediting only the sources used;
- :func:`plan_and_write`: all of the above for one request.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from routemap import data, settings
from routemap._files import atomic_dir, atomic_write
from routemap.errors import OfflineError, RoutemapError, StopError, TargetLengthError
from routemap.summary import (
    check_unit,
    data_sources,
    file_attribution,
    map_attribution,
    people_figures,
    route_summary,
)

__all__ = [
    "ROUTE_FILES",
    "analyse_and_write",
    "analyse_route",
    "check_out_dir",
    "check_reachable",
    "check_stops",
    "check_target",
    "check_unit",
    "data_sources",
    "network_for_stops",
    "people_figures",
    "plan_and_write",
    "plan_on_network",
    "route_summary",
    "write_route_outputs",
]

log = logging.getLogger(__name__)

#: Every file :func:`write_route_outputs` can write, in the order it writes them.
ROUTE_FILES = ("route.html", "route.gpx", "route.geojson", "cues.csv", "summary.json")
#: Online, the OSM streets are downloaded this far around the stops (room for the route's detours).
ONLINE_MARGIN_M = 2000.0
#: An ``--osm`` file larger than this is loaded only around the stops (see :func:`routemap.network.bbox_for_route`): building
#: the whole graph of a country extract takes minutes, a city's file a second (and stays cached whole).
BBOX_LOAD_MIN_BYTES = 50_000_000
#: Metres per degree of latitude (the bbox pads below need no more precision than this).
M_PER_DEG_LAT = 111_320.0


# -- checks made before any work ------------------------------------------------------------------
def check_out_dir(out_dir: str | Path) -> Path:
    """Return ``out_dir`` as a Path; raise when it exists and is not a folder (checked before planning)."""
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise RoutemapError(f"--out {path} is a file, not a folder; give a folder name")
    return path


def check_target(target: str | float | None) -> str | float | None:
    """Return ``target`` unchanged; refuse a bare number below :data:`~routemap.settings.MIN_BARE_TARGET_M`.

    "1" is far likelier "1 km" or "1 mile" with the unit forgotten than a 1-metre route.
    """
    if target is None or isinstance(target, bool):
        return target
    text = str(target).strip()
    try:
        value = float(text)
    except ValueError:
        return target  # has a unit (or is not a number: parse_length says so)
    if 0 < value < settings.MIN_BARE_TARGET_M:
        raise TargetLengthError(
            f"target {text!r} has no unit; write e.g. '{text}km' or '{text}mi' "
            f"(a bare number is metres and must be at least {settings.MIN_BARE_TARGET_M:.0f})"
        )
    return target


def check_stops(stops: Sequence[Any], target: str | float | None) -> list[Any]:
    """Return the stops as a list; one stop needs a target (a loop), none is an error."""
    stops = list(stops)
    if not stops:
        raise StopError("no stops given; give a start and a target length (a loop), or two stops or more")
    if len(stops) == 1 and target is None:
        raise StopError("one stop makes a route only as a loop; give a target length, or a second stop")
    return stops


# -- the network ----------------------------------------------------------------------------------
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


def _pad_bbox(points: list[tuple[float, float]], pad_m: float) -> tuple[float, float, float, float]:
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    dlat = pad_m / M_PER_DEG_LAT
    dlon = dlat / max(0.1, abs(math.cos(math.radians((min(lats) + max(lats)) / 2))))
    return (min(lons) - dlon, min(lats) - dlat, max(lons) + dlon, max(lats) + dlat)


def network_for_stops(
    stops: Sequence[Any],
    osm: str | Path | None = None,
    *,
    offline: bool = True,
    network_type: str = "run",
    margin_m: float = ONLINE_MARGIN_M,
    target: str | float | None = None,
) -> nx.MultiDiGraph:
    """Return the street network to plan ``stops`` on: the one network choice of every command.

    With ``osm``, that source (any :func:`routemap.load_network` reads; a file over
    :data:`BBOX_LOAD_MIN_BYTES` only within :func:`routemap.network.bbox_for_route` of the stops). Without it, the embedded LA
    corridor when every coordinate stop lies in it; otherwise, online, the OSM streets around the stops
    (osmnx/Overpass, cached); offline, an :class:`~routemap.errors.OfflineError` naming the stop.
    """
    from routemap.network import load_network

    points = [p for p in map(_stop_latlon, stops) if p is not None]
    if osm is not None:
        bbox = None
        # a big extract is read only where a route of the target length through the stops can reach
        # (named stops cannot be placed before the network is read: then the whole file is loaded)
        if (
            target is not None
            and Path(osm).is_file()
            and Path(osm).stat().st_size > BBOX_LOAD_MIN_BYTES
            and points
            and len(points) == len(stops)
        ):
            from routemap.network import bbox_for_route
            from routemap.route import parse_length

            bbox = bbox_for_route(points, parse_length(target))
        return load_network(osm, bbox=bbox, network_type=network_type)
    G = load_network(data.embedded_corridor_tiles(), network_type=network_type)
    west, south, east, north = _graph_bbox(G)

    def inside(p: tuple[float, float]) -> bool:
        return south <= p[0] <= north and west <= p[1] <= east

    outside = [p for p in points if not inside(p)]
    if not outside:
        return G
    if offline:
        lat, lon = outside[0]
        raise OfflineError(
            f"stop {lat:.5f},{lon:.5f} lies outside the embedded LA corridor "
            f"(lon {west:.3f} to {east:.3f}, lat {south:.3f} to {north:.3f}); pass --osm FILE with an "
            f"extract that covers it, or --online"
        )
    import osmnx as ox

    ox.settings.requests_timeout = settings.REQUESTS_TIMEOUT_S
    check_reachable(ox.settings.overpass_url, "the Overpass API")
    bbox = _pad_bbox(points, margin_m)
    log.info("downloading the OSM streets in %s", bbox)
    return load_network(None, bbox=bbox, network_type=network_type)


def check_reachable(url: str, what: str) -> None:
    """Raise :class:`~routemap.errors.OfflineError` unless ``url``'s host accepts a connection within
    :data:`~routemap.settings.REQUESTS_TIMEOUT_S`.

    osmnx waits a minute before its first Overpass query when it cannot read the server's status; a
    machine without internet should hear so in seconds.
    """
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=settings.REQUESTS_TIMEOUT_S):
            pass
    except OSError as exc:
        raise OfflineError(
            f"cannot reach {what} at {parts.hostname} ({type(exc).__name__}); check the internet "
            "connection, or pass --osm FILE with local street data"
        ) from None


# -- planning -------------------------------------------------------------------------------------
def plan_on_network(
    G: nx.MultiDiGraph,
    stops: Sequence[Any],
    *,
    target: str | float | None = None,
    profile: str = "run",
    tolerance: float = settings.LENGTH_TOLERANCE,
    name: str | None = None,
    offline: bool = True,
    neighborhoods: Any = None,
    resolver: Callable[..., Any] | None = None,
    out_and_back: bool = False,
    objective: str = "cost",
    reach: str = "population",
    alternatives: int = 1,
) -> list[Any]:
    """Return the planned routes through ``stops`` on ``G``, best first (one unless ``alternatives`` > 1).

    Names the network does not hold go to ``resolver`` (default
    :func:`routemap.resolve.default_resolver` over ``neighborhoods``, online unless ``offline``). One stop
    and a target make a loop; ``out_and_back`` the same streets back. ``objective``/``reach`` as in
    :func:`routemap.plan_route`; ``alternatives`` > 1 plans them with :func:`routemap.plan_routes`.
    """
    from routemap.resolve import default_resolver
    from routemap.route import plan_route, plan_routes

    stops = check_stops(stops, target)
    if alternatives < 1:
        raise RoutemapError(f"alternatives must be 1 or more, not {alternatives}")
    options: dict[str, Any] = {
        "target_length": check_target(target),
        "profile": profile,
        "tolerance": tolerance,
        "name": name,
        "online": not offline,
        "neighborhoods": neighborhoods,
        "resolver": resolver or default_resolver(neighborhoods=neighborhoods, online=not offline),
        "out_and_back": out_and_back,
        "objective": objective,
        "reach": reach,
    }
    if alternatives == 1:
        return [plan_route(G, stops, **options)]
    target_length = options.pop("target_length")
    return list(plan_routes(G, stops, target_length, k=alternatives, **options))


# -- demographics ---------------------------------------------------------------------------------
def analyse_route(route: Any, *, neighborhoods: Any = None, tracts: Any = None) -> tuple[Any, Any]:
    """Return ``(demographics, layer)``: the route's :class:`~routemap.demographics.RouteDemographics`
    and the neighborhood layer with its figures (None when no neighborhood reaches the route).

    Where no layer covers the route, the demographics say so in ``notes`` and their people figures are
    unknown (NaN), never zero.
    """
    from routemap.demographics import neighborhood_demographics, route_demographics

    layer = neighborhood_demographics(neighborhoods, tracts)
    demo = route_demographics(route, layer=layer, tracts=tracts)
    return demo, (layer if demo.neighborhoods_covered else None)


# -- the files ----------------------------------------------------------------------------------
def write_route_outputs(
    route: Any,
    out_dir: str | Path,
    *,
    demographics: Any | None = None,
    neighborhoods: Any | None = None,
    offline: bool = False,
    title: str | None = None,
    readme: str | None = None,
    unit: str = settings.DEFAULT_UNIT,
    summary: dict[str, Any] | None = None,
    attribution: Sequence[str] | None = None,
    files: Sequence[str] = ROUTE_FILES,
) -> dict[str, Path]:
    """Write ``route.html``, ``route.gpx``, ``route.geojson``, ``cues.csv`` and ``summary.json`` to ``out_dir``.

    Everything is built in a temporary folder beside ``out_dir`` and moved in at the end: a failure
    leaves ``out_dir`` as it was. ``neighborhoods`` is the map's layer (None: none drawn), ``offline``
    inlines the map's assets, ``unit`` sets the distance markers, ``summary`` (default
    :func:`route_summary`) and ``attribution`` (default: OpenStreetMap and the layers that cover the
    route) what the files credit; ``files`` picks a subset of :data:`ROUTE_FILES`. Returns the written
    paths by file name.
    """
    from routemap.export import write_cue_sheet, write_geojson, write_gpx
    from routemap.render import render_map, save_map

    check_unit(unit)
    out_dir = check_out_dir(out_dir)
    if summary is None:
        summary = route_summary(route, demographics, unit=unit)
    if attribution is None:
        attribution = map_attribution(demographics)
    with atomic_dir(out_dir) as tmp:
        if "route.html" in files:
            m = render_map(
                route,
                neighborhoods=neighborhoods,
                title=title or route.name,
                offline=offline,
                unit=unit,
                demographics=demographics,  # the summary panel's figures
                attribution=list(attribution),
            )
            save_map(m, tmp / "route.html")
        credit = file_attribution(summary["sources"])
        if "route.gpx" in files:
            write_gpx(route, tmp / "route.gpx", unit=unit, attribution=credit)
        if "route.geojson" in files:
            write_geojson(route, tmp / "route.geojson", unit=unit, attribution=credit)
        if "cues.csv" in files:
            write_cue_sheet(route, tmp / "cues.csv")
        if "summary.json" in files:
            with atomic_write(tmp / "summary.json") as fh:
                json.dump(summary, fh, indent=2)
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
    unit: str = settings.DEFAULT_UNIT,
    neighborhoods: Any = None,
    tracts: Any = None,
    objective: str | None = None,
) -> tuple[Any, dict[str, Path]]:
    """Join the demographics to a planned route and write its files; return ``(demographics, paths)``.

    ``neighborhoods``/``tracts`` are the layers (default the embedded LA ones); only those that cover the
    route are drawn and credited. ``readme(route, demographics)``, when given, makes a ``README.md``.
    """
    demo, layer = analyse_route(route, neighborhoods=neighborhoods, tracts=tracts)
    sources = data_sources(route, demo, neighborhoods=neighborhoods, tracts=tracts)
    paths = write_route_outputs(
        route,
        out_dir,
        demographics=demo,
        neighborhoods=layer,
        offline=html_offline,
        title=title,
        readme=None if readme is None else readme(route, demo),
        unit=unit,
        summary=route_summary(route, demo, unit=unit, objective=objective, sources=sources),
        attribution=map_attribution(demo, neighborhoods=neighborhoods, tracts=tracts),
    )
    return demo, paths


def plan_and_write(
    stops: Sequence[Any],
    out_dir: str | Path,
    *,
    target: str | float | None = None,
    profile: str = "run",
    tolerance: float = settings.LENGTH_TOLERANCE,
    osm: str | Path | None = None,
    offline: bool = True,
    name: str | None = None,
    title: str | None = None,
    html_offline: bool = False,
    unit: str = settings.DEFAULT_UNIT,
    out_and_back: bool = False,
    objective: str = "cost",
    reach: str = "population",
    alternatives: int = 1,
    neighborhoods: Any = None,
    tracts: Any = None,
    resolver: Callable[..., Any] | None = None,
    stop_names: Sequence[str] | None = None,
    readme: Callable[[Any, Any], str] | None = None,
) -> tuple[Any, Any, dict[str, Path]]:
    """Plan a route through ``stops`` and write its files; return ``(route, demographics, paths)``.

    The network comes from :func:`network_for_stops` (``osm``, else the embedded corridor, else online
    unless ``offline``); planning options as :func:`plan_on_network`; ``html_offline`` makes the map
    self-contained. With ``alternatives`` K > 1 the best route's files go to ``out_dir`` and the others
    to ``out_dir/alt-2`` ... ``alt-K``, with ``alternatives.csv`` (:func:`routemap.compare_routes`).
    ``stop_names`` renames the planned stops. Nothing is written when anything fails: ``out_dir`` is
    checked before planning and filled at the end.
    """
    out_dir = check_out_dir(out_dir)
    check_unit(unit)
    stops = check_stops(stops, target)
    check_target(target)
    G = network_for_stops(stops, osm, offline=offline, target=target)
    routes = plan_on_network(
        G,
        stops,
        target=target,
        profile=profile,
        tolerance=tolerance,
        name=name,
        offline=offline,
        neighborhoods=neighborhoods,
        resolver=resolver,
        out_and_back=out_and_back,
        objective=objective,
        reach=reach,
        alternatives=alternatives,
    )
    if stop_names is not None:
        for route in routes:
            for stop, stop_name in zip(route.stops, stop_names, strict=False):
                stop.name = stop_name
    options = {
        "html_offline": html_offline,
        "title": title,
        "unit": unit,
        "neighborhoods": neighborhoods,
        "tracts": tracts,
        "objective": objective,
    }
    with atomic_dir(out_dir) as tmp:
        demo, written = analyse_and_write(routes[0], tmp, readme=readme, **options)
        for i, alt in enumerate(routes[1:], start=2):
            analyse_and_write(alt, tmp / f"alt-{i}", **options)
        if len(routes) > 1:
            from routemap.compare import compare_routes
            from routemap.demographics import neighborhood_demographics

            layer = neighborhood_demographics(neighborhoods, tracts)
            table = compare_routes(routes, layer=layer, tracts=tracts)
            with atomic_write(tmp / "alternatives.csv", newline="") as fh:
                table.to_csv(fh, index=False)
    paths = {name: out_dir / name for name in written}
    return routes[0], demo, paths
