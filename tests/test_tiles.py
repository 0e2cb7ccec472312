"""Street networks from vector tiles (folder and MBTiles), checked against real OSM and by hand."""

from __future__ import annotations

import gzip
import sqlite3
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiLineString

from routemap import data, load_network
from routemap.errors import InputFileError
from routemap.network.tiles import EXTENT, _FolderTiles, _MBTiles, load_tile_ways, tiles_for_bbox
from routemap.network.tiles_pbf import keep_layers, layer_names
from routemap.network.tiles_topology import (
    highway_tag,
    join_cut_points,
    pixels_to_lonlat,
    street_ways,
)

Z = 14
MAIN_CLASSES = ("primary", "secondary", "tertiary", "residential")
DOWNTOWN_JSON = "overpass_walk_downtown_la_2023-01-04.json"


@pytest.fixture(scope="session")
def corridor() -> Path:
    path = data.embedded_corridor_tiles()
    if not path.exists():
        pytest.skip(f"embedded corridor tiles missing at {path}; run scripts/build_corridor_data.py")
    return path


@pytest.fixture(scope="session")
def shared_tiles(shared_la) -> Path:
    return shared_la / "osm" / "tiles"


@pytest.fixture(scope="session")
def corridor_ways(corridor):
    return load_tile_ways(corridor)


def _segments(node_coords, ways) -> pd.DataFrame:
    """Sorted table of (undirected segment in rounded lon/lat, highway, name) of tile ways."""
    ids, lons, lats = node_coords
    sizes = np.array([len(n) for _, n, _ in ways])
    nodes = np.concatenate([n for _, n, _ in ways])
    way = np.repeat(np.arange(len(ways)), sizes)
    same = way[1:] == way[:-1]
    a, b = np.searchsorted(ids, nodes[:-1][same]), np.searchsorted(ids, nodes[1:][same])
    pa = np.round(np.c_[lons[a], lats[a]], 7)
    pb = np.round(np.c_[lons[b], lats[b]], 7)
    swap = (pa[:, 0] > pb[:, 0]) | ((pa[:, 0] == pb[:, 0]) & (pa[:, 1] > pb[:, 1]))
    lo, hi = np.where(swap[:, None], pb, pa), np.where(swap[:, None], pa, pb)
    tags = [ways[w][2] for w in way[:-1][same]]
    frame = pd.DataFrame(
        {
            "x0": lo[:, 0],
            "y0": lo[:, 1],
            "x1": hi[:, 0],
            "y1": hi[:, 1],
            "highway": [t["highway"] for t in tags],
            "name": [t.get("name", "") for t in tags],
        }
    )
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


# --- pure parts: hand-checked tiny inputs -------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "subclass", "ramp", "expected"),
    [
        ("minor", "residential", False, "residential"),
        ("minor", "living_street", False, "living_street"),
        ("minor", None, False, "unclassified"),
        ("primary", None, True, "primary_link"),
        ("motorway", None, False, "motorway"),
        ("path", "footway", False, "footway"),
        ("path", "steps", False, "steps"),
        ("path", None, False, "path"),
        ("track", "cycleway", False, "cycleway"),
        ("service", None, False, "service"),
        ("pedestrian", None, False, "pedestrian"),
        ("rail", None, False, None),
        ("ferry", None, False, None),
        ("primary_construction", None, False, None),
        ("construction", None, False, None),
    ],
)
def test_highway_tag(cls, subclass, ramp, expected):
    assert highway_tag(cls, subclass, ramp) == expected


def _frame(rows):
    return pd.DataFrame(rows, columns=["class", "ramp", "oneway", "brunnel", "service", "geometry"])


