"""Neighborhood and census-tract layers: read, check, repair, and look names up.

I/O lives here; the computations in :mod:`routemap.demographics.interpolate` and
:mod:`routemap.demographics.exposure` take the GeoDataFrames these functions return.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import os
import re
import unicodedata
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from routemap import data
from routemap.errors import DemographicsError, InputFileError, UnknownPlaceError

#: Column names tried, in order, when a neighborhood layer's name column is not given.
NAME_FIELDS = ("name", "Name", "NAME", "neighborhood", "Neighborhood", "NEIGHBORHOOD", "hood", "label")
#: Column names tried, in order, when a tract layer's GEOID column is not given.
GEOID_FIELDS = ("GEOID", "GEOID10", "GEOID20", "geoid", "FIPS", "fips", "GEOID_10")
#: The count columns of a tract table (people), in the order they are reported.
COUNT_FIELDS = ("population", "foreign_born", "hispanic", "asian", "limited_english")
#: The tract columns routemap reads; ``population`` is required, the others may be absent (NaN).
TRACT_FIELDS = (*COUNT_FIELDS, "median_household_income")

#: Everyday names for places inside an LA Times neighborhood (see ``data/la/SOURCES.md``), by normalized key.
ALIASES = {
    "macarthurpark": "Westlake",
    "littletokyo": "Downtown",
    "dtla": "Downtown",
    "downtownla": "Downtown",
    "downtownlosangeles": "Downtown",
    "metropolitandetentioncenter": "Downtown",
    "civiccenter": "Downtown",
    "artsdistrict": "Downtown",
    "skidrow": "Downtown",
    "historiccore": "Downtown",
    "dodgerstadium": "Elysian Park",
    "ktown": "Koreatown",
    "southcentral": "Historic South-Central",
    "southla": "Historic South-Central",
    "olverastreet": "Downtown",
}

_SUFFIXES = {".parquet", ".geoparquet"}


def normalize_name(text: str) -> str:
    """Return ``text`` folded for lookup: no accents, case, spaces or punctuation ("Pico Union" -> "picounion")."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    folded = re.sub(r"^the\s+", "", folded.strip())
    return re.sub(r"[^a-z0-9]", "", folded)


def read_polygons(path: str | os.PathLike, what: str) -> gpd.GeoDataFrame:
    """Return the features of a polygon file (GeoJSON, GeoPackage, shapefile, GeoParquet), CRS checked.

    Raises
    ------
    InputFileError
        The file is missing or unreadable.
    DemographicsError
        The file has no CRS, no features, or geometries that are not polygons.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"The {what} file {path} does not exist; check the path.")
    parquet = path.suffix.lower() in _SUFFIXES
    if parquet and importlib.util.find_spec("pyarrow") is None:
        raise InputFileError(f"Reading the GeoParquet file {path} needs pyarrow; run `pip install pyarrow`.")
    try:
        gdf = gpd.read_parquet(path) if parquet else gpd.read_file(path)
    except Exception as exc:  # pyogrio/arrow raise many types; say which file and why
        reason = " ".join(str(exc).split())
        raise InputFileError(
            f"Cannot read the {what} file {path} ({reason}); is it a polygon layer?"
        ) from exc
    return check_polygons(gdf, f"the {what} file {path}")


def check_polygons(gdf: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:4326 with empty rows dropped and invalid polygons repaired (with a warning).

    Raises
    ------
    DemographicsError
        No CRS, no features, or non-polygon geometries.
    """
    try:
        geometry_name = gdf.geometry.name
    except AttributeError:
        geometry_name = None
    if not isinstance(gdf, gpd.GeoDataFrame) or geometry_name not in gdf.columns:
        raise DemographicsError(f"{label} has no geometry column; give a polygon layer.")
    if geometry_name != "geometry" and "geometry" not in gdf.columns:
        gdf = gdf.rename_geometry("geometry")
    if gdf.crs is None:
        raise DemographicsError(
            f"{label} has no coordinate reference system; add one (e.g. a .prj file or "
            "GeoDataFrame.set_crs) and try again."
        )
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if gdf.empty:
        raise DemographicsError(f"{label} has no features with a geometry; give a non-empty polygon layer.")
    kinds = set(gdf.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise DemographicsError(
            f"{label} holds {', '.join(sorted(kinds - {'Polygon', 'MultiPolygon'}))} geometries; "
            "give a layer of polygons."
        )
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        gdf = gdf.copy()
        # make_valid may return collections with slivers as lines: keep only the areal parts
        repaired = shapely.make_valid(gdf.geometry.values[invalid.values])
        gdf.loc[invalid, gdf.geometry.name] = [_polygonal(g) for g in repaired]
        warnings.warn(
            f"{label}: repaired {int(invalid.sum())} invalid polygon(s) with make_valid.",
            stacklevel=3,
        )
        gdf = gdf[~gdf.geometry.is_empty]
    return gdf.to_crs(4326)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Return the polygonal part of ``geom`` (a Polygon/MultiPolygon, possibly empty)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _pick_field(
    columns: pd.Index, field: str | None, candidates: tuple[str, ...], label: str, what: str
) -> str:
    if field is not None:
        if field not in columns:
            raise DemographicsError(
                f"{label} has no column {field!r} (columns: {', '.join(map(str, columns))}); "
                f"give the {what} column's name."
            )
        return field
    for name in candidates:
        if name in columns:
            return name
    raise DemographicsError(
        f"{label} has no {what} column (tried {', '.join(candidates)}; columns: "
        f"{', '.join(str(c) for c in columns if c != 'geometry')}); pass its name."
    )


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, mtime_ns: int, what: str) -> gpd.GeoDataFrame:
    return read_polygons(path, what)


