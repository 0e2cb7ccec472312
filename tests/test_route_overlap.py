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
