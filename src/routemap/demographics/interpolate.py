"""Areal interpolation of tract figures onto other polygons (neighborhoods, a route's buffer).

Counts are extensive: a tract's people are spread evenly over its area, and a target polygon gets
each tract's count times the share of the tract's area it covers (tobler's ``area_interpolate`` with
``allocate_total=False``, so people of a tract's part outside every target are not pushed inside).
Shares are recomputed from the interpolated counts (never averaged), and the median household
income is the population-weighted mean of the tract medians (an approximation: medians do not add).

The neighborhood figures depend only on the two layers, so :func:`neighborhood_demographics` keeps
them in the cache folder keyed by a checksum of what it reads (:func:`figures_key`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from importlib.metadata import version as _version
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from routemap import settings
from routemap._crs import utm_crs
from routemap._files import atomic_write
from routemap.demographics.layers import COUNT_FIELDS, TRACT_FIELDS, load_neighborhoods, load_tracts
from routemap.errors import DemographicsError

log = logging.getLogger(__name__)

#: Shares derived from counts: ``pct_<count>`` = 100 x count / population (0-100).
SHARE_FIELDS = tuple(f"pct_{name}" for name in COUNT_FIELDS if name != "population")
#: Columns of the figures, in order.
FIGURE_FIELDS = (
    "population",
    "foreign_born",
    "pct_foreign_born",
    "hispanic",
    "pct_hispanic",
    "asian",
    "pct_asian",
    "limited_english",
    "pct_limited_english",
    "median_household_income",
)
#: Bump when the same layers would give other neighborhood figures (the interpolation, the fields):
#: entries of the figure cache written before are then no longer found.
FIGURES_VERSION = 1
#: Columns of a figure-cache entry, in order.
_CACHED_COLUMNS = [*FIGURE_FIELDS, "area_km2"]
#: Counters of this process's use of the neighborhood-figure cache (tests read them).
STATS = {"hits": 0, "misses": 0, "writes": 0}


def interpolate_figures(
    tracts: gpd.GeoDataFrame, targets: gpd.GeoDataFrame | gpd.GeoSeries, crs=None
) -> pd.DataFrame:
    """Return the tract figures interpolated onto each target polygon, one row per target (same index).

    Parameters
    ----------
    tracts
        As :func:`routemap.demographics.load_tracts` returns: the count columns, ``population`` and
        ``median_household_income``, polygons with a CRS.
    targets
        Polygons with a CRS.
    crs
        The projected CRS the areas are measured in; default the targets' UTM zone.

    Returns
    -------
    pandas.DataFrame
        :data:`FIGURE_FIELDS`. A count missing (NaN) for some tracts is summed over the tracts where
        it is known and its share divided by those tracts' population; a count missing everywhere
        stays NaN. Shares are NaN where no one lives.
    """
    from tobler.area_weighted import area_interpolate  # tobler takes over a second to import

    if tracts.crs is None or targets.crs is None:
        raise DemographicsError("Tracts and targets both need a CRS to be interpolated; set one.")
    target_gs = targets.geometry if isinstance(targets, gpd.GeoDataFrame) else targets
    crs = crs if crs is not None else utm_crs(target_gs)
    source = tracts.to_crs(crs)
    pop = source["population"].to_numpy(dtype=float)
    pop = np.where(np.isnan(pop), 0.0, pop)

    columns: dict[str, np.ndarray] = {"population": pop}
    known_pop: dict[str, str] = {}
    missing: list[str] = []
    for name in COUNT_FIELDS[1:]:
        values = source[name].to_numpy(dtype=float) if name in source else np.full(len(source), np.nan)
        known = ~np.isnan(values)
        if not known.any():
            missing.append(name)
            continue
        # tobler's NaN check is overwritten by its inf check (tobler 0.13): zero the unknowns here
        columns[name] = np.where(known, values, 0.0)
        if not known.all():
            columns[f"_known_pop_{name}"] = np.where(known, pop, 0.0)
            known_pop[name] = f"_known_pop_{name}"
    income = source["median_household_income"].to_numpy(dtype=float)
    has_income = ~np.isnan(income) & (pop > 0)
    columns["_income_x_pop"] = np.where(has_income, income * pop, 0.0)
    columns["_pop_with_income"] = np.where(has_income, pop, 0.0)

    source_df = gpd.GeoDataFrame(columns, geometry=source.geometry.values, crs=crs)
    target_df = gpd.GeoDataFrame(geometry=target_gs.to_crs(crs).values, crs=crs)
    est = area_interpolate(source_df, target_df, extensive_variables=list(columns), allocate_total=False)

    out = pd.DataFrame(index=target_gs.index)
    population = est["population"].to_numpy()
    out["population"] = population
    with np.errstate(invalid="ignore", divide="ignore"):
        for name in COUNT_FIELDS[1:]:
            if name in missing:
                out[name] = np.nan
                out[f"pct_{name}"] = np.nan
                continue
            count = est[name].to_numpy()
            denom = est[known_pop[name]].to_numpy() if name in known_pop else population
            out[name] = count
            out[f"pct_{name}"] = np.where(denom > 0, 100.0 * count / denom, np.nan)
        weight = est["_pop_with_income"].to_numpy()
        out["median_household_income"] = np.where(
            weight > 0, est["_income_x_pop"].to_numpy() / weight, np.nan
        )
    return out[list(FIGURE_FIELDS)]


def neighborhood_demographics(
    neighborhoods: str | os.PathLike | gpd.GeoDataFrame | None = None,
    tracts: str | os.PathLike | gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Return one row per neighborhood with its people, interpolated from census tracts by area.

    Parameters
    ----------
    neighborhoods
        A neighborhood layer (path or GeoDataFrame, see :func:`load_neighborhoods`); default the
        embedded LA Times "Mapping L.A." neighborhoods.
    tracts
        A tract layer with figures (path or GeoDataFrame, see :func:`load_tracts`); default the
        embedded LA County ACS 2013-17 tracts.

    Returns
    -------
    geopandas.GeoDataFrame
        ``name``, :data:`FIGURE_FIELDS` (counts are people, ``pct_*`` are 0-100, income in dollars),
        ``area_km2``, geometry (EPSG:4326), in the layer's order.
    """
    hoods = load_neighborhoods(neighborhoods)
    if isinstance(tracts, gpd.GeoDataFrame) and {"GEOID", "population"} <= set(tracts.columns):
        tract_layer = tracts
    else:
        tract_layer = load_tracts(tracts)
    crs = utm_crs(hoods.geometry)
    table = _neighborhood_figures(tract_layer, hoods, crs)
    out = gpd.GeoDataFrame(
        {"name": hoods["name"], **{c: table[c] for c in FIGURE_FIELDS}},
        geometry=hoods.geometry,
        crs=hoods.crs,
    )
    out.insert(len(out.columns) - 1, "area_km2", table["area_km2"].to_numpy())
    return out


