"""Online sources through osmnx: a place name, a point with a radius, or a bbox (Overpass + Nominatim).

osmnx does the downloading and keeps its own response cache (``osmnx.settings.use_cache``); routemap passes
its network filter as osmnx's ``custom_filter`` so the graph matches what a local file would give.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from routemap.errors import NetworkError, OfflineError
from routemap.network.filters import BIDIRECTIONAL_TYPES, overpass_filter


def graph_online(
    source: Any,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    network_type: str = "run",
    simplify: bool = True,
    dist: float = 1000.0,
) -> nx.MultiDiGraph:
    """Return the street graph of a place name, a ``(lat, lon)`` point or a bbox, downloaded by osmnx.

    Parameters
    ----------
    source
        A place name (geocoded by Nominatim), a ``(lat, lon)`` tuple, or None (then ``bbox`` is needed).
    bbox
        ``(west, south, east, north)``: the area when ``source`` is None.
    network_type
        routemap network type; its filter is osmnx's ``custom_filter``.
    simplify
        Simplify the topology (osmnx).
    dist
        Radius in metres around a point.

    Returns
    -------
    networkx.MultiDiGraph

    Raises
    ------
    NetworkError
        The place is unknown or has no streets.
    OfflineError
        Overpass or Nominatim cannot be reached.
    """
    import osmnx as ox
    import requests

    # osmnx makes walk-like networks bidirectional by their network_type name
    ox_type = "walk" if network_type in BIDIRECTIONAL_TYPES else network_type
    options: dict[str, Any] = dict(
        network_type=ox_type,
        custom_filter=overpass_filter(network_type),
        simplify=simplify,
        retain_all=True,
    )
    try:
        if source is None:
            if bbox is None:
                raise NetworkError("no source given; give a file, a place name, a (lat, lon) point or a bbox")
            G = ox.graph_from_bbox(bbox, truncate_by_edge=True, **options)
            where = f"bbox {bbox}"
        elif isinstance(source, tuple):
            G = ox.graph_from_point(source, dist=dist, dist_type="bbox", **options)
            where = f"{dist:g} m around {source}"
        else:
            G = ox.graph_from_place(str(source), **options)
            where = repr(str(source))
    except (ox._errors.InsufficientResponseError, ValueError, TypeError) as exc:
        raise NetworkError(
            f"no streets of network type {network_type!r} found online for "
            f"{source if source is not None else bbox} ({' '.join(str(exc).split())[:120]}); "
            "check the name or the area"
        ) from exc
    except requests.exceptions.RequestException as exc:
        raise OfflineError(
            f"cannot reach Overpass/Nominatim ({type(exc).__name__}); use a local file instead"
        ) from exc
    if bbox is not None and source is not None:
        from osmnx import truncate

        G = truncate.truncate_graph_bbox(G, bbox, truncate_by_edge=True)
    if len(G.edges) == 0:
        raise NetworkError(f"no streets of network type {network_type!r} in {where}")
    G.graph["routemap_source"] = {
        "kind": "online",
        "paths": [],
        "sha256": None,
        "osm_timestamp": None,
        "query": where,
        "network_type": network_type,
        "overpass_url": ox.settings.overpass_url,
        "cache_hit": False,
    }
    return G
