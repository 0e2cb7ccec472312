"""Parsing what users write for stops and lengths, and resolving names on the real LA network."""

from __future__ import annotations

import networkx as nx
import pytest

import routemap
from routemap.data import embedded_osm_pbf
from routemap.errors import StopTooFarError, TargetLengthError, UnknownPlaceError
from routemap.route import parse_length
from routemap.route.compile import compile_graph
from routemap.route.stops import parse_latlon, resolve_stop, split_intersection
from routemap.route.streets import street_keys
from routemap.settings import METERS_PER_MILE


@pytest.mark.parametrize(
    "text,metres",
    [
        ("15mi", 15 * METERS_PER_MILE),
        ("15 mi", 15 * METERS_PER_MILE),
        ("10 miles", 10 * METERS_PER_MILE),
        ("24km", 24000.0),
        ("1.5 km", 1500.0),
        ("24000", 24000.0),
        ("24000m", 24000.0),
        (24000, 24000.0),
        (2.5e4, 25000.0),
    ],
)
def test_parse_length(text, metres):
    assert parse_length(text) == pytest.approx(metres)


@pytest.mark.parametrize("text", ["abc", "-5km", 0, "5 parsecs", "", True, float("nan")])
def test_parse_length_rejects(text):
    with pytest.raises(TargetLengthError):
        parse_length(text)


def test_street_keys_fold_abbreviations_and_case():
    assert street_keys("N Main St")[0] == street_keys("north main street")[0]
    assert street_keys("S Union Ave")[0] == street_keys("South Union Avenue")[0]
    assert street_keys("Wilshire Blvd")[1] == street_keys("West Wilshire Boulevard")[1]
    assert street_keys("W 7th St")[2] == street_keys("7th")[2]
    assert street_keys("N St Louis St")[0] == "north saint louis street"


@pytest.mark.parametrize(
    "text,pair",
    [
        ("Wilshire Blvd & S Union Ave", ("Wilshire Blvd", "S Union Ave")),
        ("Wilshire and Union", ("Wilshire", "Union")),
        ("Main St / 1st St", ("Main St", "1st St")),
        ("MacArthur Park", None),
    ],
)
def test_split_intersection(text, pair):
    assert split_intersection(text) == pair


def test_parse_latlon():
    assert parse_latlon("34.0537, -118.2385") == (34.0537, -118.2385)
    assert parse_latlon("(34.0537 -118.2385)") == (34.0537, -118.2385)
    assert parse_latlon("Union Station") is None
    with pytest.raises(UnknownPlaceError):
        parse_latlon("-118.2385, 34.0537")


@pytest.fixture(scope="module")
def la_compiled(request):
    pbf = embedded_osm_pbf()
    if pbf.exists():
        G = routemap.load_network(pbf)
    else:
        shared = request.getfixturevalue("shared_la")
        G = routemap.load_network(sorted((shared / "osm").glob("overpass_*.json")))
    # a compiled graph holds its graph weakly: the fixture keeps G alive while the tests run
    yield compile_graph(G, "run")


def test_spellings_of_one_intersection_agree(la_compiled):
    cg = la_compiled
    spellings = [
        "Wilshire Blvd & S Union Ave",
        "wilshire boulevard and south union avenue",
        "WILSHIRE & UNION",
        "S Union Ave @ Wilshire Blvd",
    ]
    nodes = {int(resolve_stop(cg, s).candidates[0]) for s in spellings}
    assert len(nodes) == 1
    node = cg.node_ids[nodes.pop()]
    G = cg.graph
    names = " ".join(str(d.get("name")) for _, _, d in G.edges(node, data=True)).lower()
    assert "wilshire" in names and "union" in names


def test_coordinates_snap_to_the_nearest_node(la_compiled):
    cg = la_compiled
    G = cg.graph
    node = int(cg.node_ids[100])
    lat, lon = G.nodes[node]["y"], G.nodes[node]["x"]
    for value in [(lat, lon), f"{lat},{lon}", routemap.Stop("x", lat=lat, lon=lon)]:
        stop = resolve_stop(cg, value)
        got = int(cg.node_ids[stop.candidates[0]])
        # the node itself, or (for a dead end) a through node within 75 m
        if got != node:
            assert G.degree(node) <= 2
            assert nx.shortest_path_length(G, node, got, weight="length") < 75 * 1.5 + 1
        else:
            assert stop.snap_distance_m == pytest.approx(0.0, abs=1e-6)


def test_places_from_the_gazetteer(la_compiled):
    pytest.importorskip("routemap.places")
    stop = resolve_stop(la_compiled, "Metropolitan Detention Center")
    assert stop.kind == "place" and stop.snap_distance_m < 150


