"""Profile: CPU seconds of each phase of ``load_network`` on one OSM file (where a big load spends its time).

    python benchmarks/profile_load.py [FILE] [--bbox W,S,E,N]

FILE defaults to the county test network that ``bench_scale.py`` writes (/tmp/routemap-county-300.osm.pbf;
run that first). Prints the load's total CPU time and, per phase, the CPU time spent inside it: reading
(``osm._read``, pyosmium's decoding included), segments, simplification (and its merged path edges), and
filling the networkx graph. Phases nest (``_assemble`` holds simplification and the graph), so the rows do
not add up to the total. One load, ``use_cache=False``; the machine's speed drifts, so compare figures from
one run, or the ratio printed by ``bench_scale.py``.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable
from typing import Any

#: (module, function) of each phase timed, in pipeline order.
PHASES = [
    ("routemap.network.osm", "_read"),
    ("routemap.network.build", "_graph_from_ways"),
    ("routemap.network.build", "_segments"),
    ("routemap.network.build", "_assemble"),
    ("routemap.network.simplify", "simplify_segments"),
    ("routemap.network.simplify", "_path_edges"),
    ("routemap.network.build", "_add_nodes_fast"),
    ("routemap.network.build", "_add_edges_fast"),
]


def timed(fn: Callable[..., Any], name: str, spent: dict[str, float]) -> Callable[..., Any]:
    """Return ``fn`` adding the CPU seconds of each call to ``spent[name]``."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - start

    return wrapper


def main() -> None:
    import importlib

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", default="/tmp/routemap-county-300.osm.pbf")
    parser.add_argument("--bbox", default=None, help="west,south,east,north in degrees")
    args = parser.parse_args()
    bbox = tuple(float(v) for v in args.bbox.split(",")) if args.bbox else None

    import routemap

    spent: dict[str, float] = {}
    for module_name, fn_name in PHASES:
        module = importlib.import_module(module_name)
        # module-level names are looked up at call time, so wrapping them in their module times every call
        setattr(module, fn_name, timed(getattr(module, fn_name), fn_name, spent))
    start = time.process_time()
    G = routemap.load_network(args.file, bbox=bbox, use_cache=False)
    total = time.process_time() - start
    print(f"load_network({args.file}): {total:.2f} s CPU; {len(G):,} nodes, {G.number_of_edges():,} edges")
    for _, fn_name in PHASES:
        if fn_name in spent:
            print(f"  {fn_name:20s} {spent[fn_name]:7.2f} s")


if __name__ == "__main__":
    main()
