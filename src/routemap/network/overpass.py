"""Read Overpass API JSON responses (one file, or several merged) into the builder's input."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from routemap.errors import InputFileError
from routemap.network.build import NODE_TAGS


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


def merge_overpass(docs: Sequence[dict[str, Any]]) -> tuple[dict, dict, list[str | None]]:
    """Return ``(nodes, ways, timestamps)`` merged by OSM id; the newest document's version wins.

    Parameters
    ----------
    docs
        Overpass documents; ordered by ``timestamp_osm_base`` before merging (a missing timestamp counts
        as oldest), so that an element present in several files is taken from the newest.

    Returns
    -------
    nodes, ways
        ``id -> element`` dicts.
    timestamps
        The documents' ``timestamp_osm_base`` values, oldest first.
    """
    order = sorted(range(len(docs)), key=lambda i: (osm_base(docs[i]) or "", i))
    nodes: dict[int, dict] = {}
    ways: dict[int, dict] = {}
    for i in order:
        for el in docs[i]["elements"]:
            kind = el.get("type")
            if kind == "node":
                nodes[el["id"]] = el
            elif kind == "way":
                ways[el["id"]] = el
    return nodes, ways, [osm_base(docs[i]) for i in order]


def read_overpass_json(paths: str | Path | Sequence[str | Path]) -> tuple[tuple, list, dict, dict]:
    """Return ``(node_coords, ways, node_tags, meta)`` of one or several Overpass JSON files.

    Parameters
    ----------
    paths
        A file or a list of files; several are merged by (type, id), the newest
        ``timestamp_osm_base`` winning.

    Returns
    -------
    node_coords
        ``(ids, lons, lats)`` arrays.
    ways
        ``[(way_id, node_ids, tags)]`` of the ways with a ``highway`` tag.
    node_tags
        Tags of tagged nodes (:data:`~routemap.network.build.NODE_TAGS` only).
    meta
        ``osm_timestamp``: the newest ``timestamp_osm_base``; ``osm_timestamps``: all of them.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    docs = [read_overpass_document(p) for p in paths]
    nodes, ways, stamps = merge_overpass(docs)
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
    meta = {"osm_timestamp": max(known) if known else None, "osm_timestamps": stamps}
    return (ids, lons, lats), way_list, node_tags, meta
