"""routemap.data: embedded dataset paths, their READMEs, and checksummed downloads (local HTTP server only)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from routemap import data, settings
from routemap.errors import InputFileError, OfflineError

REPO = Path(__file__).resolve().parents[1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A fresh cache per test, and no mirror configured from the environment."""
    monkeypatch.setenv("ROUTEMAP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(data.DATA_URL_ENV, raising=False)
    return tmp_path / "cache"


def test_embedded_paths_exist_and_match_their_readmes():
    for path in (data.embedded_neighborhoods(), data.embedded_tracts()):
        assert path.is_file() and path.parent.parent == settings.data_dir()
        readme = (path.parent / "README.md").read_text()
        recorded = re.search(r"sha256 of the built file: `([0-9a-f]{64})`", readme).group(1)
        assert recorded == sha256(path), f"{path.parent}/README.md records a stale sha256"
    # the READMEs cite the originals' checksums that data.DATASETS verifies downloads against
    readmes = "".join(
        (settings.data_dir() / d / "README.md").read_text() for d in ("neighborhoods", "census")
    )
    for name in ("la_times_neighborhoods", "acs_2013_2017_tracts", "svi_2018_tracts"):
        assert data.DATASETS[name].sha256 in readmes
    assert "Los Angeles Times, Mapping L.A." in readmes


def test_embedded_size_budget():
    size = sum(
        p.stat().st_size for d in ("neighborhoods", "census") for p in (settings.data_dir() / d).iterdir()
    )
    assert size < 3.5e6


def test_shared_originals_have_the_recorded_checksums(shared_la):
    for ds in data.DATASETS.values():
        assert sha256(shared_la / ds.path) == ds.sha256, ds.path


def test_embedded_tracts_agree_with_the_originals(shared_la):
    """Each embedded tract's counts recomputed straight from the ACS CSV and the SVI file."""
    acs = pd.read_csv(shared_la / data.DATASETS["acs_2013_2017_tracts"].path, dtype={"GEOID10": str})
    svi = gpd.read_file(shared_la / data.DATASETS["svi_2018_tracts"].path)
    emb = gpd.read_file(data.embedded_tracts())
    assert emb["GEOID"].dtype == object or str(emb["GEOID"].dtype).startswith("str")
    assert set(emb["GEOID"]) == set(svi["FIPS"]) and set(emb["GEOID"]) <= set(acs["GEOID10"])
    joined = emb.merge(acs, left_on="GEOID", right_on="GEOID10").merge(
        svi[["FIPS", "E_LIMENG"]], left_on="GEOID", right_on="FIPS"
    )
    assert len(joined) == len(emb) == 2315
    assert (joined["population"] == joined["total_pop"]).all()
    assert (joined["asian"] == joined["asian_nh_count"]).all()
    fb = (joined["total_pop"] * joined["pct_foreign_born"].fillna(0) / 100).round()
    assert (joined["foreign_born"] - fb).abs().max() <= 1
    assert (joined["limited_english"] == joined["E_LIMENG"].clip(lower=0)).all()
    assert emb["population"].sum() == acs.loc[acs["GEOID10"].isin(svi["FIPS"]), "total_pop"].sum()
    # polygons: simplified at 5 m, so each tract keeps its area within a few percent
    emb_area = emb.set_index("GEOID").to_crs(32611).area
    svi_area = svi.set_index("FIPS").to_crs(32611).area
    ratio = (emb_area / svi_area.loc[emb_area.index]).to_numpy()
    assert abs(ratio - 1).max() < 0.05


def test_build_script_is_reproducible(shared_la, tmp_path):
    out = tmp_path / "data"
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_demographics_data.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    for sub in ("neighborhoods/la_times_neighborhoods.geojson", "census/la_county_tracts.geojson"):
        assert sha256(out / sub) == sha256(settings.data_dir() / sub), sub


@pytest.fixture
def mirror(httpserver, shared_la):
    """A local HTTP server laid out like shared/data/la, serving the real originals."""
    for ds in data.DATASETS.values():
        httpserver.expect_request(f"/la/{ds.path}").respond_with_data((shared_la / ds.path).read_bytes())
    return httpserver.url_for("/la")


def test_fetch_from_a_mirror_verifies_and_caches(cache, mirror, httpserver, shared_la):
    got = data.fetch("la_times_neighborhoods", base_url=mirror)
    assert got.is_relative_to(cache) and sha256(got) == data.DATASETS["la_times_neighborhoods"].sha256
    requests_before = len(httpserver.log)
    again = data.fetch("la_times_neighborhoods", base_url=mirror)
    assert again == got and len(httpserver.log) == requests_before  # served from the cache
    assert gpd.read_file(got)["name"].nunique() == 272


def test_fetch_uses_the_environment_mirror(cache, mirror, monkeypatch):
    monkeypatch.setenv(data.DATA_URL_ENV, mirror)
    assert data.dataset_url("svi_2018_tracts").startswith(mirror)
    got = data.fetch("svi_2018_tracts")
    assert sha256(got) == data.DATASETS["svi_2018_tracts"].sha256
    # original() prefers the mirror when one is configured
    assert data.original("acs_2013_2017_tracts").is_relative_to(cache)


def test_fetch_rejects_changed_bytes(cache, httpserver, shared_la):
    ds = data.DATASETS["acs_2013_2017_tracts"]
    body = (shared_la / ds.path).read_bytes().replace(b"Los Angeles", b"Los Angeles ", 1)
    httpserver.expect_request(f"/la/{ds.path}").respond_with_data(body)
    with pytest.raises(InputFileError, match="does not match the sha256"):
        data.fetch("acs_2013_2017_tracts", base_url=httpserver.url_for("/la"))
    assert not any(cache.rglob("*.csv"))  # nothing left behind


def test_fetch_http_error_and_missing_url(cache, httpserver):
    httpserver.expect_request("/la/census/cdc_svi2018_la_county_tracts.geojson").respond_with_data(
        "gone", status=404
    )
    with pytest.raises(OfflineError, match="Cannot download 'svi_2018_tracts'"):
        data.fetch("svi_2018_tracts", base_url=httpserver.url_for("/la"))
    with pytest.raises(OfflineError, match=data.DATA_URL_ENV):
        data.dataset_url("svi_2018_tracts")  # no public URL for the exact copy, no mirror
    with pytest.raises(InputFileError, match="Unknown dataset"):
        data.fetch("no_such_dataset")


def test_public_urls_are_https(cache):
    for name, ds in data.DATASETS.items():
        if ds.url is not None:
            assert ds.url.startswith("https://"), name
            assert data.dataset_url(name) == ds.url


def test_original_prefers_the_shared_copy(cache, shared_la):
    assert data.original("svi_2018_tracts") == shared_la / data.DATASETS["svi_2018_tracts"].path
