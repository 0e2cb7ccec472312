"""Where routemap's datasets live: the embedded copies under ``data/`` and the shared originals."""

from __future__ import annotations

from pathlib import Path

from routemap import settings


def embedded_osm_pbf() -> Path:
    """Return the embedded LA street data (five Overpass files merged), an ``.osm.pbf``."""
    return settings.data_dir() / "osm" / "la_central.osm.pbf"


def embedded_corridor_tiles() -> Path:
    """Return the embedded Run Against ICE corridor: street layers of the z14 vector tiles, MBTiles."""
    return settings.data_dir() / "corridor" / "la_corridor_z14.mbtiles"


def embedded_neighborhoods() -> Path:
    """Return the embedded LA Times Mapping L.A. neighborhood polygons."""
    return settings.data_dir() / "neighborhoods" / "la_times_neighborhoods.geojson"


def embedded_tracts() -> Path:
    """Return the embedded LA County census tract table with polygons."""
    return settings.data_dir() / "census" / "la_county_tracts.geojson"