def test_street_crossing_a_tile_edge_is_joined_and_bridges_do_not_meet():
    e = float(EXTENT)
    x0, y0 = 100 * e, 200 * e  # tile (100, 200) and its right neighbour (101, 200)
    # One street crossing the edge x = x0 + e: each tile's copy was clipped at its own buffer with
    # rounding, so the two cut points differ by 0.8 px. A bridge crosses the street without a shared
    # vertex; a footway along the tile edge is in both tiles. A rail line must vanish.
    street_left = LineString([(x0 + 4000, y0 + 1000), (x0 + e, y0 + 1000.3)])
    street_right = LineString([(x0 + e, y0 + 1001.1), (x0 + e + 90, y0 + 1002)])
    bridge = LineString([(x0 + 4050, y0 + 900), (x0 + 4050, y0 + 1100)])
    edge_path = LineString([(x0 + e, y0 + 2000), (x0 + e, y0 + 2100)])
    rail = LineString([(x0 + 10, y0 + 10), (x0 + 20, y0 + 20)])
    lines = _frame(
        [
            ("minor", None, None, None, None, street_left),
            ("minor", None, None, None, None, street_right),
            ("motorway", None, 1.0, "bridge", None, bridge),
            ("path", None, None, None, None, edge_path),
            ("path", None, None, None, None, edge_path),
            ("rail", None, None, None, None, rail),
        ]
    )
    names = pd.DataFrame(
        {
            "class": ["minor", "minor", "path"],
            "name:latin": ["Main Street", "Main Street", None],
            "subclass": ["residential", "residential", "footway"],
            "ref": [None, None, None],
            "geometry": [street_left, street_right, edge_path],
        }
    )
    (ids, lons, lats), ways = street_ways(lines, names, zoom=Z, extent=EXTENT)
    G = nx.Graph()
    for _, nodes, tags in ways:
        nx.add_path(G, nodes, highway=tags["highway"], name=tags.get("name"))
    highways = Counter(tags["highway"] for _, _, tags in ways)
    assert highways == {"residential": 2, "motorway": 1, "footway": 1}  # duplicate and rail gone
    assert all(t.get("name") == "Main Street" for _, _, t in ways if t["highway"] == "residential")
    bridge_tags = next(t for _, _, t in ways if t["highway"] == "motorway")
    assert bridge_tags == {"highway": "motorway", "oneway": "yes", "bridge": "yes"}
    # the two halves of the street are one path of 3 nodes; the bridge shares none of them
    street_nodes = {n for _, nodes, t in ways if t["highway"] == "residential" for n in nodes}
    assert len(street_nodes) == 3
    assert nx.is_connected(G.subgraph(street_nodes))
    bridge_nodes = {n for _, nodes, t in ways if t["highway"] == "motorway" for n in nodes}
    assert not street_nodes & bridge_nodes
    assert len(ids) == len(lons) == len(lats) == 3 + 2 + 2
    # node positions are the pixels' Web Mercator positions (checked with pyproj)
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(3857, 4326, always_xy=True)
    half = 20037508.342789244
    res = 2 * half / (EXTENT * 2**Z)
    lon, lat = to_lonlat.transform((x0 + 4000) * res - half, half - (y0 + 1000) * res)
    mlon, mlat = pixels_to_lonlat(x0 + 4000, y0 + 1000, Z, EXTENT)
    assert mlon == pytest.approx(lon, abs=1e-9) and mlat == pytest.approx(lat, abs=1e-9)


def test_cut_points_join_only_across_the_edge_and_within_tolerance():
    e = float(EXTENT)
    # parts: left piece ending on x=e, right piece starting on x=e 0.5 px away (joins), another right
    # piece 5 px away (too far: stays), a left piece with other attributes (never joins)
    xy = np.array(
        [[e - 50, 10.0], [e, 10.0], [e, 10.5], [e + 50, 10.0], [e, 30.0], [e + 9, 40.0]]
        + [[e - 9, 60.0], [e, 60.0]]
    )
    start = np.array([0, 2, 4, 6])
    joined = join_cut_points(xy, start, np.array([0, 0, 0, 1]), EXTENT)
    assert tuple(joined[2]) == tuple(joined[1]) == (e, 10.0)
    assert tuple(joined[4]) == (e, 30.0) and tuple(joined[7]) == (e, 60.0)


