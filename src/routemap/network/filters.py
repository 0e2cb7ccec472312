"""Which OSM ways belong to a network type: osmnx's own Overpass filters, turned into predicates.

osmnx describes each network type as an Overpass QL tag filter (``osmnx._overpass._get_network_filter``),
e.g. ``["highway"]["area"!~"yes"]["foot"!~"no"]``. This module parses that string, so a local file is
filtered exactly as an Overpass query with the same filter would be. Overpass semantics:

- ``["k"]``: the way has key ``k``;
- ``["k"~"re"]``: it has ``k`` and its value matches ``re`` (unanchored, case-sensitive);
- ``["k"!~"re"]``: it lacks ``k`` or its value does not match ``re``.

``"run"`` is osmnx's walk filter without the ``sidewalk*=separate`` clauses: a street whose sidewalks are
mapped as separate ways is still a street a closed-road run uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from routemap.errors import NetworkError

#: Network types routemap understands; all but ``run`` are osmnx's.
NETWORK_TYPES = ("run", "walk", "drive", "bike", "all")
#: Network types whose ways are usable both ways regardless of ``oneway`` (osmnx's rule).
BIDIRECTIONAL_TYPES = frozenset({"run", "walk"})

#: osmnx's Overpass filters (``osmnx._overpass._get_network_filter``, osmnx 2.1), copied so that reading a
#: file never imports osmnx (and geopandas, pandas, pyproj with it: about 230 MB, half the memory of a small
#: bbox load); tests/test_network_filters.py checks that they are still the installed osmnx's.
OSMNX_FILTERS: dict[str, str] = {
    "walk": (
        '["highway"]["area"!~"yes"]["access"!~"private"]["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway|razed|rest_area|services"]["foot"!~"no"]["service"!~"private"]["sidewalk"!~"separate"]["sidewalk:both"!~"separate"]["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]'
    ),
    "drive": (
        '["highway"]["area"!~"yes"]["access"!~"private"]["highway"!~"abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|service|services|steps|track"]["motor_vehicle"!~"no"]["motorcar"!~"no"]["service"!~"alley|driveway|emergency_access|parking|parking_aisle|private"]'
    ),
    "bike": (
        '["highway"]["area"!~"yes"]["access"!~"private"]["highway"!~"abandoned|bus_guideway|construction|corridor|elevator|escalator|footway|motor|no|planned|platform|proposed|raceway|razed|rest_area|services|steps"]["bicycle"!~"no"]["service"!~"private"]'
    ),
    "all": (
        '["highway"]["area"!~"yes"]["highway"!~"abandoned|construction|no|planned|platform|proposed|raceway|razed|rest_area|services"]'
    ),
}

_CLAUSE = re.compile(r'\["(?P<key>[^"]+)"(?:(?P<op>!~|~|!=|=)"(?P<value>[^"]*)")?\]')


@dataclass(frozen=True)
class Clause:
    """One Overpass tag clause: ``key`` with an operator (``has``, ``~``, ``!~``, ``=``, ``!=``)."""

    key: str
    op: str
    value: str | None = None

    def matches(self, tags: Mapping[str, str]) -> bool:
        """Return whether ``tags`` satisfy this clause (Overpass semantics)."""
        value = tags.get(self.key)
        if self.op == "has":
            return value is not None
        if self.op == "~":
            return value is not None and _regex(self.value).search(value) is not None
        if self.op == "!~":
            return value is None or _regex(self.value).search(value) is None
        if self.op == "=":
            return value == self.value
        return value != self.value  # "!="


@lru_cache(maxsize=64)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def parse_overpass_filter(text: str) -> tuple[Clause, ...]:
    """Return the clauses of an Overpass QL tag filter such as ``["highway"]["area"!~"yes"]``.

    Parameters
    ----------
    text
        The filter, a run of ``["key"]``, ``["key"~"re"]``, ``["key"!~"re"]`` (and ``=``/``!=``) clauses.

    Returns
    -------
    tuple of Clause
        The clauses, all of which a way must satisfy.
    """
    clauses = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _CLAUSE.match(text, pos)
        if m is None:
            raise NetworkError(
                f"cannot read the Overpass filter at {text[pos : pos + 30]!r}; write clauses like "
                '["highway"]["area"!~"yes"]'
            )
        op = m.group("op") or "has"
        clauses.append(Clause(m.group("key"), op, m.group("value")))
        pos = m.end()
    return tuple(clauses)


@lru_cache(maxsize=16)
def network_clauses(network_type: str) -> tuple[Clause, ...]:
    """Return the tag clauses of ``network_type`` (from osmnx's filter of the same name, :data:`OSMNX_FILTERS`).

    Parameters
    ----------
    network_type
        One of ``run``, ``walk``, ``drive``, ``bike``, ``all``.

    Returns
    -------
    tuple of Clause
    """
    if network_type not in NETWORK_TYPES:
        raise NetworkError(f"unknown network type {network_type!r}; use one of {', '.join(NETWORK_TYPES)}")
    base = "walk" if network_type == "run" else network_type
    clauses = parse_overpass_filter(OSMNX_FILTERS[base])
    if network_type == "run":
        clauses = tuple(c for c in clauses if not c.key.startswith("sidewalk"))
    return clauses


def overpass_filter(network_type: str) -> str:
    """Return the Overpass QL filter string of ``network_type`` (for osmnx's ``custom_filter``)."""
    parts = []
    for c in network_clauses(network_type):
        parts.append(f'["{c.key}"]' if c.op == "has" else f'["{c.key}"{c.op}"{c.value}"]')
    return "".join(parts)


def way_filter(network_type: str) -> Callable[[Mapping[str, str]], bool]:
    """Return a predicate ``tags -> bool`` that keeps the ways of ``network_type``.

    Parameters
    ----------
    network_type
        One of ``run``, ``walk``, ``drive``, ``bike``, ``all``.

    Returns
    -------
    callable
        ``keep(tags)`` is True when a way with these tags belongs to the network.
    """
    clauses = network_clauses(network_type)
    keys = tuple(sorted({c.key for c in clauses}))
    # Ways repeat a few tag combinations (highway=footway, ...): decide each combination once.
    seen: dict[tuple, bool] = {}

    def keep(tags: Mapping[str, str]) -> bool:
        combo = tuple(map(tags.get, keys))
        verdict = seen.get(combo)
        if verdict is None:
            verdict = seen[combo] = all(c.matches(tags) for c in clauses)
        return verdict

    return keep


def filter_keys(network_type: str) -> frozenset[str]:
    """Return the tag keys the filter of ``network_type`` looks at."""
    return frozenset(c.key for c in network_clauses(network_type))
