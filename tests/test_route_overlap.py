"""Doubling back measured on the ground, on hand-checked shapes."""

from __future__ import annotations

import numpy as np
import pytest

from routemap.route.overlap import doubled_back_m


def test_out_and_back_on_a_parallel_way_counts_the_way_back():
    # 1 km east on y=0, then back west on a sidewalk 12 m away: the way back (minus the turn) is doubled.
    x = np.array([0.0, 1000.0, 1000.0, 0.0])
    y = np.array([0.0, 0.0, 12.0, 12.0])
    got = doubled_back_m(x, y)
    assert 900 <= got <= 1000


@pytest.mark.parametrize("offset", [60.0, 150.0])
def test_parallel_streets_a_block_apart_are_not_doubling(offset):
    x = np.array([0.0, 1000.0, 1000.0, 0.0])
    y = np.array([0.0, 0.0, offset, offset])
    assert doubled_back_m(x, y) == 0.0


def test_a_loop_and_a_crossing_are_not_doubling():
    square = np.array([[0, 0], [500, 0], [500, 500], [0, 500], [0, 0]], float)
    assert doubled_back_m(square[:, 0], square[:, 1]) == 0.0
    cross = np.array([[0, 0], [1000, 0], [1000, 500], [500, 500], [500, -500]], float)
    assert doubled_back_m(cross[:, 0], cross[:, 1]) == 0.0


def test_only_the_part_after_from_m_counts():
    x = np.array([0.0, 1000.0, 1000.0, 0.0])
    y = np.array([0.0, 0.0, 12.0, 12.0])
    full = doubled_back_m(x, y)
    # from the middle of the way back on, about half of it remains
    half = doubled_back_m(x, y, from_m=1012 + 500)
    assert half == pytest.approx(full - 500, abs=60)


# -- a new leg measured after the route so far (issue 16: the prior's samples are reused) ----------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from routemap.route.overlap import Samples  # noqa: E402

_STEPS = st.lists(
    st.tuples(st.sampled_from([(1, 0), (0, 1), (-1, 0), (0, -1)]), st.floats(5.0, 150.0)),
    min_size=2,
    max_size=40,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(steps=_STEPS, cut=st.integers(1, 39))
def test_measuring_after_a_prior_equals_measuring_the_whole_line(steps, cut):
    # a street-grid walk split into the route so far and a new leg: the new leg's doubled metres are
    # those of the whole line beyond the prior, whether measured at once or after the prior's samples
    moves = np.array([[dx * d, dy * d] for (dx, dy), d in steps])
    pts = np.concatenate([[[0.0, 0.0]], np.cumsum(moves, axis=0)])
    cut = min(cut, len(pts) - 1)
    prior, leg = pts[: cut + 1], pts[cut:]
    from_m = float(np.hypot(*np.diff(prior, axis=0).T).sum())
    whole = np.concatenate([prior[:-1], leg])
    expected = doubled_back_m(whole[:, 0], whole[:, 1], from_m=from_m)
    line = Samples.of(prior[:, 0], prior[:, 1])
    assert line is not None
    assert line.doubled_after(leg[:, 0], leg[:, 1]) == expected
    # and the prior measured once serves many legs
    assert line.doubled_after(leg[:, 0], leg[:, 1]) == expected


def test_a_leg_running_back_along_the_prior_is_counted_after_it():
    prior = np.array([[0.0, 0.0], [1000.0, 0.0]])
    leg = np.array([[1000.0, 0.0], [1000.0, 12.0], [0.0, 12.0]])
    line = Samples.of(prior[:, 0], prior[:, 1])
    assert 900 <= line.doubled_after(leg[:, 0], leg[:, 1]) <= 1000
    # a leg going on east runs alongside nothing
    away = np.array([[1000.0, 0.0], [2000.0, 0.0]])
    assert line.doubled_after(away[:, 0], away[:, 1]) == 0.0


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    steps=_STEPS,
    first=st.integers(0, 400),
    radius=st.floats(5.0, 80.0),
    gap=st.floats(0.0, 300.0),
    min_cos=st.floats(0.0, 1.0),
)
def test_the_alongside_kernel_flags_what_comparing_every_pair_flags(steps, first, radius, gap, min_cos):
    from routemap.route.kernels import alongside, line_grid

    moves = np.array([[dx * d, dy * d] for (dx, dy), d in steps])
    pts = np.concatenate([[[0.0, 0.0]], np.cumsum(moves, axis=0)])
    line = Samples.of(pts[:, 0], pts[:, 1])
    assert line is not None
    s, x, y, ux, uy = line.s, line.sx, line.sy, line.ux, line.uy
    first = min(first, len(s))
    # the first samples are the route so far (gridded once), the rest the line measured after it
    before = (s[:first], x[:first], y[:first], ux[:first], uy[:first])
    grid = line_grid(x[:first].copy(), y[:first].copy(), radius)
    after = (s[first:], x[first:], y[first:], ux[first:], uy[first:])
    got = np.concatenate([np.zeros(first, bool), alongside(before, grid, after, radius, gap, min_cos)])
    # every pair, by brute force: i earlier than j by more than the gap, near, parallel or opposite
    d2 = (x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2
    ok = (d2 <= radius * radius) & (s[None, :] - s[:, None] > gap)
    ok &= np.abs(ux[:, None] * ux[None, :] + uy[:, None] * uy[None, :]) >= min_cos
    expected = ok.any(axis=0)
    expected[:first] = False
    assert np.array_equal(got, expected)
