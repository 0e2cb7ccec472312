"""Compare Run Against ICE variants by script: one table and one map.

    python examples/compare_variants.py --out compare-out

Runs every variant of ``run_against_ice.yaml`` (beside this file) on the embedded LA corridor, offline,
in parallel processes, then prints the comparison table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import routemap

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=HERE / "run_against_ice.yaml")
    parser.add_argument("--out", type=Path, default=Path("compare-out"))
    args = parser.parse_args()

    table = routemap.run_spec(args.spec, args.out)
    cols = [
        "name",
        "length_mi",
        "deviation_pct",
        "repeated_pct",
        "share_footway_pct",
        "major_crossings",
        "population_400m",
        "pct_foreign_born_400m",
        "error",
    ]
    print(table[[c for c in cols if c in table.columns]].to_string(index=False))
    print(f"map: {args.out / 'comparison.html'}")
    failed = table[table["error"] != ""]
    if len(failed):
        raise SystemExit(f"{len(failed)} variant(s) failed: {', '.join(failed['name'])}")


if __name__ == "__main__":
    main()
