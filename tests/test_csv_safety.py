"""CSV outputs never hand a spreadsheet a formula (OWASP "CSV injection"), and numbers stay numbers."""

from __future__ import annotations

import csv
import textwrap

import pandas as pd
import pytest
from test_route_cues import scene

from routemap._files import csv_safe_text, write_csv
from routemap.export import write_cue_sheet
from routemap.route.model import Route, RouteStop

FORMULA = '=HYPERLINK("http://x","click")'


@pytest.mark.parametrize("text", [FORMULA, "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "-cmd"])
def test_formula_like_text_gets_a_leading_quote(text):
    assert csv_safe_text(text) == "'" + text


@pytest.mark.parametrize("value", ["Main Street", "-3", "+1.5", "2e3", "", 5, -2.5, None])
def test_plain_text_and_numbers_are_unchanged(value):
    assert csv_safe_text(value) == value


def _cells(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_write_csv_neutralizes_text_and_keeps_numbers(tmp_path):
    table = pd.DataFrame({"name": [FORMULA, "plain"], "miles": [-1.5, 2.0], "count": [3, -4]})
    write_csv(table, tmp_path / "t.csv")
    rows = _cells(tmp_path / "t.csv")
    assert rows[1][0] == "'" + FORMULA
    # no cell a spreadsheet would evaluate: the only cells starting with - are plain numbers
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r"))
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["miles"].tolist() == [-1.5, 2.0]
    assert pd.api.types.is_float_dtype(back["miles"]) and pd.api.types.is_integer_dtype(back["count"])
    assert back["name"].tolist() == ["'" + FORMULA, "plain"]


def test_cue_sheet_street_named_like_a_formula(tmp_path):
    G = scene()
    for _, _, data in G.edges(data=True):
        if data.get("name") == "East 1st Street":
            data["name"] = FORMULA
    stops = [
        RouteStop("start", G.nodes[3]["y"], G.nodes[3]["x"], node=3),
        RouteStop("@finish", G.nodes[6]["y"], G.nodes[6]["x"], node=6),
    ]
    route = Route.from_nodes(G, [3, 4, 5, 6], stops=stops)
    assert FORMULA in set(route.cue_sheet()["street"])
    write_cue_sheet(route, tmp_path / "cues.csv")
    back = pd.read_csv(tmp_path / "cues.csv")
    assert "'" + FORMULA in set(back["street"])
    assert FORMULA not in set(back["street"])
    assert pd.api.types.is_float_dtype(back["distance_m"])
    assert back["distance_m"].is_monotonic_increasing
    for row in _cells(tmp_path / "cues.csv"):
        assert not any(cell.startswith(("=", "+", "@")) for cell in row)


def test_comparison_csv_variant_named_like_a_formula(tmp_path):
    from routemap.compare import run_spec

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        textwrap.dedent(
            f"""
            defaults:
              target: 6km
            variants:
              - name: '{FORMULA}'
                stops: [MacArthur Park, Chinatown Central Plaza]
              - name: '-too short'
                stops: [MacArthur Park, Metropolitan Detention Center]
                target: 1km
            """
        )
    )
    table = run_spec(spec, tmp_path / "out", workers=1)
    assert table["name"].tolist()[0] == FORMULA  # the library's table keeps the name as given
    back = pd.read_csv(tmp_path / "out" / "comparison.csv")
    assert back["name"].tolist() == ["'" + FORMULA, "'-too short"]
    assert pd.api.types.is_float_dtype(back["length_mi"])
    assert back["length_mi"].iloc[0] == pytest.approx(6000 / 1609.344, rel=0.011)
