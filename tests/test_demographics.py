"""Demographics: layers, areal interpolation, neighborhood lookup, route exposure.

Every figure is checked against an independent computation: shapely intersection areas of the
tract polygons (no tobler), or shapely lengths of the route inside each polygon.
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Polygon

from routemap import settings
from routemap.demographics import (
    find_neighborhood,
    interpolate_figures,
    load_neighborhoods,
    load_tracts,
    neighborhood_demographics,
    route_demographics,
)
from routemap.demographics.exposure import OUTSIDE
from routemap.errors import DemographicsError, InputFileError, StopError, UnknownPlaceError

UTM = 32611  # UTM zone 11N, where all of LA County lies


@pytest.fixture(scope="module")
def hoods() -> gpd.GeoDataFrame:
    return load_neighborhoods()


@pytest.fixture(scope="module")
def tracts() -> gpd.GeoDataFrame:
    return load_tracts()


@pytest.fixture(scope="module")
def demo() -> gpd.GeoDataFrame:
    return neighborhood_demographics()


def overlay_figures(polygon_utm, tracts_utm: gpd.GeoDataFrame) -> dict[str, float]:
    """Independent areal interpolation: each tract contributes (intersection area / tract area) x count."""
    weights = (
        shapely.area(shapely.intersection(tracts_utm.geometry.values, polygon_utm))
        / tracts_utm.area.to_numpy()
    )
    pop = float((weights * tracts_utm["population"]).sum())
    fb = float((weights * tracts_utm["foreign_born"]).sum())
    return {"population": pop, "foreign_born": fb, "pct_foreign_born": 100 * fb / pop}


# --- the embedded layers -------------------------------------------------------------------------


def test_embedded_layers(hoods, tracts):
    assert len(hoods) == 272 and hoods["name"].is_unique
    assert hoods.crs.to_epsg() == 4326 and hoods.is_valid.all()
    assert {"Koreatown", "Westlake", "Pico-Union", "Downtown", "Chinatown"} <= set(hoods["name"])
    assert len(tracts) == 2315 and tracts["GEOID"].is_unique
    assert tracts["GEOID"].map(type).eq(str).all()
    assert tracts["GEOID"].str.fullmatch(r"06037\d{6}").all()  # the leading zero is kept
    assert tracts.is_valid.all()
    assert tracts["median_household_income"].isna().sum() < 20


def test_county_total_and_mass_conservation(demo, hoods, tracts):
    total = tracts["population"].sum()
    assert 10.0e6 < total < 10.2e6  # ACS 2013-17, LA County: about 10.1 million
    county_share = 100 * tracts["foreign_born"].sum() / total
    assert 33.5 < county_share < 35.5

    union = gpd.GeoSeries([hoods.union_all()], crs=4326).to_crs(UTM).iloc[0]
    inside = overlay_figures(union, tracts.to_crs(UTM))["population"]
    assert demo["population"].sum() == pytest.approx(inside, rel=0.005)
    # the neighborhoods tile the county, so nearly everyone is in one
    assert demo["population"].sum() == pytest.approx(total, rel=0.01)


def test_foreign_born_shares_match_direct_overlay(demo, hoods, tracts):
    tracts_utm = tracts.to_crs(UTM)
    county_share = 100 * tracts["foreign_born"].sum() / tracts["population"].sum()
    by_name = demo.set_index("name")
    for name in ("Koreatown", "Westlake", "Pico-Union"):
        polygon = hoods.to_crs(UTM).set_index("name").geometry[name]
        expected = overlay_figures(polygon, tracts_utm)
        got = by_name.loc[name]
        assert got["population"] == pytest.approx(expected["population"], rel=1e-6)
        assert got["pct_foreign_born"] == pytest.approx(expected["pct_foreign_born"], abs=0.01)
        assert got["pct_foreign_born"] > county_share + 15  # well above the county's ~34%


def test_shares_recomputed_from_counts_and_income_population_weighted(tracts):
    # two real neighbouring tracts with very different sizes and shares: averaging shares would be wrong
    t = tracts.set_index("GEOID")
    utm = tracts.to_crs(UTM).set_index("GEOID")
    big = t["population"].idxmax()
    neighbours = utm.index[utm.geometry.touches(utm.geometry[big])]
    small = min(neighbours, key=lambda g: t.loc[g, "population"])
    pair = t.loc[[big, small]]
    target = gpd.GeoSeries([utm.geometry[[big, small]].union_all()], crs=UTM)
    got = interpolate_figures(tracts, target).iloc[0]

    assert got["population"] == pytest.approx(pair["population"].sum(), rel=1e-6)
    assert got["pct_foreign_born"] == pytest.approx(
        100 * pair["foreign_born"].sum() / pair["population"].sum(), rel=1e-6
    )
    weighted = (pair["median_household_income"] * pair["population"]).sum() / pair["population"].sum()
    assert got["median_household_income"] == pytest.approx(weighted, rel=1e-6)
    mean_of_shares = (100 * pair["foreign_born"] / pair["population"]).mean()
    assert abs(mean_of_shares - got["pct_foreign_born"]) > 0.1  # the two methods really differ here


def test_neighborhood_demographics_columns(demo):
    for column in (
        "name",
        "population",
        "foreign_born",
        "pct_foreign_born",
        "hispanic",
        "pct_hispanic",
        "asian",
        "pct_asian",
        "limited_english",
        "pct_limited_english",
        "median_household_income",
        "geometry",
    ):
        assert column in demo.columns
    assert len(demo) == 272 and demo.crs.to_epsg() == 4326
    share = 100 * demo["hispanic"] / demo["population"]
    ok = demo["population"] > 0
    np.testing.assert_allclose(demo.loc[ok, "pct_hispanic"], share[ok])
    assert (demo.loc[ok, "pct_foreign_born"].between(0, 100)).all()


# --- find_neighborhood ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, official",
    [
        ("westlake", "Westlake"),
        ("WESTLAKE ", "Westlake"),
        ("Pico Union", "Pico-Union"),
        ("pico-union", "Pico-Union"),
        ("MacArthur Park", "Westlake"),
        ("Little Tokyo", "Downtown"),
        ("koreatown", "Koreatown"),
        ("Historic South Central", "Historic South-Central"),
    ],
)
def test_find_neighborhood(hoods, typed, official):
    name, polygon = find_neighborhood(typed, hoods)
    assert name == official
    assert polygon.equals(hoods.set_index("name").geometry[official])


def test_find_neighborhood_default_layer_and_unknown():
    name, polygon = find_neighborhood("chinatown")
    assert name == "Chinatown" and polygon.contains(shapely.Point(-118.2385, 34.0643))
    with pytest.raises(UnknownPlaceError) as info:
        find_neighborhood("Koreatwn")
    assert "Koreatown" in info.value.suggestions and "Koreatown" in str(info.value)
    assert isinstance(info.value, StopError)
    assert "\n" not in str(info.value)


def test_alias_needs_its_target_in_the_layer(hoods):
    without = hoods[hoods["name"] != "Westlake"]
    with pytest.raises(UnknownPlaceError):
        find_neighborhood("MacArthur Park", without)


# --- bad input -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def central(hoods) -> gpd.GeoDataFrame:
    return hoods[hoods["name"].isin(["Koreatown", "Westlake", "Pico-Union", "Downtown", "Chinatown"])]


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".parquet", ".geojson"])
def test_load_neighborhoods_formats(tmp_path, central, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow", reason="GeoParquet needs pyarrow")
    path = tmp_path / f"hoods{suffix}"
    renamed = central.rename(columns={"name": "hood_name"})
    if suffix == ".parquet":
        renamed.to_parquet(path)
    else:
        renamed.to_file(path)
    with pytest.raises(DemographicsError, match="name"):
        load_neighborhoods(path)
    got = load_neighborhoods(path, name_field="hood_name")
    assert list(got["name"]) == list(central["name"])
    assert got.crs.to_epsg() == 4326
    assert got.to_crs(UTM).area.sum() == pytest.approx(central.to_crs(UTM).area.sum(), rel=1e-6)


def test_missing_name_column_message(tmp_path, central):
    path = tmp_path / "hoods.gpkg"
    central.rename(columns={"name": "nombre"}).to_file(path)
    with pytest.raises(DemographicsError) as info:
        load_neighborhoods(path)
    message = str(info.value)
    assert "nombre" in message and "name" in message and "\n" not in message
    with pytest.raises(DemographicsError, match="'barrio'"):
        load_neighborhoods(path, name_field="barrio")


def test_no_crs(tmp_path, central):
    path = tmp_path / "hoods.shp"
    central.to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(DemographicsError, match="no coordinate reference system"):
        load_neighborhoods(path)


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path, monkeypatch):
    import importlib.util

    path = tmp_path / "hoods.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(InputFileError, match="pyarrow"):
        load_neighborhoods(path)


def test_missing_file_and_points():
    with pytest.raises(InputFileError, match="does not exist"):
        load_neighborhoods("/nonexistent/hoods.geojson")
    points = gpd.GeoDataFrame({"name": ["MDC"]}, geometry=[shapely.Point(-118.2367, 34.0556)], crs=4326)
    with pytest.raises(DemographicsError, match="Point"):
        load_neighborhoods(points)
    with pytest.raises(DemographicsError, match="GeoDataFrame"):
        load_neighborhoods(pd.DataFrame({"name": ["Westlake"]}))


def test_invalid_geometry_repaired_with_warning(central):
    broken = central.copy()
    ring = list(broken.geometry.iloc[0].exterior.coords)
    # swap two vertices: a real outline turned into a self-intersecting ring
    ring[1], ring[len(ring) // 2] = ring[len(ring) // 2], ring[1]
    broken.iloc[0, broken.columns.get_loc("geometry")] = Polygon(ring)
    assert not broken.geometry.iloc[0].is_valid
    with pytest.warns(UserWarning, match="repaired 1 invalid"):
        got = load_neighborhoods(broken)
    assert got.is_valid.all() and len(got) == len(central)
    assert got.geometry.iloc[0].geom_type in ("Polygon", "MultiPolygon")


def test_geoids_that_do_not_match(tmp_path, tracts):
    polygons = tracts[["GEOID", "geometry"]].iloc[:200]
    table = pd.DataFrame(tracts.drop(columns="geometry").iloc[:200])
    # 2020-style GEOIDs (another vintage): nothing matches
    wrong = table.assign(GEOID="06059" + table["GEOID"].str[5:])
    with pytest.raises(DemographicsError, match=r"Only 0 of 200 tract GEOIDs"):
        load_tracts(polygons, table=wrong)
    # half of them: a warning that says how many matched
    with pytest.warns(UserWarning, match=r"150 of 200"):
        got = load_tracts(polygons, table=table.iloc[:150], min_match=0.5)
    assert got["population"].notna().sum() == 150
    # GEOIDs written as numbers lose the leading zero: they still match
    csv = tmp_path / "figures.csv"
    table.assign(GEOID=table["GEOID"].astype("int64")).to_csv(csv, index=False)
    got = load_tracts(polygons, table=csv)
    assert (got["population"].to_numpy() == table["population"].to_numpy()).all()
    assert got["GEOID"].str.startswith("06037").all()


def test_tracts_without_population(tracts):
    with pytest.raises(DemographicsError, match="population"):
        load_tracts(tracts[["GEOID", "geometry"]])


# --- routes --------------------------------------------------------------------------------------


def _shortest_path_line(G, stops: list[tuple[float, float]]) -> tuple[LineString, float]:
    """Shortest walkable path through (lat, lon) stops: its LineString (edge geometries) and length."""
    import osmnx as ox

    U = G.to_undirected()
    nodes = [ox.distance.nearest_nodes(G, lon, lat) for lat, lon in stops]
    coords: list[tuple[float, float]] = []
    length = 0.0
    for a, b in zip(nodes, nodes[1:]):
        path = nx.shortest_path(U, a, b, weight="length")
        for u, v in zip(path, path[1:]):
            data = min(U.get_edge_data(u, v).values(), key=lambda d: d["length"])
            length += data["length"]
            start = (U.nodes[u]["x"], U.nodes[u]["y"])
            geom = data.get("geometry") or LineString([start, (U.nodes[v]["x"], U.nodes[v]["y"])])
            pts = list(geom.coords)
            if np.hypot(*np.subtract(pts[0], start)) > np.hypot(*np.subtract(pts[-1], start)):
                pts = pts[::-1]
            coords += pts if not coords else pts[1:]
    return LineString(coords), length


class _Route:
    """The two attributes of routemap.route.Route that route_demographics reads."""

    def __init__(self, geometry: LineString, length_m: float):
        self.geometry = geometry
        self.length_m = length_m


# Pershing Square area (7th & Broadway) -> Chinatown (Broadway & College) -> MDC, 535 N Alameda St
DOWNTOWN_CHINATOWN = [(34.0446, -118.2553), (34.0643, -118.2385), (34.0556, -118.2367)]


@pytest.fixture(scope="module")
def downtown_route(shared_la) -> _Route:
    import osmnx as ox
    from osmnx import graph as ox_graph

    response = json.loads((shared_la / "osm" / "overpass_drive_central_la_2025-04-04.json").read_text())
    G = ox.simplify_graph(ox_graph._create_graph([response], bidirectional=True))
    line, length = _shortest_path_line(G, DOWNTOWN_CHINATOWN)
    return _Route(line, length)


def test_route_through_downtown_and_chinatown(downtown_route, hoods, tracts):
    rd = route_demographics(downtown_route, min_visit_m=0)
    table = rd.neighborhoods
    names = list(table["name"])
    assert names[0] == "Downtown" and "Chinatown" in names
    assert names.index("Chinatown") > names.index("Downtown")
    assert table["entered_at_m"].is_monotonic_increasing
    assert table["miles"].sum() * settings.METERS_PER_MILE == pytest.approx(
        downtown_route.length_m, rel=0.005
    )

    # independent: shapely length of the route inside each polygon, scaled to the route's stated length
    line_utm = gpd.GeoSeries([downtown_route.geometry], crs=4326).to_crs(UTM).iloc[0]
    scale = downtown_route.length_m / line_utm.length
    polys = hoods.to_crs(UTM).set_index("name").geometry
    for row in table.itertuples():
        if row.name != OUTSIDE:
            inside = line_utm.intersection(polys[row.name]).length * scale
            assert row.length_m == pytest.approx(inside, rel=0.01, abs=1.0)
            entry = line_utm.interpolate(row.entered_at_m / scale + 1.0)
            assert polys[row.name].buffer(0.5).contains(entry)

    # people within 400 m: independent overlay of the tracts on shapely's buffer
    expected = overlay_figures(line_utm.buffer(400), tracts.to_crs(UTM))
    assert rd.buffer_m == 400
    assert rd.near_route["population"] == pytest.approx(expected["population"], rel=0.005)
    assert rd.population == rd.near_route["population"]
    assert rd.near_route["pct_foreign_born"] == pytest.approx(expected["pct_foreign_born"], abs=0.05)
    assert 5_000 < rd.population < 100_000

    out = json.loads(json.dumps(rd.to_dict()))
    assert [r["name"] for r in out["neighborhoods"]] == names
    assert out["near_route"]["population"] == pytest.approx(rd.population)


def test_route_that_doubles_back_counts_each_visit(downtown_route):
    there = list(downtown_route.geometry.coords)
    line = LineString(there + there[-2::-1])
    rd = route_demographics(line, min_visit_m=0)
    one_way = route_demographics(downtown_route.geometry, min_visit_m=0)
    assert rd.route_length_m == pytest.approx(2 * one_way.route_length_m, rel=1e-9)
    both = rd.neighborhoods.set_index("name")["length_m"]
    single = one_way.neighborhoods.set_index("name")["length_m"]
    for name in single.index:
        assert both[name] == pytest.approx(2 * single[name], rel=1e-6)
    assert len(rd.visits) > len(one_way.visits)
    assert rd.visits["name"].iloc[-1] == one_way.visits["name"].iloc[0]


def test_short_border_grazes_fold_into_neighbours(downtown_route):
    exact = route_demographics(downtown_route, min_visit_m=0)
    smooth = route_demographics(downtown_route, min_visit_m=300)
    assert smooth.neighborhoods["length_m"].sum() == pytest.approx(downtown_route.length_m, rel=1e-9)
    assert (smooth.visits["length_m"] >= 300).all()
    assert (smooth.visits["name"] != smooth.visits["name"].shift()).all()  # no two alike in a row
    # contiguous, in order, from 0 to the end
    assert smooth.visits["start_m"].iloc[0] == 0
    np.testing.assert_allclose(smooth.visits["start_m"].iloc[1:], smooth.visits["end_m"].iloc[:-1])
    # the short pieces of the exact split are gone; the long ones keep their names, in order
    long_names = [n for n, m in zip(exact.visits["name"], exact.visits["length_m"]) if m >= 300]
    assert list(dict.fromkeys(long_names)) == list(dict.fromkeys(smooth.visits["name"]))


def test_route_leaving_the_mapped_area_has_an_outside_row():
    # Santa Monica Pier and straight out over the bay: the neighborhoods stop at the shore
    line = LineString([(-118.4960, 34.0150), (-118.4990, 34.0080), (-118.5300, 33.9800)])
    rd = route_demographics(line)
    table = rd.neighborhoods.set_index("name")
    assert OUTSIDE in table.index and "Santa Monica" in table.index
    length = gpd.GeoSeries([line], crs=4326).to_crs(UTM).length.iloc[0]
    assert table["length_m"].sum() == pytest.approx(length, rel=1e-9)
    assert table.loc[OUTSIDE, "length_m"] > 0.5 * length


def test_route_demographics_bad_input():
    with pytest.raises(DemographicsError, match="LineString"):
        route_demographics(shapely.Point(-118.25, 34.05))
    with pytest.raises(DemographicsError, match="buffer_m"):
        route_demographics(LineString([(-118.25, 34.05), (-118.24, 34.06)]), buffer_m=0)


def test_embedded_network_route_if_available():
    """Once routemap.load_network reads the embedded extract, run the same check on it (fresh clone)."""
    from routemap import data

    pbf = data.embedded_osm_pbf()
    if not pbf.exists():
        pytest.skip(f"embedded street data {pbf} not built yet")
    try:
        from routemap.network import load_network
    except ImportError:
        pytest.skip("routemap.load_network not available yet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = load_network(pbf)
    line, length = _shortest_path_line(G, DOWNTOWN_CHINATOWN)
    rd = route_demographics(_Route(line, length))
    names = list(rd.neighborhoods["name"])
    assert names[0] == "Downtown" and "Chinatown" in names
    assert rd.neighborhoods["length_m"].sum() == pytest.approx(length, rel=0.005)
    assert rd.population > 5_000


def test_planned_route_object(shared_la, tracts):
    """The real routemap Route (plan_route on the Overpass drive file): ordered rows sum to its length."""
    try:
        from routemap.network import load_network
        from routemap.route import plan_route
    except ImportError:
        pytest.skip("routemap.load_network / plan_route not available yet")
    G = load_network(shared_la / "osm" / "overpass_drive_central_la_2025-04-04.json")
    route = plan_route(G, [f"{lat},{lon}" for lat, lon in DOWNTOWN_CHINATOWN])
    rd = route_demographics(route)
    assert rd.route_length_m == pytest.approx(route.length_m)
    assert rd.neighborhoods["length_m"].sum() == pytest.approx(route.length_m, rel=0.005)
    assert list(rd.neighborhoods["name"])[:2] == ["Downtown", "Chinatown"]
    line_utm = gpd.GeoSeries([route.geometry], crs=4326).to_crs(UTM).iloc[0]
    expected = overlay_figures(line_utm.buffer(400), tracts.to_crs(UTM))
    assert rd.population == pytest.approx(expected["population"], rel=0.005)


def test_other_vintage_and_format_agrees_roughly(shared_la, central, demo):
    """ACS 2015-19 B03002 (Census Reporter: prefixed GEOIDs, a whole-city row, full-resolution polygons)
    through the public loaders: Hispanic shares near the ACS 2013-17 ones; absent counts stay NaN."""
    raw = gpd.read_file(shared_la / "census" / "censusreporter_acs2019_5yr_B03002_la_city_tracts.geojson")
    raw = raw.rename(columns={"B03002001": "population", "B03002012": "hispanic", "B03002006": "asian"})
    with pytest.warns(UserWarning, match="dropped 1 row"):
        tracts19 = load_tracts(raw, geoid_field="geoid")
    assert tracts19["GEOID"].str.fullmatch(r"06037\d{6}").all()
    got = neighborhood_demographics(central, tracts19).set_index("name")
    ours = demo.set_index("name")
    for name in ("Koreatown", "Westlake", "Pico-Union"):
        assert got.loc[name, "pct_hispanic"] == pytest.approx(ours.loc[name, "pct_hispanic"], abs=3)
        assert np.isnan(got.loc[name, "foreign_born"]) and np.isnan(got.loc[name, "pct_foreign_born"])


# --- the figure cache ---------------------------------------------------------------------------------


def test_neighborhood_figures_are_cached_until_an_input_changes(hoods, tracts, tmp_path, monkeypatch):
    from routemap.demographics import interpolate

    monkeypatch.setenv("ROUTEMAP_CACHE_DIR", str(tmp_path))
    computed: list[int] = []
    real = interpolate.interpolate_figures

    def counted(*args, **kwargs):
        computed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(interpolate, "interpolate_figures", counted)
    first = neighborhood_demographics(hoods, tracts)
    again = neighborhood_demographics(hoods, tracts)
    assert len(computed) == 1 and interpolate.STATS["hits"] >= 1
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    # other tract figures: computed again, and the change shows
    more = tracts.copy()
    more["population"] = more["population"] * 2
    doubled = neighborhood_demographics(hoods, more)
    assert len(computed) == 2
    np.testing.assert_allclose(doubled["population"], 2 * first["population"], rtol=1e-9)
    # another neighborhood polygon: computed again
    moved = hoods.copy()
    moved.loc[0, "geometry"] = shapely.affinity.translate(moved.geometry[0], xoff=0.01)
    assert neighborhood_demographics(moved, tracts).loc[0, "population"] != first.loc[0, "population"]
    assert len(computed) == 3
    # a damaged entry is a miss, computed again and written over
    for entry in (tmp_path / "demographics").iterdir():
        entry.write_bytes(b"not a cache entry")
    pd.testing.assert_frame_equal(neighborhood_demographics(hoods, tracts), first, check_exact=True)
    assert len(computed) == 4
    neighborhood_demographics(hoods, tracts)
    assert len(computed) == 4
