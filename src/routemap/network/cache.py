"""The graph cache: pickled graphs keyed by the source's content hash, the options and the builder."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely

from routemap import settings
from routemap._edgedata import EdgeData
from routemap._files import atomic_write
from routemap.network.build import BUILDER_VERSION, gc_paused

#: Layout of the cache payload (part of the file, checked on load).
_PAYLOAD_VERSION = 2

#: Counters of this process's cache use (tests and benchmarks read them).
STATS = {"hits": 0, "misses": 0, "writes": 0, "upgrades": 0}


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Return the hex sha256 of a file's content."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_tree(folder: str | Path) -> str:
    """Return one sha256 over a folder's files (relative names and contents, in sorted order)."""
    folder = Path(folder)
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(sha256_file(path).encode())
    return h.hexdigest()


def cache_key(hashes: Iterable[str], **options: Any) -> str:
    """Return the cache key of a source (its content hashes) with the load options and builder version."""
    from importlib.metadata import version

    parts = [f"builder={BUILDER_VERSION}", f"osmnx={version('osmnx')}", *hashes]
    parts += [f"{k}={options[k]!r}" for k in sorted(options)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def cache_path(key: str) -> Path:
    """Return the cache file of ``key``."""
    return settings.cache_dir() / "networks" / f"{key}.pickle"


def load_cached(key: str) -> nx.MultiDiGraph | None:
    """Return the cached graph of ``key``, or None (a missing or unreadable entry is a miss)."""
    path = cache_path(key)
    if not path.is_file():
        STATS["misses"] += 1
        return None
    changes = EdgeData.version
    try:
        with open(path, "rb") as fh, gc_paused():
            payload = pickle.load(fh)
            if not isinstance(payload, dict) or payload.get("version") != _PAYLOAD_VERSION:
                raise pickle.UnpicklingError("old cache layout")
            G = payload["graph"]
            _restore_geometries(G, payload["coords"], payload["index"])
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, KeyError):
        STATS["misses"] += 1  # a stale or damaged entry is rebuilt and overwritten
        return None
    STATS["hits"] += 1
    if EdgeData.version != changes:
        _upgrade(key, G)
    return G


def _upgrade(key: str, G: nx.MultiDiGraph) -> None:
    """Write again an entry whose edge attributes were unpickled one item at a time.

    Entries written before :class:`~routemap._edgedata.EdgeData` pickled through its constructor
    hold the same graph, but every attribute of every edge goes through ``EdgeData.__setitem__`` on
    load (a third of the reload of a city's graph); written once more, later loads are one C call per
    edge.
    """
    try:
        store(key, G)
    except OSError:
        return  # a read-only cache still works, only slower
    STATS["upgrades"] += 1


def store(key: str, G: nx.MultiDiGraph) -> Path:
    """Write ``G`` to the cache atomically (temp file then rename); return the cache file."""
    path = cache_path(key)
    # Edge geometries go as one coordinate array: unpickling tens of thousands of shapely objects one
    # by one is most of a reload, rebuilding them with one shapely.linestrings call is not.
    holders = [d for *_, d in G.edges(data=True) if "geometry" in d]
    geoms = [d["geometry"] for d in holders]
    arrays = _geometry_arrays(geoms)
    try:
        if arrays is not None:
            # dict.__setitem__: a round trip that leaves the data as it was is no change to count
            # (routemap._edgedata.EdgeData would tell every compiled graph to check its edges again)
            for d in holders:
                dict.__setitem__(d, "geometry", None)
        payload = {
            "version": _PAYLOAD_VERSION,
            "graph": G,
            "coords": arrays[0] if arrays else None,
            "index": arrays[1] if arrays else None,
        }
        with atomic_write(path, "wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        for d, g in zip(holders, geoms):
            dict.__setitem__(d, "geometry", g)
    STATS["writes"] += 1
    return path


def _geometry_arrays(geoms: list) -> tuple[np.ndarray, np.ndarray] | None:
    """Return (coords, index) of LineStrings, or None when some geometry is not a plain LineString."""
    if not geoms:
        return None
    arr = np.asarray(geoms, dtype=object)
    if not (shapely.get_type_id(arr) == 1).all() or shapely.has_z(arr).any():
        return None
    coords, index = shapely.get_coordinates(arr, return_index=True)
    return coords, index


def _restore_geometries(G: nx.MultiDiGraph, coords, index) -> None:
    if coords is None:
        return
    lines = shapely.linestrings(coords, indices=index)
    slots = [d for *_, d in G.edges(data=True) if "geometry" in d and d["geometry"] is None]
    if len(slots) != len(lines):
        raise pickle.UnpicklingError("cached geometries do not match the graph")
    for d, line in zip(slots, lines.tolist()):
        dict.__setitem__(d, "geometry", line)  # still building the graph: not a change to count
