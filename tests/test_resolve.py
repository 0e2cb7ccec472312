"""The default stop-name resolver: layers read once, answers kept per name."""

from __future__ import annotations

import pytest

import routemap.demographics as demographics
from routemap.errors import UnknownPlaceError
from routemap.resolve import DefaultResolver

LA_BBOX = (-118.32, 34.03, -118.21, 34.08)


def test_layers_are_read_once_and_answers_kept(monkeypatch):
    calls = []
    real = demographics.load_neighborhoods

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(demographics, "load_neighborhoods", counting)
    resolver = DefaultResolver()
    first = resolver("Koreatown", LA_BBOX)
    assert first.kind == "area" and first.name == "Koreatown"
    again = resolver("Koreatown", LA_BBOX)
    assert again is first
    place = resolver("MacArthur Park", LA_BBOX)  # a place first, though an alias of Westlake
    assert place.kind == "place"
    assert len(calls) == 1
    # a name nobody knows fails the same way each time, with the same suggestions
    with pytest.raises(UnknownPlaceError) as one:
        resolver("Koreatwn", LA_BBOX)
    with pytest.raises(UnknownPlaceError) as two:
        resolver("Koreatwn", LA_BBOX)
    assert str(one.value) == str(two.value) and one.value.suggestions == two.value.suggestions
    assert "Koreatown" in one.value.suggestions


def test_outside_the_layers_the_name_is_unknown():
    helsinki = (24.90, 60.15, 24.98, 60.19)
    with pytest.raises(UnknownPlaceError):
        DefaultResolver()("Koreatown", helsinki)
