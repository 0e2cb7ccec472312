"""Read Overpass API JSON responses (one file, or several merged) into the builder's input."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from routemap.errors import InputFileError
from routemap.network.build import NODE_TAGS, gc_paused


def read_overpass_document(path: str | Path) -> dict[str, Any]:
    """Return the parsed Overpass JSON document at ``path`` (checked to hold an ``elements`` list).

    Raises
    ------
    InputFileError
        When the file is missing, not JSON, or not an Overpass response.
    """
    import orjson

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"Overpass JSON file {path} does not exist; check the path")
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise InputFileError(
            f"{path} is not valid JSON ({str(exc).splitlines()[0]}); re-download the Overpass response"
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("elements"), list):
        raise InputFileError(
            f"{path} is JSON but not an Overpass API response (no 'elements' list); "
            "give an Overpass JSON, OSM, GraphML or tiles source"
        )
    return doc


def osm_base(doc: dict[str, Any]) -> str | None:
    """Return the document's ``osm3s.timestamp_osm_base`` (when its OSM data was current), or None."""
    osm3s = doc.get("osm3s")
    return osm3s.get("timestamp_osm_base") if isinstance(osm3s, dict) else None


def merge_overpass(
    docs: Sequence[dict[str, Any]],
) -> tuple[dict[int, dict], dict[int, dict], dict[int, int], list[str | None]]:
    """Return ``(nodes, ways, way_rank, timestamps)`` merged by OSM id; the newest document's version wins.

    Parameters
    ----------
    docs
        Overpass documents; ordered by ``timestamp_osm_base`` before merging (a missing timestamp counts
        as oldest), so that an element present in several files is taken from the newest.

    Returns
    -------
    nodes, ways
        ``id -> element`` dicts.
    way_rank
        ``way id -> rank`` of the document it was taken from (0 = oldest).
    timestamps
        The documents' ``timestamp_osm_base`` values, oldest first.
    """
    order = sorted(range(len(docs)), key=lambda i: (osm_base(docs[i]) or "", i))
    nodes: dict[int, dict] = {}
    ways: dict[int, dict] = {}
    way_rank: dict[int, int] = {}
    for rank, i in enumerate(order):
        for el in docs[i]["elements"]:
            kind = el.get("type")
            if kind == "node":
                nodes[el["id"]] = el
            elif kind == "way":
                ways[el["id"]] = el
                way_rank[el["id"]] = rank
    return nodes, ways, way_rank, [osm_base(docs[i]) for i in order]


def redrawn_ways(
    nodes: dict[int, dict],
    ways: dict[int, dict],
    way_rank: dict[int, int],
    *,
    tolerance_m: float = 2.0,
    min_share: float = 0.9,
) -> list[int]:
    """Return the ids of ways an older file holds that a newer file redrew under other ids.

    A way taken from an older file (it is absent from every newer one) is a redrawn duplicate when at
    least ``min_share`` of its length lies within ``tolerance_m`` of ways taken from newer files that
    carry the same ``highway`` and ``name`` tags. Routing over both would count that stretch twice.

    Parameters
    ----------
    nodes, ways, way_rank
        As returned by :func:`merge_overpass`.
    tolerance_m
        Distance in metres within which two lines count as the same street.
    min_share
        Share of the older way's length that must be covered.

    Returns
    -------
    list of int
        Way ids, sorted.
    """
    import geopandas as gpd
    import shapely

    ids = [
        w
        for w, el in ways.items()
        if "highway" in (el.get("tags") or {})
        and all(n in nodes for n in el["nodes"])
        and len(el["nodes"]) >= 2
    ]
    if len({way_rank[w] for w in ids}) < 2:
        return []
    flat = [nodes[n] for w in ids for n in ways[w]["nodes"]]
    coords = np.array([(n["lon"], n["lat"]) for n in flat])
    sizes = [len(ways[w]["nodes"]) for w in ids]
    lines = gpd.GeoSeries(
        shapely.linestrings(coords, indices=np.repeat(np.arange(len(ids)), sizes)), crs="EPSG:4326"
    )
    lines = lines.to_crs(lines.estimate_utm_crs()).values
    rank = np.array([way_rank[w] for w in ids])
    src, dst = shapely.STRtree(lines).query(lines, predicate="dwithin", distance=tolerance_m)
    newer = rank[dst] > rank[src]
    src, dst = src[newer], dst[newer]
    key = [(ways[w]["tags"].get("highway"), ways[w]["tags"].get("name")) for w in ids]
    same = np.fromiter((key[a] == key[b] for a, b in zip(src, dst)), dtype=bool, count=len(src))
    src, dst = src[same], dst[same]
    out = []
    for i in np.unique(src):
        cover = shapely.union_all(shapely.buffer(lines[dst[src == i]], tolerance_m))
        length = shapely.length(lines[i])
        if length > 0 and shapely.length(shapely.intersection(lines[i], cover)) >= min_share * length:
            out.append(ids[i])
    return sorted(out)


def read_overpass_json(paths: str | Path | Sequence[str | Path]) -> tuple[tuple, list, dict, dict]:
    """Return ``(node_coords, ways, node_tags, meta)`` of one or several Overpass JSON files.

    Parameters
    ----------
    paths
        A file or a list of files; several are merged by (type, id), the newest
        ``timestamp_osm_base`` winning, and older ways redrawn under new ids are dropped.

    Returns
    -------
    node_coords
        ``(ids, lons, lats)`` arrays.
    ways
        ``[(way_id, node_ids, tags)]`` of the ways with a ``highway`` tag.
    node_tags
        Tags of tagged nodes (:data:`~routemap.network.build.NODE_TAGS` only).
    meta
        ``osm_timestamp``: the newest ``timestamp_osm_base``; ``osm_timestamps``: all of them;
        ``redrawn_ways_dropped``: ids of older ways a newer file redrew (see :func:`redrawn_ways`).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    with gc_paused():
        return _read(paths)


def _read(paths: Sequence[str | Path]) -> tuple[tuple, list, dict, dict]:
    docs = [read_overpass_document(p) for p in paths]
    nodes, ways, way_rank, stamps = merge_overpass(docs)
    dropped = redrawn_ways(nodes, ways, way_rank) if len(docs) > 1 else []
    for way_id in dropped:
        del ways[way_id]
    try:
        ids = np.fromiter(nodes.keys(), dtype=np.int64, count=len(nodes))
        lons = np.fromiter((n["lon"] for n in nodes.values()), dtype=float, count=len(nodes))
        lats = np.fromiter((n["lat"] for n in nodes.values()), dtype=float, count=len(nodes))
        way_list = [
            (w["id"], w["nodes"], w.get("tags") or {})
            for w in ways.values()
            if "highway" in (w.get("tags") or {})
        ]
    except (KeyError, TypeError) as exc:
        raise InputFileError(
            f"{', '.join(map(str, paths))}: an element lacks {exc}; give a complete Overpass JSON "
            "response (out body with node coordinates)"
        ) from exc
    node_tags = {}
    for nid, n in nodes.items():
        tags = n.get("tags")
        if tags:
            found = {k: tags[k] for k in NODE_TAGS if k in tags}
            if found:
                node_tags[nid] = found
    known = [s for s in stamps if s]
    meta = {
        "osm_timestamp": max(known) if known else None,
        "osm_timestamps": stamps,
        "redrawn_ways_dropped": dropped,
    }
    return (ids, lons, lats), way_list, node_tags, meta