@pytest.fixture
def local_nominatim(httpserver):
    """osmnx's Nominatim pointed at a local server (no internet), caching off."""
    import osmnx as ox

    old = (ox.settings.nominatim_url, ox.settings.use_cache)
    ox.settings.nominatim_url = httpserver.url_for("/")
    ox.settings.use_cache = False
    yield httpserver
    ox.settings.nominatim_url, ox.settings.use_cache = old


def test_online_geocoding_through_osmnx(la_compiled, local_nominatim):
    # Union Station's position as the corridor gazetteer holds it (OpenMapTiles poi layer)
    query = "800 N Alameda St, Los Angeles"
    local_nominatim.expect_request("/search", query_string={
        "format": "json", "limit": "1", "dedupe": "0", "q": query,
    }).respond_with_json([{"lat": "34.056064", "lon": "-118.235883", "display_name": query}])  # fmt: skip
    with pytest.raises(UnknownPlaceError, match="online=True"):
        resolve_stop(la_compiled, query)
    stop = resolve_stop(la_compiled, query, online=True)
    assert (stop.lat, stop.lon) == (34.056064, -118.235883)
    assert stop.kind == "place" and stop.snap_distance_m < 100


def test_online_geocoding_finds_nothing(la_compiled, local_nominatim):
    local_nominatim.expect_request("/search").respond_with_json([])
    with pytest.raises(UnknownPlaceError, match="geocoding found no place"):
        resolve_stop(la_compiled, "Nowhere Street 99999", online=True)


# -- names through a resolver the caller passes (issue 12) ----------------------------------------------
def test_a_passed_resolver_gets_only_the_names_the_network_does_not_hold(la_compiled):
    calls = []
    mdc = routemap.find_place("Metropolitan Detention Center")

    def resolver(name, bbox):
        calls.append((name, bbox))
        return routemap.Stop("MDC", lat=mdc.lat, lon=mdc.lon, kind="place")

    resolve_stop(la_compiled, "34.0537, -118.2385", resolver=resolver)
    resolve_stop(la_compiled, "Wilshire Blvd & S Union Ave", resolver=resolver)
    assert calls == []
    stop = resolve_stop(la_compiled, "the jail downtown", resolver=resolver)
    assert [c[0] for c in calls] == ["the jail downtown"]
    west, south, east, north = calls[0][1]
    assert west <= mdc.lon <= east and south <= mdc.lat <= north  # the network's bbox
    assert stop.name == "MDC" and stop.snap_distance_m < 150


def test_a_resolvers_unknown_name_gets_the_networks_suggestions(la_compiled):
    def resolver(name, bbox):
        raise UnknownPlaceError(f"nothing named {name!r}", ["Somewhere Else"])

    with pytest.raises(UnknownPlaceError) as info:
        resolve_stop(la_compiled, "Wilshre Blvd", resolver=resolver)
    assert "Somewhere Else" in info.value.suggestions
    assert any("Wilshire" in s for s in info.value.suggestions)


@pytest.fixture(scope="module")
def helsinki_compiled(helsinki_pbf):
    G = routemap.load_network(helsinki_pbf)
    yield compile_graph(G, "run")  # G stays alive while the tests use its compiled form


def test_la_gazetteer_and_neighborhoods_do_not_apply_in_helsinki(helsinki_compiled):
    # "MacArthur Park" and "Westlake" are LA names: in Helsinki they must not resolve, nor be suggested
    for name in ("MacArthur Park", "Westlake"):
        with pytest.raises(UnknownPlaceError) as info:
            resolve_stop(helsinki_compiled, name)
        assert not any(s in ("MacArthur Park", "Westlake") for s in info.value.suggestions)


def test_a_square_of_the_network_resolves_by_its_name(helsinki_compiled):
    cg = helsinki_compiled
    stop = resolve_stop(cg, "Rautatientori")
    node = int(cg.node_ids[stop.candidates[0]])
    names = {str(d.get("name")) for _, _, d in cg.graph.edges(node, data=True)}
    names |= {str(d.get("name")) for _, _, d in cg.graph.in_edges(node, data=True)}
    assert any("Rautatientori" in n for n in names)
    with pytest.raises(UnknownPlaceError, match="is a street"):  # a long street still needs a crossing
        resolve_stop(cg, "Mannerheimintie")


def test_swapped_coordinates_are_spotted(helsinki_compiled):
    with pytest.raises(StopTooFarError, match="latitude first"):
        resolve_stop(helsinki_compiled, (24.9400, 60.1680))
    with pytest.raises(StopTooFarError) as info:
        resolve_stop(helsinki_compiled, (-33.9, 151.2))  # Sydney: far either way round, no hint
    assert "latitude first" not in str(info.value)


def test_online_typo_still_gets_suggestions_from_the_data(la_compiled, local_nominatim):
    local_nominatim.expect_request("/search").respond_with_json([])
    with pytest.raises(UnknownPlaceError, match="geocoding found no place") as info:
        resolve_stop(la_compiled, "MacArthur Prak", online=True)
    assert "MacArthur Park" in info.value.suggestions
