"""Street networks: OSM sources -> osmnx-compatible ``MultiDiGraph``, cache, summary.

Public: :func:`load_network`, :func:`network_info`, :func:`graph_from_ways` (the common builder).
"""

from __future__ import annotations

from routemap.network.build import BUILDER_VERSION, graph_from_ways
from routemap.network.filters import NETWORK_TYPES, way_filter

__all__ = ["BUILDER_VERSION", "NETWORK_TYPES", "graph_from_ways", "way_filter"]
