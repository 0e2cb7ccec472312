"""``bbox_for_route``: the bbox of what a route of a given length through given stops can reach."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

import routemap
from routemap.errors import RoutemapError
from routemap.network import bbox_for_route

GEOD = pyproj.Geod(ellps="WGS84")


def inside(bbox, lat, lon) -> bool:
    west, south, east, north = bbox
    return bool(np.all((west <= lon) & (lon <= east) & (south <= lat) & (lat <= north)))


def ellipse_points(p, q, length_m, n=72):
    """Points x with geodesic |p x| + |x q| = length_m, found by bisection along rays from p (pyproj)."""
    lats, lons = [], []
    for az in np.linspace(0, 360, n, endpoint=False):
        lo, hi = 0.0, length_m
        for _ in range(50):
            r = (lo + hi) / 2
            lon, lat, _ = GEOD.fwd(p[1], p[0], az, r)
            _, _, back = GEOD.inv(lon, lat, q[1], q[0])
            lo, hi = (r, hi) if r + back < length_m else (lo, r)
        lon, lat, _ = GEOD.fwd(p[1], p[0], az, lo)
        lats.append(lat)
        lons.append(lon)
    return np.array(lats), np.array(lons)


def test_loop_bbox_holds_the_disc_of_half_the_length_and_little_more():
    start = (34.0617, -118.3040)
    bbox = bbox_for_route([start], 10_000.0, margin_m=0.0)
    lons, lats, _ = GEOD.fwd(
        np.full(72, start[1]), np.full(72, start[0]), np.arange(0, 360, 5), np.full(72, 5000.0)
    )
    assert inside(bbox, lats, lons)
    # no more than the slack (2%) plus a metre or so of projection error beyond the disc
    west, south, east, north = bbox
    _, _, ns = GEOD.inv(start[1], south, start[1], north)
    assert 10_000.0 <= ns <= 10_000.0 * 1.03


def test_two_stop_bbox_holds_the_ellipse_and_hugs_it():
    p, q = (60.17, 24.92), (60.19, 24.97)
    _, _, straight = GEOD.inv(p[1], p[0], q[1], q[0])
    length = 1.5 * straight
    lats, lons = ellipse_points(p, q, length)
    bbox = bbox_for_route([p, q], length, margin_m=0.0)
    assert inside(bbox, lats, lons)
    west, south, east, north = bbox
    # each side within 3% of the length of the ellipse's extreme point
    for got, want, lat in ((west, lons.min(), p[0]), (east, lons.max(), p[0])):
        _, _, off = GEOD.inv(got, lat, want, lat)
        assert off <= 0.03 * length
    for got, want in ((south, lats.min()), (north, lats.max())):
        _, _, off = GEOD.inv(p[1], got, p[1], want)
        assert off <= 0.03 * length


def test_every_route_planned_in_the_whole_graph_lies_in_its_bbox(helsinki_pbf):
    G = routemap.load_network(helsinki_pbf)
    stops = [(60.1650, 24.9300), (60.1680, 24.9450), (60.1620, 24.9500)]
    for target in (3000.0, 5000.0):
        route = routemap.plan_route(G, stops, target)
        bbox = bbox_for_route(stops, target)
        lat = np.array([G.nodes[n]["y"] for n in route.nodes])
        lon = np.array([G.nodes[n]["x"] for n in route.nodes])
        assert inside(bbox, lat, lon)
        # and loading only that bbox plans the very same route
        H = routemap.load_network(helsinki_pbf, bbox=bbox)
        assert routemap.plan_route(H, stops, target).nodes == route.nodes


def test_margin_widens_every_side():
    a = bbox_for_route([(40.0, -74.0), (40.01, -73.99)], 3000.0, margin_m=0.0)
    b = bbox_for_route([(40.0, -74.0), (40.01, -73.99)], 3000.0, margin_m=1000.0)
    assert b[0] < a[0] and b[1] < a[1] and b[2] > a[2] and b[3] > a[3]
    assert (a[1] - b[1]) * 111_320 == pytest.approx(1000.0, rel=0.01)


def test_bad_input_is_an_error():
    with pytest.raises(RoutemapError, match="no points"):
        bbox_for_route([], 1000.0)
    with pytest.raises(RoutemapError, match="positive"):
        bbox_for_route([(0.0, 0.0)], -5.0)
