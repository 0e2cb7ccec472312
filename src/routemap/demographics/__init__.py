"""Neighborhoods and census figures: per neighborhood, and for the people living along a route.

- :mod:`.layers`: read neighborhood and tract layers, check them, find a neighborhood by name.
- :mod:`.interpolate`: areal interpolation of tract counts onto any polygons (tobler).
- :mod:`.exposure`: the neighborhoods a route passes, in order, and the people within a buffer.
- :mod:`.sources`: build the compact embedded LA layers from the published originals.
"""

from __future__ import annotations

from routemap.demographics.exposure import (
    OUTSIDE,
    RouteDemographics,
    merge_short_visits,
    route_demographics,
    route_neighborhood_visits,
)
from routemap.demographics.interpolate import FIGURE_FIELDS, interpolate_figures, neighborhood_demographics
from routemap.demographics.layers import ALIASES, find_neighborhood, load_neighborhoods, load_tracts

__all__ = [
    "ALIASES",
    "FIGURE_FIELDS",
    "OUTSIDE",
    "RouteDemographics",
    "find_neighborhood",
    "interpolate_figures",
    "load_neighborhoods",
    "load_tracts",
    "merge_short_visits",
    "neighborhood_demographics",
    "route_demographics",
    "route_neighborhood_visits",
]
