"""Read OSM files (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``) into the builder's input, with pyosmium.

pyosmium parses in C++, keeps node locations in its own index (``with_locations``) and drops the elements
without routing keys before Python sees them (``KeyFilter``), so Python only touches the street ways and the
few tagged nodes.
"""

from __future__ import annotations

import datetime as dt
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from routemap._arrays import sorted_lookup, unique_index
from routemap.errors import InputFileError
from routemap.network.build import NODE_TAGS, WAY_TAGS, gc_paused
from routemap.network.filters import NETWORK_TYPES, filter_keys

#: Suffixes of the OSM files pyosmium reads.
OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.xml")


def tag_keys(network_type: str | None = None) -> tuple[str, ...]:
    """Return the way tag keys the graph and ``network_type``'s filter need (None: any network type's),
    what a reader must keep."""
    keys = set(WAY_TAGS) | {"oneway", "junction"}
    for nt in NETWORK_TYPES if network_type is None else (network_type,):
        keys |= filter_keys(nt)
    return tuple(sorted(keys))


def read_osm_file(
    path: str | Path,
    bbox: tuple[float, float, float, float] | None = None,
    network_type: str | None = None,
) -> tuple[tuple, WayArrays, dict, dict[str, Any]]:
    """Return ``(node_coords, ways, node_tags, meta)`` of an OSM file's ``highway`` ways.

    Parameters
    ----------
    path
        An ``.osm.pbf``, ``.osm`` (XML), ``.osm.bz2`` or ``.osm.gz`` file.
    bbox
        ``(west, south, east, north)``: keep only the nodes inside (with a hair of slack; the builder
        applies the exact bbox) and the ways with a node inside, so memory follows the bbox.
    network_type
        Keep only the tags the graph and this network type's filter read (:func:`tag_keys`); default
        the tags of every network type.

    Returns
    -------
    node_coords
        ``(ids, lons, lats)`` arrays of the nodes the ways reference and the file holds.
    ways
        A :class:`WayArrays`: a sequence of ``(way_id, node_ids, tags)`` with the tags of
        :func:`tag_keys`, held as flat arrays.
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
        return _read(path, bbox, tag_keys(network_type))


class WayArrays(Sequence):
    """Ways as flat arrays: ``ways[i]`` is ``(way_id, node_ids, tags)`` with ``node_ids`` an int64 array.

    Millions of node references cost 8 bytes each here, against about 40 in lists of Python ints.
    """

    def __init__(self, way_ids: array, offsets: array, refs: array, tags: list[dict[str, str]]) -> None:
        self.way_ids = _int64s(way_ids)
        self.offsets = _int64s(offsets)
        self.refs = _int64s(refs)
        self.tags = tags
        #: set by a caller that hands the ways to the builder and never reads them again: the builder
        #: then releases them once copied (:meth:`release`), lowering a large build's peak memory
        self.single_use = False

    def __len__(self) -> int:
        return len(self.tags)

    def release(self) -> None:
        """Let go of the ways' tags and node lists (the builder calls it once it has copied them)."""
        self.tags = []
        self.way_ids = np.zeros(0, np.int64)
        self.offsets = np.zeros(1, np.int64)
        self.refs = np.zeros(0, np.int64)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return int(self.way_ids[i]), self.refs[lo:hi], self.tags[i]

    def __iter__(self) -> Iterator[tuple[int, np.ndarray, dict[str, str]]]:
        ids = self.way_ids.tolist()
        bounds = self.offsets.tolist()
        refs = self.refs
        for i, tags in enumerate(self.tags):
            yield ids[i], refs[bounds[i] : bounds[i + 1]], tags


def _int64s(values: array) -> np.ndarray:
    """Return an ``array("q")`` as an int64 numpy array without copying it (an empty one as a new array)."""
    return np.frombuffer(values, dtype=np.int64) if len(values) else np.zeros(0, np.int64)


#: osmium's undefined coordinate (a way's node the file does not hold).
_UNDEFINED = 2147483647
#: Slack of the reader's bbox test in 1e-7 degrees (the builder applies the exact bbox on floats).
_BBOX_SLACK = 2


