"""The common builder: OSM-style ways (from any source) -> an osmnx-compatible ``MultiDiGraph``.

Every source (``.osm.pbf``, OSM XML, Overpass JSON, vector tiles, online) ends here, so every source gives the
same graph (see docs/ARCHITECTURE.md, "The graph"). The work is vectorized: ways become one array of node ids,
segments, lengths and directions are numpy operations, and the topology is simplified like
``osmnx.simplify_graph``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from routemap._arrays import sorted_lookup, unique
from routemap._edgedata import EdgeData
from routemap.errors import NetworkError
from routemap.network.filters import BIDIRECTIONAL_TYPES, way_filter

#: Bump when the graph the builder makes changes: it is part of the cache key.
BUILDER_VERSION = 3

#: Edge tags copied from a way (osmnx's ``settings.useful_tags_way`` at import time, plus a few for runs).
WAY_TAGS = (
    "access",
    "area",
    "bridge",
    "est_width",
    "highway",
    "junction",
    "landuse",
    "lanes",
    "maxspeed",
    "name",
    "oneway",
    "ref",
    "service",
    "tunnel",
    "width",
)
_WAY_TAG_SET = frozenset(WAY_TAGS)
#: Node tags copied when the source supplies node tags (osmnx's ``settings.useful_tags_node``).
NODE_TAGS = ("highway", "junction", "railway", "ref")

# OSM's "oneway" values meaning one-way, and meaning one-way against the node order (osmnx's sets).
_ONEWAY_VALUES = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
_REVERSED_VALUES = frozenset({"-1", "reverse", "T"})

NodeCoords = Mapping[int, Sequence[float]] | tuple[Any, Any, Any]
Way = tuple[int | None, Sequence[int], Mapping[str, str]]


def graph_from_ways(
    node_coords: NodeCoords,
    ways: Iterable[Way],
    *,
    network_type: str = "run",
    simplify: bool = True,
    source: Mapping[str, Any] | None = None,
    bidirectional: bool | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    node_tags: Mapping[int, Mapping[str, str]] | None = None,
) -> nx.MultiDiGraph:
    """Return the osmnx-compatible street graph of ``ways`` filtered to ``network_type``.

    Parameters
    ----------
    node_coords
        Node positions: either a mapping ``node_id -> (lon, lat)``, or a tuple ``(ids, lons, lats)`` of
        three equal-length array-likes (integer ids, degrees). Ids need not be OSM ids (vector tiles use
        sequential ids) but must be unique integers.
    ways
        Iterable of ``(way_id, node_ids, tags)``: ``way_id`` is the OSM way id, or None when the source has
        no OSM ids (vector tiles; the edges then get ``osmid`` None: unknown, never invented); ``node_ids`` the way's nodes in order;
        ``tags`` OSM-style tags (``highway``, ``name``, ``oneway``, ``junction``, ``bridge``, ``tunnel``,
        ``access``, ``service``, ``foot``, ``sidewalk``...). A node missing from ``node_coords`` (or outside
        ``bbox``) cuts the way: the runs of present nodes are kept, as for a way cut at an extract's edge.
    network_type
        ``run`` (default), ``walk``, ``drive``, ``bike`` or ``all``; see :mod:`routemap.network.filters`.
    simplify
        Merge chains of interstitial nodes into single edges, like ``osmnx.simplify_graph``.
    source
        Description of where the data came from, stored as ``G.graph["routemap_source"]`` (keys ``kind``,
        ``paths``, ``sha256``, ``osm_timestamp``; ``network_type`` is filled in).
    bidirectional
        Add every way in both directions regardless of ``oneway``; default: True for ``run`` and ``walk``.
    bbox
        ``(west, south, east, north)`` in degrees; nodes outside are treated as missing.
    node_tags
        Optional tags of nodes (``node_id -> tags``); :data:`NODE_TAGS` among them become node attributes.

    Returns
    -------
    networkx.MultiDiGraph
        Nodes with ``x``, ``y`` (and ``street_count`` when simplified); edges with ``length`` (metres,
        great-circle), ``oneway``, ``reversed``, ``osmid`` (when known), way tags of :data:`WAY_TAGS`, and
        ``geometry`` on simplified edges. ``G.graph`` holds ``crs`` (``epsg:4326``) and ``routemap_source``.

    Raises
    ------
    NetworkError
        When no way of ``network_type`` has two present nodes (nothing to build).
    """
    with gc_paused():
        return _graph_from_ways(
            node_coords, ways, network_type, simplify, source, bidirectional, bbox, node_tags
        )


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a block that allocates many small containers.

    A build makes hundreds of thousands of dicts and tuples and no reference cycles; the collector's
    repeated full passes over them cost a third of the build time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _graph_from_ways(node_coords, ways, network_type, simplify, source, bidirectional, bbox, node_tags):
    if bidirectional is None:
        bidirectional = network_type in BIDIRECTIONAL_TYPES
    keep = way_filter(network_type)
    ids, lons, lats = _node_arrays(node_coords, bbox)

    # One pass over the ways: filter, and collect node ids into one flat array.
    way_attrs: list[dict[str, Any]] = []
    way_flags: list[tuple[bool, bool]] = []
    chunks: list[Sequence[int]] = []
    for way_id, node_ids, tags in ways:
        if len(node_ids) < 2 or not keep(tags):
            continue
        # Tiles carry no OSM ids: osmid None marks it unknown (osmnx functions that compare osmids work).
        attrs: dict[str, Any] = {"osmid": None if way_id is None else int(way_id)}
        # the way's few tags, not every wanted key: a county has a million ways
        attrs.update((key, value) for key, value in tags.items() if key in _WAY_TAG_SET and value is not None)
        one_way = not bidirectional and (
            tags.get("oneway") in _ONEWAY_VALUES or tags.get("junction") == "roundabout"
        )
        reverse = one_way and tags.get("oneway") in _REVERSED_VALUES
        attrs["oneway"] = one_way
        way_attrs.append(attrs)
        way_flags.append((one_way, reverse))
        chunks.append(node_ids)

    segments = _segments(chunks, way_flags, ids)
    if segments is None:
        raise NetworkError(
            f"no streets of network type {network_type!r} in {_describe(source)}"
            + (f" inside bbox {tuple(bbox)}" if bbox is not None else "")
            + "; check the area, the bbox (west,south,east,north) or the network type"
        )
    u, v, w, rev = segments
    del segments, chunks
    # the ways' own tags are copied into way_attrs: ways marked single-use (the loader's) let them go
    if getattr(ways, "single_use", False):
        ways.release()
    iu = np.searchsorted(ids, u)
    iv = np.searchsorted(ids, v)
    length = great_circle(lats[iu], lons[iu], lats[iv], lons[iv])
    del iu, iv
    # handed over in a dict the builder empties, so each array is freed as soon as it is used
    seg = {"u": u, "v": v, "w": w, "rev": rev, "length": length}
    del u, v, w, rev, length
    G = _assemble(ids, lons, lats, seg, way_attrs, node_tags, simplify)
    G.graph.update(_graph_meta(source, network_type))
    return G


def great_circle(lat1, lon1, lat2, lon2, earth_radius: float = 6_371_009.0) -> np.ndarray:
    """Return great-circle distances in metres between point arrays (osmnx's haversine formula)."""
    y1, y2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dx = np.deg2rad(lon2) - np.deg2rad(lon1)
    h = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin(dx / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.minimum(1.0, h))) * earth_radius


