"""The ``routemap`` command: a thin shell over the library (parse, call, print).

Errors derived from :class:`routemap.errors.RoutemapError` print as one line and exit 1; ``--debug`` shows
the traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from routemap.errors import RoutemapError
from routemap.settings import METERS_PER_MILE

app = typer.Typer(
    help="Plan, analyse and map community runs and marches on OpenStreetMap streets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
network_app = typer.Typer(help="Street networks: inspect what a source holds.", no_args_is_help=True)
app.add_typer(network_app, name="network")

console = Console()
err_console = Console(stderr=True)
_state = {"debug": False}


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
        ".mbtiles; default: the embedded LA data.",
    ),
    network_type: str = typer.Option("run", "--network-type", "-t", help="run, walk, drive, bike, all."),
    bbox: str | None = typer.Option(None, help="west,south,east,north in degrees."),
) -> None:
    """Print nodes, edges, street length, bbox, OSM timestamp and the largest connected part."""
    from routemap.network import load_network, network_info

    G = load_network(
        source if source else _default_source(), bbox=_parse_bbox(bbox), network_type=network_type
    )
    info = network_info(G)
    table = Table(title=f"network: {info.get('source', source)}", show_header=False)
    for key, value in info.items():
        table.add_row(str(key), _fmt(value))
    console.print(table)


def _print_route(route, demo, paths: dict) -> None:
    """Print the summary table of a route and the path of its map."""
    table = Table(title=f"{route.name}", show_header=False)
    table.add_row("length", f"{route.length_mi:.2f} mi ({route.length_km:.2f} km)")
    if route.target_m:
        dev = 100 * (route.length_m - route.target_m) / route.target_m
        table.add_row("target", f"{route.target_m / METERS_PER_MILE:.2f} mi (deviation {dev:+.2f}%)")
    table.add_row("repeated", f"{route.repeated_length_m:.0f} m ({100 * route.repeated_share:.1f}%)")
    for s in route.stops:
        mile = "-" if s.position_mi is None else f"mile {s.position_mi:.2f}"
        table.add_row("stop", f"{s.name} ({mile})")
    if demo is not None:
        for _, r in demo.neighborhoods.iterrows():
            table.add_row("neighborhood", f"{r['name']}: {float(r['miles']):.2f} mi")
        near = demo.to_dict().get("near_route", {})
        if near.get("population") is not None:
            table.add_row(
                "within 400 m",
                f"{near['population']:,.0f} people, {near.get('pct_foreign_born', 0):.1f}% foreign-born",
            )
    console.print(table)
    console.print(f"map: {paths.get('route.html')}")


@app.command("route")
def route_cmd(
    stop: list[str] = typer.Option(
        ...,
        "--stop",
        "-s",
        help='A stop, in order: "lat,lon", "Street A & Street B", a place or a neighborhood name.',
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Folder for route.html, route.gpx, route.geojson, cues.csv, summary.json."
    ),
    target: str | None = typer.Option(
        None, "--target", "-t", help='Target length: "15mi", "24km", "24000" (metres).'
    ),
    profile: str = typer.Option("run", "--profile", "-p", help="run, march or shortest."),
    tolerance: float = typer.Option(0.01, help="Allowed relative deviation from the target."),
    osm: Path | None = typer.Option(
        None,
        "--osm",
        help="Street data to use (any source load_network "
        "reads); default the embedded LA corridor, else online.",
    ),
    offline: bool = typer.Option(
        False,
        "--offline",
        help="Use no internet: inline the map's JavaScript and CSS, and never download street data.",
    ),
    name: str | None = typer.Option(None, help="The route's name."),
) -> None:
    """Plan one route through the stops and write its map, GPX, GeoJSON, cue sheet and summary."""
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
        html_offline=offline,
    )
    _print_route(route, demo, paths)


@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("demo-out"), "--out", "-o", help="Folder for the demo's files."),
    online: bool = typer.Option(
        False, "--online", help="Plan on fresh OSM data downloaded around the route."
    ),
    osm: Path | None = typer.Option(None, "--osm", help="Plan on this OSM source instead."),
    cdn: bool = typer.Option(
        False,
        "--cdn",
        help="Load the map's JavaScript from the CDN and show base tiles (needs internet); "
        "by default the map is self-contained and works offline.",
    ),
) -> None:
    """The Run Against ICE: 15 miles from Koreatown through Westlake and Chinatown to the MDC."""
    from routemap.demo import run_demo

    route, demo, paths = run_demo(out, online=online, osm=osm, html_offline=not cdn)
    _print_route(route, demo, paths)


@app.command("compare")
def compare_cmd(
    spec: Path = typer.Argument(..., help="Route-spec YAML: defaults and variants."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for comparison.csv/.md/.html and variants/."),
    workers: int | None = typer.Option(None, "--workers", "-j", help="Parallel processes."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="A dask.distributed scheduler address."),
    online: bool = typer.Option(
        False, "--online", help="Allow downloading street data for stops outside the embedded corridor."
    ),
) -> None:
    """Plan every variant of a spec file and write one table and one map."""
    from routemap.compare import run_spec

    table = run_spec(
        spec, out, workers=workers, scheduler=scheduler, offline=not online, progress=console.is_terminal
    )
    shown = [
        c
        for c in (
            "name",
            "length_mi",
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
    console.print(f"map: {out / 'comparison.html'}")
    failed = int((table["error"] != "").sum()) if "error" in table else 0
    if failed == len(table):
        raise RoutemapError(f"all {failed} variants failed; see the error column in {out / 'comparison.csv'}")


def _default_source() -> Path:
    from routemap.data import embedded_osm_pbf

    return embedded_osm_pbf()


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


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; RoutemapError becomes one line on stderr and exit code 1."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, standalone_mode=False)
    except RoutemapError as exc:
        if debug:
            raise
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 1
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        return 130
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Exit):
            return exc.exit_code
        if debug:
            raise
        err_console.print(
            f"[bold red]error:[/] {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
