"""Tiny OSM files for the network tests, written by code so every case is visible here.

The scene (a few blocks near 5th St & Main St, Los Angeles; lon, lat):

    1 --- 2 --- 3 ---- 6 ---- 7 ---- (99: outside the file, the way is cut there)
    |  Main St one-way 1->2->3   Cut St 3-6-7-99
    8  Sep Ave 1-8 (sidewalk=separate: kept by run, dropped by walk)
          3 -- 4 footway, 4 -- 5 steps
    20 -- 21 -- 22: Island Rd, not connected to the rest
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

NODES: dict[int, tuple[float, float]] = {
    1: (-118.2500, 34.0450),
    2: (-118.2490, 34.0450),
    3: (-118.2480, 34.0450),
    4: (-118.2480, 34.0460),
    5: (-118.2480, 34.0465),
    6: (-118.2470, 34.0450),
    7: (-118.2460, 34.0450),
    8: (-118.2500, 34.0440),
    20: (-118.2400, 34.0500),
    21: (-118.2390, 34.0500),
    22: (-118.2380, 34.0505),
}
NODE_TAGS = {3: {"highway": "traffic_signals"}}

MAIN_ST = 100
FOOTWAY = 101
STEPS = 102
CUT_ST = 103
ISLAND = 104
SEP_AVE = 105
WAYS: list[tuple[int, list[int], dict[str, str]]] = [
    (MAIN_ST, [1, 2, 3], {"highway": "residential", "name": "Main St", "oneway": "yes"}),
    (FOOTWAY, [3, 4], {"highway": "footway"}),
    (STEPS, [4, 5], {"highway": "steps"}),
    (CUT_ST, [3, 6, 7, 99], {"highway": "residential", "name": "Cut St"}),
    (ISLAND, [20, 21, 22], {"highway": "residential", "name": "Island Rd"}),
    (SEP_AVE, [1, 8], {"highway": "primary", "name": "Sep Ave", "sidewalk": "separate"}),
]
#: The node a way references but the file lacks (a way cut at the extract boundary).
MISSING_NODE = 99


def write_osm_xml(
    path: str | Path,
    nodes: Mapping[int, tuple[float, float]] = NODES,
    ways: Iterable[tuple[int, Sequence[int], Mapping[str, str]]] = WAYS,
    node_tags: Mapping[int, Mapping[str, str]] = NODE_TAGS,
    *,
    osm_base: str | None = "2024-05-01T00:00:00Z",
) -> Path:
    """Write an OSM XML file (API 0.6) of ``nodes`` and ``ways`` and return its path."""
    path = Path(path)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="routemap-tests">']
    if osm_base:
        lines.append(f'  <meta osm_base="{osm_base}"/>')
    for nid, (lon, lat) in nodes.items():
        tags = node_tags.get(nid, {})
        attrs = f'id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"'
        if tags:
            lines.append(f"  <node {attrs}>")
            lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
            lines.append("  </node>")
        else:
            lines.append(f"  <node {attrs}/>")
    for wid, refs, tags in ways:
        lines.append(f'  <way id="{wid}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def overpass_json(
    nodes: Mapping[int, tuple[float, float]] = NODES,
    ways: Iterable[tuple[int, Sequence[int], Mapping[str, str]]] = WAYS,
    node_tags: Mapping[int, Mapping[str, str]] = NODE_TAGS,
    *,
    osm_base: str = "2024-05-01T00:00:00Z",
) -> dict:
    """Return the scene as an Overpass API JSON document."""
    elements = []
    for nid, (lon, lat) in nodes.items():
        el = {"type": "node", "id": nid, "lat": lat, "lon": lon}
        if nid in node_tags:
            el["tags"] = dict(node_tags[nid])
        elements.append(el)
    for wid, refs, tags in ways:
        elements.append({"type": "way", "id": wid, "nodes": list(refs), "tags": dict(tags)})
    return {
        "version": 0.6,
        "generator": "routemap-tests",
        "osm3s": {"timestamp_osm_base": osm_base, "copyright": "test data"},
        "elements": elements,
    }


def complete_ways(
    nodes: Mapping[int, object], ways: Iterable[tuple[int, Sequence[int], Mapping[str, str]]]
) -> list[tuple[int, Sequence[int], Mapping[str, str]]]:
    """Return the ways whose every node is present (what osmnx can read)."""
    return [w for w in ways if all(r in nodes for r in w[1])]


def pbf_to_osm_xml(src: str | Path, dst: str | Path, keep_way=None) -> tuple[Path, int]:
    """Convert an OSM file to OSM XML keeping nodes and the ``highway`` ways that reference only present
    nodes (and pass ``keep_way(tags)`` if given); return ``(dst, ways_dropped_for_missing_nodes)``."""
    import osmium

    node_ids = set()
    coords: dict[int, tuple[float, float]] = {}
    tags_of: dict[int, dict[str, str]] = {}
    ways = []
    for obj in osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY):
        if obj.is_node():
            node_ids.add(obj.id)
            coords[obj.id] = (obj.location.lon, obj.location.lat)
            if len(obj.tags):
                tags_of[obj.id] = {t.k: t.v for t in obj.tags}
        elif "highway" in obj.tags:
            tags = {t.k: t.v for t in obj.tags}
            if keep_way is None or keep_way(tags):
                ways.append((obj.id, [n.ref for n in obj.nodes], tags))
    complete = [w for w in ways if all(r in node_ids for r in w[1])]
    write_osm_xml(dst, coords, complete, tags_of, osm_base=None)
    return Path(dst), len(ways) - len(complete)
