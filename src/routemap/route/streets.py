"""Street names: matching what users write ("Wilshire Blvd & S Union Ave") to the edges' ``name`` tags.

Names are folded to lower-case words with abbreviations spelled out (St -> street, N -> north...), and
matched at three levels, strict to loose: the full name, the name without its direction words, the core
name without its street-type suffix.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from routemap._arrays import unique_index
from routemap.errors import UnknownPlaceError
from routemap.route.compile import CompiledGraph

# -- folding ----------------------------------------------------------------------------------
_DIRECTIONS = {
    "n": "north", "s": "south", "e": "east", "w": "west",
    "ne": "northeast", "nw": "northwest", "se": "southeast", "sw": "southwest",
}  # fmt: skip
_SUFFIXES = {
    "st": "street", "str": "street", "ave": "avenue", "av": "avenue", "blvd": "boulevard",
    "bl": "boulevard", "dr": "drive", "pl": "place", "rd": "road", "ln": "lane", "ct": "court",
    "pkwy": "parkway", "hwy": "highway", "sq": "square", "ter": "terrace", "cir": "circle",
    "fwy": "freeway", "expy": "expressway", "trl": "trail", "aly": "alley", "plz": "plaza",
    "wy": "way", "crt": "court", "hts": "heights",
}  # fmt: skip
_SUFFIX_WORDS = set(_SUFFIXES.values()) | {"way", "walk", "row", "mall", "path"}
_DIRECTION_WORDS = set(_DIRECTIONS.values())


def street_tokens(name: str) -> list[str]:
    """Return a street name's words, lower case, with abbreviations spelled out ("N Main St")."""
    words = re.sub(r"[^0-9a-z]+", " ", str(name).lower().replace("'", "")).split()
    out = []
    for i, w in enumerate(words):
        if w in _DIRECTIONS and (i == 0 or i == len(words) - 1):
            out.append(_DIRECTIONS[w])
        elif w == "st" and i < len(words) - 1:
            out.append("saint")  # "St Louis St"
        elif w == "mt":
            out.append("mount")
        else:
            out.append(_SUFFIXES.get(w, w))
    return out


def street_keys(name: str) -> list[str]:
    """Return a street name's match keys, strict to loose: full, without directions, core name."""
    words = street_tokens(name)
    if not words:
        return []
    no_dir = [
        w for i, w in enumerate(words) if not (w in _DIRECTION_WORDS and (i == 0 or i == len(words) - 1))
    ] or words  # noqa: E501
    core = no_dir[:-1] if len(no_dir) > 1 and no_dir[-1] in _SUFFIX_WORDS else no_dir
    return [" ".join(words), " ".join(no_dir), " ".join(core)]


@dataclass
class StreetIndex:
    """Street names of a compiled graph: per match level, key -> node indices; names as written."""

    nodes: list[dict[str, set[int]]]
    names: dict[str, str]
    node_names: dict[int, set[str]]


def street_index(cg: CompiledGraph) -> StreetIndex:
    """Return (and cache) the street-name index of ``cg``: the ``name`` tags of its edges."""
    hit = cg.cache.get("_streets")
    if hit is not None:
        return hit
    G = cg.graph
    levels: list[dict[str, set[int]]] = [defaultdict(set) for _ in range(3)]
    names: dict[str, str] = {}
    node_names: dict[int, set[str]] = defaultdict(set)
    first = unique_index(cg.eid)[1]
    rows, cols = cg.row[first], cg.col[first]
    for i, j, k in zip(rows.tolist(), cols.tolist(), cg.key[first].tolist()):
        value = G.edges[int(cg.node_ids[i]), int(cg.node_ids[j]), k].get("name")
        if value is None or (isinstance(value, float) and value != value):
            continue
        for name in value if isinstance(value, list) else [value]:
            keys = street_keys(str(name))
            if not keys:
                continue
            names.setdefault(keys[0], str(name))
            node_names[i].add(keys[0])
            node_names[j].add(keys[0])
            for level, key in enumerate(keys):
                levels[level][key].update((i, j))
    index = StreetIndex([dict(level) for level in levels], names, dict(node_names))
    cg.cache["_streets"] = index
    return index


def street_nodes(index: StreetIndex, text: str) -> list[set[int]]:
    """Return the node indices on the street ``text`` at each match level (strict to loose)."""
    keys = street_keys(text)
    return [index.nodes[level].get(key, set()) for level, key in enumerate(keys)]


def street_crossings(index: StreetIndex, text: str) -> list[str]:
    """Return the names (as written) of the other streets meeting the street ``text``, sorted."""
    found = next((nodes for nodes in street_nodes(index, text) if nodes), set())
    keys = street_keys(text)
    core = keys[2] if keys else ""
    out = set()
    for node in found:
        for key in index.node_names.get(node, ()):
            if street_keys(index.names[key])[2] != core:
                out.add(index.names[key])
    return sorted(out)


def close_names(text: str, names: Sequence[str], n: int = 5) -> list[str]:
    """Return up to ``n`` of ``names`` closest to ``text`` (difflib, case ignored)."""
    by_lower: dict[str, str] = {}
    for name in sorted(names):
        by_lower.setdefault(name.lower(), name)
    close = difflib.get_close_matches(str(text).lower(), list(by_lower), n=n, cutoff=0.5)
    return [by_lower[c] for c in close]


def resolve_intersection(cg: CompiledGraph, text: str, a: str, b: str) -> np.ndarray:
    """Return the node indices where streets ``a`` and ``b`` meet.

    Raises
    ------
    UnknownPlaceError
        A street name matches nothing, or the two streets do not meet; lists the closest names.
    """
    index = street_index(cg)
    found_a, found_b = street_nodes(index, a), street_nodes(index, b)
    for street, found in ((a, found_a), (b, found_b)):
        if not any(found):
            close = close_names(street, list(index.names.values()))
            hint = f"; closest street names: {', '.join(close)}" if close else ""
            raise UnknownPlaceError(f"no street named {street!r} in this network{hint}", close)
    for level in range(3):
        for la in range(level + 1):
            both = found_a[la] & found_b[level] | found_a[level] & found_b[la]
            if both:
                return np.array(sorted(both), dtype=np.int64)
    crossing = street_crossings(index, a)
    close = close_names(b, crossing) or crossing[:5]
    hint = f"; streets crossing {a} include: {', '.join(close)}" if close else ""
    suggestions = [f"{a} & {c}" for c in close]
    raise UnknownPlaceError(f"{a!r} and {b!r} do not meet in this network{hint}", suggestions)
