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


def test_run_spec_on_a_dask_cluster_matches_local_processes(tmp_path):
    """--scheduler: variants go to a dask.distributed cluster (a LocalCluster here) and give the same rows."""
    distributed = pytest.importorskip("distributed")
    import pandas as pd

    from routemap.compare import run_spec

    spec = write(
        tmp_path,
        """
        defaults:
          target: 5km
        variants:
          - name: park to plaza
            stops: [MacArthur Park, Chinatown Central Plaza]
          - name: park to plaza, march
            stops: [MacArthur Park, Chinatown Central Plaza]
            profile: march
          - name: impossible
            stops: [MacArthur Park, Metropolitan Detention Center]
            target: 1km
        """,
    )
    local = run_spec(spec, tmp_path / "local", workers=1)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        remote = run_spec(spec, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert list(remote["name"]) == list(local["name"])
    pd.testing.assert_series_equal(remote["length_mi"], local["length_mi"])
    errors = dict(zip(remote["name"], remote["error"], strict=True))
    assert errors["park to plaza"] == "" and errors["park to plaza, march"] == ""
    assert "shorter than the shortest route" in errors["impossible"]
    assert (tmp_path / "dask" / "comparison.html").exists()
    assert (tmp_path / "dask" / "variants" / "park-to-plaza" / "route.gpx").exists()


def test_compare_routes_table_on_real_routes():
    """compare_routes on two real routes: lengths, street-class shares and the march/run contrast."""
    import routemap
    from routemap.data import embedded_corridor_tiles

    G = routemap.load_network(embedded_corridor_tiles())
    stops = ["MacArthur Park", "Chinatown Central Plaza"]
    run = routemap.plan_route(G, stops, "8km", profile="run", name="run")
    march = routemap.plan_route(G, stops, "8km", profile="march", name="march")
    table = routemap.compare_routes([run, march])
    assert list(table["name"]) == ["run", "march"]
    for route, (_, row) in zip([run, march], table.iterrows(), strict=True):
        assert row["length_mi"] == pytest.approx(route.length_m / 1609.344, abs=1e-3)
        shares = [row[c] for c in table.columns if c.startswith("share_")]
        assert sum(shares) == pytest.approx(100, abs=0.5)
        assert abs(row["deviation_pct"]) <= 1.0
        assert row["population_400m"] > 0 and 0 < row["pct_foreign_born_400m"] < 100
        assert row["neighborhoods"].split(" > ")[0] == "Westlake"
    main = ["share_primary_pct", "share_secondary_pct", "share_tertiary_pct"]
    assert table.loc[1, main].sum() > table.loc[0, main].sum()  # march keeps to main streets
    assert table.loc[0, "share_footway_pct"] > table.loc[1, "share_footway_pct"]
