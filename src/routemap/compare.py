"""Scripted route comparisons: many variants, one table and one map.

A route-spec file (YAML) holds shared ``defaults`` and a list of ``variants`` (name, stops, target, profile).
:func:`load_spec` validates it with pydantic and reports the file, line and field of every problem;
:func:`run_spec` plans the variants in parallel processes (or on a dask.distributed cluster), writes each
variant's files and the comparison; :func:`compare_routes` makes the table from Route objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from routemap import settings
from routemap._files import atomic_dir, atomic_write, write_csv
from routemap.errors import RoutemapError, SpecError
from routemap.route.metrics import MAJOR as MAJOR  # re-exported: the names compare has always had
from routemap.route.metrics import STREET_CLASSES as STREET_CLASSES
from routemap.route.metrics import major_crossings, street_class_shares
from routemap.settings import METERS_PER_MILE
from routemap.summary import people_figures


# -- the spec file -------------------------------------------------------------------------------------
class StopSpec(BaseModel):
    """A stop written as a mapping: a name and its coordinates."""

    model_config = ConfigDict(extra="forbid")
    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


StopEntry = str | StopSpec


class Defaults(BaseModel):
    """Values every variant takes unless it sets its own."""

    model_config = ConfigDict(extra="forbid")
    stops: list[StopEntry] | None = None
    target: str | float | None = None
    profile: Literal["run", "march", "shortest"] = "run"
    tolerance: float = Field(settings.LENGTH_TOLERANCE, gt=0, lt=0.5)
    osm: str | None = None
    neighborhoods: str | None = None
    tracts: str | None = None
    out_and_back: bool = False
    objective: Literal["cost", "reach"] = "cost"
    reach: str = "population"


class Variant(BaseModel):
    """One variant of a comparison."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    stops: list[StopEntry] | None = None
    target: str | float | None = None
    profile: Literal["run", "march", "shortest"] | None = None
    tolerance: float | None = Field(None, gt=0, lt=0.5)
    osm: str | None = None
    neighborhoods: str | None = None
    tracts: str | None = None
    out_and_back: bool | None = None
    objective: Literal["cost", "reach"] | None = None
    reach: str | None = None


