"""The CLI end to end on the embedded data: the demo, one route, a comparison, and bad input."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, shape

from routemap.cli import main
from routemap.places import find_place

ROOT = Path(__file__).resolve().parents[1]
MILE = 1609.344


def utm_distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two (lon, lat) points in metres, measured in UTM (independent of routemap)."""
    s = gpd.GeoSeries([Point(a), Point(b)], crs=4326)
    s = s.to_crs(s.estimate_utm_crs())
    return float(s.iloc[0].distance(s.iloc[1]))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    assert main(["demo", "--out", str(out)]) == 0
    return out


def test_demo_writes_every_file(demo_dir):
    for name in ("route.html", "route.gpx", "route.geojson", "cues.csv", "summary.json", "README.md"):
        assert (demo_dir / name).stat().st_size > 0, name


def test_demo_route_meets_the_brief(demo_dir):
    summary = json.loads((demo_dir / "summary.json").read_text())
    for key in ("length_m", "length_mi", "target_m", "repeated_m", "stops", "neighborhoods", "sources"):
        assert key in summary
    assert abs(summary["length_m"] - 15 * MILE) <= 0.01 * 15 * MILE
    assert summary["repeated_m"] <= 0.03 * summary["length_m"]
    assert summary["doubled_back_m"] <= 0.03 * summary["length_m"]  # not back along a sidewalk either
    # Independent geometry checks on the GeoJSON the demo wrote and the embedded neighborhood polygons.
    gj = json.loads((demo_dir / "route.geojson").read_text())
    line = next(shape(f["geometry"]) for f in gj["features"] if f["geometry"]["type"] == "LineString")
    hoods = gpd.read_file(ROOT / "data" / "neighborhoods" / "la_times_neighborhoods.geojson")
    poly = {n: g for n, g in zip(hoods["name"], hoods.geometry, strict=True)}
    start = Point(line.coords[0])
    assert poly["Koreatown"].contains(start)
    assert line.intersects(poly["Westlake"])
    assert line.intersects(poly["Chinatown"])
    mdc = find_place("Metropolitan Detention Center")
    assert utm_distance_m(line.coords[-1], (mdc.lon, mdc.lat)) <= 400
    names = [n["name"] for n in summary["neighborhoods"]]
    assert names[0] == "Koreatown"
    assert {"Westlake", "Chinatown"} <= set(names)
    miles = sum(n["miles"] for n in summary["neighborhoods"])
    assert abs(miles - summary["length_mi"]) <= 0.005 * summary["length_mi"]
    # stops in order along the route
    stop_miles = [s["mile"] for s in summary["stops"]]
    assert stop_miles == sorted(stop_miles)


def test_route_command_matches_its_summary(tmp_path):
    out = tmp_path / "r"
    code = main(
        [
            "route",
            "--stop",
            "MacArthur Park",
            "--stop",
            "Chinatown Central Plaza",
            "--target",
            "5km",
            "--out",
            str(out),
            "--offline",
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert abs(summary["length_m"] - 5000) <= 50
    html = (out / "route.html").read_text()
    assert "cdn.jsdelivr.net/npm/leaflet" not in html  # --offline inlines the assets


def bad(tmp_path: Path, capsys, args: list[str]) -> str:
    out = tmp_path / "out"
    code = main([*args, "--out", str(out)])
    assert code != 0
    assert not out.exists() or not any(out.iterdir()), "nothing may be left in --out"
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "Traceback" not in err
    return err


def test_impossible_target(tmp_path, capsys):
    err = bad(
        tmp_path,
        capsys,
        ["route", "--stop", "MacArthur Park", "--stop", "Metropolitan Detention Center", "--target", "1km"],
    )
    assert "minimum" in err.lower() or "shortest" in err.lower()


def test_unknown_profile(tmp_path, capsys):
    err = bad(
        tmp_path, capsys, ["route", "--stop", "MacArthur Park", "--stop", "Chinatown", "--profile", "sprint"]
    )
    assert "sprint" in err


def test_stop_outside_the_data_offline(tmp_path, capsys):
    err = bad(
        tmp_path, capsys, ["route", "--stop", "40.7128,-74.0060", "--stop", "MacArthur Park", "--offline"]
    )
    assert "40.71280" in err


def test_malformed_spec(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        textwrap.dedent("""
        variants:
          - name: a
            stops: [MacArthur Park, Chinatown
    """)
    )
    err = bad(tmp_path, capsys, ["compare", str(spec)])
    assert "s.yaml" in err and "malformed" in err


def test_compare_example_rows_match_variant_summaries(tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", str(ROOT / "examples" / "run_against_ice.yaml"), "--out", str(out)]) == 0
    import pandas as pd

    table = pd.read_csv(out / "comparison.csv", keep_default_na=False)
    assert len(table) >= 4
    assert (out / "comparison.md").exists() and (out / "comparison.html").exists()
    ok = table[table["error"] == ""]
    assert len(ok) >= 4
    for _, row in ok.iterrows():
        vdir = next(
            p
            for p in (out / "variants").iterdir()
            if json.loads((p / "summary.json").read_text())["name"] == row["name"]
        )
        summary = json.loads((vdir / "summary.json").read_text())
        assert abs(summary["length_mi"] - float(row["length_mi"])) < 1e-3
        assert (vdir / "route.gpx").exists()


def test_only_the_program_freezes_the_collector_at_its_end(monkeypatch, capsys):
    import gc
    import sys

    frozen = gc.get_freeze_count()
    assert main(["--help"]) == 0  # called with arguments (a test, a library user): left alone
    assert gc.get_freeze_count() == frozen
    monkeypatch.setattr(sys, "argv", ["routemap", "--help"])
    try:
        assert main() == 0  # the program: nothing left for the interpreter's last collections
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
    capsys.readouterr()
