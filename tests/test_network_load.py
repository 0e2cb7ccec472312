"""load_network on tiny OSM files: formats, filters, cut ways, bbox, cache, bad inputs, CLI."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import pickle
from collections import Counter
from pathlib import Path

import networkx as nx
import osm_fixtures as fx
import osmnx as ox
import pytest

from routemap.cli import main
from routemap.errors import InputFileError, NetworkError
from routemap.network import cache, load_network, network_info


def _osmids(G) -> set[int]:
    out = set()
    for *_, d in G.edges(data=True):
        ids = d.get("osmid")
        out.update(ids if isinstance(ids, list) else [ids])
    return out


def _edge_lengths(G) -> Counter:
    return Counter((u, v, round(d["length"], 6)) for u, v, d in G.edges(data=True))


@pytest.fixture()
def scene(tmp_path) -> Path:
    return fx.write_osm_xml(tmp_path / "scene.osm")


@pytest.fixture()
def scene_pbf(tmp_path, scene) -> Path:
    import osmium

    path = tmp_path / "scene.osm.pbf"
    with osmium.SimpleWriter(str(path)) as writer:
        for obj in osmium.FileProcessor(str(scene)):
            writer.add(obj)
    return path


def test_run_keeps_sidewalk_separate_street_walk_drops_it(scene):
    run = load_network(scene, network_type="run")
    walk = load_network(scene, network_type="walk")
    assert fx.SEP_AVE in _osmids(run)
    assert fx.SEP_AVE not in _osmids(walk)
    assert {fx.FOOTWAY, fx.STEPS, fx.MAIN_ST, fx.CUT_ST, fx.ISLAND} <= _osmids(walk)


def test_drive_has_no_footway_or_steps_and_main_st_one_way(scene):
    G = load_network(scene, network_type="drive", simplify=False)
    assert not {fx.FOOTWAY, fx.STEPS} & _osmids(G)
    main_edges = sorted((u, v) for u, v, d in G.edges(data=True) if d["osmid"] == fx.MAIN_ST)
    assert main_edges == [(1, 2), (2, 3)]
    assert all(d["oneway"] for *_, d in G.edges(data=True) if d["osmid"] == fx.MAIN_ST)


def test_walk_uses_one_way_street_both_ways(scene):
    G = load_network(scene, network_type="walk", simplify=False)
    main_edges = sorted((u, v) for u, v, d in G.edges(data=True) if d["osmid"] == fx.MAIN_ST)
    assert main_edges == [(1, 2), (2, 1), (2, 3), (3, 2)]


def test_way_cut_at_boundary_is_kept_where_osmnx_raises(scene):
    with pytest.raises(ValueError, match="missing nodes"):
        ox.graph_from_xml(scene, bidirectional=True)
    G = load_network(scene, network_type="walk")
    cut = [(u, v, d) for u, v, d in G.edges(data=True) if d["osmid"] == fx.CUT_ST]
    assert sorted((u, v) for u, v, _ in cut) == [(3, 7), (7, 3)]
    u, v, d = next(e for e in cut if e[:2] == (3, 7))
    assert list(d["geometry"].coords) == [fx.NODES[n] for n in (3, 6, 7)]
    assert fx.MISSING_NODE not in G


def test_island_is_a_separate_component_and_info_reports_share(scene):
    G = load_network(scene, network_type="walk")
    comps = list(nx.strongly_connected_components(G))
    assert len(comps) == 2
    assert {20, 22} in comps
    info = network_info(G)
    assert info["nodes"] == len(G) and info["edges"] == G.number_of_edges()
    biggest = max(comps, key=len)
    assert info["largest_scc_nodes_share"] == pytest.approx(len(biggest) / len(G))
    assert info["osm_timestamp"] == "2024-05-01T00:00:00Z"
    assert info["street_km"] * 1000 == pytest.approx(
        sum(d["length"] for u, v, d in G.edges(data=True) if u < v)
    )
    assert list(info)[:9] == [
        "source",
        "nodes",
        "edges",
        "street_km",
        "street_mi",
        "bbox",
        "osm_timestamp",
        "largest_scc_nodes_share",
        "largest_scc_length_share",
    ]


def test_matches_osmnx_on_the_complete_walk_ways(tmp_path):
    keep = fx.complete_ways(fx.NODES, fx.WAYS)
    walk_ways = [w for w in keep if w[0] != fx.SEP_AVE]  # osmnx's walk filter drops it
    path = fx.write_osm_xml(tmp_path / "complete.osm", ways=walk_ways)
    expected = ox.graph_from_xml(path, bidirectional=True, retain_all=True)
    G = load_network(path, network_type="walk")
    # osmnx also keeps the file's nodes that no way uses; routemap's graph holds street nodes only
    assert set(G) == {n for n in expected if expected.degree(n)}
    assert _edge_lengths(G) == _edge_lengths(expected)
    drive_expected = ox.graph_from_xml(
        fx.write_osm_xml(tmp_path / "drive.osm", ways=[w for w in keep if w[0] == fx.MAIN_ST]),
        retain_all=True,
    )
    drive = load_network(tmp_path / "drive.osm", network_type="drive")
    assert _edge_lengths(drive) == _edge_lengths(drive_expected)


def test_every_file_format_gives_the_same_graph(tmp_path, scene, scene_pbf):
    reference = load_network(scene)
    gz = tmp_path / "scene.osm.gz"
    gz.write_bytes(gzip.compress(scene.read_bytes()))
    bz = tmp_path / "scene.osm.bz2"
    bz.write_bytes(bz2.compress(scene.read_bytes()))
    js = tmp_path / "scene.json"
    js.write_text(json.dumps(fx.overpass_json()))
    graphml = tmp_path / "scene.graphml"
    ox.save_graphml(reference, graphml)
    kinds = {}
    for path in (scene_pbf, gz, bz, js, graphml):
        G = load_network(path)
        kinds[path.name] = G.graph["routemap_source"]["kind"]
        assert set(G) == set(reference), path.name
        assert _edge_lengths(G) == _edge_lengths(reference), path.name
    assert kinds == {
        "scene.osm.pbf": "pbf",
        "scene.osm.gz": "osm-xml",
        "scene.osm.bz2": "osm-xml",
        "scene.json": "overpass-json",
        "scene.graphml": "graphml",
    }


def test_overpass_files_merge_newest_wins(tmp_path):
    old = fx.overpass_json(osm_base="2020-01-01T00:00:00Z")
    renamed = [(w, r, {**t, "name": "New Main St"} if w == fx.MAIN_ST else t) for w, r, t in fx.WAYS]
    new = fx.overpass_json(ways=renamed, osm_base="2025-01-01T00:00:00Z")
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    # the newer file first: order of the list must not matter, the timestamp does
    a.write_text(json.dumps(new))
    b.write_text(json.dumps(old))
    G = load_network([a, b], network_type="walk", simplify=False)
    names = {d.get("name") for *_, d in G.edges(data=True) if d["osmid"] == fx.MAIN_ST}
    assert names == {"New Main St"}
    assert G.graph["routemap_source"]["osm_timestamp"] == "2025-01-01T00:00:00Z"


def test_bbox_cuts_streets_and_empty_bbox_is_an_error(scene):
    G = load_network(scene, bbox=(-118.2505, 34.0445, -118.2475, 34.0455), simplify=False)
    assert set(G) == {1, 2, 3}
    with pytest.raises(NetworkError, match="no streets") as err:
        load_network(scene, bbox=(-118.20, 34.00, -118.19, 34.01))
    assert "\n" not in str(err.value)


def test_second_load_is_a_cache_hit_and_no_partial_cache(tmp_path, scene, monkeypatch):
    monkeypatch.setenv("ROUTEMAP_CACHE_DIR", str(tmp_path / "cache"))
    first = load_network(scene)
    hits = cache.STATS["hits"]
    second = load_network(scene)
    assert not first.graph["routemap_source"]["cache_hit"]
    assert second.graph["routemap_source"]["cache_hit"]
    assert cache.STATS["hits"] == hits + 1
    assert _edge_lengths(first) == _edge_lengths(second)
    files = list((tmp_path / "cache").rglob("*"))
    assert [p.suffix for p in files if p.is_file()] == [".pickle"]
    # the same file elsewhere is the same entry, credited to where it lies now
    moved = tmp_path / "elsewhere" / scene.name
    moved.parent.mkdir()
    moved.write_bytes(scene.read_bytes())
    third = load_network(moved)
    assert third.graph["routemap_source"]["cache_hit"]
    assert third.graph["routemap_source"]["paths"] == [str(moved)]
    # another network type is another entry
    load_network(scene, network_type="drive")
    assert len(list((tmp_path / "cache" / "networks").iterdir())) == 2

    # a failure while writing leaves no cache file behind
    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pickle, "dump", broken_dump)
    with pytest.raises(OSError):
        load_network(scene, network_type="bike")
    assert len(list((tmp_path / "cache" / "networks").iterdir())) == 2


def test_changed_file_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("ROUTEMAP_CACHE_DIR", str(tmp_path / "cache"))
    path = fx.write_osm_xml(tmp_path / "x.osm")
    load_network(path)
    fx.write_osm_xml(path, ways=[w for w in fx.WAYS if w[0] != fx.ISLAND])
    G = load_network(path)
    assert not G.graph["routemap_source"]["cache_hit"]
    assert 20 not in G


def _one_line_error(exc_type, *args, match=None, **kwargs):
    with pytest.raises(exc_type) as err:
        load_network(*args, **kwargs)
    message = str(err.value)
    assert "\n" not in message
    if match:
        assert match in message
    return message


def test_bad_inputs_are_one_line_errors(tmp_path, helsinki_pbf):
    missing = tmp_path / "nope.osm.pbf"
    _one_line_error(InputFileError, tmp_path / "no_suffix", match="does not exist")
    assert "nope.osm.pbf" in _one_line_error(InputFileError, missing, match="does not exist")
    truncated = tmp_path / "truncated.osm.pbf"
    truncated.write_bytes(helsinki_pbf.read_bytes()[:200_000])
    _one_line_error(InputFileError, truncated, match="truncated.osm.pbf")
    text = tmp_path / "text.osm.pbf"
    text.write_text("this is not a protobuf file\n" * 100)
    _one_line_error(InputFileError, text, match="text.osm.pbf")
    corrupt = tmp_path / "corrupt.osm.pbf"
    data = bytearray(helsinki_pbf.read_bytes())
    data[5000:6000] = os.urandom(1000)
    corrupt.write_bytes(bytes(data))
    _one_line_error(InputFileError, corrupt, match="corrupt.osm.pbf")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"elements": [')
    _one_line_error(InputFileError, bad_json, match="not valid JSON")
    other_json = tmp_path / "other.json"
    other_json.write_text('{"type": "FeatureCollection"}')
    _one_line_error(InputFileError, other_json, match="not an Overpass")
    bad_xml = tmp_path / "bad.osm"
    bad_xml.write_text("<osm><node id='1' lat='x'")
    _one_line_error(InputFileError, bad_xml, match="bad.osm")
    unknown = tmp_path / "streets.shp"
    unknown.write_text("x")
    _one_line_error(InputFileError, unknown, match="unknown kind")
    _one_line_error(NetworkError, helsinki_pbf, network_type="swim", match="unknown network type")


def test_cli_network_info(capsys, scene):
    assert main(["network", "info", str(scene), "-t", "walk"]) == 0
    out = capsys.readouterr().out
    assert "largest_scc_nodes_share" in out and "2024-05-01" in out


def test_cli_bad_input_prints_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_text("not a pbf")
    assert main(["network", "info", str(bad)]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "bad.osm.pbf" in err
    assert main(["network", "info", str(tmp_path / "missing.osm.pbf")]) != 0
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_way_redrawn_under_new_id_is_dropped_once(tmp_path):
    # old file: Main St as way 200 over nodes 1-2-3, and a parallel alley 15 m north (way 300)
    north = 15 / 111_195  # degrees of latitude for 15 m
    nodes_old = {**fx.NODES, 31: (-118.2500, 34.0450 + north), 33: (-118.2480, 34.0450 + north)}
    old_ways = [
        (200, [1, 2, 3], {"highway": "residential", "name": "Main St"}),
        (300, [31, 33], {"highway": "service", "name": "Main St Alley"}),
        (400, [3, 4], {"highway": "footway"}),
    ]
    # new file: Main St redrawn as way 201 over new nodes about 0.5 m south
    shift = 0.5 / 111_195
    nodes_new = {
        41: (-118.2500, 34.0450 - shift),
        42: (-118.2490, 34.0450 - shift),
        3: fx.NODES[3],
    }
    new_ways = [(201, [41, 42, 3], {"highway": "residential", "name": "Main St"})]
    a, b = tmp_path / "old.json", tmp_path / "new.json"
    a.write_text(json.dumps(fx.overpass_json(nodes_old, old_ways, {}, osm_base="2022-01-01T00:00:00Z")))
    b.write_text(json.dumps(fx.overpass_json(nodes_new, new_ways, {}, osm_base="2025-01-01T00:00:00Z")))
    G = load_network([a, b], network_type="walk", simplify=False)
    assert G.graph["routemap_source"]["redrawn_ways_dropped"] == [200]
    assert _osmids(G) == {201, 300, 400}


@pytest.mark.parametrize("network_type", ["walk", "drive"])
def test_street_length_counts_each_street_once_like_osmnx(helsinki_pbf, network_type):
    from routemap.network.info import street_length_m

    G = load_network(helsinki_pbf, network_type=network_type)
    expected = sum(d for *_, d in ox.convert.to_undirected(G).edges(data="length"))
    assert street_length_m(G) == pytest.approx(expected, rel=1e-9)
    assert network_info(G)["street_mi"] == pytest.approx(expected / 1609.344, rel=1e-9)


def test_damaged_cache_entry_is_rebuilt(tmp_path, scene, monkeypatch):
    monkeypatch.setenv("ROUTEMAP_CACHE_DIR", str(tmp_path / "cache"))
    first = load_network(scene)
    (entry,) = (tmp_path / "cache" / "networks").iterdir()
    entry.write_bytes(entry.read_bytes()[:100])
    again = load_network(scene)
    assert not again.graph["routemap_source"]["cache_hit"]
    assert _edge_lengths(again) == _edge_lengths(first)
    third = load_network(scene)
    assert third.graph["routemap_source"]["cache_hit"]
    geoms = {(u, v): d["geometry"].wkt for u, v, d in first.edges(data=True) if "geometry" in d}
    assert geoms == {(u, v): d["geometry"].wkt for u, v, d in third.edges(data=True) if "geometry" in d}


def test_tiles_go_through_the_builder_without_osm_ids(data_dir):
    from routemap.data import embedded_corridor_tiles

    mbtiles = embedded_corridor_tiles()
    if not mbtiles.exists():
        pytest.skip("the embedded corridor tiles are not built")
    bbox = (-118.2700, 34.0550, -118.2600, 34.0620)  # around MacArthur Park
    G = load_network(mbtiles, bbox=bbox)
    assert G.graph["routemap_source"]["kind"] == "mbtiles"
    assert len(G) > 100
    assert all(d.get("osmid") is None for *_, d in G.edges(data=True))
    xs = [d["x"] for _, d in G.nodes(data=True)]
    ys = [d["y"] for _, d in G.nodes(data=True)]
    assert bbox[0] <= min(xs) and max(xs) <= bbox[2] and bbox[1] <= min(ys) and max(ys) <= bbox[3]
    assert network_info(G)["street_km"] > 5


def test_cli_default_source_is_the_embedded_la_data(capsys, data_dir):
    from routemap.data import embedded_corridor_tiles, embedded_osm_pbf

    if not embedded_osm_pbf().exists():
        pytest.skip("data/osm/la_central.osm.pbf is not built")
    assert main(["network", "info", str(embedded_osm_pbf())]) == 0
    out = capsys.readouterr().out
    assert "la_central.osm.pbf" in out and "2025-04-04" in out
    # without a source: the data `routemap route` plans on by default (issue 14)
    assert main(["network", "info"]) == 0
    assert embedded_corridor_tiles().name in capsys.readouterr().out


def _same_graph(a: nx.MultiDiGraph, b: nx.MultiDiGraph) -> None:
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    ea = sorted(
        (
            (u, v, k, sorted((key, str(val)) for key, val in d.items()))
            for u, v, k, d in a.edges(keys=True, data=True)
        )
    )
    eb = sorted(
        (
            (u, v, k, sorted((key, str(val)) for key, val in d.items()))
            for u, v, k, d in b.edges(keys=True, data=True)
        )
    )
    assert ea == eb


def test_reader_bbox_gives_the_graph_of_the_whole_file_cut_to_it(helsinki_pbf):
    from routemap.network.build import graph_from_ways
    from routemap.network.osm import read_osm_file

    bbox = (24.93, 60.160, 24.95, 60.170)
    whole = read_osm_file(helsinki_pbf)
    part = read_osm_file(helsinki_pbf, bbox=bbox)
    # memory follows the bbox: far fewer ways and nodes are kept
    assert len(part[1]) < len(whole[1]) / 2 and len(part[0][0]) < len(whole[0][0]) / 2
    expected = graph_from_ways(whole[0], whole[1], bbox=bbox, node_tags=whole[2], source={"kind": "pbf"})
    got = load_network(helsinki_pbf, bbox=bbox, use_cache=False)
    assert len(got) > 100
    _same_graph(got, expected)


def test_reader_ways_are_the_osm_ways(helsinki_pbf):
    import osmium

    from routemap.network.osm import read_osm_file

    _, ways, _, _ = read_osm_file(helsinki_pbf)
    expected = {
        w.id: [n.ref for n in w.nodes]
        for w in osmium.FileProcessor(str(helsinki_pbf), osmium.osm.WAY)
        if "highway" in w.tags
    }
    got = {way_id: refs.tolist() for way_id, refs, tags in ways}
    assert got == expected
    assert all(tags["highway"] for _, _, tags in ways)
    assert ways[3][0] == list(ways)[3][0] and len(ways[1:4]) == 3


def _old_layout(payload: dict) -> bytes:
    """Return ``payload`` pickled as before EdgeData had ``__reduce__``: its items set one at a time."""
    import copyreg
    import io

    from routemap._edgedata import EdgeData

    class OldLayout(pickle.Pickler):
        def reducer_override(self, obj):
            if type(obj) is EdgeData:
                return copyreg.__newobj__, (EdgeData,), None, None, iter(dict(obj).items())
            return NotImplemented

    buf = io.BytesIO()
    OldLayout(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(payload)
    return buf.getvalue()


def test_entry_of_the_old_edge_layout_is_written_again_once(tmp_path, scene, monkeypatch):
    from routemap._edgedata import EdgeData

    monkeypatch.setenv("ROUTEMAP_CACHE_DIR", str(tmp_path / "cache"))
    first = load_network(scene)
    (entry,) = (tmp_path / "cache" / "networks").iterdir()
    entry.write_bytes(_old_layout(pickle.loads(entry.read_bytes())))
    upgrades, changes = cache.STATS["upgrades"], EdgeData.version
    second = load_network(scene)
    assert second.graph["routemap_source"]["cache_hit"]
    assert EdgeData.version > changes  # every item went through __setitem__
    assert cache.STATS["upgrades"] == upgrades + 1
    changes = EdgeData.version
    third = load_network(scene)
    assert third.graph["routemap_source"]["cache_hit"]
    assert EdgeData.version == changes and cache.STATS["upgrades"] == upgrades + 1
    assert all(type(d) is EdgeData for *_, d in third.edges(data=True))
    _same_graph(first, second)
    _same_graph(first, third)
