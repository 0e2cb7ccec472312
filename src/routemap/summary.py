"""What a route's files say about it: ``summary.json``, and the credits of only the data it used.

:func:`route_summary` is the ``summary.json`` every command writes; :func:`data_sources`,
:func:`map_attribution` and :func:`file_attribution` credit the street network and each demographic layer
that actually covers the route (a Helsinki route credits OpenStreetMap only); :func:`people_figures`
rounds people counts, keeping "unknown" as None.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from routemap import __version__, data, settings
from routemap.settings import ATTRIBUTION, METERS_PER_MILE, UNIT_M


def check_unit(unit: str) -> str:
    """Return ``unit`` when it is one of :data:`~routemap.settings.UNIT_M`; raise otherwise."""
    from routemap.errors import RoutemapError

    if unit not in UNIT_M:
        raise RoutemapError(f"unit {unit!r} is not known; use one of {', '.join(UNIT_M)}")
    return unit


def _layer_path(given: Any, embedded: Path) -> str | None:
    if given is None:
        return str(embedded)
    return str(given) if isinstance(given, (str, Path)) else None  # an in-memory layer has no path


def data_sources(
    route: Any, demographics: Any | None = None, *, neighborhoods: Any = None, tracts: Any = None
) -> list[dict[str, Any]]:
    """Return the data a route's figures come from: its street network, and each demographic layer
    that covers it (none without ``demographics``)."""
    src = dict(route.graph.graph.get("routemap_source") or {})
    kind = src.get("kind", "unknown")
    sources = [
        {
            "role": "street network",
            "kind": kind,
            "paths": [str(p) for p in src.get("paths", [])] if src.get("paths") else None,
            "osm_timestamp": src.get("osm_timestamp"),
            "tiles_generated": src.get("generated"),
            "attribution": ATTRIBUTION["tiles"] if kind in ("tiles", "mbtiles") else ATTRIBUTION["osm"],
        }
    ]
    if demographics is None:
        return sources
    if demographics.neighborhoods_covered:
        path = _layer_path(neighborhoods, data.embedded_neighborhoods())
        credit = (
            ATTRIBUTION["neighborhoods"] if neighborhoods is None else f"neighborhoods: {path or 'given'}"
        )
        sources.append({"role": "neighborhoods", "path": path, "attribution": credit})
    if demographics.census_covered:
        path = _layer_path(tracts, data.embedded_tracts())
        credit = ATTRIBUTION["census"] if tracts is None else f"census tracts: {path or 'given'}"
        sources.append({"role": "census tracts", "path": path, "attribution": credit})
    return sources


def map_attribution(demographics: Any | None, *, neighborhoods: Any = None, tracts: Any = None) -> list[str]:
    """Return the map's credits: OpenStreetMap, and each demographic layer that covers the route."""
    credits = [settings.MAP_ATTRIBUTION["osm"]]
    if demographics is not None and demographics.neighborhoods_covered:
        credits.append(
            settings.MAP_ATTRIBUTION["neighborhoods"]
            if neighborhoods is None
            else "Neighborhoods: user layer"
        )
    if demographics is not None and demographics.census_covered:
        credits.append(
            settings.MAP_ATTRIBUTION["census"] if tracts is None else "Demographics: user census layer"
        )
    return credits


def file_attribution(sources: list[dict[str, Any]]) -> str:
    """Return one line crediting ``sources`` (as :func:`data_sources` gives them) for GPX and GeoJSON."""
    return " ".join(f"{s['role'].capitalize()}: {s['attribution']}." for s in sources)


def _turns(route: Any) -> int | None:
    turns = getattr(route, "turns", None)  # Route.turns arrives with the turn-cost work (issue 13)
    return None if turns is None else int(turns)


def route_summary(
    route: Any,
    demographics: Any | None = None,
    *,
    unit: str = settings.DEFAULT_UNIT,
    objective: str | None = None,
    sources: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return the JSON-ready summary of a route (the ``summary.json`` the CLI writes).

    Fields: ``name``, ``profile``, ``objective``, ``unit`` (the one the files' markers use), ``length_m``,
    ``length_mi``, ``length_km``, ``target_m``, ``target_mi``, ``target_km``, ``repeated_m``,
    ``repeated_pct``, ``doubled_back_m`` (run again alongside, e.g. back on the sidewalk), ``turns``,
    ``turns_per_mile``, ``stops`` (name, lat, lon, mile, km), ``neighborhoods`` (name, miles, km; [] when no
    layer covers the route), ``near_route`` (people within the buffer; null when no census layer covers
    it), ``notes`` (what is missing and why), ``sources`` (only those used), ``generator``.
    """
    check_unit(unit)
    summary: dict[str, Any] = route.to_dict()  # name, profile, lengths, target_m, repeated_m
    target = route.target_m
    turns = _turns(route)
    summary |= {
        "objective": objective or route.metadata.get("objective", "cost"),
        "unit": unit,
        "target_mi": None if target is None else round(target / METERS_PER_MILE, 3),
        "target_km": None if target is None else round(target / 1000.0, 3),
        "repeated_pct": round(100 * route.repeated_length_m / route.length_m, 2),
        "doubled_back_m": round(route.doubled_back_m, 1),
        "turns": turns,
        "turns_per_mile": None if turns is None else round(turns / route.length_mi, 2),
        "stops": [
            {
                "name": s.name,
                "lat": round(float(s.lat), 6),
                "lon": round(float(s.lon), 6),
                "mile": None if s.position_m is None else round(s.position_m / METERS_PER_MILE, 2),
                "km": None if s.position_m is None else round(s.position_m / 1000.0, 2),
            }
            for s in route.stops
        ],
        "neighborhoods": [],
        "near_route": None,
        "notes": [],
        "sources": sources if sources is not None else data_sources(route, demographics),
        "generator": f"routemap {__version__}",
    }
    if demographics is not None:
        summary["notes"] = list(demographics.notes)
        if demographics.neighborhoods_covered:
            summary["neighborhoods"] = [
                {
                    "name": str(r["name"]),
                    "miles": round(float(r["miles"]), 3),
                    "km": round(float(r["length_m"]) / 1000.0, 3),
                }
                for _, r in demographics.neighborhoods.iterrows()
            ]
        if demographics.census_covered:
            summary["near_route"] = people_figures(demographics.to_dict()["near_route"])
    return summary


def people_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """Return figures for people: counts as whole people and dollars, shares and areas to 2 decimals."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if value is None or isinstance(value, (str, bool)):
            out[key] = value
        elif isinstance(value, float) and math.isnan(value):
            out[key] = None
        elif key.startswith("pct_") or key.endswith(("_km2", "_m")):
            out[key] = round(float(value), 2)
        else:
            out[key] = int(round(float(value)))
    return out