class Spec(BaseModel):
    """A route-spec file: shared defaults and the variants."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = None
    defaults: Defaults = Field(default_factory=lambda: Defaults.model_validate({}))
    variants: list[Variant] = Field(min_length=1)


@dataclass
class VariantJob:
    """A variant with the defaults applied: everything a worker needs to plan it."""

    name: str
    stops: list[Any]
    target: str | float | None
    profile: str
    tolerance: float
    osm: str | None = None
    neighborhoods: str | None = None
    tracts: str | None = None
    out_and_back: bool = False
    objective: str = "cost"
    reach: str = "population"


def _node_at(root: yaml.Node, loc: Sequence[Any]) -> yaml.Node:
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == part), None)
            if nxt is None:  # the key itself (unknown key errors point at it)
                nxt = next((k for k, _ in node.value if k.value == part), None)
            if nxt is None:
                break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return node


def load_spec(path: str | Path) -> tuple[Spec, list[VariantJob]]:
    """Return the validated spec and its variants with the defaults applied.

    Raises
    ------
    SpecError
        One line naming the file, the line and the field: malformed YAML, unknown keys, wrong types,
        a variant without stops.
    """
    path = Path(path)
    if not path.exists():
        raise SpecError(f"{path}: spec file not found")
    if path.is_dir():
        raise SpecError(f"{path} is a folder; give the route-spec YAML file")
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{path}{where}: malformed YAML: {problem}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}:1: a spec is a mapping with 'defaults' and 'variants'")
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p in ("str", "StopSpec"))]
        loc = [p for p in loc if not (isinstance(p, str) and "[" in p)]
        node = _node_at(root, loc) if root is not None else None
        line = node.start_mark.line + 1 if node is not None else 1
        fieldname = ".".join(str(p) for p in loc) or "(top)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        raise SpecError(f"{path}:{line}: field {fieldname}: {msg}") from None
    jobs = []
    for i, v in enumerate(spec.variants):
        d = spec.defaults
        stops = v.stops if v.stops is not None else d.stops
        target = v.target if v.target is not None else d.target
        if not stops or (len(stops) < 2 and target is None):
            line = _node_at(root, ["variants", i]).start_mark.line + 1 if root is not None else 1
            raise SpecError(
                f"{path}:{line}: field variants.{i}.stops: variant {v.name!r} needs at "
                "least two stops, or one stop and a target (a loop), here or in defaults"
            )
        jobs.append(
            VariantJob(
                name=v.name,
                stops=[s if isinstance(s, str) else (s.lat, s.lon) for s in stops],
                target=target,
                profile=v.profile or d.profile,
                tolerance=v.tolerance or d.tolerance,
                osm=_resolve(path, v.osm or d.osm),
                neighborhoods=_resolve(path, v.neighborhoods or d.neighborhoods),
                tracts=_resolve(path, v.tracts or d.tracts),
                out_and_back=d.out_and_back if v.out_and_back is None else v.out_and_back,
                objective=v.objective or d.objective,
                reach=v.reach or d.reach,
            )
        )
    names = [j.name for j in jobs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SpecError(f"{path}: variant names must be unique; repeated: {', '.join(dup)}")
    return spec, jobs


def _resolve(spec_path: Path, osm: str | None) -> str | None:
    if osm is None:
        return None
    p = Path(osm)
    return str(p if p.is_absolute() else (spec_path.parent / p))


# -- the table ---------------------------------------------------------------------------------------------
def route_row(route: Any, demographics: Any | None = None) -> dict[str, Any]:
    """Return one comparison row for a route (see :func:`compare_routes` for the columns)."""
    shares = street_class_shares(route)
    target = route.target_m
    row: dict[str, Any] = {
        "name": route.name,
        "profile": route.profile,
        "length_mi": round(route.length_mi, 3),
        "length_km": round(route.length_km, 3),
        "target_mi": None if target is None else round(target / METERS_PER_MILE, 3),
        "deviation_pct": None if not target else round(100 * (route.length_m - target) / target, 2),
        "repeated_pct": round(100 * route.repeated_length_m / route.length_m, 2),
        "doubled_back_pct": round(100 * route.doubled_back_m / route.length_m, 2),
    }
    for cls, share in shares.items():
        row[f"share_{cls}_pct"] = round(100 * share, 1)
    row["major_crossings"] = major_crossings(route)
    row["turns"] = route.turns
    if demographics is not None:
        names = [n for n in demographics.neighborhoods["name"] if not str(n).startswith("(")]
        row["neighborhoods"] = " > ".join(dict.fromkeys(names))
        near = people_figures(demographics.to_dict()["near_route"])
        row["population_400m"] = near.get("population")
        pct = near.get("pct_foreign_born")
        row["pct_foreign_born_400m"] = None if pct is None else round(pct, 1)
    return row


def compare_routes(
    routes: Iterable[Any],
    layer: Any | None = None,
    buffer_m: float = settings.ROUTE_BUFFER_M,
    tracts: Any | None = None,
) -> pd.DataFrame:
    """Return one row per route: how they differ.

    Columns: ``name``, ``profile``, ``length_mi``, ``length_km``, ``target_mi``, ``deviation_pct``,
    ``repeated_pct``, ``doubled_back_pct`` (run again alongside: a sidewalk back), ``share_<class>_pct`` (footway, residential, service, tertiary, secondary, primary,
    other), ``major_crossings`` (route nodes where it crosses a primary/secondary/trunk street it does not
    follow), ``turns``, ``neighborhoods`` (in order), ``population_400m`` and ``pct_foreign_born_400m``
    (people living within ``buffer_m``).

    Parameters
    ----------
    routes : iterable of Route
    layer : GeoDataFrame, optional
        Neighborhood demographics (:func:`routemap.neighborhood_demographics`); default the embedded LA layer.
    buffer_m : float
        The distance from the route within which people are counted.
    tracts : GeoDataFrame or path, optional
        Census tracts for the people near each route; default the embedded LA tracts. Where no tract
        reaches a route its people columns are empty (unknown), not 0.
    """
    from routemap.demographics import neighborhood_demographics, route_demographics

    routes = list(routes)
    if layer is None:
        layer = neighborhood_demographics()
    rows = [
        route_row(r, route_demographics(r, layer=layer, buffer_m=buffer_m, tracts=tracts)) for r in routes
    ]
    return pd.DataFrame(rows)


# -- running a spec ----------------------------------------------------------------------------------------
_GRAPHS: dict[Any, Any] = {}


def _slug(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "-", name).strip("-").lower() or "variant"


def _graph_for(job: VariantJob, offline: bool) -> Any:
    """Return the variant's network, loaded once per process (load_network's cache makes reloads fast)."""
    from routemap.pipeline import network_for_stops

    key = (job.osm, None if offline or job.osm else tuple(map(str, job.stops)), str(job.target))
    if key not in _GRAPHS:
        _GRAPHS[key] = network_for_stops(job.stops, job.osm, offline=offline, target=job.target)
    return _GRAPHS[key]


def _layer_for(job: VariantJob) -> Any:
    """Return the neighborhood layer with its figures, built once per process and layer pair."""
    from routemap.demographics import neighborhood_demographics

    key = ("layer", job.neighborhoods, job.tracts)
    if key not in _GRAPHS:
        _GRAPHS[key] = neighborhood_demographics(job.neighborhoods, job.tracts)
    return _GRAPHS[key]


def run_variant(job: VariantJob, offline: bool = True, unit: str = settings.DEFAULT_UNIT) -> dict[str, Any]:
    """Plan one variant; return its row, the route (as a small payload) and its summary, or the error.

    Plans through :func:`routemap.pipeline.plan_on_network` like the ``route`` command. Runs in a worker
    process or on a dask worker, which write nothing: the parent writes every file, so a remote cluster
    needs no shared disk. The network and the neighborhood layer are loaded once per process.
    """
    from routemap.demographics import route_demographics
    from routemap.pipeline import data_sources, plan_on_network, route_summary

    base = {"name": job.name, "profile": job.profile}
    try:
        G = _graph_for(job, offline)
        (route,) = plan_on_network(
            G,
            job.stops,
            target=job.target,
            profile=job.profile,
            tolerance=job.tolerance,
            name=job.name,
            offline=offline,
            neighborhoods=job.neighborhoods,
            out_and_back=job.out_and_back,
            objective=job.objective,
            reach=job.reach,
        )
        demo = route_demographics(route, layer=_layer_for(job), tracts=job.tracts)
        row = route_row(route, demo)
        row["error"] = ""
        sources = data_sources(route, demo, neighborhoods=job.neighborhoods, tracts=job.tracts)
        summary = route_summary(route, demo, unit=unit, objective=job.objective, sources=sources)
        return {"row": row, "route": _route_payload(route), "summary": summary}
    except RoutemapError as exc:
        return {"row": {**base, "error": str(exc)}, "route": None, "summary": None}
    except Exception as exc:  # a bug in one variant must not sink the others: report it in its row
        return {"row": {**base, "error": f"{type(exc).__name__}: {exc}"}, "route": None, "summary": None}


def _route_payload(route: Any) -> dict[str, Any]:
    """Return what rebuilds a route in the parent process, small enough to send between processes."""
    return {
        "name": route.name,
        "nodes": [int(n) for n in route.nodes],
        "edges": [(int(u), int(v), int(k)) for u, v, k in route.edges],
        "stops": [s.to_dict() for s in route.stops],
        "target_m": route.target_m,
        "profile": route.profile,
    }


def _rebuild(payload: dict[str, Any], G: Any) -> Any:
    from routemap.route.model import Route, RouteStop

    stops = [RouteStop(**{k: v for k, v in s.items() if k != "mile"}) for s in payload["stops"]]
    return Route(
        G,
        payload["nodes"],
        payload["edges"],
        stops=stops,
        target_m=payload["target_m"],
        profile=payload["profile"],
        name=payload["name"],
    )


def run_spec(
    spec_path: str | Path,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    offline: bool = True,
    progress: bool = False,
    html_offline: bool | None = None,
    unit: str = settings.DEFAULT_UNIT,
) -> pd.DataFrame:
    """Run every variant of a spec file and write the comparison to ``out_dir``.

    Writes ``comparison.csv``, ``comparison.md``, ``comparison.html`` (one map, one layer per variant) and
    ``variants/<name>/route.gpx|route.geojson|summary.json`` (through
    :func:`routemap.pipeline.write_route_outputs`). Variants run in parallel processes (``workers``,
    default the CPU count), or on the dask.distributed cluster at ``scheduler``. A variant that fails is
    reported in its row's ``error`` column; the others go on. ``offline`` keeps to local data (no
    downloads or geocoding); ``html_offline`` inlines the map's assets (default: as ``offline``); ``unit``
    sets the distance markers.

    Returns
    -------
    pandas.DataFrame
        The comparison table (one row per variant, in the spec's order).

    Raises
    ------
    SpecError
        The spec is invalid.
    RoutemapError
        ``out_dir`` is a file, or every variant failed (nothing is written then).
    """
    from routemap.pipeline import check_out_dir, check_unit

    check_unit(unit)
    out_dir = check_out_dir(out_dir)
    _, jobs = load_spec(spec_path)
    html_offline = offline if html_offline is None else html_offline
    with atomic_dir(out_dir) as tmp:
        results = _run_jobs(
            jobs, workers=workers, scheduler=scheduler, offline=offline, progress=progress, unit=unit
        )
        table = pd.DataFrame([r["row"] for r in results])
        cols = ["name"] + [c for c in table.columns if c not in ("name", "error")] + ["error"]
        table = table[cols]
        failed = table[table["error"] != ""]
        if len(failed) == len(table):
            first = failed.iloc[0]
            raise RoutemapError(
                f"all {len(table)} variants failed; nothing written (first, {first['name']!r}: {first['error']})"
            )
        write_csv(table, tmp / "comparison.csv")
        with atomic_write(tmp / "comparison.md") as fh:
            fh.write(table_markdown(table))
        routes = _write_variants(jobs, results, tmp / "variants", offline, unit)
        _write_comparison_map(routes, tmp / "comparison.html", offline=html_offline, table=table)
    return table


def _write_variants(jobs, results, folder: Path, offline: bool, unit: str) -> list[Any]:
    """Write each planned variant's GPX, GeoJSON and summary.json; return the rebuilt routes."""
    from routemap.pipeline import write_route_outputs

    routes, slugs = [], set()
    for job, result in zip(jobs, results, strict=True):
        if result["route"] is None:
            continue
        route = _rebuild(result["route"], _graph_for(job, offline))
        slug = _slug(job.name)
        while slug in slugs:  # two names that differ only in punctuation
            slug += "-2"
        slugs.add(slug)
        write_route_outputs(
            route,
            folder / slug,
            unit=unit,
            summary=result["summary"],
            files=("route.gpx", "route.geojson", "summary.json"),
        )
        routes.append(route)
    return routes


def _run_jobs(jobs, *, workers, scheduler, offline, progress, unit) -> list[dict[str, Any]]:
    from rich.progress import Progress

    results: list[dict[str, Any] | None] = [None] * len(jobs)
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("planning variants", total=len(jobs))
        if scheduler:
            from distributed import Client
            from distributed import as_completed as dask_completed

            with Client(scheduler) as client:
                futures = [client.submit(run_variant, j, offline, unit, pure=False) for j in jobs]
                index = {f.key: i for i, f in enumerate(futures)}
                for fut in dask_completed(futures):
                    results[index[fut.key]] = fut.result()
                    bar.advance(task)
        elif (workers or 2) <= 1 or len(jobs) == 1:
            for i, j in enumerate(jobs):
                results[i] = run_variant(j, offline, unit)
                bar.advance(task)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futs = {pool.submit(run_variant, j, offline, unit): i for i, j in enumerate(jobs)}
                for fut in as_completed(futs):
                    results[futs[fut]] = fut.result()
                    bar.advance(task)
    return [r for r in results if r is not None]


def table_markdown(table: pd.DataFrame) -> str:
    """Return the comparison table as a Markdown table."""
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in table.iterrows():
        cells = ["" if pd.isna(v) else str(v).replace("|", "\\|") for v in r.tolist()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _write_comparison_map(
    routes: list[Any], path: Path, offline: bool, table: pd.DataFrame | None = None
) -> None:
    from routemap.demographics import neighborhood_demographics
    from routemap.render import render_map, save_map

    if routes:
        layer = neighborhood_demographics()
        # the LA layer is drawn (and credited) only where it covers a route: not under a Helsinki comparison
        hits = layer.sindex.query(gpd.GeoSeries([r.geometry for r in routes], crs=4326).to_crs(layer.crs))
        layer = layer if len(hits[1]) else None
        m = render_map(
            routes, neighborhoods=layer, title="Route comparison", offline=offline, comparison=table
        )
        save_map(m, path)  # the offline street basemap comes with render_map; the panel shows the table
    else:
        with atomic_write(path) as fh:
            fh.write("<!doctype html><p>No variant produced a route.</p>\n")
