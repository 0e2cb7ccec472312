"""Benchmark: the reach objective against a random-via-point search given the same time, and the default.

For each stop set (the demo's, and two more on the embedded LA corridor):

1. ``plan_route(..., objective="reach", reach=COLUMN)``: median time of warm runs (the first, cold run also
   builds the reach field and the turn graph, reported apart) and its reach.
2. The baseline from the issue, given the same time as one reach route: insert one random via point (a
   through node within the stops' box, widened by a mile) between two random consecutive stops, plan
   with the default objective, keep the route reaching the most people; as many tries as fit.
3. ``objective="cost"`` (the default) for comparison.

Then ``plan_routes(..., k=3, objective="reach")`` on the demo stops: each route's figures and the pairwise
shared length.

Reach is measured independently of the planner's field: ``route_demographics(route).near_route[COLUMN]``
(tract counts interpolated onto the exact buffer polygon with tobler). Also reported: deviation from the
target, turns per mile (``Route.turns``), repeated and doubled-back shares.

Run: ``python benchmarks/bench_reach.py [--repeat 3] [--column foreign_born] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import numpy as np

import routemap
from routemap.data import embedded_corridor_tiles
from routemap.demographics import neighborhood_demographics, route_demographics
from routemap.errors import RoutemapError
from routemap.route import plan_route, plan_routes
from routemap.route.alternatives import shared_share
from routemap.route.compile import compile_graph
from routemap.route.reach import path_reach, reach_field
from routemap.settings import METERS_PER_MILE

STOP_SETS: dict[str, tuple[list, str]] = {
    "demo (4 stops, 15 mi)": (
        [(34.0617, -118.3040), "MacArthur Park", "Chinatown Central Plaza", "Metropolitan Detention Center"],
        "15mi",
    ),
    "Koreatown -> MDC (2 stops, 10 mi)": ([(34.0617, -118.3040), "Metropolitan Detention Center"], "10mi"),
    "MacArthur Park -> Chinatown (2 stops, 8 km)": (["MacArthur Park", "Chinatown Central Plaza"], "8km"),
}
#: The random via points come from the stops' box widened by this much (metres) on every side.
VIA_PAD_M = METERS_PER_MILE


def figures(route, layer, column: str) -> dict[str, float]:
    near = route_demographics(route, layer=layer).near_route
    return {
        "reach": float(near[column]),
        "dev_pct": 100 * (route.length_m - route.target_m) / route.target_m,
        "turns_mi": route.turns_per_mile,
        "rep_pct": 100 * route.repeated_share,
        "dbl_pct": 100 * route.doubled_back_m / route.length_m,
    }


def random_via_search(G, stops, target, column, budget_s: float, rng: np.random.Generator):
    """Return (best route, tries) of the one-random-via-point search within ``budget_s`` seconds."""
    cg = compile_graph(G, "run")
    field = reach_field(cg)
    first = plan_route(G, stops, target)
    lats = [s.lat for s in first.stops]
    lons = [s.lon for s in first.stops]
    pad_lat = VIA_PAD_M / 111_320.0
    pad_lon = pad_lat / np.cos(np.radians(np.mean(lats)))
    inside = np.nonzero(
        cg.through
        & (cg.lat >= min(lats) - pad_lat)
        & (cg.lat <= max(lats) + pad_lat)
        & (cg.lon >= min(lons) - pad_lon)
        & (cg.lon <= max(lons) + pad_lon)
    )[0]
    best, best_reach, tries = None, -1.0, 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < budget_s:
        w = int(rng.choice(inside))
        at = int(rng.integers(1, len(stops)))
        trial = list(stops[:at]) + [(float(cg.lat[w]), float(cg.lon[w]))] + list(stops[at:])
        tries += 1
        try:
            route = plan_route(G, trial, target)
        except RoutemapError:
            continue
        got = path_reach(cg, [int(i) for i in cg.index_of(route.nodes)], field, column)
        if got > best_reach:
            best, best_reach = route, got
    return best, tries


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--column", default="foreign_born")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    G = routemap.load_network(embedded_corridor_tiles())
    layer = neighborhood_demographics()
    rng = np.random.default_rng(args.seed)
    print(f"embedded corridor: {G.number_of_nodes():,} nodes; reach = {args.column} within 400 m\n")
    for label, (stops, target) in STOP_SETS.items():
        t0 = time.perf_counter()
        plan_route(G, stops, target, objective="reach", reach=args.column)
        cold = time.perf_counter() - t0
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            reach_route = plan_route(G, stops, target, objective="reach", reach=args.column)
            times.append(time.perf_counter() - t0)
        warm = statistics.median(times)
        cost_times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            cost_route = plan_route(G, stops, target)
            cost_times.append(time.perf_counter() - t0)
        via_route, tries = random_via_search(G, stops, target, args.column, warm, rng)
        rows = [
            ("reach objective", reach_route, warm),
            ("objective=cost", cost_route, statistics.median(cost_times)),
        ]
        rows.append((f"random via, {tries} tries in {warm:.1f} s", via_route, warm))
        print(f"{label}: reach route cold {cold:.2f} s (field + turn graph), warm median {warm:.2f} s")
        base = None
        for name, route, secs in rows:
            if route is None:
                print(f"  {name:<34} no route")
                continue
            f = figures(route, layer, args.column)
            base = f["reach"] if base is None else base
            print(
                f"  {name:<34} {f['reach']:>9,.0f} people ({100 * (f['reach'] / base - 1):+6.1f}% vs reach)  "
                f"{secs:5.2f} s  dev {f['dev_pct']:+.2f}%  {f['turns_mi']:.2f} turns/mi  "
                f"repeated {f['rep_pct']:.2f}%  doubled {f['dbl_pct']:.2f}%"
            )
        print()
    stops, target = next(iter(STOP_SETS.values()))
    t0 = time.perf_counter()
    routes = plan_routes(G, stops, target, k=3, objective="reach", reach=args.column)
    secs = time.perf_counter() - t0
    print(f"plan_routes(k=3, objective='reach') on the demo stops: {len(routes)} routes in {secs:.1f} s")
    for route in routes:
        f = figures(route, layer, args.column)
        print(
            f"  {route.name:<14} {f['reach']:>9,.0f} people  dev {f['dev_pct']:+.2f}%  "
            f"{f['turns_mi']:.2f} turns/mi  repeated {f['rep_pct']:.2f}%  doubled {f['dbl_pct']:.2f}%"
        )
    for a, b in itertools.combinations(routes, 2):
        print(f"  shared {a.name} / {b.name}: {100 * shared_share(a, b):.1f}% of the shorter")


if __name__ == "__main__":
    main()
