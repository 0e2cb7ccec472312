"""The ``routemap`` command: a thin shell over the library (parse, call, print).

Errors derived from :class:`routemap.errors.RoutemapError` print as one line and exit 1; ``--debug`` shows
the traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from routemap.errors import RoutemapError

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
    source: Optional[str] = typer.Argument(
        None, help="OSM file (.osm.pbf/.osm/.osm.bz2/.osm.gz), Overpass JSON, GraphML, tile folder or "
        ".mbtiles; default: the embedded LA data."
    ),
    network_type: str = typer.Option("run", "--network-type", "-t", help="run, walk, drive, bike, all."),
    bbox: Optional[str] = typer.Option(None, help="west,south,east,north in degrees."),
) -> None:
    """Print nodes, edges, street length, bbox, OSM timestamp and the largest connected part."""
    from routemap.network import load_network, network_info

    G = load_network(source if source else _default_source(), bbox=_parse_bbox(bbox),
                     network_type=network_type)
    info = network_info(G)
    table = Table(title=f"network: {info.get('source', source)}", show_header=False)
    for key, value in info.items():
        table.add_row(str(key), _fmt(value))
    console.print(table)


def _default_source() -> Path:
    from routemap.data import embedded_osm_pbf

    return embedded_osm_pbf()


def _parse_bbox(text: Optional[str]) -> Optional[tuple[float, float, float, float]]:
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
    if isinstance(value, float):
        return f"{value:,.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def main(argv: Optional[list[str]] = None) -> int:
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
            highlight=False, soft_wrap=True,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