def test_layer_filter_keeps_layers_byte_for_byte(corridor):
    con = sqlite3.connect(corridor)
    (blob,) = con.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
    con.close()
    tile = gzip.decompress(blob)
    assert layer_names(tile) == ["transportation", "transportation_name"]
    only = keep_layers(tile, ("transportation_name",))
    assert layer_names(only) == ["transportation_name"]
    assert only in tile and len(only) < len(tile)


# --- the embedded corridor MBTiles (runs on a fresh clone) ----------------------------------------------


def test_embedded_mbtiles_metadata(corridor):
    con = sqlite3.connect(corridor)
    meta = dict(con.execute("SELECT name, value FROM metadata"))
    rows = con.execute("SELECT zoom_level, tile_column, tile_row FROM tiles").fetchall()
    con.close()
    assert meta["format"] == "pbf" and meta["minzoom"] == meta["maxzoom"] == "14"
    assert "OpenStreetMap contributors" in meta["attribution"]
    assert len(rows) == 48 and {z for z, _, _ in rows} == {14}
    # TMS rows: y = 2^14 - 1 - row, i.e. XYZ rows 6538..6543 of SOURCES.md
    assert sorted({2**14 - 1 - r for _, _, r in rows}) == list(range(6538, 6544))
    assert corridor.stat().st_size < 3e6


def test_folder_of_gzipped_tiles_equals_mbtiles(corridor, corridor_ways, tmp_path):
    """Unpack the MBTiles into a z/x/y folder (XYZ rows, tiles left gzipped) and compare both readers."""
    con = sqlite3.connect(corridor)
    for z, x, row, blob in con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"):
        path = tmp_path / str(z) / str(x) / f"{2**z - 1 - row}.pbf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    con.close()
    a_nodes, a_ways, a_meta = load_tile_ways(tmp_path)
    b_nodes, b_ways, b_meta = corridor_ways
    assert (a_meta["kind"], b_meta["kind"]) == ("tiles", "mbtiles")
    assert a_meta["tile_count"] == b_meta["tile_count"] == 48
    assert b_meta["generated"] == "2021-08-06"
    pd.testing.assert_frame_equal(_segments(a_nodes, a_ways), _segments(b_nodes, b_ways))
    # the zoom folder itself is accepted too, and hashes the same files the same way
    z_nodes, z_ways, z_meta = load_tile_ways(tmp_path / "14")
    assert z_meta["sha256"] == a_meta["sha256"] and len(z_ways) == len(a_ways)


@pytest.mark.parametrize("reader", [_FolderTiles, _MBTiles])
def test_feature_ids_give_the_tile_holding_the_feature(reader, corridor, tmp_path):
    if reader is _FolderTiles:
        con = sqlite3.connect(corridor)
        for z, x, row, blob in con.execute("SELECT * FROM tiles"):
            p = tmp_path / str(z) / str(x) / f"{2**z - 1 - row}.pbf"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(blob)
        con.close()
        source = reader(tmp_path, None)
    else:
        source = reader(corridor, None)
    import pyogrio

    frame = pyogrio.read_dataframe(
        source._gdal_path(), layer="transportation", fid_as_index=True, **source._open_options()
    )
    tx, ty = source._tile_of_fid(frame.index.to_numpy())
    assert {(int(x), int(y)) for x, y in zip(tx, ty)} == source.tiles
    pixels = source.read_layer("transportation")
    bounds = shapely.bounds(np.asarray(pixels.geometry.values))
    assert np.all(bounds[:, 0] >= tx * EXTENT - 1e-6) and np.all(bounds[:, 2] <= (tx + 1) * EXTENT + 1e-6)
    assert np.all(bounds[:, 1] >= ty * EXTENT - 1e-6) and np.all(bounds[:, 3] <= (ty + 1) * EXTENT + 1e-6)


