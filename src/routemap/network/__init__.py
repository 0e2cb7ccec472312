"""Street networks: OSM sources -> osmnx-compatible ``MultiDiGraph``, cache, summary.

Public: :func:`load_network`, :func:`bbox_for_route`, :func:`network_info`, :func:`graph_from_ways` (the common builder every
source goes through), :func:`way_filter`.
"""

from __future__ import annotations

from routemap.network.build import BUILDER_VERSION, graph_from_ways
from routemap.network.filters import NETWORK_TYPES, way_filter
from routemap.network.info import network_info
from routemap.network.load import load_network
from routemap.network.reach import bbox_for_route

__all__ = [
    "BUILDER_VERSION",
    "bbox_for_route",
    "NETWORK_TYPES",
    "graph_from_ways",
    "load_network",
    "network_info",
    "way_filter",
]