def _read(source: str | os.PathLike | gpd.GeoDataFrame, what: str) -> tuple[gpd.GeoDataFrame, str]:
    """Return (checked copy, label) for a path or GeoDataFrame; files are read once per modification."""
    if isinstance(source, gpd.GeoDataFrame):
        return check_polygons(source, f"the {what} layer"), f"the {what} layer"
    if not isinstance(source, (str, os.PathLike)):
        raise DemographicsError(
            f"Expected a path or a GeoDataFrame for the {what} layer, got {type(source).__name__}; "
            "convert it with geopandas.GeoDataFrame(..., geometry=..., crs=...)."
        )
    path = Path(source)
    if not path.exists():
        raise InputFileError(f"The {what} file {path} does not exist; check the path.")
    return _read_cached(str(path.resolve()), path.stat().st_mtime_ns, what).copy(), f"the {what} file {path}"


def load_neighborhoods(
    path: str | os.PathLike | gpd.GeoDataFrame | None = None, name_field: str | None = None
) -> gpd.GeoDataFrame:
    """Return neighborhood polygons as a GeoDataFrame with columns ``name`` and ``geometry`` (EPSG:4326).

    Parameters
    ----------
    path
        A polygon layer (GeoJSON, GeoPackage, shapefile, GeoParquet) or a GeoDataFrame; default the
        embedded LA Times "Mapping L.A." neighborhoods (:func:`routemap.data.embedded_neighborhoods`).
    name_field
        The column holding the names; default the first of :data:`NAME_FIELDS` present.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per name (features sharing a name are merged, with a warning), in file order.
        Invalid polygons are repaired with ``make_valid`` (with a warning).

    Raises
    ------
    DemographicsError
        No name column, no CRS, non-polygon geometries, or no named features.
    InputFileError
        The file is missing or unreadable.
    """
    gdf, label = _read(data.embedded_neighborhoods() if path is None else path, "neighborhood")
    field = _pick_field(gdf.columns, name_field, NAME_FIELDS, label, "name")
    names = gdf[field]
    missing = names.isna() | (names.astype(str).str.strip() == "")
    if missing.all():
        raise DemographicsError(
            f"{label} has no names in column {field!r}; pick the column holding the names."
        )
    if missing.any():
        warnings.warn(f"{label}: dropped {int(missing.sum())} feature(s) without a name.", stacklevel=2)
    out = gpd.GeoDataFrame(
        {"name": names[~missing].astype(str).str.strip().values},
        geometry=gdf.geometry[~missing].values,
        crs=gdf.crs,
    )
    if out["name"].duplicated().any():
        dupes = sorted(set(out.loc[out["name"].duplicated(), "name"]))
        warnings.warn(f"{label}: merged features sharing a name: {', '.join(dupes[:5])}.", stacklevel=2)
        out = out.dissolve(by="name", sort=False, as_index=False)[["name", "geometry"]]
    return out.reset_index(drop=True)