def test_bbox_picks_tiles(corridor):
    west, south, east, north = -118.2500, 34.0500, -118.2400, 34.0550
    cols, rows = tiles_for_bbox((west, south, east, north), Z)
    (ids, lons, lats), ways, meta = load_tile_ways(corridor, bbox=(west, south, east, north))
    assert meta["tile_count"] == len(cols) * len(rows) >= 1
    lon0, lat1 = pixels_to_lonlat(cols[0] * EXTENT, rows[0] * EXTENT, Z, EXTENT)
    lon1, lat0 = pixels_to_lonlat((cols[-1] + 1) * EXTENT, (rows[-1] + 1) * EXTENT, Z, EXTENT)
    assert lons.min() >= lon0 - 1e-9 and lons.max() <= lon1 + 1e-9
    assert lats.min() >= lat0 - 1e-9 and lats.max() <= lat1 + 1e-9
    assert lon0 <= west and lon1 >= east and lat0 <= south and lat1 >= north


def test_embedded_network_names_and_topology(corridor):
    G = load_network(corridor, network_type="drive", simplify=False, use_cache=False)
    assert G.graph["routemap_source"]["kind"] == "mbtiles"
    assert all(d.get("osmid") is None for _, _, d in G.edges(data=True))
    total, named = Counter(), Counter()
    for _, _, d in G.edges(data=True):
        if d["highway"] in MAIN_CLASSES and not d["reversed"]:
            total[d["highway"]] += d["length"]
            named[d["highway"]] += d["length"] if d.get("name") else 0.0
    share = sum(named.values()) / sum(total.values())
    print(f"\nnamed share of primary/secondary/tertiary/residential length: {share:.4f}")
    for h in MAIN_CLASSES:
        print(f"  {h}: {named[h] / total[h]:.4f} of {total[h] / 1000:.1f} km")
    assert share >= 0.95
    # one street network: the largest weakly connected part holds most nodes (SOURCES.md: ~97%)
    biggest = max(nx.weakly_connected_components(G), key=len)
    assert len(biggest) / len(G) > 0.95


def test_embedded_run_network_loads(corridor):
    G = load_network(corridor, use_cache=False)
    assert G.graph["routemap_source"]["network_type"] == "run"
    highways = Counter(h for *_, h in G.edges(data="highway") if isinstance(h, str))
    assert "motorway" not in highways and "residential" in highways and "footway" in highways


# --- bad input ----------------------------------------------------------------------------------------


def _one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_folder_without_tiles(tmp_path):
    (tmp_path / "14" / "2805").mkdir(parents=True)
    (tmp_path / "README.txt").write_text("no tiles here")
    with pytest.raises(InputFileError) as exc:
        load_tile_ways(tmp_path)
    assert "no vector tiles" in _one_line(exc)


def test_corrupt_tile(tmp_path, corridor):
    con = sqlite3.connect(corridor)
    (blob,) = con.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
    con.close()
    good = tmp_path / "14" / "2805" / "6538.pbf"
    good.parent.mkdir(parents=True)
    good.write_bytes(blob)
    bad = tmp_path / "14" / "2805" / "6539.pbf"
    bad.write_bytes(gzip.decompress(blob)[:5000])  # truncated mid-layer
    with pytest.raises(InputFileError) as exc:
        load_tile_ways(tmp_path)
    assert "6539.pbf" in _one_line(exc) and "corrupt" in str(exc.value)
    with pytest.raises(InputFileError):
        load_network(tmp_path, use_cache=False)


def _mbtiles(path: Path, fmt: str, blobs: list[bytes]) -> Path:
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE metadata (name text, value text);"
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);"
    )
    con.executemany("INSERT INTO metadata VALUES (?, ?)", [("format", fmt), ("name", "t")])
    con.executemany(
        "INSERT INTO tiles VALUES (14, ?, ?, ?)", [(2805 + i, 9845, b) for i, b in enumerate(blobs)]
    )
    con.commit()
    con.close()
    return path


def test_raster_mbtiles(tmp_path):
    from PIL import Image

    png = tmp_path / "t.png"
    Image.new("RGB", (256, 256), (200, 200, 200)).save(png)
    path = _mbtiles(tmp_path / "raster.mbtiles", "png", [png.read_bytes()])
    with pytest.raises(InputFileError) as exc:
        load_tile_ways(path)
    assert "raster" in _one_line(exc)
    # the same without a format row: recognised from the tile bytes
    con = sqlite3.connect(path)
    con.execute("DELETE FROM metadata WHERE name = 'format'")
    con.commit()
    con.close()
    with pytest.raises(InputFileError, match="raster"):
        load_tile_ways(path)