def _neighborhood_figures(tracts: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame, crs) -> pd.DataFrame:
    """Return :data:`FIGURE_FIELDS` and ``area_km2`` of each neighborhood (indexed like ``hoods``).

    Read from the cache folder when these layers were interpolated before (interpolating the county's
    tracts onto its neighborhoods takes most of a second), else computed and stored there.
    """
    key = figures_key(tracts, hoods, crs)
    table = _load_figures(key, hoods.index)
    if table is None:
        table = interpolate_figures(tracts, hoods, crs=crs)
        table = table.assign(area_km2=hoods.to_crs(crs).area.to_numpy() / 1e6)
        _store_figures(key, table)
    return table


def figures_key(tracts: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame, crs) -> str:
    """Return the checksum of everything the neighborhood figures are computed from.

    The polygons (WKB) and CRSs of both layers, the tract figure columns (absent ones too), the CRS
    areas are measured in, :data:`FIGURES_VERSION` and the versions of the libraries that compute
    the areas: a change to any of them gives another key, so a stale entry is never read.
    """
    h = hashlib.sha256()
    for part in (
        f"figures={FIGURES_VERSION}",
        f"shapely={shapely.__version__} geos={shapely.geos_version_string}",
        f"pyproj={pyproj.__version__} tobler={_version('tobler')}",
        f"crs={pyproj.CRS(crs).to_wkt()}",
        f"tracts={tracts.crs.to_wkt() if tracts.crs else None}",
        f"hoods={hoods.crs.to_wkt() if hoods.crs else None}",
    ):
        h.update(part.encode() + b"\0")
    for geoms in (tracts.geometry.values, hoods.geometry.values):
        wkb = shapely.to_wkb(np.asarray(geoms))
        h.update(np.array([len(w) for w in wkb], dtype=np.int64).tobytes())
        h.update(b"".join(wkb))
    for name in TRACT_FIELDS:
        if name not in tracts:
            h.update(f"{name}: absent\0".encode())
            continue
        h.update(f"{name}\0".encode())
        h.update(np.ascontiguousarray(tracts[name].to_numpy(dtype=float)).tobytes())
    return h.hexdigest()[:32]


def figures_cache_path(key: str) -> Path:
    """Return the cache file of the neighborhood figures with checksum ``key``."""
    return settings.cache_dir() / "demographics" / f"{key}.npz"


def _load_figures(key: str, index: pd.Index) -> pd.DataFrame | None:
    """Return the cached figures of ``key`` (a missing, unreadable or mismatched entry is a miss)."""
    try:
        with np.load(figures_cache_path(key), allow_pickle=False) as npz:
            names, values = npz["columns"].tolist(), npz["values"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        STATS["misses"] += 1
        return None
    if names != _CACHED_COLUMNS or values.shape != (len(index), len(_CACHED_COLUMNS)):
        STATS["misses"] += 1
        return None
    STATS["hits"] += 1
    return pd.DataFrame(values, columns=_CACHED_COLUMNS, index=index)


def _store_figures(key: str, table: pd.DataFrame) -> None:
    """Write the figures to the cache atomically; a cache that cannot be written only costs time."""
    try:
        with atomic_write(figures_cache_path(key), "wb") as fh:
            np.savez(
                fh, columns=np.array(_CACHED_COLUMNS), values=table[_CACHED_COLUMNS].to_numpy(dtype=float)
            )
    except OSError as exc:
        log.debug("neighborhood figures not cached: %s", exc)
        return
    STATS["writes"] += 1
