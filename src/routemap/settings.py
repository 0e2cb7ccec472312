"""Settings in one place: where data and caches live, and the defaults of the pipeline.

Environment variables:

- ``ROUTEMAP_DATA_DIR``: the embedded data folder (default: ``data/`` of the source checkout, or the
  copy inside the installed package).
- ``ROUTEMAP_SHARED_DIR``: the LA originals (default: ``../shared`` beside the checkout).
- ``ROUTEMAP_CACHE_DIR``: the cache (default: the platform's user cache folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

PACKAGE_DIR = Path(__file__).resolve().parent
#: The source checkout's root when running from it (``src/routemap`` -> repo), else None.
REPO_ROOT: Path | None = (
    PACKAGE_DIR.parents[1] if (PACKAGE_DIR.parents[1] / "pyproject.toml").exists() else None
)

METERS_PER_MILE = 1609.344
#: Metres per reporting unit: every table, marker and file that shows a distance uses one of these.
UNIT_M = {"mi": METERS_PER_MILE, "km": 1000.0}
#: The unit distances are shown in unless the user asks for another (the reference case is a US run).
DEFAULT_UNIT = "mi"
#: What a distance marker is called in GPX/GeoJSON waypoint names, per unit ("Mile 1", "Km 1").
UNIT_WORD = {"mi": "Mile", "km": "Km"}

#: A stop farther than this from any street is an error.
MAX_SNAP_DISTANCE_M = 500.0
#: Default buffer around a route for "people living near it".
ROUTE_BUFFER_M = 400.0
#: Default relative tolerance on a route's target length.
LENGTH_TOLERANCE = 0.01
#: Repeated (doubled-back) length allowed, as a share of the route.
MAX_REPEATED_SHARE = 0.03
#: A bare target number (no unit) below this is refused: "--target 1" is far likelier a forgotten
#: unit than a 1-metre route, while 100 and above read plainly as metres.
MIN_BARE_TARGET_M = 100.0
#: Seconds osmnx waits for Nominatim/Overpass: a dead connection fails in seconds, not minutes
#: (osmnx's own default is 180 s).
REQUESTS_TIMEOUT_S = 5.0

#: Credits of every data source routemap can use, by role; a file credits only the ones it used.
ATTRIBUTION = {
    "osm": "(c) OpenStreetMap contributors, ODbL 1.0",
    "tiles": "(c) OpenMapTiles (c) OpenStreetMap contributors",
    "neighborhoods": "Los Angeles Times, Mapping L.A. (v5, 2010)",
    "census": "U.S. Census Bureau, ACS 2013-2017 5-year; CDC/ATSDR SVI 2018",
}
#: The same credits as a web map shows them (trusted HTML, short).
MAP_ATTRIBUTION = {
    "osm": "Streets &copy; OpenStreetMap contributors (ODbL)",
    "neighborhoods": "Neighborhoods: Los Angeles Times, Mapping L.A.",
    "census": "Demographics: U.S. Census Bureau (ACS)",
}
#: What summary.json, the table and the map say when no census layer reaches the route.
NO_CENSUS_NOTE = "no census layer covers this route"
#: What they say when no neighborhood polygon reaches the route.
NO_NEIGHBORHOODS_NOTE = "no neighborhood layer covers this route"


def data_dir() -> Path:
    """Return the folder of the embedded data (``osm/``, ``neighborhoods/``, ``census/``)."""
    env = os.environ.get("ROUTEMAP_DATA_DIR")
    if env:
        return Path(env)
    installed = PACKAGE_DIR / "_data"
    if installed.is_dir():
        return installed
    if REPO_ROOT is not None:
        return REPO_ROOT / "data"
    return installed


def shared_dir() -> Path:
    """Return the folder holding the shared LA originals (``data/la/...``, ``schemas/``)."""
    env = os.environ.get("ROUTEMAP_SHARED_DIR")
    if env:
        return Path(env)
    base = REPO_ROOT if REPO_ROOT is not None else Path.cwd()
    return base.parent / "shared"


def shared_la_dir() -> Path:
    """Return ``<shared>/data/la``, the LA originals."""
    return shared_dir() / "data" / "la"


def cache_dir() -> Path:
    """Return (and create) routemap's cache folder."""
    env = os.environ.get("ROUTEMAP_CACHE_DIR")
    path = Path(env) if env else Path(platformdirs.user_cache_dir("routemap"))
    path.mkdir(parents=True, exist_ok=True)
    return path
