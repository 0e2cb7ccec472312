"""The ``routemap`` command: a thin shell over the library (parse, call, print).

Every failure prints one line on stderr and exits 1, leaving ``--out`` as it was: errors derived from
:class:`routemap.errors.RoutemapError`, usage errors (an unknown flag, a missing value) and, as a last
resort, anything else; ``--debug`` shows the traceback.

Every command that fetches data or renders a map takes the same flags, with the same defaults:
``--offline`` (default: local data only, the map inlined) / ``--online`` (downloads and geocoding
allowed), ``--cdn`` (Leaflet from the CDN instead of inlined) and, where distances are shown, ``--units``.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from routemap import settings
from routemap.errors import RoutemapError
from routemap.settings import UNIT_M

# rich_markup_mode=None: click's plain help, which prints a boolean flag as a flag ("--offline / --online")
app = typer.Typer(
    help="Plan, analyse and map community runs and marches on OpenStreetMap streets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
network_app = typer.Typer(
    help="Street networks: inspect what a source holds.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(network_app, name="network")

console = Console()
err_console = Console(stderr=True)
_state = {"debug": False}

# -- the flags every command shares (one definition, one default) --------------------------------------
OFFLINE_HELP = (
    "--offline (default): use local data only (the embedded LA corridor or --osm) and never download or "
    "geocode. --online: allow downloading OSM streets around the stops and geocoding place names."
)
CDN_HELP = (
    "Load the map's Leaflet JavaScript and CSS from the CDN and show base tiles (the map then needs the "
    "internet); by default they are inlined and the map works offline."
)
UNITS_HELP = "Distance unit: mi or km (markers, cue sheet, tables, GPX waypoint names)."
OSM_HELP = (
    "Street data to plan on: an OSM file (.osm.pbf/.osm/.osm.bz2), Overpass JSON, GraphML, a vector-tile "
    "folder or .mbtiles. Default: the embedded LA corridor (with --online, OSM streets downloaded around "
    "coordinate stops outside it)."
)
NEIGHBORHOODS_HELP = "Neighborhood polygons (GeoJSON, GeoPackage, shapefile, GeoParquet) with a name column."
TRACTS_HELP = "Census tracts with a population column (see routemap.load_tracts)."


def _offline_option() -> bool:
    return typer.Option(True, "--offline/--online", help=OFFLINE_HELP)


def _cdn_option() -> bool:
    return typer.Option(False, "--cdn", help=CDN_HELP)


def _units_option() -> str:
    return typer.Option(settings.DEFAULT_UNIT, "--units", "-u", metavar="mi|km", help=UNITS_HELP)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
) -> None:
    _state["debug"] = debug


@network_app.command("info")
def network_info_cmd(
    source: str | None = typer.Argument(
        None,
        help="OSM file (.osm.pbf/.osm/.osm.bz2/.osm.gz), Overpass JSON, GraphML, tile folder or "
        ".mbtiles; default: the embedded LA corridor (the data `routemap route` plans on).",
    ),
    network_type: str = typer.Option("run", "--network-type", "-t", help="run, walk, drive, bike, all."),
    bbox: str | None = typer.Option(None, help="west,south,east,north in degrees."),
    offline: bool = _offline_option(),
) -> None:
    """Print nodes, edges, street length, bbox, OSM timestamp and the largest connected part."""
    from routemap.data import embedded_corridor_tiles
    from routemap.network import load_network, network_info

    box = _parse_bbox(bbox)
    if source:
        G = load_network(source, bbox=box, network_type=network_type)
    elif box is not None and not offline:
        G = load_network(None, bbox=box, network_type=network_type)
    else:
        G = load_network(embedded_corridor_tiles(), bbox=box, network_type=network_type)
    info = network_info(G)
    table = Table(title=f"network: {info.get('source', source)}", show_header=False)
    for key, value in info.items():
        table.add_row(str(key), _fmt(value))
    console.print(table)


def _dist(metres: float | None, unit: str) -> str:
    return "-" if metres is None else f"{metres / UNIT_M[unit]:.2f} {unit}"


def _print_route(route, demo, paths: dict, unit: str = settings.DEFAULT_UNIT) -> None:
    """Print the summary table of a route and the path of its map."""
    other = "km" if unit == "mi" else "mi"
    table = Table(title=f"{route.name}", show_header=False)
    table.add_row("length", f"{_dist(route.length_m, unit)} ({_dist(route.length_m, other)})")
    if route.target_m:
        dev = 100 * (route.length_m - route.target_m) / route.target_m
        table.add_row("target", f"{_dist(route.target_m, unit)} (deviation {dev:+.2f}%)")
    table.add_row("repeated", f"{route.repeated_length_m:.0f} m ({100 * route.repeated_share:.1f}%)")
    table.add_row("turns", f"{route.turns} ({route.turns_per_mile:.2f} per mile)")
    if route.metadata.get("objective") == "reach":
        table.add_row("planned for", f"the most {route.metadata['reach'].replace('_', '-')} residents nearby")
    word = "mile" if unit == "mi" else "km"
    for s in route.stops:
        at = "-" if s.position_m is None else f"{word} {s.position_m / UNIT_M[unit]:.2f}"
        table.add_row("stop", f"{s.name} ({at})")
    if demo is not None:
        if demo.neighborhoods_covered:
            for _, r in demo.neighborhoods.iterrows():
                table.add_row("neighborhood", f"{r['name']}: {_dist(float(r['length_m']), unit)}")
        near = demo.to_dict().get("near_route", {})
        if demo.census_covered and near.get("population") is not None:
            pct = near.get("pct_foreign_born")
            foreign = "" if pct is None else f", {pct:.1f}% foreign-born"
            table.add_row(f"within {demo.buffer_m:.0f} m", f"{near['population']:,.0f} people{foreign}")
        for note in demo.notes:
            table.add_row("note", note)
    console.print(table)
    console.print(f"map: {paths.get('route.html')}")


@app.command("route")
def route_cmd(
    stop: list[str] = typer.Option(
        ...,
        "--stop",
        "-s",
        metavar="STOP",
        help='A stop; repeat the option for each, in order: --stop A --stop B --stop C. A stop is "lat,lon" '
        '(latitude first), "Street A & Street B", a place or a neighborhood name. One --stop with '
        "--target makes a loop back to it.",
        show_default=False,
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        metavar="DIR",
        help="Folder for route.html, route.gpx, route.geojson, cues.csv, summary.json (created; files in it "
        "are replaced only when everything succeeded).",
    ),
    target: str | None = typer.Option(
        None,
        "--target",
        "-t",
        metavar="LENGTH",
        help='Target length with a unit: "15mi", "24km", "24000m"; a bare number is metres (at least 100). '
        "Default: the best route through the stops, whatever its length.",
    ),
    profile: str = typer.Option(
        "run", "--profile", "-p", metavar="run|march|shortest", help="The routing profile."
    ),
    tolerance: float = typer.Option(
        settings.LENGTH_TOLERANCE, help="Allowed relative deviation from the target (0.01 = 1%)."
    ),
    out_and_back: bool = typer.Option(
        False,
        "--out-and-back",
        help="Go out and come back the same streets (the repeated-length limit does not apply).",
    ),
    objective: str = typer.Option(
        "cost",
        "--objective",
        help="cost (the profile's street preferences) or reach (people near the route).",
    ),
    reach: str = typer.Option(
        "population",
        "--reach",
        help="With --objective reach: the people to reach: population, foreign_born, hispanic, asian, "
        "limited_english.",
    ),
    alternatives: int = typer.Option(
        1,
        "--alternatives",
        "-k",
        help="Plan up to K different routes: alt-2/ ... alt-K/ and alternatives.csv.",
    ),
    osm: Path | None = typer.Option(None, "--osm", metavar="FILE", help=OSM_HELP),
    neighborhoods: Path | None = typer.Option(
        None, "--neighborhoods", metavar="FILE", help=NEIGHBORHOODS_HELP
    ),
    tracts: Path | None = typer.Option(None, "--tracts", metavar="FILE", help=TRACTS_HELP),
    offline: bool = _offline_option(),
    cdn: bool = _cdn_option(),
    units: str = _units_option(),
    name: str | None = typer.Option(None, help="The route's name."),
) -> None:
    """Plan one route through the stops and write its map, GPX, GeoJSON, cue sheet and summary.

    Example: routemap route --stop "MacArthur Park" --stop "Chinatown Central Plaza" --target 5km --out r
    """
    from routemap.pipeline import plan_and_write

    route, demo, paths = plan_and_write(
        stop,
        out,
        target=target,
        profile=profile,
        tolerance=tolerance,
        osm=osm,
        offline=offline,
        name=name,
        html_offline=not cdn,
        unit=units,
        out_and_back=out_and_back,
        objective=objective,
        reach=reach,
        alternatives=alternatives,
        neighborhoods=neighborhoods,
        tracts=tracts,
    )
    _print_route(route, demo, paths, units)


@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("demo-out"), "--out", "-o", help="Folder for the demo's files."),
    osm: Path | None = typer.Option(
        None, "--osm", help="Plan on this OSM source instead of the embedded one."
    ),
    offline: bool = _offline_option(),
    cdn: bool = _cdn_option(),
    units: str = _units_option(),
) -> None:
    """The Run Against ICE: 15 miles from Koreatown through Westlake and Chinatown to the MDC."""
    from routemap.demo import run_demo

    route, demo, paths = run_demo(out, online=not offline, osm=osm, html_offline=not cdn, unit=units)
    _print_route(route, demo, paths, units)


COMPARE_HELP = """Plan every variant of a route-spec file and write one table and one map.