def _read(path: Path, bbox, keys: tuple[str, ...]) -> tuple[tuple, WayArrays, dict, dict[str, Any]]:
    import osmium

    intern = sys.intern
    way_ids, offsets, refs = array("q"), array("q", [0]), array("q")
    way_tags: list[dict[str, str]] = []
    node_tags: dict[int, dict[str, str]] = {}
    ids, xs, ys = array("q"), array("q"), array("q")
    if bbox is not None:
        west, south, east, north = (round(v * 1e7) for v in bbox)
        west, south, east, north = (
            west - _BBOX_SLACK,
            south - _BBOX_SLACK,
            east + _BBOX_SLACK,
            north + _BBOX_SLACK,
        )
    newest: dt.datetime | None = None
    try:
        header_ts = _header_timestamp(path)
        # in C++: ways without a highway key and nodes without a wanted tag never reach Python
        streets = osmium.filter.KeyFilter("highway")
        streets.enable_for(osmium.osm.WAY)
        tagged_nodes = osmium.filter.KeyFilter(*NODE_TAGS)
        tagged_nodes.enable_for(osmium.osm.NODE)
        fp = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(streets)
            .with_filter(tagged_nodes)
        )
        way_type = osmium.osm.Way
        # the NODE | WAY entity filter: the stubs type the items as any OSM entity
        for obj in cast("Iterable[osmium.osm.Node | osmium.osm.Way]", fp):
            # pyosmium's own tag lookup without its Python wrapper (a county looks up ~20 million keys of
            # ways and half a million tagged nodes)
            data = getattr(obj, "_pyosmium_data", None)
            get = data.tags_get_value_by_key if data is not None else obj.tags.get
            if isinstance(obj, way_type):  # is_way() without its Python call (a county has a million)
                # interned values: a county has millions of "residential"/"yes" that become one string each
                # (one lookup per wanted key beats making an object of every tag of the way)
                tags = {k: intern(v) for k in keys if (v := get(k, None)) is not None}
                if "highway" not in tags:
                    continue
                if header_ts is None:  # the newest edit dates the data only when the header does not
                    ts = data.timestamp() if data is not None else obj.timestamp
                    if newest is None or ts > newest:
                        newest = ts
                if bbox is None:
                    # every node: its location as read (an invalid one is osmium's undefined
                    # coordinate, dropped below with numpy rather than tested node by node)
                    for n in _way_nodes(obj):
                        loc = n.location
                        refs.append(n.ref)
                        xs.append(loc.x)
                        ys.append(loc.y)
                else:
                    start = len(refs)
                    inside = False
                    for n in _way_nodes(obj):
                        ref = n.ref
                        refs.append(ref)
                        loc = n.location
                        if loc.valid():
                            x, y = loc.x, loc.y
                            if not (west <= x <= east and south <= y <= north):
                                continue
                            inside = True
                            ids.append(ref)
                            xs.append(x)
                            ys.append(y)
                    if not inside:
                        del refs[start:]
                        continue
                way_ids.append(data.id() if data is not None else obj.id)
                offsets.append(len(refs))
                way_tags.append(tags)
            else:
                if bbox is not None:
                    loc = obj.location
                    if not (west <= loc.x <= east and south <= loc.y <= north):
                        continue
                found = {k: v for k in NODE_TAGS if (v := get(k, None)) is not None}
                if found:
                    node_tags[obj.id] = found
    except (RuntimeError, ValueError, OSError) as exc:
        raise InputFileError(
            f"{path} is not a readable OSM file ({_short(exc)}); re-download or re-export it"
        ) from exc
    x_a, y_a = _int64s(xs), _int64s(ys)
    if bbox is None:  # one location per reference, undefined ones (node not in the file) dropped
        valid = (x_a != _UNDEFINED) & (y_a != _UNDEFINED)
        ids_a, x_a, y_a = _int64s(refs)[valid], x_a[valid], y_a[valid]
    else:
        ids_a = _int64s(ids)
    ids_u, first = unique_index(ids_a)
    # osmium stores integers of 1e-7 degree; dividing (not multiplying by 1e-7) gives the nearest
    # float to the decimal OSM coordinate, as parsing the text does
    lons = x_a[first] / 1e7
    lats = y_a[first] / 1e7
    del ids, xs, ys, ids_a, x_a, y_a
    if node_tags:
        # only the tags of nodes on the streets read (stations, signals elsewhere are no graph nodes)
        tagged = np.fromiter(node_tags, dtype=np.int64, count=len(node_tags))
        _, on_ways = sorted_lookup(ids_u, tagged)
        if not on_ways.all():
            node_tags = {k: node_tags[k] for k in tagged[on_ways].tolist()}
    if header_ts is None and newest is not None and newest.timestamp() > 0:
        header_ts = _iso(newest.astimezone(dt.timezone.utc))
    ways = WayArrays(way_ids, offsets, refs, way_tags)
    return (ids_u, lons, lats), ways, node_tags, {"osm_timestamp": header_ts}


def _way_nodes(way: Any) -> Iterable[Any]:
    """Return the way's node references: from pyosmium's C++ list directly when its internals are
    there (a third faster than the ``WayNodeList`` wrapper over millions of nodes), else the public
    ``way.nodes``."""
    data = getattr(way, "_pyosmium_data", None)
    lst = getattr(data, "nodes", None)
    if lst is None:
        return way.nodes
    lst = lst()
    get = lst.get
    return [get(data, i) for i in range(lst.size(data))]


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