def normalize_geoids(values: pd.Series) -> pd.Series:
    """Return GEOIDs as 11-character strings: census-reporter prefixes dropped, lost leading zeros restored.

    A GEOID read as a number (``6037101110``) lost its leading zero; tract GEOIDs have 11 digits, so
    10-digit numeric strings are zero-padded.
    """
    text = values.astype("string").str.strip()
    text = text.str.replace(r"^\d{5}US", "", regex=True)  # Census Reporter's "14000US06037..."
    text = text.str.replace(r"\.0$", "", regex=True)  # floats written by spreadsheets
    pad = text.str.fullmatch(r"\d{10}").fillna(False)
    return text.where(~pad, "0" + text)


def load_tracts(
    path: str | os.PathLike | gpd.GeoDataFrame | None = None,
    geoid_field: str | None = None,
    table: str | os.PathLike | pd.DataFrame | None = None,
    table_geoid_field: str | None = None,
    min_match: float = 0.5,
) -> gpd.GeoDataFrame:
    """Return census tracts: ``GEOID`` (str), the :data:`TRACT_FIELDS` columns and polygons (EPSG:4326).

    Parameters
    ----------
    path
        Tract polygons (any format :func:`load_neighborhoods` reads) or a GeoDataFrame; default the
        embedded LA County table (:func:`routemap.data.embedded_tracts`), which already holds the figures.
    geoid_field
        The polygons' GEOID column; default the first of :data:`GEOID_FIELDS` present.
    table
        Optional figures to join by GEOID (a CSV path or a DataFrame) holding :data:`TRACT_FIELDS`
        columns. GEOIDs are compared as strings (leading zeros kept).
    table_geoid_field
        The table's GEOID column; default the first of :data:`GEOID_FIELDS` present.
    min_match
        The share of polygons that must find a row in ``table``; fewer is an error, a partial match a warning.

    Returns
    -------
    geopandas.GeoDataFrame
        Figure columns absent from the inputs are NaN; shares are derived later from the counts.

    Raises
    ------
    DemographicsError
        No GEOID column, no ``population`` column, too few GEOIDs matching, no CRS.
    """
    gdf, label = _read(data.embedded_tracts() if path is None else path, "tract")
    field = _pick_field(gdf.columns, geoid_field, GEOID_FIELDS, label, "GEOID")
    gdf = gdf.rename(columns={field: "GEOID"}) if field != "GEOID" else gdf.copy()
    gdf["GEOID"] = normalize_geoids(gdf["GEOID"])
    not_tract = ~gdf["GEOID"].str.fullmatch(r"\d{11}").fillna(False).to_numpy(dtype=bool)
    if not_tract.all():
        raise DemographicsError(
            f"No row of {label} has an 11-digit tract GEOID in column {field!r} (e.g. "
            f"{gdf['GEOID'].iloc[0]!r}); pick the GEOID column."
        )
    if not_tract.any():
        # e.g. Census Reporter's whole-city row: summing it with its tracts would count people twice
        dropped = ", ".join(map(str, gdf.loc[not_tract, "GEOID"].head(3)))
        warnings.warn(
            f"{label}: dropped {int(not_tract.sum())} row(s) that are not tracts ({dropped}).", stacklevel=2
        )
        gdf = gdf[~not_tract]
    if table is not None:
        gdf = join_tract_table(gdf, table, table_geoid_field, label, min_match)
    if "population" not in gdf.columns:
        raise DemographicsError(
            f"{label} has no 'population' column; join a table of tract figures (table=...) or rename "
            "the population column."
        )
    for name in TRACT_FIELDS:
        gdf[name] = pd.to_numeric(gdf[name], errors="coerce") if name in gdf.columns else float("nan")
    return gdf[["GEOID", *TRACT_FIELDS, "geometry"]].reset_index(drop=True)


