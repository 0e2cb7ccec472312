"""The sort-based unique helpers against numpy's ``np.unique``."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from routemap._arrays import unique, unique_index, unique_inverse

_IDS = st.lists(st.integers(-(2**40), 2**40), max_size=300)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(values=_IDS, repeat=st.integers(1, 3))
def test_the_helpers_give_numpys_results(values, repeat):
    a = np.array(values * repeat, dtype=np.int64)
    assert np.array_equal(unique(a), np.unique(a))
    got, first = unique_index(a)
    want, want_first = np.unique(a, return_index=True)
    assert np.array_equal(got, want) and np.array_equal(first, want_first)
    got, inverse = unique_inverse(a)
    want, want_inverse = np.unique(a, return_inverse=True)
    assert np.array_equal(got, want) and np.array_equal(inverse, want_inverse.ravel())
    assert np.array_equal(got[inverse], a)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(known=_IDS, asked=_IDS)
def test_sorted_lookup_finds_what_isin_finds(known, asked):
    from routemap._arrays import sorted_lookup

    sorted_values = np.unique(np.array(known, dtype=np.int64))
    values = np.array(asked + known, dtype=np.int64)
    pos, found = sorted_lookup(sorted_values, values)
    assert np.array_equal(found, np.isin(values, sorted_values))
    assert np.array_equal(sorted_values[pos[found]], values[found])
