"""What a route measures beyond its length: turns, major-street crossings, shares by street class.

Turns
-----
A *turn* is a cue of the route's cue sheet (:mod:`routemap.route.cues`) that asks the runner to turn:
a point where the route changes street and its heading changes by :data:`STRAIGHT_DEG` degrees or more.
"Changes street" is read as the cue sheet reads it: street names folded (case, a leading N/S/E/W), an
unnamed sidewalk or service way takes the name of the parallel street it runs beside (within 30 m),
and a stretch shorter than 40 m (a crosswalk, a curb cut) folds into the stretch before it, so the
jog across a street between two sidewalks is no turn. The heading is measured over 12 m of the route
either side of the change. A change of street straight on (heading within ``STRAIGHT_DEG``) is no
turn: the runner does nothing. The start and the finish are no turns.

These are the figures :func:`routemap.compare.compare_routes` reports and :attr:`Route.turns` holds;
the planner's own turn cost (:mod:`routemap.route.turncost`) is a fast stand-in measured on the graph.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: Street classes of the comparison table, from OSM ``highway`` values (``*_link`` counts as its road).
STREET_CLASSES = {
    "footway": {"footway", "path", "pedestrian", "steps", "cycleway", "track", "bridleway", "corridor"},
    "residential": {"residential", "living_street", "unclassified", "road"},
    "service": {"service"},
    "tertiary": {"tertiary"},
    "secondary": {"secondary"},
    "primary": {"primary", "trunk", "motorway"},
}
#: ``highway`` values of the streets whose crossing counts as a major crossing.
MAJOR = {"primary", "secondary", "trunk", "primary_link", "secondary_link", "trunk_link"}
#: A change of heading below this (degrees) is "straight on" (the cue sheet's own threshold).
STRAIGHT_DEG = 20.0
#: Cue-sheet labels that are not turns.
NOT_TURNS = ("depart", "arrive", "straight")


def street_class(highway: str) -> str:
    """Return the street class (a key of :data:`STREET_CLASSES`, or ``"other"``) of a ``highway`` value."""
    base = highway.removesuffix("_link")
    for cls, values in STREET_CLASSES.items():
        if base in values:
            return cls
    return "other"


def street_class_shares(route: Any) -> dict[str, float]:
    """Return the share (0-1) of ``route``'s length on each street class, every class present (and other)."""
    gdf = route.to_gdf()
    by = gdf.groupby(gdf["highway"].map(street_class))["length_m"].sum()
    total = route.length_m
    return {cls: (float(by.get(cls, 0.0)) / total if total else 0.0) for cls in [*STREET_CLASSES, "other"]}


def major_crossings(route: Any) -> int:
    """Return the route nodes where it meets a primary/secondary/trunk street it does not follow."""
    G = route.graph
    used = {(min(u, v), max(u, v)) for u, v, _ in route.edges}
    count = 0
    for n in route.nodes[1:-1]:
        for u, v, d in list(G.out_edges(n, data=True)) + list(G.in_edges(n, data=True)):
            hw = d.get("highway")
            hws = set(hw) if isinstance(hw, list) else {hw}
            if hws & MAJOR and (min(u, v), max(u, v)) not in used:
                count += 1
                break
    return count


def count_turns(cues: pd.DataFrame) -> int:
    """Return the turns of a cue sheet (rows whose ``turn`` is not depart, arrive or straight)."""
    return int((~cues["turn"].isin(NOT_TURNS)).sum())


def route_turns(route: Any) -> int:
    """Return the turns of ``route`` (see the module docstring)."""
    return count_turns(route.cue_sheet())
