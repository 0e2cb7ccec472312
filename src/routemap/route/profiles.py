"""Routing profiles: cost multipliers per OSM ``highway`` class.

An edge's routing cost is its length in metres times the multiplier of its ``highway`` class (the mean of
the multipliers when a simplified edge carries several classes). A multiplier below 1 makes a class
attractive, above 1 repels it; lengths themselves (and the target length) are always real metres.

========================  =====  =====  ========
highway                   run    march  shortest
========================  =====  =====  ========
footway, path             0.80   1.60   1.0
pedestrian                0.80   0.90   1.0
living_street             0.85   1.20   1.0
residential               0.90   1.10   1.0
track                     0.90   2.00   1.0
cycleway                  1.00   1.50   1.0
unclassified, road        1.00   1.10   1.0
tertiary                  1.00   0.85   1.0
secondary                 1.10   0.75   1.0
primary                   1.25   0.70   1.0
\\*_link (prim./sec./ter.) 1.50   1.50   1.0
service, busway           1.20   1.50   1.0
corridor                  1.50   3.00   1.0
steps                     2.00   3.00   1.0
trunk, trunk_link         6.00   6.00   1.0
motorway, motorway_link   25.0   25.0   1.0
(any other class)         1.10   1.20   1.0
========================  =====  =====  ========

``run`` prefers footways, paths, pedestrian streets and quiet residential streets (park paths are footways
and paths in OSM) and avoids motorways, trunk roads and their links; ``march`` prefers wide main streets
where a crowd is seen (primary, secondary, tertiary) and avoids motorways and trunks; ``shortest`` weighs
every class alike. A user's ``weights`` dict overrides single classes of the chosen profile; its
``"default"`` key sets the multiplier of classes the table does not name.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from routemap.errors import RoutemapError

_DEFAULT = "default"

PROFILES: dict[str, dict[str, float]] = {
    "run": {
        "footway": 0.8,
        "path": 0.8,
        "pedestrian": 0.8,
        "living_street": 0.85,
        "residential": 0.9,
        "track": 0.9,
        "cycleway": 1.0,
        "unclassified": 1.0,
        "road": 1.0,
        "tertiary": 1.0,
        "secondary": 1.1,
        "primary": 1.25,
        "primary_link": 1.5,
        "secondary_link": 1.5,
        "tertiary_link": 1.5,
        "service": 1.2,
        "busway": 1.2,
        "corridor": 1.5,
        "steps": 2.0,
        "trunk": 6.0,
        "trunk_link": 6.0,
        "motorway": 25.0,
        "motorway_link": 25.0,
        _DEFAULT: 1.1,
    },
    "march": {
        "footway": 1.6,
        "path": 1.6,
        "pedestrian": 0.9,
        "living_street": 1.2,
        "residential": 1.1,
        "track": 2.0,
        "cycleway": 1.5,
        "unclassified": 1.1,
        "road": 1.1,
        "tertiary": 0.85,
        "secondary": 0.75,
        "primary": 0.7,
        "primary_link": 1.5,
        "secondary_link": 1.5,
        "tertiary_link": 1.5,
        "service": 1.5,
        "busway": 1.5,
        "corridor": 3.0,
        "steps": 3.0,
        "trunk": 6.0,
        "trunk_link": 6.0,
        "motorway": 25.0,
        "motorway_link": 25.0,
        _DEFAULT: 1.2,
    },
    "shortest": {_DEFAULT: 1.0},
}


def profile_weights(profile: str = "run", weights: Mapping[str, float] | None = None) -> dict[str, float]:
    """Return the multiplier table of ``profile`` with the user's ``weights`` laid over it.

    Parameters
    ----------
    profile : str
        ``"run"``, ``"march"`` or ``"shortest"``.
    weights : mapping of str to float, optional
        Multipliers per ``highway`` class overriding the profile's (key ``"default"`` for the rest).

    Returns
    -------
    dict
        ``highway`` class -> multiplier, always with a ``"default"`` entry.
    """
    if profile not in PROFILES:
        raise RoutemapError(f"profile {profile!r} is not known; use one of {', '.join(sorted(PROFILES))}")
    table = dict(PROFILES[profile])
    for key, value in (weights or {}).items():
        try:
            value = float(value)
        except (TypeError, ValueError):
            value = float("nan")
        if not np.isfinite(value) or value <= 0:
            raise RoutemapError(
                f"weight {value!r} for highway {key!r} is not a positive number; give multipliers above zero"
            )
        table[str(key)] = value
    table.setdefault(_DEFAULT, 1.0)
    return table


def edge_multiplier(highway: object, table: Mapping[str, float]) -> float:
    """Return the cost multiplier of an edge whose ``highway`` tag is ``highway`` (str or list)."""
    default = table[_DEFAULT]
    if isinstance(highway, (list, tuple, set)):
        values = [table.get(str(h), default) for h in highway]
        return float(np.mean(values)) if values else default
    if highway is None:
        return default
    return float(table.get(str(highway), default))
