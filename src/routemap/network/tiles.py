"""Street networks from vector tiles: a ``{z}/{x}/{y}.pbf`` folder or an ``.mbtiles`` file.

OpenMapTiles-schema tiles (``transportation`` and ``transportation_name`` layers) are decoded by GDAL's MVT
and MBTiles drivers through pyogrio (in C, EPSG:3857, each feature clipped to its own tile), brought back to
global tile-pixel coordinates, and turned into nodes and OSM-style ways by
:func:`routemap.network.tiles_topology.street_ways`. :func:`load_tile_ways` is what ``load_network`` calls;
its output goes to the common builder :func:`routemap.network.build.graph_from_ways`.

What tiles cannot tell: OSM ids (edges get no ``osmid``), ``foot``/``access``/``sidewalk``/``area`` tags (the
generator already left out ``access=private|no`` ways), turn restrictions, and the exact OSM date (MBTiles
metadata may say when the tiles were generated). Coordinates are rounded to the tile grid (about 0.5 m at z14
in Los Angeles).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import sqlite3
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from routemap.errors import InputFileError
from routemap.network.tiles_pbf import TileFormatError, decompress, layer_names
from routemap.network.tiles_topology import mercator_to_pixels, street_ways

#: The zoom level read when a source holds several (OpenMapTiles' most detailed).
DEFAULT_ZOOM = 14
#: Pixels per tile edge of OpenMapTiles tiles (GDAL's MVT driver assumes it too).
EXTENT = 4096
STREET_LAYER = "transportation"
NAME_LAYER = "transportation_name"
_RASTER_FORMATS = ("png", "jpg", "jpeg", "webp")
_RASTER_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"RIFF")

Bbox = tuple[float, float, float, float]


def load_tile_ways(source: str | os.PathLike, bbox: Bbox | None = None):
    """Return ``(node_coords, ways, source_meta)`` of the streets in vector tiles.

    Parameters
    ----------
    source
        A folder laid out as ``{z}/{x}/{y}.pbf`` (XYZ scheme, tiles plain or gzip-compressed), or an
        ``.mbtiles`` file of vector tiles. OpenMapTiles schema: layers ``transportation`` and (for names)
        ``transportation_name``. Zoom 14 is read, or the highest zoom present when there is no 14.
    bbox
        ``(west, south, east, north)`` in degrees: only the tiles intersecting it are read.

    Returns
    -------
    node_coords : tuple of numpy.ndarray
        ``(ids, lons, lats)``: sequential node ids from 1 and their positions in degrees.
    ways : list
        ``(None, node_ids, tags)`` per street piece (tiles carry no OSM ids) with OSM-style tags
        (``highway``, ``name``, ``ref``, ``oneway``, ``bridge``, ``tunnel``, ``service``).
    source_meta : dict
        ``kind`` (``"tiles"`` or ``"mbtiles"``), ``paths``, ``sha256`` (a one-item list, like other
        sources: the file's hash, or for a folder the hash of the sorted ``sha256  z/x/y.pbf`` manifest
        of the tiles read), ``zoom``, ``tile_count``, ``bbox``, ``osm_timestamp``
        (from MBTiles metadata when present, else None) and ``generated`` (MBTiles metadata, or None).

    Raises
    ------
    InputFileError
        When the source is missing, holds no tiles (in ``bbox``), a tile is corrupt, the tiles are raster
        tiles, or no tile has a ``transportation`` layer.
    """
    source = Path(source)
    if not source.exists():
        raise InputFileError(
            f"vector tile source {source} does not exist; pass a z/x/y folder or an .mbtiles file"
        )
    reader = _FolderTiles(source, bbox) if source.is_dir() else _MBTiles(source, bbox)
    try:
        lines = reader.read_layer(STREET_LAYER)
        names = reader.read_layer(NAME_LAYER) if NAME_LAYER in reader.layers else None
    finally:
        reader.close()
    node_coords, ways = street_ways(lines, names, zoom=reader.zoom, extent=EXTENT)
    return node_coords, ways, reader.meta()


def tiles_for_bbox(bbox: Bbox, zoom: int) -> tuple[range, range]:
    """Return the XYZ tile column and row ranges at ``zoom`` covering ``(west, south, east, north)``."""
    west, south, east, north = bbox
    if not (west < east and south < north):
        raise InputFileError(f"bbox {tuple(bbox)} is empty; give it as (west, south, east, north) in degrees")
    n = 2**zoom

    def col(lon: float) -> int:
        return min(n - 1, max(0, math.floor((lon + 180.0) / 360.0 * n)))

    def row(lat: float) -> int:
        lat = max(-85.0511, min(85.0511, lat))
        y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return min(n - 1, max(0, math.floor(y)))

    return range(col(west), col(east) + 1), range(row(north), row(south) + 1)


def _check_tile(data: bytes, where: str) -> list[str]:
    """Return the layer names of one tile's bytes, or raise a one-line InputFileError naming it."""
    if data.startswith(_RASTER_MAGIC):
        raise InputFileError(f"{where} is a raster image, not a vector tile; pass OpenMapTiles vector tiles")
    try:
        return layer_names(decompress(data))
    except (TileFormatError, OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise InputFileError(
            f"{where} is not a readable vector tile ({exc}); replace or remove the corrupt tile"
        ) from None


class _TileSource:
    """What both readers share: the chosen tiles, their layers, GDAL reading and the metadata."""

    kind = ""
    path: Path
    zoom: int
    tiles: set[tuple[int, int]]
    layers: set[str]
    sha256: str
    bbox: Bbox | None
    metadata: dict[str, str]

    def _finish(self, contents: list[tuple[str, bytes]]) -> None:
        if not self.tiles:
            where = f" inside bbox {tuple(self.bbox)}" if self.bbox is not None else ""
            raise InputFileError(
                f"{self.path} holds no zoom-{self.zoom} vector tiles{where}; check the source and the bbox"
            )
        self.layers = set()
        for where, data in contents:
            self.layers.update(_check_tile(data, where))
        if STREET_LAYER not in self.layers:
            raise InputFileError(
                f"the tiles in {self.path} have no {STREET_LAYER!r} layer; pass OpenMapTiles-schema tiles"
            )

    def close(self) -> None:
        """Release temporary files (none by default)."""

    def _gdal_path(self) -> str:
        raise NotImplementedError

    def _tile_of_fid(self, fid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _open_options(self) -> dict[str, str]:
        return {}

    def read_layer(self, layer: str) -> pd.DataFrame:
        """Return the layer's features of the chosen tiles, geometry in global tile-pixel coordinates."""
        import pyogrio

        kwargs: dict[str, Any] = {}
        if self.bbox is not None:
            xs = [x for x, _ in self.tiles]
            ys = [y for _, y in self.tiles]
            kwargs["bbox"] = _mercator_bounds(min(xs), min(ys), max(xs), max(ys), self.zoom)
        try:
            meta, fids, wkb, values = pyogrio.raw.read(
                self._gdal_path(), layer=layer, return_fids=True, **self._open_options(), **kwargs
            )
        except Exception as exc:  # GDAL's errors have many classes; the message says enough
            raise InputFileError(f"cannot read layer {layer!r} of {self.path}: {exc}") from None
        frame = pd.DataFrame(dict(zip(meta["fields"], values)))
        geoms = shapely.from_wkb(wkb) if wkb is not None else np.empty(len(frame), dtype=object)
        if len(frame) and self.bbox is not None:
            tx, ty = self._tile_of_fid(np.asarray(fids, dtype=np.int64))
            wanted = [x * 2**self.zoom + y for x, y in self.tiles]
            keep = np.isin(tx * 2**self.zoom + ty, wanted)
            frame, geoms = frame[keep].reset_index(drop=True), geoms[keep]
        frame["geometry"] = shapely.transform(geoms, lambda xy: mercator_to_pixels(xy, self.zoom, EXTENT))
        return frame

    def meta(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "paths": [str(self.path)],
            "sha256": [self.sha256],
            "zoom": self.zoom,
            "tile_count": len(self.tiles),
            "bbox": list(self.bbox) if self.bbox is not None else None,
            "osm_timestamp": self.metadata.get("osm_timestamp"),
            "generated": self.metadata.get("generated"),
        }


class _FolderTiles(_TileSource):
    kind = "tiles"
    _PATTERN = re.compile(r"^(\d+)/(\d+)/(\d+)\.pbf$")

    def __init__(self, path: Path, bbox: Bbox | None):
        self.path, self.bbox, self.metadata = path, bbox, {}
        found = self._find(path)
        self.root = path
        if not found and path.name.isdigit():  # the zoom folder itself was given
            found = {z: f for z, f in self._find(path.parent).items() if z == int(path.name)}
            self.root = path.parent
        if not found:
            raise InputFileError(
                f"{path} holds no vector tiles laid out as {{z}}/{{x}}/{{y}}.pbf; pass such a folder or an .mbtiles file"
            )
        self.zoom = DEFAULT_ZOOM if DEFAULT_ZOOM in found else max(found)
        files = found[self.zoom]
        if bbox is not None:
            cols, rows = tiles_for_bbox(bbox, self.zoom)
            files = {k: f for k, f in files.items() if k[0] in cols and k[1] in rows}
        self.tiles = set(files)
        contents, manifest = [], hashlib.sha256()
        for key in sorted(files):
            data = files[key].read_bytes()
            rel = files[key].relative_to(self.root).as_posix()
            contents.append((str(files[key]), data))
            manifest.update(f"{hashlib.sha256(data).hexdigest()}  {rel}\n".encode())
        self.sha256 = manifest.hexdigest()
        self._finish(contents)

    @classmethod
    def _find(cls, root: Path) -> dict[int, dict[tuple[int, int], Path]]:
        """Return ``{z: {(x, y): path}}`` of the ``z/x/y.pbf`` files under ``root``."""
        found: dict[int, dict[tuple[int, int], Path]] = {}
        for file in root.glob("*/*/*.pbf"):
            m = cls._PATTERN.match(file.relative_to(root).as_posix())
            if m:
                found.setdefault(int(m[1]), {})[(int(m[2]), int(m[3]))] = file
        return found

    def _gdal_path(self) -> str:
        return f"MVT:{self.root / str(self.zoom)}"

    def _tile_of_fid(self, fid):
        # GDAL's MVT folder reader: fid = (feature << 2z) | (x << z) | y
        mask = 2**self.zoom - 1
        return (fid >> self.zoom) & mask, fid & mask


class _MBTiles(_TileSource):
    kind = "mbtiles"

    def __init__(self, path: Path, bbox: Bbox | None):
        self.path, self.bbox = path, bbox
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                self.metadata = {str(k): str(v) for k, v in con.execute("SELECT name, value FROM metadata")}
                zooms = [z for (z,) in con.execute("SELECT DISTINCT zoom_level FROM tiles")]
                if not zooms:
                    raise InputFileError(f"{path} holds no tiles; pass an MBTiles file of vector tiles")
                self.zoom = DEFAULT_ZOOM if DEFAULT_ZOOM in zooms else max(zooms)
                rows = con.execute(
                    "SELECT tile_column, tile_row, tile_data FROM tiles WHERE zoom_level = ?", (self.zoom,)
                ).fetchall()
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise InputFileError(
                f"{path} is not an MBTiles file ({exc}); pass a z/x/y folder or an .mbtiles file"
            ) from None
        fmt = self.metadata.get("format", "").lower()
        if fmt in _RASTER_FORMATS:
            raise InputFileError(
                f"{path} holds raster tiles (format={fmt}), not vector tiles; pass an MBTiles file with format=pbf"
            )
        flip = 2**self.zoom - 1
        tiles = {(int(c), flip - int(r)): bytes(d) for c, r, d in rows}  # TMS rows -> XYZ
        if bbox is not None:
            cols, rws = tiles_for_bbox(bbox, self.zoom)
            tiles = {k: d for k, d in tiles.items() if k[0] in cols and k[1] in rws}
        self.tiles = set(tiles)
        self.sha256 = _file_sha256(path)
        self._finish([(f"tile {self.zoom}/{x}/{y} of {path}", d) for (x, y), d in sorted(tiles.items())])
        self._unpacked: tempfile.TemporaryDirectory | None = None
        if "json" not in self.metadata:
            # GDAL's MBTiles driver finds vector layers only through the "json" metadata row; without it
            # the tiles are unpacked to a z/x/y folder for GDAL's MVT folder reader.
            self._unpacked = tempfile.TemporaryDirectory(prefix="routemap-mbtiles-")
            for (x, y), blob in tiles.items():
                file = Path(self._unpacked.name) / str(self.zoom) / str(x) / f"{y}.pbf"
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_bytes(blob)

    def close(self) -> None:
        if self._unpacked is not None:
            self._unpacked.cleanup()

    def _gdal_path(self) -> str:
        if self._unpacked is not None:
            return f"MVT:{Path(self._unpacked.name) / str(self.zoom)}"
        return str(self.path)

    def _open_options(self) -> dict[str, str]:
        return {} if self._unpacked is not None else {"ZOOM_LEVEL": str(self.zoom)}

    def _tile_of_fid(self, fid):
        mask = 2**self.zoom - 1
        if self._unpacked is not None:
            return _FolderTiles._tile_of_fid(self, fid)
        # GDAL's MBTiles vector reader: fid = (feature << 2z) | (y << z) | x, y in the XYZ scheme
        return fid & mask, (fid >> self.zoom) & mask


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mercator_bounds(x0: int, y0: int, x1: int, y1: int, zoom: int) -> tuple[float, float, float, float]:
    """Return EPSG:3857 (minx, miny, maxx, maxy) of XYZ tiles x0..x1, y0..y1, shrunk by a tenth of a pixel."""
    half = 20037508.342789244
    size = 2 * half / 2**zoom
    eps = size / EXTENT / 10
    return (
        -half + x0 * size + eps,
        half - (y1 + 1) * size + eps,
        -half + (x1 + 1) * size - eps,
        half - y0 * size - eps,
    )


__all__ = ["load_tile_ways", "tiles_for_bbox", "DEFAULT_ZOOM", "EXTENT"]