def _node_arrays(node_coords: NodeCoords, bbox) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return node ids (sorted, unique), lons and lats as arrays, restricted to ``bbox``."""
    if isinstance(node_coords, Mapping):
        ids = np.fromiter(node_coords.keys(), dtype=np.int64, count=len(node_coords))
        xy = np.array(list(node_coords.values()), dtype=float).reshape(-1, 2)
        lons, lats = xy[:, 0], xy[:, 1]
    else:
        ids, lons, lats = node_coords
        ids = np.asarray(ids, dtype=np.int64)
        lons = np.asarray(lons, dtype=float)
        lats = np.asarray(lats, dtype=float)
    order = np.argsort(ids, kind="stable")
    ids, lons, lats = ids[order], lons[order], lats[order]
    ok = np.isfinite(lons) & np.isfinite(lats)
    if bbox is not None:
        west, south, east, north = bbox
        ok &= (lons >= west) & (lons <= east) & (lats >= south) & (lats <= north)
    if not ok.all():
        ids, lons, lats = ids[ok], lons[ok], lats[ok]
    return ids, lons, lats


def _segments(chunks, way_flags, ids):
    """Return directed segments ``(u, v, way_index, reversed)`` of the kept ways, or None if none."""
    if not chunks:
        return None
    sizes = np.fromiter((len(c) for c in chunks), dtype=np.int64, count=len(chunks))
    # chunks are lists of ints or int64 arrays (the OSM reader's); one conversion per way, not per node
    nodes = np.concatenate([np.asarray(c, dtype=np.int64) for c in chunks])
    widx = np.repeat(np.arange(len(chunks), dtype=np.int64), sizes)
    # osmnx drops consecutive duplicate nodes of a way before making edges
    dup = np.zeros(len(nodes), dtype=bool)
    dup[1:] = (nodes[1:] == nodes[:-1]) & (widx[1:] == widx[:-1])
    if dup.any():
        nodes, widx = nodes[~dup], widx[~dup]
    _, present = sorted_lookup(ids, nodes)
    seg = (widx[1:] == widx[:-1]) & present[1:] & present[:-1]
    a, b, w = nodes[:-1][seg], nodes[1:][seg], widx[:-1][seg]
    if len(a) == 0:
        return None
    flags = np.array(way_flags, dtype=bool).reshape(-1, 2)
    one_way, backwards = flags[w, 0], flags[w, 1]
    # one-way against the node order: the edge runs b -> a
    fu = np.where(backwards, b, a)
    fv = np.where(backwards, a, b)
    two = ~one_way
    u = np.concatenate([fu, fv[two]])
    v = np.concatenate([fv, fu[two]])
    ww = np.concatenate([w, w[two]])
    rev = np.concatenate([np.zeros(len(fu), dtype=bool), np.ones(int(two.sum()), dtype=bool)])
    return u, v, ww, rev


def _assemble(ids, lons, lats, seg, way_attrs, node_tags, simplify):
    """Return the MultiDiGraph of the segments ``seg`` (arrays ``u``, ``v``, ``w``, ``rev``, ``length``;
    emptied as they are used), simplified if asked, nodes in id order. ``way_attrs`` is emptied too."""
    from routemap.network.simplify import simplify_segments, street_counts

    u, v = seg.pop("u"), seg.pop("v")
    used = unique(np.concatenate([u, v]))
    at = np.searchsorted(ids, used)
    xs, ys = lons[at], lats[at]
    del at
    # forward edges of each way before its reverse edges, as osmnx adds them
    w, rev = seg.pop("w"), seg.pop("rev")
    order = np.lexsort((rev, w))
    iu = np.searchsorted(used, u[order])
    iv = np.searchsorted(used, v[order])
    del u, v
    w, rev, length = w[order], rev[order], seg.pop("length")[order]
    del order
    if simplify:
        kept, (eu, ev, datas) = simplify_segments(xs, ys, iu, iv, w, rev, length, way_attrs)
    else:
        kept = np.ones(len(used), dtype=bool)
        eu, ev = iu, iv
        datas = [
            EdgeData(way_attrs[k], reversed=r, length=d)
            for k, r, d in zip(w.tolist(), rev.tolist(), length.tolist())
        ]
    del iu, iv, w, rev, length
    way_attrs.clear()  # every edge holds its own copy
    # explicit keys: the n-th edge between the same (u, v) gets key n, as networkx numbers them
    keys = _occurrence(eu * np.int64(len(used)) + ev)
    G = nx.MultiDiGraph()
    node_ids = used.tolist()
    count = street_counts(eu, ev, keys, len(used)).tolist() if simplify else None
    _add_nodes_fast(G, node_ids, kept, xs, ys, node_tags, count)
    _add_edges_fast(G, node_ids, eu, ev, datas, keys.tolist())
    if simplify:
        G.graph["simplified"] = True
    return G


def _add_nodes_fast(G: nx.MultiDiGraph, node_ids: list[int], kept, xs, ys, node_tags, count) -> None:
    """Add the ``kept`` nodes with ``x``, ``y`` (tags, ``street_count``) to an empty ``G``, in order.

    Fills networkx's node and adjacency dicts as ``add_nodes_from`` does, without its per-node checks.
    """
    node, succ, pred = G._node, G._succ, G._pred
    for i, x, y in zip(np.flatnonzero(kept).tolist(), xs[kept].tolist(), ys[kept].tolist()):
        n = node_ids[i]
        attrs = {"y": y, "x": x}
        if node_tags:
            tags = node_tags.get(n)
            if tags:
                attrs.update((k, tags[k]) for k in NODE_TAGS if k in tags)
        if count is not None:
            attrs["street_count"] = count[i]
        node[n] = attrs
        succ[n] = {}
        pred[n] = {}


#: Edges added per chunk by :func:`_add_edges_fast`.
_EDGE_CHUNK = 100_000


def _add_edges_fast(
    G: nx.MultiDiGraph, node_ids: list[int], eu: np.ndarray, ev: np.ndarray, datas, keys: list[int]
) -> None:
    """Add the edges ``eu[i] -> ev[i]`` (node indices) with ``datas[i]`` and ``keys[i]`` to ``G``, whose
    nodes already exist.

    Fills networkx's adjacency dicts as ``MultiDiGraph.add_edge`` does (one key dict shared by
    ``_succ[u][v]`` and ``_pred[v][u]``), without its per-edge view lookups, which dominate a large build.
    """
    succ, pred = G._succ, G._pred
    for lo in range(0, len(datas), _EDGE_CHUNK):  # in chunks: no two lists of millions of ints at once
        hi = lo + _EDGE_CHUNK
        for a, b, attrs, k in zip(eu[lo:hi].tolist(), ev[lo:hi].tolist(), datas[lo:hi], keys[lo:hi]):
            u, v = node_ids[a], node_ids[b]
            keydict = succ[u].get(v)
            if keydict is None:
                keydict = succ[u][v] = pred[v][u] = {}
            keydict[k] = attrs
    clear = getattr(nx, "_clear_cache", None)  # networkx >= 3.3 caches views
    if clear is not None:
        clear(G)


def _occurrence(codes: np.ndarray) -> np.ndarray:
    """Return, for each element, how many equal elements precede it."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    start = np.r_[0, np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1]
    run_start = np.repeat(start, np.diff(np.r_[start, len(codes)]))
    out = np.empty(len(codes), dtype=np.int64)
    out[order] = np.arange(len(codes)) - run_start
    return out


def _graph_meta(source: Mapping[str, Any] | None, network_type: str) -> dict[str, Any]:
    from importlib.metadata import version

    from routemap import __version__

    meta: dict[str, Any] = {"kind": None, "paths": [], "sha256": None, "osm_timestamp": None}
    meta.update(source or {})
    meta["network_type"] = network_type
    return {
        "crs": "epsg:4326",
        "created_date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        # the installed version without importing osmnx (and geopandas with it) into a bare load
        "created_with": f"routemap {__version__} (osmnx {version('osmnx')})",
        "routemap_source": meta,
    }


def _describe(source: Mapping[str, Any] | None) -> str:
    if not source:
        return "the input"
    paths = source.get("paths") or []
    if paths:
        return ", ".join(str(p) for p in paths)
    return str(source.get("kind") or "the input")
