"""``load_network``: any street source -> the osmnx-compatible graph, through the cache."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import networkx as nx

from routemap.errors import InputFileError, NetworkError
from routemap.network import cache
from routemap.network.build import gc_paused, graph_from_ways
from routemap.network.filters import NETWORK_TYPES

#: ``G.graph`` key holding the network cache key (read by ``routemap.route.compile``, which imports it).
COMPILED_KEY_ATTR = "routemap_cache_key"

_XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.xml")
_FILE_SUFFIXES = (".pbf", ".json", ".graphml", ".mbtiles", *_XML_SUFFIXES)

Source = str | os.PathLike | Sequence[str | os.PathLike] | tuple[float, float] | None


def load_network(
    source: Source,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    network_type: str = "run",
    simplify: bool = True,
    dist: float = 1000.0,
    use_cache: bool = True,
) -> nx.MultiDiGraph:
    """Return the street graph of ``source`` filtered to ``network_type`` (see docs/ARCHITECTURE.md).

    Parameters
    ----------
    source
        - an OSM file: ``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``;
        - an Overpass API JSON file, or a list of them (merged by OSM id, newest
          ``timestamp_osm_base`` wins);
        - a GraphML file saved by osmnx/routemap;
        - vector tiles: a ``{z}/{x}/{y}.pbf`` folder or an ``.mbtiles`` file;
        - online, through osmnx (Overpass and Nominatim, osmnx's cache): a place name, a
          ``(lat, lon)`` point (with ``dist``), or None with ``bbox``.
    bbox
        ``(west, south, east, north)`` in degrees: keep the streets inside (ways crossing it are cut at
        their last node inside).
    network_type
        ``run`` (default), ``walk``, ``drive``, ``bike`` or ``all``.
    simplify
        Simplify the topology like ``osmnx.simplify_graph``.
    dist
        Radius in metres around a ``(lat, lon)`` point source.
    use_cache
        Read and write routemap's graph cache (keyed by the source's sha256, the options and the
        builder version). ``G.graph["routemap_source"]["cache_hit"]`` tells whether it was a hit.

    Returns
    -------
    networkx.MultiDiGraph

    Raises
    ------
    InputFileError
        A missing, corrupt or unrecognised file.
    NetworkError
        No streets of that network type (in the bbox), or an unknown network type.
    """
    if network_type not in NETWORK_TYPES:
        raise NetworkError(f"unknown network type {network_type!r}; use one of {', '.join(NETWORK_TYPES)}")
    if bbox is not None:
        bbox = _check_bbox(bbox)
    kind, paths = classify_source(source)
    if kind == "online":
        from routemap.network.online import graph_online

        return graph_online(source, bbox=bbox, network_type=network_type, simplify=simplify, dist=dist)

    hashes = [cache.sha256_tree(p) if p.is_dir() else cache.sha256_file(p) for p in paths]
    key = cache.cache_key(hashes, kind=kind, bbox=bbox, network_type=network_type, simplify=simplify)
    if use_cache:
        G = cache.load_cached(key)
        if G is not None:
            G.graph["routemap_source"]["cache_hit"] = True
            # the same content (the key holds its sha256) read from where it lies now: credit this path,
            # not the one the cache entry was first built from
            G.graph["routemap_source"]["paths"] = [str(p) for p in paths]
            G.graph[COMPILED_KEY_ATTR] = key
            return G
    source_meta = {"kind": kind, "paths": [str(p) for p in paths], "sha256": hashes}
    with gc_paused(), _progress(f"building the {network_type} network of {paths[0].name}", paths):
        G = _build(kind, paths, bbox, network_type, simplify, source_meta)
    G.graph["routemap_source"]["cache_hit"] = False
    if use_cache:
        cache.store(key, G)
        # routing finds the compiled form of this graph next to the network cache (route/compile.py)
        G.graph[COMPILED_KEY_ATTR] = key
    return G


def classify_source(source: Source) -> tuple[str, list[Path]]:
    """Return ``(kind, paths)`` of a source: kind is ``pbf``, ``osm-xml``, ``overpass-json``,
    ``graphml``, ``tiles``, ``mbtiles`` or ``online``.

    Raises
    ------
    InputFileError
        A path that does not exist, or a file of an unknown kind.
    """
    if source is None:
        return "online", []
    if isinstance(source, tuple) and len(source) == 2 and all(isinstance(v, (int, float)) for v in source):
        return "online", []
    if isinstance(source, (list, tuple)):
        paths = [Path(p) for p in source]
        if not paths:
            raise InputFileError("the list of source files is empty; give at least one file")
        for p in paths:
            _require(p)
            if _suffix(p) != ".json":
                raise InputFileError(
                    f"{p}: only Overpass JSON files can be merged as a list; give one file otherwise"
                )
        return "overpass-json", paths
    text = os.fspath(cast("str | os.PathLike", source))  # lists, tuples and None are handled above
    path = Path(text).expanduser()
    if not path.exists():
        if isinstance(source, os.PathLike) or _suffix(path) or os.sep in text or text[:1] == ".":
            raise InputFileError(f"source file {path} does not exist; check the path")
        return "online", []
    if path.is_dir():
        return "tiles", [path]
    suffix = _suffix(path)
    kinds = {".pbf": "pbf", ".json": "overpass-json", ".graphml": "graphml", ".mbtiles": "mbtiles"}
    if suffix in kinds:
        return kinds[suffix], [path]
    if suffix in _XML_SUFFIXES:
        return "osm-xml", [path]
    raise InputFileError(
        f"{path}: unknown kind of street source; give .osm.pbf, .osm(.bz2/.gz), Overpass .json, "
        ".graphml, .mbtiles or a tile folder"
    )


def _build(kind, paths, bbox, network_type, simplify, source_meta) -> nx.MultiDiGraph:
    if kind == "graphml":
        return _from_graphml(paths[0], bbox, source_meta, network_type)
    if kind in ("tiles", "mbtiles"):
        from routemap.network.tiles import load_tile_ways

        node_coords, ways, tile_meta = load_tile_ways(paths[0], bbox=bbox)
        node_tags = None
        source_meta = {**source_meta, **(tile_meta or {}), "kind": kind}
    elif kind == "overpass-json":
        from routemap.network.overpass import read_overpass_json

        node_coords, ways, node_tags, meta = read_overpass_json(paths)
        source_meta.update(meta)
    else:
        from routemap.network.osm import read_osm_file

        node_coords, ways, node_tags, meta = read_osm_file(paths[0], bbox=bbox, network_type=network_type)
        ways.single_use = True  # read for this build only: the builder frees it once copied
        source_meta.update(meta)
    return graph_from_ways(
        node_coords,
        ways,
        network_type=network_type,
        simplify=simplify,
        source=source_meta,
        bbox=bbox,
        node_tags=node_tags,
    )


def _from_graphml(path: Path, bbox, source_meta: dict[str, Any], network_type) -> nx.MultiDiGraph:
    import osmnx as ox

    try:
        G = ox.load_graphml(path)
    except Exception as exc:  # networkx/lxml raise many kinds on a bad file
        raise InputFileError(
            f"{path} is not a readable GraphML graph ({type(exc).__name__}); save it again with "
            "osmnx.save_graphml"
        ) from exc
    if bbox is not None:
        west, south, east, north = bbox
        inside = [n for n, d in G.nodes(data=True) if west <= d["x"] <= east and south <= d["y"] <= north]
        G = G.subgraph(inside).copy()
    if len(G.edges) == 0:
        raise NetworkError(f"no streets in {path}" + (f" inside bbox {bbox}" if bbox else ""))
    previous = G.graph.get("routemap_source")
    meta = dict(source_meta)
    if isinstance(previous, dict):
        meta["osm_timestamp"] = previous.get("osm_timestamp")
    meta.setdefault("osm_timestamp", None)
    meta["network_type"] = G.graph.get("network_type", network_type)
    G.graph["routemap_source"] = meta
    G.graph.setdefault("crs", "epsg:4326")
    return G


def _progress(message: str, paths: list[Path]):
    """Return a spinner on a terminal for a large source (> 20 MB), else a no-op context."""
    import contextlib
    import sys

    size = sum(p.stat().st_size for p in paths if p.is_file())
    if size < 20e6 or not sys.stderr.isatty():
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(message)


def _check_bbox(bbox) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise NetworkError(
            f"bbox {bbox!r} is not four numbers; give (west, south, east, north) in degrees"
        ) from exc
    if not (west < east and south < north and west >= -180 and east <= 180 and south >= -90 and north <= 90):
        raise NetworkError(
            f"bbox {bbox!r} is empty or out of range; give (west, south, east, north) in degrees "
            "with west < east and south < north"
        )
    return (west, south, east, north)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in (".osm.bz2", ".osm.gz", ".osm.xml", ".osm.pbf"):
        if name.endswith(suffix):
            return ".pbf" if suffix == ".osm.pbf" else suffix
    return path.suffix.lower() if path.suffix.lower() in _FILE_SUFFIXES else ""


def _require(path: Path) -> None:
    if not path.exists():
        raise InputFileError(f"source file {path} does not exist; check the path")
