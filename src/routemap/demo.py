"""The Run Against ICE demo: 15 miles from Koreatown through immigrant neighborhoods to the MDC.

Start: Liberty Park in Koreatown (34.0617, -118.3040). Through MacArthur Park (Westlake) and Chinatown (Central Plaza).
Finish: the Metropolitan Detention Center, 535 N Alameda St, found by name in the OpenStreetMap data (the
corridor tiles' points of interest). Planned offline on the embedded corridor network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from routemap import settings
from routemap.settings import METERS_PER_MILE

#: The demo's stops, in order (each resolves offline on the embedded data).
DEMO_STOPS: list[Any] = [
    (34.0617, -118.3040),  # Liberty Park, Koreatown
    "MacArthur Park",
    "Chinatown Central Plaza",
    "Metropolitan Detention Center",
]
DEMO_STOP_NAMES = [
    "Start: Liberty Park, Koreatown",
    "MacArthur Park (Westlake)",
    "Chinatown Central Plaza",
    "Finish: Metropolitan Detention Center, 535 N Alameda St",
]
DEMO_TARGET = "15mi"
DEMO_TITLE = "Run Against ICE: 15 miles, Koreatown to the Metropolitan Detention Center"


def demo_readme(route: Any, demographics: Any) -> str:
    """Return the README.md written beside the demo's files."""
    lines = [
        f"# {DEMO_TITLE}",
        "",
        f"A {route.length_mi:.2f}-mile ({route.length_km:.2f} km) route planned by routemap with the "
        f"`{route.profile}` profile, {route.repeated_length_m:.0f} m of it run twice.",
        "",
        "| file | what |",
        "|---|---|",
        "| `route.html` | the interactive map: open it in a browser |",
        "| `route.gpx` | the route for a watch or phone (GPX 1.1 track, stops and mile markers) |",
        "| `route.geojson` | the route, stops and mile markers for GIS tools |",
        "| `cues.csv` | turn-by-turn cue sheet |",
        "| `summary.json` | length, stops (mile), neighborhoods (miles), people near the route, sources |",
        "",
        "## Stops",
        "",
    ]
    for s in route.stops:
        mile = "" if s.position_m is None else f" (mile {s.position_m / METERS_PER_MILE:.1f})"
        lines.append(f"- {s.name}{mile}")
    lines += ["", "## Neighborhoods, in order", ""]
    if demographics.neighborhoods_covered:
        for _, r in demographics.neighborhoods.iterrows():
            lines.append(f"- {r['name']}: {float(r['miles']):.2f} mi")
    lines += [f"- {note}" for note in demographics.notes]
    credits = ["(c) OpenStreetMap contributors (ODbL)"]
    if demographics.neighborhoods_covered:
        credits.append(f"neighborhoods: {settings.ATTRIBUTION['neighborhoods']}")
    if demographics.census_covered:
        credits.append(f"people: {settings.ATTRIBUTION['census']}")
    lines += ["", f"Data: {'; '.join(credits)}.", ""]
    return "\n".join(lines)


def run_demo(
    out_dir: str | Path,
    *,
    online: bool = False,
    osm: str | Path | None = None,
    html_offline: bool = True,
    unit: str = settings.DEFAULT_UNIT,
) -> tuple[Any, Any, dict[str, Path]]:
    """Plan the Run Against ICE route and write its files to ``out_dir``; return (route, demographics, paths).

    Through :func:`routemap.pipeline.plan_and_write` like every command: offline (default) on the embedded
    corridor network, ``osm`` on another OSM source; ``online`` allows downloads and geocoding. The
    route maximises the foreign-born residents within 400 m (``objective="reach"``).
    """
    from routemap.pipeline import plan_and_write

    return plan_and_write(
        DEMO_STOPS,
        out_dir,
        target=DEMO_TARGET,
        profile="run",
        osm=osm,
        offline=not online,
        name="Run Against ICE",
        title=DEMO_TITLE,
        html_offline=html_offline,
        unit=unit,
        objective="reach",
        reach="foreign_born",
        stop_names=DEMO_STOP_NAMES,
        readme=demo_readme,
    )