def test_tiles_without_transportation_layer(tmp_path, corridor):
    con = sqlite3.connect(corridor)
    (blob,) = con.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
    con.close()
    names_only = gzip.compress(keep_layers(gzip.decompress(blob), ("transportation_name",)))
    path = _mbtiles(tmp_path / "names.mbtiles", "pbf", [names_only])
    with pytest.raises(InputFileError) as exc:
        load_tile_ways(path)
    assert "'transportation'" in _one_line(exc)


def test_mbtiles_without_json_metadata(tmp_path, corridor):
    """GDAL needs the "json" metadata row to see vector layers; without it the tiles are still read."""
    path = tmp_path / "nojson.mbtiles"
    path.write_bytes(corridor.read_bytes())
    con = sqlite3.connect(path)
    con.execute("DELETE FROM metadata WHERE name = 'json'")
    con.commit()
    con.close()
    nodes, ways, meta = load_tile_ways(path, bbox=(-118.25, 34.05, -118.24, 34.055))
    full_nodes, full_ways, _ = load_tile_ways(corridor, bbox=(-118.25, 34.05, -118.24, 34.055))
    assert meta["kind"] == "mbtiles" and meta["tile_count"] >= 1
    pd.testing.assert_frame_equal(_segments(nodes, ways), _segments(full_nodes, full_ways))


def test_not_an_mbtiles_file(tmp_path):
    path = tmp_path / "junk.mbtiles"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputFileError) as exc:
        load_network(path, use_cache=False)
    _one_line(exc)


# --- the shared original tiles -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def shared_ways(shared_tiles):
    return load_tile_ways(shared_tiles)


def test_shared_folder_equals_embedded_mbtiles(shared_ways, corridor_ways):
    a_nodes, a_ways, a_meta = shared_ways
    b_nodes, b_ways, _ = corridor_ways
    assert a_meta["tile_count"] == 48 and a_meta["kind"] == "tiles"
    pd.testing.assert_frame_equal(_segments(a_nodes, a_ways), _segments(b_nodes, b_ways))


def test_tile_edges_leave_no_dead_ends(shared_ways):
    """Streets crossing interior tile edges are joined: hardly any dead end sits on such an edge."""
    (ids, lons, lats), ways, _ = shared_ways
    degree = Counter()
    for _, nodes, _ in ways:
        degree.update(nodes[:-1])
        degree.update(nodes[1:])
    size = EXTENT * 2**Z
    x = (lons + 180) / 360 * size
    y = (1 - np.arcsinh(np.tan(np.radians(lats))) / np.pi) / 2 * size
    on_edge = (np.abs(x - np.round(x / EXTENT) * EXTENT) < 0.01) | (
        np.abs(y - np.round(y / EXTENT) * EXTENT) < 0.01
    )
    inner = (x > 2805 * EXTENT + 1) & (x < 2813 * EXTENT - 1) & (y > 6538 * EXTENT + 1)
    inner &= y < 6544 * EXTENT - 1
    edge_nodes = ids[on_edge & inner]
    dead = [n for n in edge_nodes.tolist() if degree[n] == 1]
    print(f"\nnodes on interior tile edges: {len(edge_nodes)}, dead ends among them: {len(dead)}")
    assert len(edge_nodes) > 1000
    assert len(dead) <= 0.01 * len(edge_nodes)


def _edges_gdf(G):
    import osmnx as ox

    return ox.convert.graph_to_gdfs(G, nodes=False)


