"""The pipeline's own decisions: checks before work, the network bbox, summaries that say "unknown"."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import LineString

from routemap.errors import OfflineError, StopError, TargetLengthError
from routemap.pipeline import (
    check_out_dir,
    check_stops,
    check_target,
    network_for_stops,
    people_figures,
)
from routemap.settings import NO_CENSUS_NOTE


@pytest.mark.parametrize("target", ["1", "15", 99.9, "50.5"])
def test_bare_small_numbers_are_refused(target):
    with pytest.raises(TargetLengthError, match="unit"):
        check_target(target)


@pytest.mark.parametrize("target", ["100", 24000, "15mi", "10 km", None, "5000m"])
def test_units_and_plain_metres_pass(target):
    assert check_target(target) == target


def test_one_stop_needs_a_target_and_none_is_an_error():
    assert check_stops(["60.17,24.94"], "10km") == ["60.17,24.94"]
    with pytest.raises(StopError, match="loop"):
        check_stops(["60.17,24.94"], None)
    with pytest.raises(StopError):
        check_stops([], "10km")


def test_out_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(Exception, match="is a file"):
        check_out_dir(f)
    assert check_out_dir(tmp_path / "new") == tmp_path / "new"


def test_offline_stop_outside_the_corridor_names_it():
    with pytest.raises(OfflineError, match="40.71280,-74.00600"):
        network_for_stops(["40.7128,-74.0060", "MacArthur Park"], offline=True)


def test_people_figures_keep_unknown_as_none():
    got = people_figures({"population": math.nan, "pct_foreign_born": None, "area_km2": 3.14159})
    assert got == {"population": None, "pct_foreign_born": None, "area_km2": 3.14}


def test_route_outside_every_layer_has_unknown_people_not_zero():
    from routemap.demographics import route_demographics

    line = LineString([(24.940, 60.168), (24.947, 60.176)])  # Helsinki: no LA tract or neighborhood
    rd = route_demographics(line)
    assert math.isnan(rd.near_route["population"])
    assert not rd.census_covered and not rd.neighborhoods_covered
    assert NO_CENSUS_NOTE in rd.to_dict()["notes"]
    assert rd.to_dict()["near_route"]["population"] is None


def test_an_unreachable_server_is_one_fast_error():
    import time

    from routemap.pipeline import check_reachable

    t0 = time.perf_counter()
    with pytest.raises(OfflineError, match="cannot reach the Overpass API at 127.0.0.1"):
        check_reachable("http://127.0.0.1:9/api/", "the Overpass API")  # nothing listens on port 9
    assert time.perf_counter() - t0 < 6


def test_big_extract_is_read_only_where_the_route_can_reach(helsinki_pbf, monkeypatch):
    """An --osm file over the size limit is loaded within bbox_for_route of the stops (issue 16)."""
    import routemap.pipeline as pipeline
    from routemap.network import bbox_for_route, load_network
    from routemap.route import plan_route

    stops = ["60.1680,24.9400", "60.1660,24.9510"]
    whole = load_network(helsinki_pbf)
    monkeypatch.setattr(pipeline, "BBOX_LOAD_MIN_BYTES", 0)  # the small test file counts as big
    part = network_for_stops(stops, helsinki_pbf, target="1km")
    west, south, east, north = bbox_for_route([(60.168, 24.940), (60.166, 24.951)], 1000)
    xs = [d["x"] for _, d in part.nodes(data=True)]
    ys = [d["y"] for _, d in part.nodes(data=True)]
    assert len(part) < len(whole)
    assert west <= min(xs) and max(xs) <= east and south <= min(ys) and max(ys) <= north
    route = plan_route(part, stops, "1km")
    assert abs(route.length_m - 1000) <= 10
    # named stops cannot be placed before reading: the whole file is loaded
    assert len(network_for_stops(["Rautatientori", stops[1]], helsinki_pbf, target="1km")) == len(whole)
