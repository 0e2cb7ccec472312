"""Benchmark: 50 route variants on the LA corridor network with `routemap compare`.

    python benchmarks/bench_compare.py [--variants 50] [--repeat 1]

Builds a spec of N variants (starts, places and neighborhoods of the corridor crossed with targets from 10 km
to 15 mi and the three profiles), runs it with the default parallel processes, and prints the median wall
time and the number of variants that met their target. Target (issue 7): 50 variants in under 60 s.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from routemap.compare import run_spec

TARGET_S = 60.0
STARTS = ["34.0617,-118.3040", "Koreatown", "MacArthur Park", "Pico-Union", "Echo Park"]
FINISHES = ["Metropolitan Detention Center", "Chinatown Central Plaza", "Boyle Heights", "Little Tokyo"]
TARGETS = ["10km", "8mi", "10mi", "13.1mi", "15mi"]  # all above the longest start-finish minimum (7.9 km)
PROFILES = ["run", "march", "shortest"]


def make_spec(n: int) -> dict:
    combos = itertools.cycle(itertools.product(STARTS, FINISHES, TARGETS, PROFILES))
    variants = []
    for i, (start, finish, target, profile) in zip(range(n), combos, strict=False):
        variants.append(
            {
                "name": f"v{i:02d} {start} to {finish} {target} {profile}",
                "stops": [start, finish],
                "target": target,
                "profile": profile,
            }
        )
    return {"title": f"{n} variants", "variants": variants}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    times = []
    table = pd.DataFrame()
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            spec = Path(tmp) / "spec.yaml"
            spec.write_text(yaml.safe_dump(make_spec(args.variants)))
            t0 = time.perf_counter()
            table = run_spec(spec, Path(tmp) / "out")
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    ok = int((table["error"] == "").sum())
    print(
        f"compare {args.variants} variants: median {med:.1f} s over {len(times)} run(s); "
        f"target {TARGET_S:.0f} s: ratio {med / TARGET_S:.2f}; {ok} planned, {args.variants - ok} failed"
    )
    failed = table[table["error"] != ""]
    for _, r in failed.head(10).iterrows():
        print(f"  failed: {r['name']}: {r['error']}")


if __name__ == "__main__":
    main()