@pytest.mark.parametrize("tiles", ["corridor", "shared_tiles"])
def test_freeway_bridge_does_not_meet_the_street_under_it(tiles, request):
    """I-10 (Santa Monica Freeway) crosses South Main Street on a bridge: the lines cross, no node."""
    bbox = (-118.2672, 34.0255, -118.2278, 34.0588)
    source = request.getfixturevalue(tiles)
    G = load_network(source, network_type="all", bbox=bbox, simplify=False, use_cache=False)
    edges = _edges_gdf(G)
    freeway = edges[(edges["bridge"] == "yes") & (edges["name"] == "Santa Monica Freeway")]
    street = edges[(edges["name"] == "South Main Street") & edges["bridge"].isna()]
    hits = street.sindex.query(freeway.geometry.values, predicate="crosses")
    assert hits.shape[1] >= 2  # both carriageways cross the street
    node_xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    tree = cKDTree(node_xy * [np.cos(np.radians(34.03)), 1.0])
    for i, j in hits.T:
        (u1, v1, _), (u2, v2, _) = freeway.index[i], street.index[j]
        assert not {u1, v1} & {u2, v2}
        point = freeway.geometry.values[i].intersection(street.geometry.values[j])
        assert point.geom_type == "Point"
        dist_deg, _ = tree.query([point.x * np.cos(np.radians(34.03)), point.y])
        assert dist_deg * 111_000 > 1.0  # no node within a metre of the crossing
    # control: every bridge/non-bridge crossing in Downtown is node-free, while at-grade streets meet
    bridges = edges[edges["bridge"] == "yes"]
    ground = edges[edges["bridge"].isna() & edges["tunnel"].isna()]
    pairs = ground.sindex.query(bridges.geometry.values, predicate="crosses")
    assert pairs.shape[1] > 20
    for i, j in pairs.T:
        (u1, v1, _), (u2, v2, _) = bridges.index[i], ground.index[j]
        assert not {u1, v1} & {u2, v2}
    ground_pairs = ground.sindex.query(ground.geometry.values, predicate="crosses")
    assert ground_pairs.shape[1] < 0.01 * len(ground)  # at-grade streets meet at nodes, not across


def _simple(G) -> nx.Graph:
    """Undirected simple graph keeping the shortest parallel edge."""
    U = nx.Graph()
    U.add_nodes_from(G.nodes(data=True))
    for u, v, length in G.edges(data="length"):
        if not U.has_edge(u, v) or U[u][v]["length"] > length:
            U.add_edge(u, v, length=length)
    return U.subgraph(max(nx.connected_components(U), key=len)).copy()


def _km_inside(G, box) -> float:
    """Street km of a bidirectional graph between nodes inside ``box`` (west, south, east, north)."""
    west, south, east, north = box

    def inside(n):
        d = G.nodes[n]
        return west < d["x"] < east and south < d["y"] < north

    total = sum(d for u, v, d in G.edges(data="length") if inside(u) and inside(v))
    return total / 2000


