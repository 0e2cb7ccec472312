"""Build ``data/corridor/la_corridor_z14.mbtiles``: the street layers of the 48 shared z14 vector tiles.

Each tile keeps only its ``transportation`` and ``transportation_name`` layers, copied byte for byte: an MVT
tile is a protobuf ``Tile`` whose repeated field 3 is a ``Layer`` (field 1 of a ``Layer`` is its name), so
keeping the length-delimited field-3 entries of those two layers keeps them exactly, without re-encoding.
Rows are gzip-compressed and use the TMS row scheme (y flipped), as the MBTiles 1.3 spec asks.

Usage::

    python scripts/build_corridor_data.py [--tiles ../shared/data/la/osm/tiles] [--out data/corridor]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import sqlite3
from pathlib import Path

from routemap import data, settings
from routemap._files import atomic_path, atomic_write
from routemap.network.tiles_pbf import decompress, keep_layers

LAYERS = ("transportation", "transportation_name")
ZOOM = 14
SOURCE_REPO = "tokenless-tiles/socal"
SOURCE_COMMIT = "6be1ca5e379799cfd33d7e5b046a9e37960bda7f"
GENERATED = "2021-08-06"
ATTRIBUTION = "(c) OpenMapTiles (c) OpenStreetMap contributors"


def tile_bounds(z: int, xs: list[int], ys: list[int]) -> tuple[float, float, float, float]:
    """Return (west, south, east, north) in degrees of the XYZ tile ranges ``xs`` x ``ys``."""
    n = 2**z

    def lat(y: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))

    return (min(xs) / n * 360 - 180, lat(max(ys) + 1), (max(xs) + 1) / n * 360 - 180, lat(min(ys)))


def _vector_layers(tiles_dir: Path) -> list[dict]:
    import pyogrio

    layers = []
    for name in LAYERS:
        info = pyogrio.read_info(f"MVT:{tiles_dir / str(ZOOM)}", layer=name)
        fields = {
            f: ("Number" if t in ("OFTReal", "OFTInteger", "OFTInteger64") else "String")
            for f, t in zip(info["fields"], info["ogr_types"])
            if f != "mvt_id"
        }
        layers.append({"id": name, "fields": fields, "minzoom": ZOOM, "maxzoom": ZOOM})
    return layers


def build(tiles_dir: Path, out_dir: Path) -> Path:
    """Write the corridor MBTiles and its README into ``out_dir``; return the MBTiles path."""
    paths = sorted(tiles_dir.glob(f"{ZOOM}/*/*.pbf"), key=lambda p: (int(p.parent.name), int(p.stem)))
    if not paths:
        raise SystemExit(f"no {ZOOM}/x/y.pbf tiles under {tiles_dir}")
    manifest, rows, xs, ys = [], [], [], []
    for path in paths:
        raw = path.read_bytes()
        x, y = int(path.parent.name), int(path.stem)
        xs.append(x)
        ys.append(y)
        manifest.append((hashlib.sha256(raw).hexdigest(), path.relative_to(tiles_dir).as_posix()))
        body = gzip.compress(keep_layers(decompress(raw), LAYERS), compresslevel=9, mtime=0)
        rows.append((ZOOM, x, 2**ZOOM - 1 - y, body))
    west, south, east, north = tile_bounds(ZOOM, xs, ys)
    metadata = {
        "name": "Run Against ICE corridor streets (Los Angeles, z14)",
        "format": "pbf",
        "type": "overlay",
        "version": "1",
        "minzoom": str(ZOOM),
        "maxzoom": str(ZOOM),
        "bounds": f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}",
        "center": f"{(west + east) / 2:.6f},{(south + north) / 2:.6f},{ZOOM}",
        "attribution": ATTRIBUTION,
        "description": (
            f"transportation and transportation_name layers of {SOURCE_REPO}@{SOURCE_COMMIT[:12]} "
            f"tiles/, generated {GENERATED}; ODbL"
        ),
        "generated": GENERATED,
        "json": json.dumps({"vector_layers": _vector_layers(tiles_dir)}, sort_keys=True),
    }
    out = out_dir / data.embedded_corridor_tiles().name
    with atomic_path(out) as tmp:
        con = sqlite3.connect(tmp)
        try:
            con.executescript(
                "CREATE TABLE metadata (name text, value text);"
                "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer,"
                " tile_data blob);"
                "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);"
            )
            con.executemany("INSERT INTO metadata VALUES (?, ?)", sorted(metadata.items()))
            con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
            con.commit()
            con.execute("VACUUM")
        finally:
            con.close()
    _write_readme(out_dir / "README.md", out, manifest, metadata)
    return out


def _write_readme(path: Path, mbtiles: Path, manifest: list, metadata: dict) -> None:
    digest = hashlib.sha256(mbtiles.read_bytes()).hexdigest()
    lines = [
        "# Run Against ICE corridor: street layers of OpenMapTiles z14 vector tiles",
        "",
        "(c) OpenMapTiles (c) OpenStreetMap contributors. OpenStreetMap data is available under the Open",
        'Database License (ODbL 1.0); attribute "(c) OpenStreetMap contributors" wherever it is shown.',
        "",
        f"`{mbtiles.name}` (sha256 `{digest}`): MBTiles 1.3, vector (`format=pbf`), zoom 14 only,",
        f"{len(manifest)} tiles, bounds {metadata['bounds']} (lon/lat: Koreatown to Boyle Heights,",
        "Historic South-Central to Silver Lake). Rows use the TMS scheme (row = 2^14 - 1 - y) and are gzip-",
        "compressed. Each tile holds only the `transportation` and `transportation_name` layers of the",
        "original tile, copied byte for byte (the other layers were dropped without re-encoding).",
        "",
        f"Source: the public repository `{SOURCE_REPO}`, commit `{SOURCE_COMMIT}`, folder `tiles/`:",
        "OpenMapTiles schema tiles made with tilemaker from the Geofabrik Southern California extract,",
        f"generated {GENERATED} (OSM data as of early August 2021). A shared copy of those originals lives",
        "in `../shared/data/la/osm/tiles/` (see its SOURCES.md).",
        "",
        "Rebuild (needs the originals):",
        "",
        "    python scripts/build_corridor_data.py --tiles ../shared/data/la/osm/tiles --out data/corridor",
        "",
        "sha256 of the original tiles (`tiles/{z}/{x}/{y}.pbf`, XYZ scheme):",
        "",
    ]
    lines += [f"    {sha}  {rel}" for sha, rel in manifest]
    with atomic_write(path) as fh:
        fh.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=Path, default=settings.shared_la_dir() / "osm" / "tiles")
    parser.add_argument("--out", type=Path, default=data.embedded_corridor_tiles().parent)
    args = parser.parse_args()
    out = build(args.tiles, args.out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
