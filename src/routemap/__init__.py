"""routemap: plan, analyse and map community runs and marches on OpenStreetMap streets.

The public API; names are imported lazily so that ``import routemap`` and the CLI start fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # network
    "load_network": "routemap.network",
    "network_info": "routemap.network",
    # route
    "plan_route": "routemap.route",
    "plan_routes": "routemap.route",
    "Route": "routemap.route",
    "Stop": "routemap.route",
    "parse_length": "routemap.route",
    "PROFILES": "routemap.route",
    # demographics
    "neighborhood_demographics": "routemap.demographics",
    "route_demographics": "routemap.demographics",
    "load_neighborhoods": "routemap.demographics",
    "load_tracts": "routemap.demographics",
    "find_neighborhood": "routemap.demographics",
    # places
    "find_place": "routemap.places",
    # one route to files, and the demo
    "plan_and_write": "routemap.pipeline",
    "write_route_outputs": "routemap.pipeline",
    "route_summary": "routemap.pipeline",
    "run_demo": "routemap.demo",
    # render / export
    "render_map": "routemap.render",
    "save_map": "routemap.render",
    "write_gpx": "routemap.export",
    "write_geojson": "routemap.export",
    "write_cue_sheet": "routemap.export",
    "write_png": "routemap.export",
    # compare
    "compare_routes": "routemap.compare",
    "load_spec": "routemap.compare",
    "run_spec": "routemap.compare",
    # errors
    "RoutemapError": "routemap.errors",
    "InputFileError": "routemap.errors",
    "NetworkError": "routemap.errors",
    "StopError": "routemap.errors",
    "UnknownPlaceError": "routemap.errors",
    "StopTooFarError": "routemap.errors",
    "UnreachableStopError": "routemap.errors",
    "TargetLengthError": "routemap.errors",
    "DemographicsError": "routemap.errors",
    "SpecError": "routemap.errors",
    "OfflineError": "routemap.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'routemap' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