def test_shortest_paths_agree_with_overpass_osm(shared_la, shared_tiles):
    G_osm = load_network(shared_la / "osm" / DOWNTOWN_JSON, network_type="walk", use_cache=False)
    xs = np.array([d["x"] for _, d in G_osm.nodes(data=True)])
    ys = np.array([d["y"] for _, d in G_osm.nodes(data=True)])
    bbox = (xs.min(), ys.min(), xs.max(), ys.max())
    G_tiles = load_network(shared_tiles, network_type="walk", bbox=bbox, use_cache=False)
    # walk graphs are bidirectional: every street is there twice
    km_osm = sum(d for *_, d in G_osm.edges(data="length")) / 2000
    km_tiles = sum(d for *_, d in G_tiles.edges(data="length")) / 2000
    U_osm, U_tiles = _simple(G_osm), _simple(G_tiles)
    k = np.cos(np.radians(np.mean(ys)))
    osm_ids = np.array(list(U_osm.nodes))
    osm_tree = cKDTree([(U_osm.nodes[n]["x"] * k, U_osm.nodes[n]["y"]) for n in osm_ids])
    tile_ids = np.array(list(U_tiles.nodes))
    txy = np.array([(U_tiles.nodes[n]["x"], U_tiles.nodes[n]["y"]) for n in tile_ids])
    margin = 0.004  # ~400 m away from the extract's edge, where the two extents differ
    inside = (txy[:, 0] > bbox[0] + margin) & (txy[:, 0] < bbox[2] - margin)
    inside &= (txy[:, 1] > bbox[1] + margin) & (txy[:, 1] < bbox[3] - margin)
    rng = np.random.default_rng(20230104)
    candidates = tile_ids[inside]
    ratios = []
    while len(ratios) < 200:
        a, b = rng.choice(candidates, 2, replace=False)
        pa = (U_tiles.nodes[a]["x"] * k, U_tiles.nodes[a]["y"])
        pb = (U_tiles.nodes[b]["x"] * k, U_tiles.nodes[b]["y"])
        (da, ia), (db, ib) = osm_tree.query(pa), osm_tree.query(pb)
        if max(da, db) * 111_000 > 30:  # the point is not on an OSM street of the other network
            continue
        d_osm = nx.shortest_path_length(U_osm, osm_ids[ia], osm_ids[ib], weight="length")
        if d_osm < 200:
            continue
        d_tiles = nx.shortest_path_length(U_tiles, a, b, weight="length")
        ratios.append(d_tiles / d_osm)
    inner = (bbox[0] + margin, bbox[1] + margin, bbox[2] - margin, bbox[3] - margin)
    km_inner_osm, km_inner_tiles = _km_inside(G_osm, inner), _km_inside(G_tiles, inner)
    err = np.abs(np.array(ratios) - 1)
    median, p95 = np.median(err), np.percentile(err, 95)
    print(
        f"\nDowntown walk network: tiles {km_tiles:.1f} km, Overpass {km_osm:.1f} km of street; "
        f"200 shortest paths: median |tiles/osm - 1| = {median:.4f}, 95th percentile = {p95:.4f}; "
        f"inside the box 400 m in from the extract's edge: tiles {km_inner_tiles:.1f} km, "
        f"Overpass {km_inner_osm:.1f} km"
    )
    assert median < 0.02
    assert p95 < 0.20


def test_multilinestring_features_are_split_into_parts():
    e = float(EXTENT)
    two = MultiLineString(
        [[(e * 5 + 1, e * 5 + 1), (e * 5 + 9, e * 5 + 1)], [(e * 5 + 1, e * 5 + 50), (e * 5 + 9, e * 5 + 50)]]
    )
    _, ways = street_ways(_frame([("service", None, None, None, "alley", two)]), None, zoom=Z, extent=EXTENT)
    assert [len(n) for _, n, _ in ways] == [2, 2]
    assert all(t == {"highway": "service", "service": "alley"} for _, _, t in ways)


# --- property: a street cut by tile edges, with each tile's cut points off by up to a pixel ----------

