"""Where routemap's datasets live: the embedded copies under ``data/``, the shared originals, downloads.

The embedded layers (``data/neighborhoods/``, ``data/census/``) are built by
``scripts/build_demographics_data.py`` from the published originals listed in :data:`DATASETS`. Those
originals are read from the shared folder when it is there (:func:`routemap.settings.shared_la_dir`),
or downloaded with pooch into ``<cache>/downloads`` and checked against the sha256 of the copies
routemap was built from.

Downloads go to each dataset's public URL, or, when a mirror is configured, to
``<mirror>/<dataset path>`` (the mirror is laid out like ``shared/data/la``): pass ``base_url=`` or set
the environment variable ``ROUTEMAP_DATA_URL``. Datasets whose exact published bytes have no stable
public URL need the mirror.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from routemap import settings
from routemap.errors import InputFileError, OfflineError

#: Environment variable naming a mirror of the LA originals (``<url>/census/...``, ``<url>/neighborhoods/...``).
DATA_URL_ENV = "ROUTEMAP_DATA_URL"


@dataclass(frozen=True)
class Dataset:
    """One published original: where it sits in a mirror, where it is published, its checksum."""

    path: str
    sha256: str
    url: str | None
    description: str
    source: str


#: The published originals behind the embedded layers, by name.
DATASETS: dict[str, Dataset] = {
    "la_times_neighborhoods": Dataset(
        path="neighborhoods/la_times_mapping_la_v5_county_272.geojson",
        sha256="14d0b5b589958bea505c70a28ddba5c0bda2385a53c4bb0815a8b663ff5ad2e7",
        url=(
            "https://s3-us-west-2.amazonaws.com/boundaries.latimes.com/archive/1.0/boundary-set/"
            "la-county-neighborhoods-v5.geojson"
        ),
        description="Los Angeles Times Mapping L.A. neighborhoods v5 (2010), all of LA County, 272 polygons",
        source="Los Angeles Times Data Desk boundaries archive (boundaries.latimes.com)",
    ),
    "la_times_neighborhoods_city": Dataset(
        path="neighborhoods/la_times_mapping_la_v3_city_114.geojson",
        sha256="4ba516c28fcd015f8ebc2133f24917c463f3bcc202cc239d2164380f7b304897",
        url=None,
        description="Los Angeles Times Mapping L.A. neighborhoods, City of LA only, 114 polygons",
        source="Los Angeles Times Data Desk; republished by the City of LA GeoHub",
    ),
    "acs_2013_2017_tracts": Dataset(
        path="census/la_county_tracts_acs2013_2017_boeing.csv",
        sha256="0c78d8a8f4f832bc4bd399b2c31a0c7840ba5edca5a2acc5b50eb09311deb97a",
        url=None,
        description="ACS 2013-2017 5-year figures for the 2,346 LA County tracts (key GEOID10)",
        source=(
            "U.S. Census Bureau ACS data profiles, compiled for G. Boeing's USC course (cleaned version of "
            "github.com/gboeing/ppd534 modules/data/census_tracts_data_la.csv)"
        ),
    ),
    "svi_2018_tracts": Dataset(
        path="census/cdc_svi2018_la_county_tracts.geojson",
        sha256="f3bfae9bc14ab3979bdb6c465ded964934e61b0379f381a435cfc32a3ee80246",
        url=None,
        description="CDC/ATSDR Social Vulnerability Index 2018, LA County tract polygons (key FIPS)",
        source="CDC/ATSDR SVI 2018 (https://www.atsdr.cdc.gov/placeandhealth/svi/data_documentation_download.html)",
    ),
    "acs_2019_b03002_city_tracts": Dataset(
        path="census/censusreporter_acs2019_5yr_B03002_la_city_tracts.geojson",
        sha256="fa6f016a3d83f468de0818047fafd10807ed3834987fedd8a09692b7d14b375f",
        url=None,
        description="ACS 2015-2019 table B03002 for City of LA tracts, with polygons",
        source="Census Reporter (censusreporter.org) export of ACS 2019 5-year B03002",
    ),
}


def embedded_osm_pbf() -> Path:
    """Return the embedded LA street data (five Overpass files merged), an ``.osm.pbf``."""
    return settings.data_dir() / "osm" / "la_central.osm.pbf"


def embedded_corridor_tiles() -> Path:
    """Return the embedded Run Against ICE corridor: street layers of the z14 vector tiles, MBTiles."""
    return settings.data_dir() / "corridor" / "la_corridor_z14.mbtiles"


def embedded_neighborhoods() -> Path:
    """Return the embedded LA Times Mapping L.A. neighborhood polygons."""
    return settings.data_dir() / "neighborhoods" / "la_times_neighborhoods.geojson"


def embedded_tracts() -> Path:
    """Return the embedded LA County census tract table with polygons."""
    return settings.data_dir() / "census" / "la_county_tracts.geojson"


def _dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise InputFileError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.") from None


def dataset_url(name: str, base_url: str | None = None) -> str:
    """Return the URL :func:`fetch` downloads dataset ``name`` from (a mirror when one is configured).

    Raises
    ------
    OfflineError
        The dataset has no public URL and no mirror is configured.
    """
    ds = _dataset(name)
    base = base_url or os.environ.get(DATA_URL_ENV)
    if base:
        return f"{base.rstrip('/')}/{ds.path}"
    if ds.url is None:
        raise OfflineError(
            f"Dataset {name!r} ({ds.source}) has no stable public URL for the exact copy routemap uses; "
            f"set {DATA_URL_ENV} (or base_url=) to a mirror of the LA originals."
        )
    return ds.url


def fetch(name: str, base_url: str | None = None, progress: bool = False) -> Path:
    """Return a local, checksum-verified copy of dataset ``name``, downloading it into the cache if needed.

    Parameters
    ----------
    name
        A key of :data:`DATASETS`.
    base_url
        A mirror laid out like ``shared/data/la``; default ``$ROUTEMAP_DATA_URL``, else the public URL.
    progress
        Show pooch's progress bar.

    Raises
    ------
    OfflineError
        The download failed (no connection, HTTP error) or there is no URL to download from.
    InputFileError
        The downloaded file does not match the recorded sha256.
    """
    import pooch  # imported here: the rest of routemap never needs it
    import requests

    ds = _dataset(name)
    url = dataset_url(name, base_url)
    folder = settings.cache_dir() / "downloads"
    try:
        local = pooch.retrieve(
            url,
            known_hash=f"sha256:{ds.sha256}",
            fname=Path(ds.path).name,
            path=folder,
            progressbar=progress,
        )
    except ValueError as exc:  # pooch's checksum mismatch
        raise InputFileError(
            f"The file downloaded from {url} does not match the sha256 routemap expects for {name!r}; "
            f"the publisher changed it, or use a mirror ({DATA_URL_ENV})."
        ) from exc
    except requests.RequestException as exc:
        raise OfflineError(
            f"Cannot download {name!r} from {url} ({exc.__class__.__name__}); check the connection or set "
            f"{DATA_URL_ENV} to a mirror."
        ) from exc
    return Path(local)


def original(name: str, base_url: str | None = None) -> Path:
    """Return dataset ``name``: the shared copy when present (:func:`settings.shared_la_dir`), else :func:`fetch`."""
    shared = settings.shared_la_dir() / _dataset(name).path
    if shared.is_file() and not (base_url or os.environ.get(DATA_URL_ENV)):
        return shared
    return fetch(name, base_url)
