"""Just enough protobuf to list and filter the layers of a Mapbox Vector Tile without decoding them.

An MVT tile is a protobuf ``Tile`` message whose repeated field 3 is a ``Layer``; field 1 of a ``Layer`` is
its name. Walking the top-level fields (each length-delimited) checks a tile's structure and names its layers
in microseconds; GDAL's MVT driver does the real decoding.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator

GZIP_MAGIC = b"\x1f\x8b"


class TileFormatError(ValueError):
    """The bytes are not a protobuf vector tile."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise TileFormatError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> Iterator[tuple[int, int, int, int, int]]:
    """Yield ``(number, wire_type, start, end, payload_start)`` for each top-level field of ``buf``.

    Raises
    ------
    TileFormatError
        When ``buf`` is not a well-formed protobuf message.
    """
    pos, size = 0, len(buf)
    while pos < size:
        start = pos
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise TileFormatError("field number 0")
        payload = pos
        if wire == 0:
            _, pos = _varint(buf, pos)
        elif wire == 1:
            pos += 8
        elif wire == 2:
            length, payload = _varint(buf, pos)
            pos = payload + length
        elif wire == 5:
            pos += 4
        else:
            raise TileFormatError(f"unsupported wire type {wire}")
        if pos > size:
            raise TileFormatError("a field runs past the end of the data")
        yield number, wire, start, pos, payload


def decompress(data: bytes) -> bytes:
    """Return ``data`` gunzipped when it is gzip- (or zlib-) compressed, else unchanged."""
    if data[:2] == GZIP_MAGIC:
        return gzip.decompress(data)
    if data[:1] == b"\x78":
        try:
            return zlib.decompress(data)
        except zlib.error:
            return data
    return data


def layer_name(layer: bytes) -> str:
    """Return the name (field 1) of an encoded MVT ``Layer`` message."""
    for number, wire, _start, end, payload in fields(layer):
        if number == 1 and wire == 2:
            return layer[payload:end].decode("utf-8")
    raise TileFormatError("a layer has no name")


def layer_names(tile: bytes) -> list[str]:
    """Return the names of the layers of an (uncompressed) MVT tile, in order.

    Raises
    ------
    TileFormatError
        When ``tile`` is not a vector tile (bad protobuf, or a top-level field other than layers).
    """
    names = []
    for number, wire, _start, end, payload in fields(tile):
        if number == 3 and wire == 2:
            names.append(layer_name(tile[payload:end]))
        elif number < 16:  # 16..8191 are extensions; anything else is not a Tile
            raise TileFormatError(f"unexpected top-level field {number}")
    return names


def keep_layers(tile: bytes, names: tuple[str, ...]) -> bytes:
    """Return ``tile`` (uncompressed) holding only the named layers, each copied byte for byte."""
    kept = []
    for number, wire, start, end, payload in fields(tile):
        if number == 3 and wire == 2 and layer_name(tile[payload:end]) in names:
            kept.append(tile[start:end])
    return b"".join(kept)