_ORIGIN = np.array([2805.0, 6538.0]) * EXTENT
_COORD = st.integers(min_value=1, max_value=3 * EXTENT - 1).filter(lambda v: v % EXTENT not in (0,))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vertices=st.lists(st.tuples(_COORD, _COORD), min_size=2, max_size=6, unique=True),
    jitter=st.floats(min_value=-0.9, max_value=0.9),
)
def test_random_street_cut_by_tiles_is_rejoined(vertices, jitter):
    line = LineString(np.array(vertices, dtype=float) + _ORIGIN)
    assume(line.is_simple and line.length > 0)
    # two crossings of the tile edges a few pixels apart (a hairpin along an edge) cannot be told from one
    # crossing whose two tiles cut it a pixel apart: ambiguous by design, like the gaps checked below
    edges = shapely.MultiLineString(
        [
            [(_ORIGIN[0] + k * EXTENT, _ORIGIN[1]), (_ORIGIN[0] + k * EXTENT, _ORIGIN[1] + 3 * EXTENT)]
            for k in (1, 2)
        ]
        + [
            [(_ORIGIN[0], _ORIGIN[1] + k * EXTENT), (_ORIGIN[0] + 3 * EXTENT, _ORIGIN[1] + k * EXTENT)]
            for k in (1, 2)
        ]
    )
    crossings = shapely.get_coordinates(shapely.intersection(line, edges))
    if len(crossings) > 1:
        apart = np.hypot(*(crossings[:, None, :] - crossings[None, :, :]).transpose(2, 0, 1))
        assume(np.all((apart == 0) | (apart > 10.0)))
    rows, cuts = [], []
    for tx in range(3):
        for ty in range(3):
            x0, y0 = _ORIGIN + np.array([tx, ty]) * EXTENT
            piece = shapely.clip_by_rect(line, x0, y0, x0 + EXTENT, y0 + EXTENT)
            for part in shapely.get_parts(piece):
                if part.geom_type != "LineString" or part.length == 0:
                    continue
                xy = np.array(part.coords)
                for end in (0, -1):  # the lower/right tile's copy was clipped a bit differently
                    on_x = (xy[end, 0] - _ORIGIN[0]) % EXTENT == 0
                    on_y = (xy[end, 1] - _ORIGIN[1]) % EXTENT == 0
                    if on_x != on_y and (tx + ty) % 2:
                        xy[end, 1 if on_x else 0] += jitter
                    if on_x or on_y:
                        cuts.append(xy[end].copy())
                rows.append(("minor", None, None, None, None, LineString(xy)))
    cut_pos = np.array(cuts) if cuts else np.empty((0, 2))
    if len(cut_pos) > 1:  # two crossings of one edge a few pixels apart are ambiguous by design
        gaps = np.hypot(*(cut_pos[:, None, :] - cut_pos[None, :, :]).transpose(2, 0, 1))
        assume(np.all((gaps < 2.0) | (gaps > 10.0)))
    _, ways = street_ways(_frame(rows), None, zoom=Z, extent=EXTENT)
    G = nx.Graph()
    for _, nodes, _ in ways:
        nx.add_path(G, nodes)
    assert nx.is_connected(G)
    # the rejoined street is one path: two ends, every other node between two segments
    degrees = Counter(d for _, d in G.degree())
    assert degrees[1] == 2 and set(degrees) <= {1, 2}


@pytest.mark.parametrize("source", ["embedded", "shared"])
def test_liberty_park_to_the_mdc_through_westlake_and_chinatown(source, corridor, request):
    """The issue's reference route on the tile network: 15 mi (+-1%) from Liberty Park in Koreatown to
    535 N Alameda St, entering Westlake and Chinatown (neighborhood stops), checked with shapely."""
    import geopandas as gpd
    from shapely.geometry import Point

    from routemap.demographics import load_neighborhoods
    from routemap.places import find_place
    from routemap.route import plan_route

    tiles = corridor if source == "embedded" else request.getfixturevalue("shared_tiles")
    G = load_network(tiles)
    mdc = find_place("Metropolitan Detention Center")
    route = plan_route(G, [(34.0617, -118.3040), "Westlake", "Chinatown", (mdc.lat, mdc.lon)], "15mi")
    line = gpd.GeoSeries([route.geometry], crs=4326)
    utm = line.estimate_utm_crs()
    length = float(line.to_crs(utm).length.iloc[0])
    assert abs(length - 15 * 1609.344) <= 0.01 * 15 * 1609.344 + 30  # UTM vs great-circle: < 0.1%
    assert abs(route.length_m - 15 * 1609.344) <= 0.01 * 15 * 1609.344
    assert route.repeated_length_m <= 0.03 * route.length_m
    hoods = load_neighborhoods().set_index("name").geometry
    assert hoods["Koreatown"].contains(Point(route.geometry.coords[0]))
    assert route.geometry.intersects(hoods["Westlake"]) and route.geometry.intersects(hoods["Chinatown"])
    end = gpd.GeoSeries([Point(route.geometry.coords[-1]), Point(mdc.lon, mdc.lat)], crs=4326).to_crs(utm)
    assert end.iloc[0].distance(end.iloc[1]) <= 400
    positions = [s.position_m for s in route.stops]
    assert positions == sorted(positions)
