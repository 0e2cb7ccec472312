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
