"""Build routemap's embedded demographics layers from the published originals.

Writes (atomically) into the data folder (``routemap.settings.data_dir()``, i.e. ``data/``):

- ``neighborhoods/la_times_neighborhoods.geojson``: the LA Times "Mapping L.A." v5 county layer,
  272 polygons, ``name``, ``slug``, ``type``, simplified as a coverage in UTM (``--tolerance-m``),
  coordinates rounded to 1e-6 degrees;
- ``census/la_county_tracts.geojson``: LA County tracts (2010 GEOIDs) with ACS 2013-17 counts and the
  SVI 2018 limited-English count, on the SVI polygons simplified the same way.

The originals come from the shared folder (``settings.shared_la_dir()``) when present, else are
downloaded with ``routemap.data.fetch`` (set ``ROUTEMAP_DATA_URL`` to a mirror). Usage::

    python scripts/build_demographics_data.py [--tolerance-m 5] [--out data]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import shapely.geometry

from routemap import data, settings
from routemap._files import atomic_write
from routemap.demographics.layers import read_polygons
from routemap.demographics.sources import NEIGHBORHOOD_FIELDS, la_tracts_from_sources, simplify_coverage


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Write ``gdf`` (EPSG:4326) as compact GeoJSON, coordinates rounded to 6 decimals, atomically."""
    geoms = shapely.transform(gdf.geometry.values, lambda xy: np.round(xy, 6))
    props = gdf.drop(columns=gdf.geometry.name).astype(object).where(gdf.notna(), None)
    features = [
        {"type": "Feature", "properties": row, "geometry": shapely.geometry.mapping(geom)}
        for row, geom in zip(props.to_dict("records"), geoms)
    ]
    with atomic_write(path, encoding="utf-8") as fh:
        json.dump({"type": "FeatureCollection", "features": features}, fh, separators=(",", ":"))
        fh.write("\n")


def build(out: Path, tolerance_m: float) -> dict[str, Path]:
    """Build both layers into ``out``; return the originals used, by dataset name."""
    used = {
        name: data.original(name)
        for name in ("la_times_neighborhoods", "acs_2013_2017_tracts", "svi_2018_tracts")
    }
    for name, path in used.items():
        if sha256(path) != data.DATASETS[name].sha256:
            raise SystemExit(
                f"{path} does not match the recorded sha256 of {name}; refusing to build from it."
            )

    hoods = read_polygons(used["la_times_neighborhoods"], "neighborhood")[[*NEIGHBORHOOD_FIELDS, "geometry"]]
    hoods = simplify_coverage(hoods, tolerance_m)
    assert len(hoods) == 272 and hoods.is_valid.all(), "expected 272 valid neighborhoods"
    write_geojson(hoods, out / "neighborhoods" / "la_times_neighborhoods.geojson")

    tracts = la_tracts_from_sources(used["acs_2013_2017_tracts"], used["svi_2018_tracts"])
    tracts = simplify_coverage(tracts, tolerance_m)
    counts = ["population", "foreign_born", "hispanic", "asian", "limited_english"]
    tracts[counts] = tracts[counts].round().astype("Int64")
    tracts["median_household_income"] = tracts["median_household_income"].round().astype("Int64")
    assert tracts.is_valid.all()
    write_geojson(tracts, out / "census" / "la_county_tracts.geojson")
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=settings.data_dir(), help="data folder to write into")
    parser.add_argument("--tolerance-m", type=float, default=5.0, help="simplification tolerance (metres)")
    args = parser.parse_args()
    used = build(args.out, args.tolerance_m)
    for name, path in used.items():
        print(f"{name}: {path} sha256 {data.DATASETS[name].sha256}")
    for sub in ("neighborhoods/la_times_neighborhoods.geojson", "census/la_county_tracts.geojson"):
        target = args.out / sub
        print(f"wrote {target} ({target.stat().st_size / 1e6:.2f} MB) sha256 {sha256(target)}")


if __name__ == "__main__":
    main()
