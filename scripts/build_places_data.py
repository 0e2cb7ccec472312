"""Build data/corridor/places.csv: named points from the corridor's OpenMapTiles vector tiles.

Reads the ``poi`` and ``place`` layers of every tile in ``../shared/data/la/osm/tiles/`` (GDAL's MVT driver
through pyogrio), keeps the features with a name, removes the copies a point has in neighbouring tiles'
buffers, and writes name, layer, class, subclass, lat, lon (6 decimals). (c) OpenStreetMap contributors, ODbL.

Usage: python scripts/build_places_data.py [TILES_DIR] [OUT_CSV]
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pandas as pd
import pyogrio

from routemap import settings
from routemap._files import atomic_write


def read_places(tiles_dir: Path) -> pd.DataFrame:
    """Return the named poi/place points of every tile below ``tiles_dir`` (EPSG:4326), deduplicated."""
    frames = []
    for path in sorted(tiles_dir.rglob("*.pbf")):
        layers = {name for name, _ in pyogrio.list_layers(path)}
        for layer in ("poi", "place"):
            if layer not in layers:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                df = pyogrio.read_dataframe(path, layer=layer)
            if df.empty or "name:latin" not in df:
                continue
            df = df[df["name:latin"].notna()].to_crs(4326)
            pts = df.geometry.representative_point()
            frames.append(
                pd.DataFrame(
                    {
                        "name": df["name:latin"].astype(str),
                        "layer": layer,
                        "class": df.get("class"),
                        "subclass": df.get("subclass"),
                        "lat": pts.y.round(6),
                        "lon": pts.x.round(6),
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True)
    # A point in a tile's buffer appears in the neighbouring tile too: same name, same place (~1 m).
    out["_k"] = out["lat"].round(4).astype(str) + "," + out["lon"].round(4).astype(str)
    out = out.drop_duplicates(["name", "layer", "_k"]).drop(columns="_k")
    return out.sort_values(["name", "lat", "lon"]).reset_index(drop=True)


def main(argv: list[str]) -> int:
    tiles = Path(argv[0]) if argv else settings.shared_la_dir() / "osm" / "tiles" / "14"
    out = Path(argv[1]) if len(argv) > 1 else settings.data_dir() / "corridor" / "places.csv"
    if not tiles.is_dir():
        print(f"error: tile folder {tiles} not found (it is in ../shared/data/la/osm/tiles/14)")
        return 1
    df = read_places(tiles)
    with atomic_write(out, "w", newline="") as fh:
        df.to_csv(fh, index=False)
    print(f"{out}: {len(df)} named places")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
