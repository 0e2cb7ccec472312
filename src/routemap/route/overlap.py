"""Doubling back measured on the ground: route stretches run again alongside where the route already went.

Edge-based repetition (:attr:`Route.repeated_length_m`) misses a route that goes up a street and comes back
down its separately mapped sidewalk, or a parallel service road a few metres away: different edges, the same
stretch of ground for the runners. This module samples the route every few metres and flags the samples
that lie within ``radius_m`` (35 m: across a wide boulevard, sidewalk to sidewalk) of a sample passed at least ``gap_m`` earlier, running along the same line
(parallel or opposite, not across it), so a route crossing itself is not counted.
"""

from __future__ import annotations

import numpy as np

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
    line = Samples.of(x, y, spacing_m)
    if line is None or line.total_m <= gap_m:
        return 0.0
    return line.doubled_m(from_m=from_m, radius_m=radius_m, gap_m=gap_m, min_cos=min_cos)


_NO_LINE = (np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
_NO_GRID = (np.zeros(5), np.zeros(2, np.int64), np.zeros(0, np.int64))


class Samples:
    """A polyline sampled every ``spacing_m``: positions ``s`` along it, points, unit directions.

    :meth:`doubled_m` measures doubling back; :meth:`doubled_after` measures a line drawn after an
    earlier one (the route so far), reusing the earlier line's samples: what the planner does for the
    many candidate legs that follow the same route. The pairs of samples are found by a compiled kernel
    (:func:`routemap.route.kernels.alongside`) on a grid of ``radius_m`` cells.
    """

    def __init__(self, s: np.ndarray, sx: np.ndarray, sy: np.ndarray, ux: np.ndarray, uy: np.ndarray,
                 total_m: float, spacing_m: float) -> None:  # fmt: skip
        self.s, self.sx, self.sy, self.ux, self.uy = s, sx, sy, ux, uy
        self.total_m = total_m
        self.spacing_m = spacing_m
        self._grids: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    @classmethod
    def of(
        cls, x: np.ndarray, y: np.ndarray, spacing_m: float = SPACING_M, offset_m: float = 0.0
    ) -> Samples | None:
        """Return the samples of the polyline (None without length); ``offset_m``: the line starts this
        far along a longer line (samples stay on that line's grid of ``spacing_m / 2 + k * spacing_m``)."""
        from routemap.route.kernels import sample_line

        x = np.ascontiguousarray(x, float)
        y = np.ascontiguousarray(y, float)
        if len(x) < 2:
            return None
        # samples at spacing_m / 2 + k * spacing_m along the line, each with its segment's direction;
        # repeated points are dropped first (a segment of no length has no direction)
        s, sx, sy, ux, uy, total = sample_line(x, y, float(spacing_m), float(offset_m))
        if total < 0:
            return None
        return cls(s, sx, sy, ux, uy, float(total), spacing_m)

    def doubled_m(self, *, from_m: float, radius_m: float, gap_m: float, min_cos: float) -> float:
        """Return the metres of this line beyond ``from_m`` that run alongside an earlier part of it."""
        flagged = self._alongside_itself(radius_m=radius_m, gap_m=gap_m, min_cos=min_cos)
        return float((flagged & (self.s > from_m)).sum() * self.spacing_m)

    def _alongside_itself(self, *, radius_m: float, gap_m: float, min_cos: float) -> np.ndarray:
        """Return, per sample, whether it runs alongside a sample at least ``gap_m`` earlier on this line."""
        from routemap.route.kernels import alongside

        return alongside(_NO_LINE, _NO_GRID, self._arrays(), radius_m, gap_m, min_cos)

    def doubled_after(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        spacing_m: float = SPACING_M,
        radius_m: float = RADIUS_M,
        gap_m: float = GAP_M,
        min_cos: float = MIN_COS,
    ) -> float:
        """Return :func:`doubled_back_m` of this line followed by the polyline ``x, y`` (which starts at
        this line's end), counting only the new line's samples, as ``from_m`` = this line's length.
        """
        from routemap.route.kernels import alongside

        new = Samples.of(x, y, spacing_m, offset_m=self.total_m)
        if new is None or new.total_m <= gap_m or len(new.s) == 0:
            return 0.0
        flagged = alongside(self._arrays(), self._grid(radius_m), new._arrays(), radius_m, gap_m, min_cos)
        flagged &= new.s > self.total_m  # a sample on the join belongs to the line before
        return float(flagged.sum() * spacing_m)

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return self.s, self.sx, self.sy, self.ux, self.uy

    def _grid(self, radius_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the samples' grid (:func:`routemap.route.kernels.line_grid`), kept per radius: the
        route so far is measured against many candidate legs."""
        from routemap.route.kernels import line_grid

        hit = self._grids.get(radius_m)
        if hit is None:
            hit = self._grids[radius_m] = line_grid(self.sx, self.sy, float(radius_m))
        return hit
