"""Read OSM files (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``) into the builder's input, with pyosmium.

pyosmium parses in C++, keeps node locations in its own index (``with_locations``) and drops the elements
without routing keys before Python sees them (``KeyFilter``), so Python only touches the street ways and the
few tagged nodes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from routemap.errors import InputFileError
from routemap.network.build import NODE_TAGS, WAY_TAGS, gc_paused
from routemap.network.filters import NETWORK_TYPES, filter_keys

#: Suffixes of the OSM files pyosmium reads.
OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.xml")


def tag_keys() -> tuple[str, ...]:
    """Return the way tag keys any network type or the graph needs (what a reader must keep)."""
    keys = set(WAY_TAGS) | {"oneway", "junction"}
    for nt in NETWORK_TYPES:
        keys |= filter_keys(nt)
    return tuple(sorted(keys))


def read_osm_file(path: str | Path) -> tuple[tuple, list, dict, dict[str, Any]]:
    """Return ``(node_coords, ways, node_tags, meta)`` of an OSM file's ``highway`` ways.

    Parameters
    ----------
    path
        An ``.osm.pbf``, ``.osm`` (XML), ``.osm.bz2`` or ``.osm.gz`` file.

    Returns
    -------
    node_coords
        ``(ids, lons, lats)`` arrays of the nodes the ways reference and the file holds.
    ways
        ``[(way_id, node_ids, tags)]`` with the tags of :func:`tag_keys`.
    node_tags
        ``node_id -> tags`` (:data:`~routemap.network.build.NODE_TAGS`) of tagged way nodes.
    meta
        ``osm_timestamp`` (ISO string from the file header, else the newest element edit, or None).

    Raises
    ------
    InputFileError
        When the file is missing, truncated, corrupt or not an OSM file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"OSM file {path} does not exist; check the path")
    with gc_paused():
        return _read(path)


def _read(path: Path) -> tuple[tuple, list, dict, dict[str, Any]]:
    import osmium

    keys = tag_keys()
    ways: list = []
    node_tags: dict[int, dict[str, str]] = {}
    ids: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    newest = 0
    try:
        header_ts = _header_timestamp(path)
        fp = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway", *NODE_TAGS))
        )
        for obj in fp:
            if obj.is_way():
                tags = obj.tags
                if "highway" not in tags:
                    continue
                refs = []
                for n in obj.nodes:
                    ref = n.ref
                    refs.append(ref)
                    loc = n.location
                    if loc.valid():
                        ids.append(ref)
                        xs.append(loc.x)
                        ys.append(loc.y)
                ways.append((obj.id, refs, {k: tags[k] for k in keys if k in tags}))
                ts = obj.timestamp.timestamp()
                if ts > newest:
                    newest = ts
            else:
                tags = obj.tags
                found = {k: tags[k] for k in NODE_TAGS if k in tags}
                if found:
                    node_tags[obj.id] = found
    except (RuntimeError, ValueError, OSError) as exc:
        raise InputFileError(
            f"{path} is not a readable OSM file ({_short(exc)}); re-download or re-export it"
        ) from exc
    ids_a = np.asarray(ids, dtype=np.int64)
    ids_u, first = np.unique(ids_a, return_index=True)
    # osmium stores integers of 1e-7 degree; dividing (not multiplying by 1e-7) gives the nearest
    # float to the decimal OSM coordinate, as parsing the text does
    lons = np.asarray(xs, dtype=np.int64)[first] / 1e7
    lats = np.asarray(ys, dtype=np.int64)[first] / 1e7
    if header_ts is None and newest > 0:
        header_ts = _iso(dt.datetime.fromtimestamp(newest, dt.timezone.utc))
    return (ids_u, lons, lats), ways, node_tags, {"osm_timestamp": header_ts}


def _header_timestamp(path: Path) -> str | None:
    """Return the replication timestamp the file header declares, or None."""
    import osmium

    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    try:
        header = reader.header()
        for key in ("osmosis_replication_timestamp", "timestamp", "osm_base"):
            value = header.get(key)
            if value:
                return value
    finally:
        reader.close()
    return _xml_osm_base(path)


def _xml_osm_base(path: Path) -> str | None:
    """Return ``<meta osm_base="...">`` from the head of an OSM XML file (Overpass writes it), or None."""
    import bz2
    import gzip
    import re

    name = path.name.lower()
    if name.endswith(".pbf"):
        return None
    opener = bz2.open if name.endswith(".bz2") else gzip.open if name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except (OSError, EOFError):
        return None
    m = re.search(r'<meta\s[^>]*osm_base="([^"]+)"', head)
    return m.group(1) if m else None


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]
