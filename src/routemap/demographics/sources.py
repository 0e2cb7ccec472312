"""Build routemap's compact LA layers from the published originals (used by ``scripts/build_demographics_data.py``).

The originals are described in ``data/la/SOURCES.md`` of the shared folder and in
``data/census/README.md``; :mod:`routemap.data` downloads them.
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from routemap._crs import utm_crs
from routemap.demographics.layers import load_tracts, read_polygons

#: Attribute columns kept in the embedded neighborhood layer.
NEIGHBORHOOD_FIELDS = ("name", "slug", "type")


def la_tract_figures(acs: pd.DataFrame) -> pd.DataFrame:
    """Return tract counts from the ACS 2013-17 table (percent columns 0-100 turned into people).

    ``GEOID``, ``population`` (``total_pop``), ``foreign_born`` and ``hispanic`` (population x share,
    rounded), ``asian`` (``asian_nh_count``, non-Hispanic Asian), ``median_household_income``.
    A share missing for a tract with people leaves its count NaN (unknown), not zero.
    """
    pop = pd.to_numeric(acs["total_pop"], errors="coerce")

    def count(pct_column: str) -> pd.Series:
        people = (pop * pd.to_numeric(acs[pct_column], errors="coerce") / 100.0).round()
        return people.where(~(pop == 0), 0.0)

    return pd.DataFrame(
        {
            "GEOID": acs["GEOID10"].astype(str),
            "population": pop,
            "foreign_born": count("pct_foreign_born"),
            "hispanic": count("pct_hispanic"),
            "asian": pd.to_numeric(acs["asian_nh_count"], errors="coerce"),
            "median_household_income": pd.to_numeric(acs["med_household_income"], errors="coerce"),
        }
    )


def la_tracts_from_sources(acs_csv: str | os.PathLike, svi_geojson: str | os.PathLike) -> gpd.GeoDataFrame:
    """Return LA County tracts: ACS 2013-17 figures joined by GEOID to the CDC SVI 2018 polygons.

    ``limited_english`` is the SVI's ``E_LIMENG`` (people 5+ speaking English less than "well",
    ACS 2014-18); the SVI's ``-999`` missing marker becomes NaN. The 31 ACS tracts without an SVI
    polygon (water, or nearly empty) are left out.
    """
    acs = pd.read_csv(acs_csv, dtype={"GEOID10": str})
    svi = read_polygons(svi_geojson, "SVI tract")
    svi = svi.assign(limited_english=pd.to_numeric(svi["E_LIMENG"], errors="coerce"))
    svi.loc[svi["limited_english"] < 0, "limited_english"] = np.nan
    svi = svi[["FIPS", "limited_english", "geometry"]]
    tracts = load_tracts(svi, geoid_field="FIPS", table=la_tract_figures(acs), table_geoid_field="GEOID")
    return tracts.sort_values("GEOID").reset_index(drop=True)


def simplify_coverage(
    gdf: gpd.GeoDataFrame, tolerance_m: float, precision_deg: float = 1e-6
) -> gpd.GeoDataFrame:
    """Return ``gdf`` simplified as a coverage in UTM (shared edges stay shared), rounded, valid, EPSG:4326.

    ``shapely.coverage_simplify`` moves every shared edge once, so neighbors do not open gaps or
    overlaps the way polygon-by-polygon simplification does; coordinates are then snapped to a
    ``precision_deg`` grid and any polygon that snapping made invalid is repaired.
    """
    utm = gdf.to_crs(utm_crs(gdf))
    simple = shapely.coverage_simplify(utm.geometry.values, tolerance_m)
    out = gpd.GeoSeries(simple, crs=utm.crs).to_crs(4326)
    rounded = shapely.set_precision(out.values, precision_deg)
    bad = ~shapely.is_valid(rounded)
    if bad.any():
        rounded[bad] = shapely.make_valid(rounded[bad])
    result = gdf.copy()
    result[gdf.geometry.name] = gpd.GeoSeries(rounded, crs=4326, index=gdf.index)
    return result.set_crs(4326, allow_override=True)
