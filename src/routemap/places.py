"""Named places (points of interest, parks, neighbourhood labels) found in OpenStreetMap data.

The embedded gazetteer (``data/corridor/places.csv``) is extracted from the ``poi`` and ``place`` layers of
the corridor's OpenMapTiles vector tiles by ``scripts/build_places_data.py``; it lets a stop be written as
"MacArthur Park" or "Metropolitan Detention Center" offline.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from routemap import settings
from routemap.errors import UnknownPlaceError
from routemap.route.stops import normalize_name

__all__ = ["PLACES_COLUMNS", "Place", "embedded_places_path", "find_place", "load_places", "normalize_name"]

PLACES_COLUMNS = ["name", "layer", "class", "subclass", "lat", "lon"]


@dataclass(frozen=True)
class Place:
    """A named point from the data: its name, kind and position (EPSG:4326)."""

    name: str
    kind: str
    lat: float
    lon: float


def embedded_places_path() -> Path:
    """Return the embedded gazetteer's path."""
    return settings.data_dir() / "corridor" / "places.csv"


@lru_cache(maxsize=4)
def load_places(path: str | None = None) -> pd.DataFrame:
    """Return the gazetteer as a DataFrame (``name, layer, class, subclass, lat, lon``); empty if absent."""
    p = Path(path) if path else embedded_places_path()
    if not p.exists():
        return pd.DataFrame(columns=PLACES_COLUMNS)
    df = pd.read_csv(p, dtype={"name": str, "layer": str, "class": str, "subclass": str})
    df["key"] = df["name"].map(normalize_name)
    return df


def find_place(name: str, places: pd.DataFrame | None = None) -> Place:
    """Return the named place matching ``name`` (case and punctuation ignored).

    Several matches: the best-ranked kind wins (a park or prison over its parking lot; ties by position).

    Raises
    ------
    UnknownPlaceError
        When nothing matches; the message lists the closest known names.
    """
    df = load_places() if places is None else places
    key = normalize_name(name)
    hits = df[df["key"] == key] if len(df) else df
    if len(hits) == 0:
        known = sorted(set(df["name"])) if len(df) else []
        close = difflib.get_close_matches(str(name), known, n=5, cutoff=0.5)
        hint = f"; closest known: {', '.join(close)}" if close else ""
        raise UnknownPlaceError(f"no place named {name!r} in the data{hint}", close)
    hits = hits.assign(_rank=(hits["layer"] != "place").astype(int)).sort_values(["_rank", "lat", "lon"])
    row = hits.iloc[0]
    kind = row["subclass"] if isinstance(row["subclass"], str) else row["layer"]
    return Place(str(row["name"]), str(kind), float(row["lat"]), float(row["lon"]))
