"""The gazetteer of named places extracted from the corridor tiles."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pytest

from routemap.errors import UnknownPlaceError
from routemap.places import find_place, load_places, normalize_name


def test_embedded_gazetteer_has_the_demo_places():
    df = load_places()
    assert len(df) > 1000
    for name in ("Metropolitan Detention Center", "MacArthur Park", "Chinatown Central Plaza"):
        place = find_place(name)
        assert place.name == name
        # all inside the corridor the tiles cover
        assert -118.3667 <= place.lon <= -118.1909 and 34.0162 <= place.lat <= 34.1254


def test_matching_ignores_case_and_punctuation():
    assert find_place("metropolitan detention center.") == find_place("Metropolitan Detention Center")
    assert normalize_name("The  MacArthur-Park") == "macarthur park"


def test_unknown_place_lists_close_names():
    with pytest.raises(UnknownPlaceError) as err:
        find_place("MacArthur Prak")
    assert "MacArthur Park" in str(err.value)
    assert "MacArthur Park" in err.value.suggestions


def test_mdc_matches_the_535_housenumber_in_the_original_tiles(shared_la):
    """The MDC point of interest lies at 535 N Alameda St: check against the tiles' housenumber layer."""
    import pandas as pd
    import pyogrio

    frames = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tile in sorted((shared_la / "osm" / "tiles" / "14").rglob("*.pbf")):
            df = pyogrio.read_dataframe(tile, layer="housenumber")
            frames.append(df[df["housenumber"] == "535"])
    hn = gpd.GeoDataFrame(pd.concat(frames), crs=frames[0].crs).to_crs(4326)
    mdc = find_place("Metropolitan Detention Center")
    pts = gpd.GeoSeries(gpd.points_from_xy([mdc.lon], [mdc.lat]), crs=4326)
    utm = pts.estimate_utm_crs()
    d = hn.to_crs(utm).distance(pts.to_crs(utm).iloc[0]).min()
    assert d < 60