The spec is YAML: optional `title`, `defaults` (values every variant takes unless it sets its own) and
`variants` (a list; each needs a unique `name`). Keys of defaults and variants: `stops` (a list, in order;
a string "lat,lon", a name, "A & B", or {name, lat, lon}; one stop with a target makes a loop), `target`
("15mi", "10km"), `profile` (run, march, shortest), `tolerance` (0.01), `osm` (street data file, relative
to the spec), `neighborhoods` and `tracts` (layer files), `out_and_back` (true/false), `objective` (cost,
reach), `reach` (population, foreign_born...). Example:

\b
    title: Helsinki 10 km
    defaults:
      osm: Helsinki.osm.pbf
      target: 10km
    variants:
      - name: loop
        stops: ["60.1680,24.9400"]
      - name: through the centre
        stops: ["60.1680,24.9400", "60.1760,24.9470"]

Writes comparison.csv, comparison.md, comparison.html and variants/<name>/ to --out.
"""


@app.command("compare", help=COMPARE_HELP)
def compare_cmd(
    spec: Path = typer.Argument(..., help="Route-spec YAML file: defaults and variants (see above)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for comparison.csv/.md/.html and variants/."),
    workers: int | None = typer.Option(
        None, "--workers", "-j", help="Parallel processes (default: the number of CPUs)."
    ),
    scheduler: str | None = typer.Option(None, "--scheduler", help="A dask.distributed scheduler address."),
    offline: bool = _offline_option(),
    cdn: bool = _cdn_option(),
    units: str = _units_option(),
) -> None:
    from routemap.compare import run_spec

    table = run_spec(
        spec,
        out,
        workers=workers,
        scheduler=scheduler,
        offline=offline,
        progress=console.is_terminal,
        html_offline=not cdn,
        unit=units,
    )
    length = f"length_{units}"
    shown = [
        c
        for c in (
            "name",
            length,
            "deviation_pct",
            "repeated_pct",
            "major_crossings",
            "turns",
            "population_400m",
            "pct_foreign_born_400m",
            "error",
        )
        if c in table.columns
    ]
    t = Table(title=f"comparison: {spec}")
    for c in shown:
        t.add_column(c)
    for _, r in table.iterrows():
        t.add_row(*["" if (v is None or v != v) else str(v) for v in (r[c] for c in shown)])
    console.print(t)
    if "population_400m" in table.columns and table["population_400m"].isna().all():
        console.print(f"note: {settings.NO_CENSUS_NOTE}")
    console.print(f"map: {out / 'comparison.html'}")


def _parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise RoutemapError(
            f"bbox {text!r} is not four numbers; write it as west,south,east,north in degrees"
        ) from exc
    return (west, south, east, north)


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _fail(message: str) -> int:
    from rich.text import Text

    text = " ".join(str(message).split())  # one line, whatever the message holds
    err_console.print(Text("error: ", style="bold red") + Text(text), highlight=False, soft_wrap=True)
    return 1


def _click_errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """Return (usage error types, other click error types) of click and of typer's vendored click."""
    import click

    usage: list[type[Exception]] = [click.exceptions.UsageError]
    other: list[type[Exception]] = [click.exceptions.ClickException]
    try:  # typer >= 0.20 parses with its own copy of click
        from typer._click import exceptions as vendored
    except ImportError:
        pass
    else:
        usage.append(vendored.UsageError)
        other.append(vendored.ClickException)
    return tuple(usage), tuple(other)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code: 0, or 1 with one line on stderr for any failure.

    Run as a program (``argv`` None: the ``routemap`` script, ``python -m routemap.cli``), the objects
    still alive at the end are frozen (:func:`gc.freeze`): the interpreter's last collections would
    otherwise walk the street graph and the map once more just before the process ends (most of a
    second for the LA corridor).
    """
    code = _run(list(sys.argv[1:] if argv is None else argv))
    if argv is None:
        gc.freeze()
    return code


def _run(args: list[str]) -> int:
    """Run the command line ``args``; return the exit code (see :func:`main`)."""
    import click

    debug = "--debug" in args
    usage_errors, click_errors = _click_errors()
    try:
        app(args=args, standalone_mode=False)
    except RoutemapError as exc:
        if debug:
            raise
        return _fail(str(exc))
    except (typer.Abort, click.exceptions.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        return 130
    except (typer.Exit, click.exceptions.Exit) as exc:
        return int(exc.exit_code)
    except usage_errors as exc:  # an unknown flag, a missing or bad value
        if type(exc).__name__ == "NoArgsIsHelpError" and getattr(exc, "ctx", None) is not None:
            console.print(exc.ctx.get_help(), highlight=False)  # type: ignore[attr-defined]
            return 0
        return _fail(f"{exc.format_message()} (--help lists the options)")  # type: ignore[attr-defined]
    except click_errors as exc:
        return _fail(exc.format_message())  # type: ignore[attr-defined]
    except Exception as exc:  # a bug: still one line; --debug shows where
        if debug:
            raise
        return _fail(f"{type(exc).__name__}: {exc} (run with --debug for the traceback)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
