"""The area a route of a given length through given points can reach, as a bbox for loading a network.

A route of length ``L`` through points ``p0 -> p1 -> ... -> pk`` in order passes a place ``x`` between
``pi`` and ``pi+1`` only if the straight chain ``p0 -> ... -> pi -> x -> pi+1 -> ... -> pk`` is at most
``L``: ``x`` lies in the ellipse with foci ``pi`` and ``pi+1`` whose major axis is ``L`` minus the straight
lengths of the other legs. The union of those ellipses (a disc of radius ``L / 2`` for a loop from one
point) holds every street such a route can use; :func:`bbox_for_route` returns its bounding box, so that
loading a large extract with that bbox never builds more than the route can reach.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from routemap.errors import RoutemapError

#: Metres per degree of latitude (the mean meridian degree; the margin absorbs the few metres it is off).
METRES_PER_DEGREE = 111_320.0
#: Relative slack over the route length: street lengths are great-circle metres, the local plane here is
#: equirectangular (off by well under 1% over a county), and a route may exceed its target by its
#: tolerance (1% by default).
LENGTH_SLACK = 1.02
#: Default extra metres around the reach: stops snap to streets up to a few hundred metres away.
DEFAULT_MARGIN_M = 500.0


def bbox_for_route(
    points: Sequence[tuple[float, float]], target_m: float, margin_m: float = DEFAULT_MARGIN_M
) -> tuple[float, float, float, float]:
    """Return ``(west, south, east, north)`` holding every place a route of ``target_m`` through ``points`` reaches.

    Parameters
    ----------
    points : sequence of (lat, lon)
        The route's stops in order, in degrees; one point means a loop from it.
    target_m : float
        The route's length in metres (the longest one of interest).
    margin_m : float
        Extra metres on every side.

    Returns
    -------
    tuple of float
        The bbox in degrees, as :func:`routemap.load_network` takes it.

    Raises
    ------
    RoutemapError
        No points, or a length that is not a positive number.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(pts) == 0:
        raise RoutemapError("no points to make a bbox from; give the route's stops as (lat, lon)")
    if not (np.isfinite(target_m) and target_m > 0):
        raise RoutemapError(f"route length {target_m!r} must be a positive number of metres")
    if len(pts) == 1:
        pts = np.vstack([pts, pts])
    lat0 = float(pts[:, 0].mean())
    kx = METRES_PER_DEGREE * max(math.cos(math.radians(lat0)), 0.01)
    x = (pts[:, 1] - pts[:, 1].mean()) * kx
    y = (pts[:, 0] - lat0) * METRES_PER_DEGREE
    legs = np.hypot(np.diff(x), np.diff(y))
    budget = target_m * LENGTH_SLACK
    lo_x, lo_y, hi_x, hi_y = x.min(), y.min(), x.max(), y.max()
    for i, leg in enumerate(legs):
        # this leg's ellipse: the budget left after the straight other legs is its major axis
        a = max((budget - (legs.sum() - leg)) / 2, leg / 2)
        c = leg / 2
        b = math.sqrt(max(a * a - c * c, 0.0))
        theta = math.atan2(y[i + 1] - y[i], x[i + 1] - x[i])
        half_x = math.hypot(a * math.cos(theta), b * math.sin(theta))
        half_y = math.hypot(a * math.sin(theta), b * math.cos(theta))
        cx, cy = (x[i] + x[i + 1]) / 2, (y[i] + y[i + 1]) / 2
        lo_x, hi_x = min(lo_x, cx - half_x), max(hi_x, cx + half_x)
        lo_y, hi_y = min(lo_y, cy - half_y), max(hi_y, cy + half_y)
    lon0 = float(pts[:, 1].mean())
    west = max(lon0 + (lo_x - margin_m) / kx, -180.0)
    east = min(lon0 + (hi_x + margin_m) / kx, 180.0)
    south = max(lat0 + (lo_y - margin_m) / METRES_PER_DEGREE, -90.0)
    north = min(lat0 + (hi_y + margin_m) / METRES_PER_DEGREE, 90.0)
    return (west, south, east, north)