def join_tract_table(
    tracts: gpd.GeoDataFrame,
    table: str | os.PathLike | pd.DataFrame,
    table_geoid_field: str | None,
    label: str,
    min_match: float = 0.5,
) -> gpd.GeoDataFrame:
    """Return ``tracts`` (with a string ``GEOID``) joined to ``table``'s figures by GEOID; says how many matched."""
    if not isinstance(table, pd.DataFrame):
        tpath = Path(table)
        if not tpath.exists():
            raise InputFileError(f"The tract table {tpath} does not exist; check the path.")
        table = pd.read_csv(tpath, dtype=str)
        tlabel = f"the tract table {tpath}"
    else:
        tlabel = "the tract table"
    tfield = _pick_field(table.columns, table_geoid_field, GEOID_FIELDS, tlabel, "GEOID")
    figures = table[[c for c in table.columns if c in TRACT_FIELDS or c == tfield]].copy()
    figures["GEOID"] = normalize_geoids(figures.pop(tfield))
    figures = figures.drop_duplicates("GEOID")
    keep = [c for c in tracts.columns if c == "GEOID" or c not in figures.columns]
    joined = tracts[keep].merge(figures, on="GEOID", how="left", indicator=True)
    matched = int((joined.pop("_merge") == "both").sum())
    total = len(tracts)
    if matched == 0 or matched < min_match * total:
        example = tracts["GEOID"].iloc[0] if total else "?"
        other = figures["GEOID"].iloc[0] if len(figures) else "?"
        raise DemographicsError(
            f"Only {matched} of {total} tract GEOIDs in {label} match {tlabel} (e.g. {example!r} vs "
            f"{other!r}); check that both use the same census vintage and GEOID columns."
        )
    if matched < total:
        warnings.warn(f"{matched} of {total} tract GEOIDs in {label} match {tlabel}.", stacklevel=3)
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=tracts.crs)


def find_neighborhood(
    name: str, layer: str | os.PathLike | gpd.GeoDataFrame | None = None
) -> tuple[str, BaseGeometry]:
    """Return ``(official name, polygon)`` of the neighborhood called ``name`` (EPSG:4326).

    Case, accents, spaces and punctuation are ignored ("westlake", "Pico Union"), and common names for
    places inside a neighborhood are understood (:data:`ALIASES`: "MacArthur Park" -> Westlake,
    "Little Tokyo" -> Downtown) when the layer holds the neighborhood they point to.

    Parameters
    ----------
    name
        What a person typed.
    layer
        A neighborhood layer (path or GeoDataFrame with ``name``); default the embedded LA layer.

    Returns
    -------
    tuple
        The layer's spelling of the name, and its Polygon or MultiPolygon.

    Raises
    ------
    UnknownPlaceError
        Nothing matches; the message and ``.suggestions`` list the closest names.
    """
    hoods = layer if isinstance(layer, gpd.GeoDataFrame) and "name" in layer.columns else None
    if hoods is None:
        hoods = load_neighborhoods(layer)
    hoods = hoods.to_crs(4326) if hoods.crs is not None else hoods
    keys = {normalize_name(n): i for i, n in reversed(list(enumerate(hoods["name"])))}
    key = normalize_name(name)
    pos = keys.get(key)
    if pos is None and key in ALIASES:
        pos = keys.get(normalize_name(ALIASES[key]))
    if pos is not None:
        return str(hoods["name"].iloc[pos]), hoods.geometry.iloc[pos]
    names = list(hoods["name"])
    close = difflib.get_close_matches(key, list(keys), n=5, cutoff=0.6)
    suggestions = [names[keys[k]] for k in close]
    suggestions += [n for n in names if key and key in normalize_name(n) and n not in suggestions][:5]
    hint = f"; closest: {', '.join(suggestions)}" if suggestions else "; check the spelling"
    raise UnknownPlaceError(f"No neighborhood called {name!r} in the layer{hint}.", suggestions)
