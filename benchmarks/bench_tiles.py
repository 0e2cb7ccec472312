"""Benchmark: street networks from the 48 corridor vector tiles (z14), cold and from the cache.

    python benchmarks/bench_tiles.py [--repeat 5]

For the embedded MBTiles (``data/corridor/la_corridor_z14.mbtiles``) and, when present, the shared tile
folder (``../shared/data/la/osm/tiles``), prints medians over ``--repeat`` runs, in one warm process:

- decode + topology (``load_tile_ways``: GDAL decoding, tile-edge joining, names);
- cold ``load_network(source)`` (default ``run`` network, simplified, ``use_cache=False``);
- ``load_network(source)`` from routemap's graph cache (a temporary cache folder, filled once first).

Targets (issue 8): cold < 5 s, cached < 1 s. Ratios are target / median (> 1 means the target is met).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

COLD_TARGET_S = 5.0
CACHED_TARGET_S = 1.0


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ["ROUTEMAP_CACHE_DIR"] = tempfile.mkdtemp(prefix="routemap-bench-tiles-")

    import osmnx  # noqa: F401  (import cost is paid once per process, not per network)

    from routemap import data, load_network, settings
    from routemap.network.tiles import load_tile_ways

    sources = [("embedded MBTiles", data.embedded_corridor_tiles())]
    folder = settings.shared_la_dir() / "osm" / "tiles"
    if folder.is_dir():
        sources.append(("shared z/x/y folder", folder))
    print(f"median of {args.repeat} runs; cold target {COLD_TARGET_S} s, cached target {CACHED_TARGET_S} s")
    for label, path in sources:
        path = Path(path)
        load_network(path)  # warm-up: imports, GDAL drivers; also fills the cache
        G = load_network(path, use_cache=False)
        decode = median_time(lambda p=path: load_tile_ways(p), args.repeat)
        cold = median_time(lambda p=path: load_network(p, use_cache=False), args.repeat)
        cached = median_time(lambda p=path: load_network(p), args.repeat)
        assert load_network(path).graph["routemap_source"]["cache_hit"]
        print(f"{label}: {path} -> {len(G):,} nodes, {G.number_of_edges():,} edges (run network)")
        print(f"  decode + topology (load_tile_ways): {decode:6.2f} s")
        print(f"  load_network cold:                  {cold:6.2f} s  ratio {COLD_TARGET_S / cold:5.2f}")
        print(f"  load_network from cache:            {cached:6.2f} s  ratio {CACHED_TARGET_S / cached:5.2f}")


if __name__ == "__main__":
    main()
