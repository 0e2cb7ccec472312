"""The local UTM zone of some geometries, without a CRS database query per call.

geopandas' ``estimate_utm_crs`` asks pyproj's database for the zone holding the centre of the bounds:
about 0.13 s per call here, and a route's pipeline asks it several times (cues, doubling back,
demographics, map layers). :func:`utm_crs` gives the same zone by arithmetic, asks the database only in
the zone exceptions (south-west Norway, Svalbard) and keeps the CRS objects it made.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pyproj


def _exceptional(lon: float, lat: float) -> bool:
    """Return True in the areas where UTM zones are not 6 degrees wide (Norway 32V, Svalbard 31X-37X)."""
    return (56.0 <= lat < 64.0 and 3.0 <= lon < 12.0) or (72.0 <= lat <= 84.0 and 0.0 <= lon < 42.0)


@cache
def _crs(epsg: int) -> pyproj.CRS:
    return pyproj.CRS.from_epsg(epsg)


def utm_crs(geoms: Any) -> pyproj.CRS:
    """Return the UTM zone (WGS 84) of the centre of ``geoms``' bounds, as ``estimate_utm_crs`` does.

    Parameters
    ----------
    geoms : GeoSeries or GeoDataFrame
        In EPSG:4326 (or any geographic CRS in degrees).
    """
    west, south, east, north = geoms.total_bounds
    lon, lat = (west + east) / 2, (south + north) / 2
    if _exceptional(lon, lat):
        return geoms.estimate_utm_crs()
    zone = min(60, max(1, int((lon + 180) // 6) + 1))
    return _crs((32600 if lat >= 0 else 32700) + zone)
