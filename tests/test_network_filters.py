"""Network-type filters: osmnx's Overpass filters evaluated locally, hand-checked cases."""

from __future__ import annotations

import pytest
from osmnx import _overpass

from routemap.errors import NetworkError
from routemap.network.filters import (
    OSMNX_FILTERS,
    network_clauses,
    overpass_filter,
    parse_overpass_filter,
    way_filter,
)

CASES = [
    # tags, walk, run, drive, bike, all
    ({"highway": "residential"}, True, True, True, True, True),
    ({"highway": "footway"}, True, True, False, False, True),
    ({"highway": "steps"}, True, True, False, False, True),
    ({"highway": "cycleway"}, False, False, False, True, True),
    ({"highway": "motorway"}, False, False, True, False, True),  # "motor" matches unanchored
    ({"highway": "motorway_link"}, False, False, True, False, True),
    ({"highway": "service", "service": "driveway"}, True, True, False, True, True),
    ({"highway": "service", "service": "private"}, False, False, False, False, True),
    ({"highway": "residential", "access": "private"}, False, False, False, False, True),
    ({"highway": "residential", "foot": "no"}, False, False, True, True, True),
    ({"highway": "pedestrian", "area": "yes"}, False, False, False, False, False),
    ({"highway": "primary", "sidewalk": "separate"}, False, True, True, True, True),
    ({"highway": "primary", "sidewalk:both": "separate"}, False, True, True, True, True),
    ({"highway": "primary", "sidewalk:left": "separate"}, False, True, True, True, True),
    ({"highway": "primary", "sidewalk": "both"}, True, True, True, True, True),
    ({"highway": "construction"}, False, False, False, False, False),
    ({"name": "Not a street"}, False, False, False, False, False),
]


@pytest.mark.parametrize("tags,walk,run,drive,bike,all_", CASES)
def test_hand_checked_ways(tags, walk, run, drive, bike, all_):
    expected = {"walk": walk, "run": run, "drive": drive, "bike": bike, "all": all_}
    for network_type, keep in expected.items():
        assert way_filter(network_type)(tags) is keep, (network_type, tags)


def test_walk_is_osmnx_filter_and_run_drops_only_sidewalk_clauses():
    walk = overpass_filter("walk")
    assert walk == _overpass._get_network_filter("walk")
    run = network_clauses("run")
    dropped = set(network_clauses("walk")) - set(run)
    assert {c.key for c in dropped} == {"sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right"}
    assert "sidewalk" not in overpass_filter("run")


@pytest.mark.parametrize("network_type", ["drive", "bike", "all"])
def test_other_types_round_trip_osmnx_strings(network_type):
    assert overpass_filter(network_type) == _overpass._get_network_filter(network_type)


def test_operators():
    (has, eq, ne, match, nomatch) = parse_overpass_filter(
        '["highway"]["a"="x"]["b"!="y"]["c"~"^f"]["d"!~"z"]'
    )
    assert has.matches({"highway": "x"}) and not has.matches({})
    assert eq.matches({"a": "x"}) and not eq.matches({"a": "xx"})
    assert ne.matches({}) and not ne.matches({"b": "y"})
    assert match.matches({"c": "foo"}) and not match.matches({"c": "afo"}) and not match.matches({})
    assert nomatch.matches({}) and not nomatch.matches({"d": "lazy"})


def test_unknown_type_and_bad_filter_are_errors():
    with pytest.raises(NetworkError, match="unknown network type"):
        way_filter("swim")
    with pytest.raises(NetworkError, match="Overpass filter"):
        parse_overpass_filter('["highway"]junk')


@pytest.mark.parametrize("network_type", ["walk", "drive", "bike", "all"])
def test_the_copied_filters_are_the_installed_osmnx_filters(network_type):
    assert OSMNX_FILTERS[network_type] == _overpass._get_network_filter(network_type)
