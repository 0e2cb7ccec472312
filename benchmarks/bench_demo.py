"""Benchmark: `routemap demo` end to end, offline, from a fresh cache and a warm one.

    python benchmarks/bench_demo.py [--repeat 3]

Prints the median wall time of the whole command (process start to exit) with an empty routemap cache
(the first run a newcomer sees) and with the cache filled. Target (issue 7): under 30 s on this 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_S = 30.0


def run_once(cache: str, out: str) -> float:
    env = dict(os.environ, ROUTEMAP_CACHE_DIR=cache)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "routemap.cli", "demo", "--out", out],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cold, warm = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            cache = os.path.join(tmp, "cache")
            cold.append(run_once(cache, os.path.join(tmp, "a")))
            warm.append(run_once(cache, os.path.join(tmp, "b")))
    for label, values in (("cold cache", cold), ("warm cache", warm)):
        med = statistics.median(values)
        print(
            f"routemap demo, {label}: median {med:.2f} s over {len(values)} runs "
            f"({', '.join(f'{v:.2f}' for v in values)}); target {TARGET_S:.0f} s: ratio {med / TARGET_S:.2f}"
        )


if __name__ == "__main__":
    main()
