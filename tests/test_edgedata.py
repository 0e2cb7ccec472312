"""Edge attribute dicts that count their changes (what makes the compiled-graph check O(1))."""

from __future__ import annotations

import pickle

import pytest

from routemap._edgedata import EdgeData


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.__setitem__("length", 2.0),
        lambda d: d.__delitem__("highway"),
        lambda d: d.update(length=3.0),
        lambda d: d.pop("length"),
        lambda d: d.popitem(),
        lambda d: d.setdefault("name", "Main St"),
        lambda d: d.clear(),
        lambda d: d.__ior__({"length": 4.0}),
    ],
)
def test_every_change_moves_the_version(change):
    d = EdgeData(length=1.0, highway="residential")
    before = EdgeData.version
    change(d)
    assert EdgeData.version > before


def test_it_is_a_plain_dict_otherwise():
    d = EdgeData({"length": 1.0}, highway="residential")
    before = EdgeData.version
    assert d == {"length": 1.0, "highway": "residential"} and isinstance(d, dict)
    assert d.get("length") == 1.0 and dict(d) == d and d.copy() == d
    assert EdgeData.version == before  # reading changes nothing
    blob = pickle.dumps(d)
    before = EdgeData.version
    back = pickle.loads(blob)
    assert type(back) is EdgeData and back == d
    assert EdgeData.version == before  # rebuilt whole (a cached graph's reload is no change)
