"""Route-spec validation and the comparison table (planning runs need the embedded corridor)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from routemap.compare import load_spec, table_markdown
from routemap.errors import SpecError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "run_against_ice.yaml"


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "spec.yaml"
    p.write_text(textwrap.dedent(text).lstrip())
    return p


def test_example_spec_loads_with_defaults_applied():
    spec, jobs = load_spec(EXAMPLE)
    assert len(jobs) >= 4
    names = [j.name for j in jobs]
    assert len(set(names)) == len(names)
    by_name = {j.name: j for j in jobs}
    assert by_name["via MacArthur Park (march)"].profile == "march"
    assert by_name["via MacArthur Park (run)"].target == "15mi"  # from defaults
    assert by_name["half marathon"].target == "13.1mi"
    assert by_name["through Pico-Union"].stops[1] == "Pico-Union"


@pytest.mark.parametrize(
    "text, line, field",
    [
        (
            """
            defaults:
              target: 15mi
            variants:
              - name: a
                stops: ["34.05,-118.25", "34.06,-118.24"]
                colour: red
            """,
            6,
            "variants.0.colour",
        ),
        (
            """
            variants:
              - name: a
                stops: ["34.05,-118.25", "34.06,-118.24"]
                profile: jog
            """,
            4,
            "variants.0.profile",
        ),
        (
            """
            defaults:
              tolerance: lots
            variants:
              - name: a
                stops: ["34.05,-118.25", "34.06,-118.24"]
            """,
            2,
            "defaults.tolerance",
        ),
    ],
)
def test_spec_errors_name_file_line_and_field(tmp_path, text, line, field):
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:{line}:"), msg
    assert field in msg
    assert "\n" not in msg


def test_missing_stops_names_the_variant(tmp_path):
    path = write(
        tmp_path,
        """
        variants:
          - name: ok
            stops: ["34.05,-118.25", "34.06,-118.24"]
          - name: lonely
            target: 5km
        """,
    )
    with pytest.raises(SpecError, match=r"spec.yaml:4: field variants.1.stops: variant 'lonely'"):
        load_spec(path)


def test_malformed_yaml_is_one_line_with_line_number(tmp_path):
    path = write(tmp_path, "variants:\n  - name: [unclosed\n    stops: x\n")
    with pytest.raises(SpecError, match=r"spec.yaml:\d+: malformed YAML"):
        load_spec(path)


def test_missing_spec_file(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "nope.yaml")


def test_markdown_table_escapes_pipes():
    import pandas as pd

    md = table_markdown(pd.DataFrame({"name": ["a|b"], "length_mi": [1.5]}))
    lines = md.splitlines()
    assert lines[0] == "| name | length_mi |"
    assert "a\\|b" in lines[2]
