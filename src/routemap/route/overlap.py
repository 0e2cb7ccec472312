"""Doubling back measured on the ground: route stretches run again alongside where the route already went.

Edge-based repetition (:attr:`Route.repeated_length_m`) misses a route that goes up a street and comes back
down its separately mapped sidewalk, or a parallel service road a few metres away: different edges, the same
stretch of ground for the runners. This module samples the route every few metres and flags the samples
that lie within ``radius_m`` (35 m: across a wide boulevard, sidewalk to sidewalk) of a sample passed at least ``gap_m`` earlier, running along the same line
(parallel or opposite, not across it), so a route crossing itself is not counted.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

#: Sample spacing along the route (metres): fine enough for a city block, coarse enough to be cheap.
SPACING_M = 10.0
#: A later sample this close to an earlier one runs alongside it: across a wide boulevard, sidewalk to
#: sidewalk, is about 35 m; the next parallel street (a block away, 60 m or more) is not doubling back.
RADIUS_M = 35.0
#: Only samples at least this far apart along the route count, so a bend is not its own neighbour.
GAP_M = 100.0
#: Smallest |cos| of the angle between the two directions (0.7: within about 45 degrees of parallel or
#: opposite), so crossing the earlier route is not running along it.
MIN_COS = 0.7


def doubled_back_m(
    x: np.ndarray,
    y: np.ndarray,
    *,
    from_m: float = 0.0,
    spacing_m: float = SPACING_M,
    radius_m: float = RADIUS_M,
    gap_m: float = GAP_M,
    min_cos: float = MIN_COS,
) -> float:
    """Return the metres of a polyline that run again alongside an earlier part of it.

    Parameters
    ----------
    x, y : numpy.ndarray
        The route's vertices in a projected CRS (metres), start to finish.
    from_m : float
        Count only the samples beyond this distance along the line (the earlier part still counts as
        "already run"): the planner measures a new leg against the legs before it.
    spacing_m, radius_m, gap_m, min_cos : float
        Sample spacing; how close a later sample must be to an earlier one; how much earlier along the
        route (so that a curve is not its own neighbour); and the smallest |cos| of the angle between the
        two directions (0.7: within about 45 degrees of parallel or opposite).
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if len(x) < 2:
        return 0.0
    seg = np.hypot(np.diff(x), np.diff(y))
    keep = np.concatenate([[True], seg > 1e-9])
    x, y = x[keep], y[keep]
    seg = np.hypot(np.diff(x), np.diff(y))
    if len(seg) == 0:
        return 0.0
    d = np.concatenate([[0.0], np.cumsum(seg)])
    if d[-1] <= gap_m:
        return 0.0
    s = np.arange(spacing_m / 2, d[-1], spacing_m)
    sx = np.interp(s, d, x)
    sy = np.interp(s, d, y)
    k = np.clip(np.searchsorted(d, s, side="right") - 1, 0, len(seg) - 1)
    ux = np.diff(x)[k] / seg[k]
    uy = np.diff(y)[k] / seg[k]
    pairs = cKDTree(np.column_stack([sx, sy])).query_pairs(radius_m, output_type="ndarray")
    if len(pairs) == 0:
        return 0.0
    i, j = pairs[:, 0], pairs[:, 1]
    swap = s[i] > s[j]
    i, j = np.where(swap, j, i), np.where(swap, i, j)
    along = np.abs(ux[i] * ux[j] + uy[i] * uy[j]) >= min_cos
    late = (s[j] - s[i] > gap_m) & (s[j] > from_m)
    flagged = np.unique(j[along & late])
    return float(len(flagged) * spacing_m)
