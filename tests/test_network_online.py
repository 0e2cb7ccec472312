"""Online sources through osmnx, against a local HTTP server standing in for Overpass and Nominatim."""

from __future__ import annotations

import json
import socket
from urllib.parse import parse_qs

import osm_fixtures as fx
import osmnx as ox
import pytest

from routemap.errors import NetworkError
from routemap.network import load_network
from routemap.network.filters import overpass_filter

pytest.importorskip("pytest_httpserver")

# A polygon around the scene's main blocks (lon, lat), as Nominatim would return for a place.
WEST, SOUTH, EAST, NORTH = -118.2510, 34.0430, -118.2450, 34.0470
PLACE = {
    "place_id": 1,
    "licence": "test",
    "osm_type": "relation",
    "osm_id": 42,
    "lat": "34.045",
    "lon": "-118.248",
    "class": "boundary",
    "type": "administrative",
    "place_rank": 20,
    "importance": 0.5,
    "addresstype": "suburb",
    "name": "Test Blocks",
    "display_name": "Test Blocks, Los Angeles",
    "boundingbox": [str(SOUTH), str(NORTH), str(WEST), str(EAST)],
    "geojson": {
        "type": "Polygon",
        "coordinates": [[[WEST, SOUTH], [EAST, SOUTH], [EAST, NORTH], [WEST, NORTH], [WEST, SOUTH]]],
    },
}


@pytest.fixture()
def fake_osm(httpserver, tmp_path):
    """Point osmnx at the local server (Overpass returns the scene); restore its settings after."""
    saved = {
        k: getattr(ox.settings, k)
        for k in (
            "overpass_url",
            "nominatim_url",
            "overpass_rate_limit",
            "use_cache",
            "cache_folder",
            "requests_timeout",
        )
    }
    saved_getaddrinfo = socket.getaddrinfo
    ox.settings.overpass_url = httpserver.url_for("/api")
    ox.settings.nominatim_url = httpserver.url_for("/nominatim")
    ox.settings.overpass_rate_limit = False
    ox.settings.use_cache = False
    ox.settings.cache_folder = str(tmp_path / "osmnx-cache")
    ox.settings.requests_timeout = 10
    complete = fx.complete_ways(fx.NODES, fx.WAYS)
    httpserver.expect_request("/api/interpreter").respond_with_json(fx.overpass_json(ways=complete))
    httpserver.expect_request("/nominatim/search").respond_with_json([PLACE])
    yield httpserver
    for k, v in saved.items():
        setattr(ox.settings, k, v)
    socket.getaddrinfo = saved_getaddrinfo


def _overpass_queries(server) -> list[str]:
    out = []
    for request, _ in server.log:
        if request.path.endswith("/interpreter"):
            out.append(parse_qs(request.get_data(as_text=True))["data"][0])
    return out


def test_place_name_goes_through_nominatim_and_overpass_with_run_filter(fake_osm):
    G = load_network("Test Blocks, Los Angeles", network_type="run")
    assert G.graph["routemap_source"]["kind"] == "online"
    assert G.graph["routemap_source"]["overpass_url"].startswith("http://localhost")
    paths = [request.path for request, _ in fake_osm.log]
    assert "/nominatim/search" in paths
    queries = _overpass_queries(fake_osm)
    assert queries and all(overpass_filter("run") in q for q in queries)
    assert all("sidewalk" not in q for q in queries)
    # osmnx built the graph from the served scene, cut to the place polygon (the island is outside)
    osmids = set()
    for *_, ids in G.edges(data="osmid"):
        osmids.update(ids if isinstance(ids, list) else [ids])
    assert osmids == {fx.MAIN_ST, fx.FOOTWAY, fx.STEPS, fx.SEP_AVE}
    assert G.has_edge(8, 5) and G.has_edge(5, 8)  # one chain, usable both ways on foot


def test_point_and_bbox_sources_use_walk_filter_when_asked(fake_osm):
    G = load_network((34.045, -118.248), dist=300, network_type="walk")
    assert len(G) > 0
    H = load_network(None, bbox=(WEST, SOUTH, EAST, NORTH), network_type="walk")
    assert len(H) > 0
    queries = _overpass_queries(fake_osm)
    assert len(queries) == 2
    assert all('["sidewalk"!~"separate"]' in q for q in queries)
    assert "/nominatim/search" not in [r.path for r, _ in fake_osm.log]


def test_no_source_and_no_bbox_is_an_error():
    with pytest.raises(NetworkError, match="no source"):
        load_network(None)


def test_unreachable_server_is_an_offline_error(tmp_path):
    from routemap.errors import OfflineError

    saved = (
        ox.settings.overpass_url,
        ox.settings.overpass_rate_limit,
        ox.settings.use_cache,
        ox.settings.requests_timeout,
    )
    saved_getaddrinfo = socket.getaddrinfo
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    ox.settings.overpass_url = f"http://127.0.0.1:{port}/api"
    ox.settings.overpass_rate_limit = False
    ox.settings.use_cache = False
    ox.settings.requests_timeout = 5
    try:
        with pytest.raises(OfflineError, match="cannot reach"):
            load_network((34.045, -118.248), dist=200)
    finally:
        (
            ox.settings.overpass_url,
            ox.settings.overpass_rate_limit,
            ox.settings.use_cache,
            ox.settings.requests_timeout,
        ) = saved
        socket.getaddrinfo = saved_getaddrinfo


def test_scene_json_is_valid_for_the_server():
    json.dumps(fx.overpass_json())
